package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
)

// conformanceStore is the behaviour every store driver implements; the
// conformance suite checks it against each driver.
type conformanceStore interface {
	SaveItems(ctx context.Context, source string, items []feed.Item, keep int, now time.Time) (feed.SaveResult, error)
	Items(ctx context.Context, q feed.Query) ([]feed.Item, error)
	CountItems(ctx context.Context, sources []string) (int, error)
	Item(ctx context.Context, k feed.Key) (feed.Item, bool, error)
	State(ctx context.Context, source string) (feed.SourceState, error)
	SaveState(ctx context.Context, st feed.SourceState) error
	SaveStates(ctx context.Context, sts []feed.SourceState) error
	States(ctx context.Context) ([]feed.SourceState, error)
	GetArticle(ctx context.Context, url, rulesKey string) (feed.Article, bool, error)
	PutArticle(ctx context.Context, a feed.Article) error
	Version(ctx context.Context) (int64, error)
	ClaimDue(ctx context.Context, owner string, names []string, now time.Time, lease time.Duration, limit int) ([]string, error)
	Claim(ctx context.Context, owner, name string, now time.Time, lease time.Duration) (bool, error)
	Release(ctx context.Context, owner, name string) error
	ClaimAll(ctx context.Context, owner string, names []string, now time.Time, lease time.Duration) ([]string, error)
	SaveStatesAndRelease(ctx context.Context, owner string, sts []feed.SourceState, release []string) error
	ClaimKey(ctx context.Context, owner, key string, now time.Time, lease time.Duration) (bool, error)
	ReleaseKey(ctx context.Context, owner, key string) error
	Fetches(ctx context.Context, source string, limit int) ([]feed.Fetch, error)
	RecentItemCounts(ctx context.Context, since time.Time) (map[string]int, error)
	Size(ctx context.Context) (int64, error)
	Close() error
}

// Both drivers have the whole behaviour.
var (
	_ websubStore = (*SQLite)(nil)
	_ websubStore = (*Postgres)(nil)
)

// opener opens a handle on one database. Calling it again opens another
// handle on the same database, as a second process would.
type opener func(ctx context.Context) (conformanceStore, error)

// t0 is the base time of the suite: all dates are relative to it.
var t0 = time.Date(2024, time.May, 1, 12, 0, 0, 0, time.UTC)

// at returns t0 plus h hours.
func at(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }

// testItem returns a dated item of the kind a normalizer produces.
func testItem(id string, published time.Time) feed.Item {
	return feed.Item{
		ID:        id,
		Link:      "https://example.com/" + id,
		Title:     "Title " + id,
		Summary:   "<p>Summary of " + id + "</p>",
		Published: published,
	}
}

// stored returns it as a store returns it after a first save at now.
func stored(source string, it feed.Item, now time.Time) feed.Item {
	it.Source = source
	if it.Published.IsZero() {
		it.Published = now
	}
	if it.Updated.IsZero() {
		it.Updated = it.Published
	}
	it.FirstSeen = now
	return it
}

func mustOpen(t testing.TB, open opener) conformanceStore {
	t.Helper()
	s, err := open(context.Background())
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return s
}

func mustSave(t testing.TB, s conformanceStore, source string, items []feed.Item, keep int, now time.Time) feed.SaveResult {
	t.Helper()
	res, err := s.SaveItems(context.Background(), source, items, keep, now)
	if err != nil {
		t.Fatalf("SaveItems(%q, %d items): %v", source, len(items), err)
	}
	return res
}

func mustItems(t testing.TB, s conformanceStore, q feed.Query) []feed.Item {
	t.Helper()
	items, err := s.Items(context.Background(), q)
	if err != nil {
		t.Fatalf("Items(%+v): %v", q, err)
	}
	return items
}

func mustItem(t testing.TB, s conformanceStore, source, id string) feed.Item {
	t.Helper()
	it, ok, err := s.Item(context.Background(), feed.Key{Source: source, ID: id})
	if err != nil {
		t.Fatalf("Item(%q, %q): %v", source, id, err)
	}
	if !ok {
		t.Fatalf("Item(%q, %q): not found", source, id)
	}
	return it
}

func checkResult(t testing.TB, what string, got, want feed.SaveResult) {
	t.Helper()
	if got != want {
		t.Errorf("%s: result = %+v, want %+v", what, got, want)
	}
}

func checkItem(t testing.TB, got, want feed.Item) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("item %q:\n got %+v\nwant %+v", want.ID, got, want)
	}
}

func checkItems(t testing.TB, got, want []feed.Item) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d items %v, want %d items %v", len(got), keys(got), len(want), keys(want))
		return
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("item %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

// checkIDs checks the ids, in order, of the items of one source.
func checkIDs(t testing.TB, got []feed.Item, want ...string) {
	t.Helper()
	ids := make([]string, len(got))
	for i, it := range got {
		ids[i] = it.ID
	}
	if !reflect.DeepEqual(ids, want) && !(len(ids) == 0 && len(want) == 0) {
		t.Errorf("ids = %q, want %q", ids, want)
	}
}

func keys(items []feed.Item) []string {
	ks := make([]string, len(items))
	for i, it := range items {
		ks[i] = it.Source + "/" + it.ID
	}
	return ks
}

// testConformance runs the behaviour every driver shares. fresh prepares a
// new, empty database for one test and returns how to open it.
func testConformance(t *testing.T, fresh func(t *testing.T) opener) {
	suite := []struct {
		name string
		run  func(t *testing.T, open opener)
	}{
		{"new items get defaults", testNewItemDefaults},
		{"undated items keep feed order", testUndatedOrder},
		{"unchanged items are not written", testUnchanged},
		{"changed items are updated in place", testChanged},
		{"hidden fields are written silently", testHiddenFields},
		{"updated time of a changed item", testUpdatedTime},
		{"retention", testRetention},
		{"other sources are untouched", testOtherSources},
		{"lists round-trip", testListsRoundTrip},
		{"images", testImages},
		{"times round-trip in UTC", testTimes},
		{"items are listed newest first", testItemsOrder},
		{"items query", testItemsQuery},
		{"items without raw fields", testItemsNoRaw},
		{"states saved together", testSaveStates},
		{"items paged oldest first, and counted", testItemsPaged},
		{"state round-trips", testState},
		{"article cache", testArticles},
		{"states list every known source", testStates},
		{"bad input is refused and loses nothing", testBadInput},
		{"duplicate ids in a batch", testDuplicateIDs},
		{"cancelled context", testCancelledContext},
		{"concurrent handles", testConcurrentHandles},
		{"concurrent saves of one source", testConcurrentSaves},
		{"article cache bounds", testArticleBounds},
		{"version", testVersion},
		{"claim due sources", testClaimDue},
		{"claim, release and take over", testClaimRelease},
		{"claims and releases in groups", testClaimAllRelease},
		{"claims survive saved states", testClaimAndState},
		{"concurrent claims of due sources", testClaimDueConcurrent},
		{"claim keys", testClaimKey},
		{"claims: bad input", testClaimBadInput},
		{"fetch history", testFetchHistory},
		{"fetch history is capped", testFetchHistoryCap},
		{"fetch history of states saved together", testFetchHistoryBatch},
		{"fetch history of concurrent saves", testFetchHistoryConcurrent},
		{"recent item counts", testRecentItemCounts},
		{"size", testSize},
	}
	for _, tc := range suite {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, fresh(t))
		})
	}
}

func testNewItemDefaults(t *testing.T, open opener) {
	s := mustOpen(t, open)
	now := at(10)
	tests := []struct {
		name          string
		published     time.Time
		updated       time.Time
		wantPublished time.Time
		wantUpdated   time.Time
	}{
		{"dated", at(1), time.Time{}, at(1), at(1)},
		{"dated and updated", at(1), at(2), at(1), at(2)},
		{"undated", time.Time{}, time.Time{}, now, now},
		{"undated but updated", time.Time{}, at(3), now, at(3)},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			source := fmt.Sprintf("src%d", i)
			it := testItem("id", tc.published)
			it.Updated = tc.updated
			checkResult(t, "save", mustSave(t, s, source, []feed.Item{it}, 10, now), feed.SaveResult{New: 1})
			want := it
			want.Source, want.Published, want.Updated, want.FirstSeen = source, tc.wantPublished, tc.wantUpdated, now
			checkItem(t, mustItem(t, s, source, "id"), want)
		})
	}
}

func testUndatedOrder(t *testing.T, open opener) {
	s := mustOpen(t, open)
	now := at(10)
	batch := []feed.Item{testItem("c", time.Time{}), testItem("a", time.Time{}), testItem("b", time.Time{})}
	checkResult(t, "save", mustSave(t, s, "src", batch, 10, now), feed.SaveResult{New: 3})
	got := mustItems(t, s, feed.Query{Sources: []string{"src"}})
	checkIDs(t, got, "c", "a", "b")
	if len(got) == 3 && !got[0].Published.Equal(now) {
		t.Errorf("first undated item: Published = %v, want the save time %v", got[0].Published, now)
	}
	for i, it := range got {
		// Whole seconds apart: published feeds write dates in whole
		// seconds, and readers sort by them.
		if want := now.Add(-time.Duration(i) * time.Second); !it.Published.Equal(want) {
			t.Errorf("item %q: Published = %v, want %v (the save time, %d s earlier for its position)", it.ID, it.Published, want, i)
		}
		if !it.FirstSeen.Equal(now) {
			t.Errorf("item %q: FirstSeen = %v, want %v", it.ID, it.FirstSeen, now)
		}
	}
}

func testUnchanged(t *testing.T, open opener) {
	s := mustOpen(t, open)
	tests := []struct {
		name    string
		first   feed.Item
		refresh func(it feed.Item, source string) feed.Item
	}{
		{"same item", testItem("x", at(1)), func(it feed.Item, _ string) feed.Item { return it }},
		{"only the updated time differs", testItem("x", at(1)),
			func(it feed.Item, _ string) feed.Item { it.Updated = at(5); return it }},
		{"the refresh has no date", testItem("x", at(1)),
			func(it feed.Item, _ string) feed.Item { it.Published = time.Time{}; return it }},
		{"undated item", testItem("x", time.Time{}), func(it feed.Item, _ string) feed.Item { return it }},
		{"same date in another zone", testItem("x", at(1)), func(it feed.Item, _ string) feed.Item {
			it.Published = it.Published.In(time.FixedZone("X", 3600))
			return it
		}},
		{"same date with a sub-microsecond difference", testItem("x", at(1)),
			func(it feed.Item, _ string) feed.Item { it.Published = it.Published.Add(999); return it }},
		{"source set on the item", testItem("x", at(1)),
			func(it feed.Item, source string) feed.Item { it.Source = source; return it }},
		{"empty lists instead of nil", testItem("x", at(1)), func(it feed.Item, _ string) feed.Item {
			it.Authors, it.Categories, it.Enclosures = []feed.Person{}, []string{}, []feed.Enclosure{}
			return it
		}},
		{"same hidden fields", withHidden(testItem("x", at(1))), func(it feed.Item, _ string) feed.Item { return it }},
		{"same image", withImage(testItem("x", at(1))), func(it feed.Item, _ string) feed.Item { return it }},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			source := fmt.Sprintf("src%d", i)
			mustSave(t, s, source, []feed.Item{tc.first}, 10, at(2))
			before := mustItem(t, s, source, "x")
			next := tc.refresh(tc.first, source)
			checkResult(t, "refresh", mustSave(t, s, source, []feed.Item{next}, 10, at(3)), feed.SaveResult{})
			checkItem(t, mustItem(t, s, source, "x"), before)
		})
	}
}

func testChanged(t *testing.T, open opener) {
	s := mustOpen(t, open)
	first := testItem("x", at(1))
	first.Authors = []feed.Person{{Name: "Ann"}}
	first.Categories = []string{"go"}
	first.Enclosures = []feed.Enclosure{{URL: "https://example.com/a.mp3", Type: "audio/mpeg", Length: 10}}
	first = withImage(withHidden(first))
	tests := []struct {
		name   string
		change func(*feed.Item)
	}{
		{"title", func(it *feed.Item) { it.Title = "New title" }},
		{"link", func(it *feed.Item) { it.Link = "https://example.com/moved" }},
		{"summary", func(it *feed.Item) { it.Summary = "<p>new</p>" }},
		{"content", func(it *feed.Item) { it.Content = "<p>body</p>" }},
		{"author name", func(it *feed.Item) { it.Authors = []feed.Person{{Name: "Bob"}} }},
		{"author email", func(it *feed.Item) { it.Authors = []feed.Person{{Name: "Ann", Email: "ann@example.com"}} }},
		{"authors removed", func(it *feed.Item) { it.Authors = nil }},
		{"category", func(it *feed.Item) { it.Categories = []string{"rust"} }},
		{"category added", func(it *feed.Item) { it.Categories = []string{"go", "rust"} }},
		{"enclosure length", func(it *feed.Item) { it.Enclosures[0].Length = 11 }},
		{"image", func(it *feed.Item) { it.Image = "https://img.example.com/other.jpg" }},
		{"image removed", func(it *feed.Item) { it.Image = "" }},
		{"published", func(it *feed.Item) { it.Published = at(-1) }},
		// Moving text between fields must not look like the same content.
		{"text moved between fields", func(it *feed.Item) { it.Title, it.Summary = it.Summary, it.Title }},
		// A visible change carries the hidden fields along.
		{"content and raw content", func(it *feed.Item) { it.Content, it.RawContent = "<p>clean</p>", "<p>raw</p>" }},
		{"summary and canonical", func(it *feed.Item) { it.Summary, it.Canonical = "<p>s</p>", "https://example.com/c" }},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			source := fmt.Sprintf("src%d", i)
			mustSave(t, s, source, []feed.Item{first}, 10, at(2))
			next := first
			next.Authors = append([]feed.Person(nil), first.Authors...)
			next.Enclosures = append([]feed.Enclosure(nil), first.Enclosures...)
			tc.change(&next)
			checkResult(t, "refresh", mustSave(t, s, source, []feed.Item{next}, 10, at(3)), feed.SaveResult{Updated: 1})
			want := next
			want.Source, want.FirstSeen, want.Updated = source, at(2), at(3)
			checkItem(t, mustItem(t, s, source, "x"), want)
			// The same refresh again is no change.
			checkResult(t, "second refresh", mustSave(t, s, source, []feed.Item{next}, 10, at(4)), feed.SaveResult{})
		})
	}
}

// withImage returns it with a lead image.
func withImage(it feed.Item) feed.Item {
	it.Image = "https://img.example.com/" + it.ID + ".jpg?w=600&sig=a1"
	return it
}

// testImages: an item's image is stored, listed (with and without the
// raw fields) and read back exactly; an item gaining one is updated.
func testImages(t *testing.T, open opener) {
	s := mustOpen(t, open)
	plain, pictured := testItem("plain", at(1)), withImage(testItem("pictured", at(2)))
	checkResult(t, "first save", mustSave(t, s, "src", []feed.Item{plain, pictured}, 10, at(3)), feed.SaveResult{New: 2})
	want := []feed.Item{stored("src", pictured, at(3)), stored("src", plain, at(3))}
	checkItems(t, mustItems(t, s, feed.Query{Sources: []string{"src"}}), want)
	checkItems(t, mustItems(t, s, feed.Query{Sources: []string{"src"}, NoRaw: true}), want)
	checkItem(t, mustItem(t, s, "src", "pictured"), want[0])

	// The feed starts carrying a picture for the other item.
	plain = withImage(plain)
	checkResult(t, "image added", mustSave(t, s, "src", []feed.Item{plain, pictured}, 10, at(4)), feed.SaveResult{Updated: 1})
	got := mustItem(t, s, "src", "plain")
	if got.Image != plain.Image || !got.Updated.Equal(at(4)) {
		t.Errorf("after the image was added: image %q, updated %v; want %q, %v", got.Image, got.Updated, plain.Image, at(4))
	}
}

// withHidden returns it with the fields a reader never sees set, as the
// pipeline sets them before saving.
func withHidden(it feed.Item) feed.Item {
	it.Canonical = "https://example.com/canonical/" + it.ID
	it.RawSummary = it.Summary + "<p>Support us!</p>"
	it.RawContent = "<p>Raw content of " + it.ID + "</p><p>Subscribe to our newsletter</p>"
	return it
}

// rawAsContent returns it as the pipeline saves an item of a source
// with no learned furniture: its raw content is its content.
func rawAsContent(it feed.Item) feed.Item {
	it.Canonical = "https://example.com/canonical/" + it.ID
	it.Content = "<p>Content of " + it.ID + "</p>"
	it.RawSummary, it.RawContent = it.Summary, it.Content
	return it
}

// rawOtherThanContent returns it as saved once its source's furniture is
// learned: its raw content is more than its content.
func rawOtherThanContent(it feed.Item) feed.Item {
	it = rawAsContent(it)
	it.RawContent += "<p>Subscribe to our newsletter</p>"
	return it
}

// testRawContentStoredOnce: the rows of s (whose engine is e) hold an item's raw content only
// when it is other than the content; an item whose raw content is its
// content reads back whole, in listings and alone.
func testRawContentStoredOnce(t *testing.T, s conformanceStore, e *engine) {
	ctx := context.Background()
	same, other := rawAsContent(testItem("same", at(2))), rawOtherThanContent(testItem("other", at(1)))
	same.Content = strings.Repeat("<p>long content</p>\n", 200)
	same.RawContent = same.Content
	checkResult(t, "save", mustSave(t, s, "src", []feed.Item{same, other}, 10, at(3)), feed.SaveResult{New: 2})
	rows, err := e.read.query(ctx, `SELECT id, length(raw_content), raw_is_content FROM items WHERE source = ? ORDER BY id`, "src")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	type row struct {
		n    int
		same bool
	}
	got := map[string]row{}
	for rows.Next() {
		var id string
		var r row
		if err := rows.Scan(&id, &r.n, &r.same); err != nil {
			t.Fatal(err)
		}
		got[id] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := map[string]row{"same": {0, true}, "other": {len(other.RawContent), false}}
	if !maps.Equal(got, want) {
		t.Errorf("stored raw content (length, is the content) = %v, want %v", got, want)
	}
	wantItems := []feed.Item{stored("src", same, at(3)), stored("src", other, at(3))}
	checkItems(t, mustItems(t, s, feed.Query{Sources: []string{"src"}}), wantItems)
	checkItem(t, mustItem(t, s, "src", "same"), wantItems[0])
	noRaw := wantItems[0]
	noRaw.RawSummary, noRaw.RawContent = "", ""
	checkItem(t, mustItems(t, s, feed.Query{Sources: []string{"src"}, NoRaw: true, Limit: 1})[0], noRaw)
}

// insertItemBeforeRawOnceSQL is insertItemSQL as schemas 11 and 12 had
// it, before the raw content was kept once.
const insertItemBeforeRawOnceSQL = `INSERT INTO items
	(source, id, link, title, summary, content, authors, categories, enclosures,
	 published, updated, first_seen, hash,
	 canonical, raw_summary, raw_content, hidden_hash, image)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// rawBeforeSchema13 is the raw content of r as releases before schema 13
// stored it: in full, even when it was the content.
func rawBeforeSchema13(r record) string {
	if r.rawIsContent {
		return r.content
	}
	return r.rawContent
}

// testUpgradeRawContentTwice opens a store written by the release that
// kept an item's raw content beside its content even when the same
// (schema 12): old is a handle on it, closeOld closes it, open opens it
// as this release does. Its items read back as they were, and the same
// items saved again write nothing: their hidden hashes still hold.
func testUpgradeRawContentTwice(t *testing.T, old *engine, closeOld func(), open opener) {
	ctx := context.Background()
	items := []feed.Item{rawAsContent(testItem("same", at(2))), rawOtherThanContent(testItem("other", at(1)))}
	recs, err := prepareBatch("src", items, at(3))
	if err != nil {
		t.Fatal(err)
	}
	err = old.write(ctx, func(q querier) error {
		for _, r := range plan(recs, nil, len(recs), at(3)).inserts {
			if _, err := q.exec(ctx, insertItemBeforeRawOnceSQL, "src", r.id, r.link, r.title, r.summary, r.content,
				nullString(r.authors), nullString(r.categories), nullString(r.enclosures),
				toMicros(r.published), toMicros(r.updated), toMicros(r.firstSeen), r.hash,
				r.canonical, r.rawSummary, rawBeforeSchema13(r), r.hiddenHash, r.image); err != nil {
				return err
			}
		}
		_, err := q.exec(ctx, countItemsSQL, "src", "src")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	closeOld()

	s := mustOpen(t, open)
	want := []feed.Item{stored("src", items[0], at(3)), stored("src", items[1], at(3))}
	checkItems(t, mustItems(t, s, feed.Query{Sources: []string{"src"}}), want)
	checkResult(t, "the same items again", mustSave(t, s, "src", items, 10, at(4)), feed.SaveResult{})
	checkItems(t, mustItems(t, s, feed.Query{Sources: []string{"src"}}), want)
}

func testHiddenFields(t *testing.T, open opener) {
	s := mustOpen(t, open)
	tests := []struct {
		name   string
		first  feed.Item
		change func(*feed.Item)
	}{
		{"canonical", withHidden(testItem("x", at(1))), func(it *feed.Item) { it.Canonical = "https://example.com/other" }},
		{"raw summary", withHidden(testItem("x", at(1))), func(it *feed.Item) { it.RawSummary = "<p>other</p>" }},
		{"raw content", withHidden(testItem("x", at(1))), func(it *feed.Item) { it.RawContent += "<p>more</p>" }},
		{"all cleared", withHidden(testItem("x", at(1))), func(it *feed.Item) {
			it.Canonical, it.RawSummary, it.RawContent = "", "", ""
		}},
		{"set on an item stored without them", testItem("x", at(1)), func(it *feed.Item) { *it = withHidden(*it) }},
		// The hidden hash must not confuse its fields either.
		{"text moved between hidden fields", withHidden(testItem("x", at(1))), func(it *feed.Item) {
			it.RawSummary, it.RawContent = it.RawContent, it.RawSummary
		}},
		{"undated item", withHidden(testItem("x", time.Time{})), func(it *feed.Item) { it.Canonical = "https://example.com/u" }},
		// The raw content is stored once when it is the content (see
		// encodeItem); it reads back as given whichever way it goes.
		{"raw content becomes the content", rawOtherThanContent(testItem("x", at(1))), func(it *feed.Item) { it.RawContent = it.Content }},
		{"raw content was the content", rawAsContent(testItem("x", at(1))), func(it *feed.Item) { it.RawContent = "<p>raw</p>" }},
		{"raw content emptied beside the content", rawAsContent(testItem("x", at(1))), func(it *feed.Item) { it.RawContent = "" }},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			source := fmt.Sprintf("src%d", i)
			mustSave(t, s, source, []feed.Item{tc.first}, 10, at(2))
			before := mustItem(t, s, source, "x")
			next := tc.first
			tc.change(&next)
			checkResult(t, "refresh", mustSave(t, s, source, []feed.Item{next}, 10, at(3)), feed.SaveResult{})
			want := before // times and visible fields untouched
			want.Canonical, want.RawSummary, want.RawContent = next.Canonical, next.RawSummary, next.RawContent
			checkItem(t, mustItem(t, s, source, "x"), want)
			checkItems(t, mustItems(t, s, feed.Query{Sources: []string{source}}), []feed.Item{want})
			checkResult(t, "same refresh again", mustSave(t, s, source, []feed.Item{next}, 10, at(4)), feed.SaveResult{})
			checkItem(t, mustItem(t, s, source, "x"), want)
		})
	}

	t.Run("a visible change with a hidden one is one update", func(t *testing.T) {
		first := withHidden(testItem("x", at(1)))
		mustSave(t, s, "both", []feed.Item{first}, 10, at(2))
		next := first
		next.Content, next.RawContent = "<p>cleaned</p>", "<p>raw</p>"
		checkResult(t, "refresh", mustSave(t, s, "both", []feed.Item{next}, 10, at(3)), feed.SaveResult{Updated: 1})
		want := stored("both", next, at(2))
		want.Updated = at(3)
		checkItem(t, mustItem(t, s, "both", "x"), want)
	})

	t.Run("a batch mixing silent, updated and new items", func(t *testing.T) {
		mustSave(t, s, "mixed", dated(3, 2, 1), 10, at(5))
		batch := dated(4, 3, 2, 1)
		batch[1] = withHidden(batch[1]) // d3: silent
		batch[2].Title = "changed"      // d2: updated
		checkResult(t, "refresh", mustSave(t, s, "mixed", batch, 10, at(6)), feed.SaveResult{New: 1, Updated: 1})
		got := mustItem(t, s, "mixed", "d3")
		if got.Canonical != batch[1].Canonical || !got.Updated.Equal(at(3)) {
			t.Errorf("d3: Canonical, Updated = %q, %v; want %q, %v", got.Canonical, got.Updated, batch[1].Canonical, at(3))
		}
	})
}

func testUpdatedTime(t *testing.T, open opener) {
	s := mustOpen(t, open)
	tests := []struct {
		name          string
		firstUpdated  time.Time // of the first version; zero means Published
		nextPublished time.Time
		nextUpdated   time.Time
		wantPublished time.Time
		wantUpdated   time.Time
	}{
		{"feed gives a later update time", at(2), at(1), at(5), at(1), at(5)},
		{"feed gives an earlier update time", at(2), at(1), at(1), at(1), at(9)},
		{"feed gives the same update time", at(2), at(1), at(2), at(1), at(9)},
		{"feed gives no update time", time.Time{}, at(1), time.Time{}, at(1), at(9)},
		{"feed drops the date: stored one kept", time.Time{}, time.Time{}, time.Time{}, at(1), at(9)},
		{"feed drops the date but gives an update", time.Time{}, time.Time{}, at(7), at(1), at(7)},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			source := fmt.Sprintf("src%d", i)
			first := testItem("x", at(1))
			first.Updated = tc.firstUpdated
			mustSave(t, s, source, []feed.Item{first}, 10, at(3))
			next := first
			next.Title = "changed"
			next.Published, next.Updated = tc.nextPublished, tc.nextUpdated
			checkResult(t, "refresh", mustSave(t, s, source, []feed.Item{next}, 10, at(9)), feed.SaveResult{Updated: 1})
			got := mustItem(t, s, source, "x")
			if !got.Published.Equal(tc.wantPublished) || !got.Updated.Equal(tc.wantUpdated) || !got.FirstSeen.Equal(at(3)) {
				t.Errorf("Published, Updated, FirstSeen = %v, %v, %v; want %v, %v, %v",
					got.Published, got.Updated, got.FirstSeen, tc.wantPublished, tc.wantUpdated, at(3))
			}
		})
	}
}

// dated returns items with the given ids, each published at the hour its
// number gives: dated(3, 1) is items "d3" at at(3) and "d1" at at(1).
func dated(hours ...int) []feed.Item {
	items := make([]feed.Item, len(hours))
	for i, h := range hours {
		items[i] = testItem(fmt.Sprintf("d%d", h), at(h))
	}
	return items
}

func undated(ids ...string) []feed.Item {
	items := make([]feed.Item, len(ids))
	for i, id := range ids {
		items[i] = testItem(id, time.Time{})
	}
	return items
}

func testRetention(t *testing.T, open opener) {
	s := mustOpen(t, open)
	type step struct {
		batch   []feed.Item
		keep    int
		want    feed.SaveResult
		wantIDs []string // the source's items after the step, newest first
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"oversized batch is cut to its newest", []step{
			{dated(2, 5, 1, 4, 3), 3, feed.SaveResult{New: 3}, []string{"d5", "d4", "d3"}},
			{dated(2, 5, 1, 4, 3), 3, feed.SaveResult{}, []string{"d5", "d4", "d3"}},
		}},
		{"newer items prune the oldest", []step{
			{dated(3, 2, 1), 3, feed.SaveResult{New: 3}, []string{"d3", "d2", "d1"}},
			{dated(5, 4, 3, 2, 1), 3, feed.SaveResult{New: 2, Pruned: 2}, []string{"d5", "d4", "d3"}},
			{dated(5, 4, 3, 2, 1), 3, feed.SaveResult{}, []string{"d5", "d4", "d3"}},
		}},
		{"items gone from the feed are kept until pruned", []step{
			{dated(3, 2), 3, feed.SaveResult{New: 2}, []string{"d3", "d2"}},
			{dated(4), 3, feed.SaveResult{New: 1}, []string{"d4", "d3", "d2"}},
			{dated(5), 3, feed.SaveResult{New: 1, Pruned: 1}, []string{"d5", "d4", "d3"}},
		}},
		{"an item older than all kept is not stored and does not flap", []step{
			{dated(5, 4), 2, feed.SaveResult{New: 2}, []string{"d5", "d4"}},
			{dated(1), 2, feed.SaveResult{}, []string{"d5", "d4"}},
			{dated(1), 2, feed.SaveResult{}, []string{"d5", "d4"}},
		}},
		{"undated oversized batch does not flap", []step{
			{undated("a", "b", "c"), 2, feed.SaveResult{New: 2}, []string{"a", "b"}},
			{undated("a", "b", "c"), 2, feed.SaveResult{}, []string{"a", "b"}},
		}},
		{"undated new item on top", []step{
			{undated("a", "b"), 2, feed.SaveResult{New: 2}, []string{"a", "b"}},
			{undated("n", "a", "b"), 2, feed.SaveResult{New: 1, Pruned: 1}, []string{"n", "a"}},
			{undated("n", "a", "b"), 2, feed.SaveResult{}, []string{"n", "a"}},
		}},
		{"empty batch keeps stored items", []step{
			{dated(2, 1), 5, feed.SaveResult{New: 2}, []string{"d2", "d1"}},
			{nil, 5, feed.SaveResult{}, []string{"d2", "d1"}},
		}},
		{"lowered retention prunes", []step{
			{dated(4, 3, 2, 1), 4, feed.SaveResult{New: 4}, []string{"d4", "d3", "d2", "d1"}},
			{nil, 2, feed.SaveResult{Pruned: 2}, []string{"d4", "d3"}},
		}},
		{"a silently changed item out of retention is pruned", []step{
			{dated(3, 2), 2, feed.SaveResult{New: 2}, []string{"d3", "d2"}},
			{[]feed.Item{testItem("d4", at(4)), withHidden(testItem("d2", at(2)))}, 2,
				feed.SaveResult{New: 1, Pruned: 1}, []string{"d4", "d3"}},
		}},
		{"an item changed to an old date is pruned", []step{
			{dated(3, 2), 2, feed.SaveResult{New: 2}, []string{"d3", "d2"}},
			{[]feed.Item{testItem("d4", at(4)), testItem("d3", at(1))}, 2,
				feed.SaveResult{New: 1, Pruned: 1}, []string{"d4", "d2"}},
		}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			source := fmt.Sprintf("src%d", i)
			for j, st := range tc.steps {
				res := mustSave(t, s, source, st.batch, st.keep, at(100+j))
				checkResult(t, fmt.Sprintf("step %d", j), res, st.want)
				checkIDs(t, mustItems(t, s, feed.Query{Sources: []string{source}}), st.wantIDs...)
			}
		})
	}

	t.Run("keep <= 0 means the default retention", func(t *testing.T) {
		for _, keep := range []int{0, -1} {
			source := fmt.Sprintf("default%d", keep)
			hours := make([]int, feed.DefaultRetention+1)
			for i := range hours {
				hours[i] = -i
			}
			res := mustSave(t, s, source, dated(hours...), keep, at(1))
			checkResult(t, fmt.Sprintf("keep %d", keep), res, feed.SaveResult{New: feed.DefaultRetention})
			oldest := fmt.Sprintf("d%d", -feed.DefaultRetention)
			if _, ok, err := s.Item(context.Background(), feed.Key{Source: source, ID: oldest}); err != nil || ok {
				t.Errorf("keep %d: oldest item %q stored = %v, %v; want not stored", keep, oldest, ok, err)
			}
		}
	})
}

func testOtherSources(t *testing.T, open opener) {
	s := mustOpen(t, open)
	mustSave(t, s, "a", dated(3, 2, 1), 10, at(5))
	before := mustItems(t, s, feed.Query{Sources: []string{"a"}})

	// The same ids in another source are other items, and pruning there
	// leaves source a alone.
	b := dated(3, 2, 1)
	for i := range b {
		b[i].Title = "in b"
	}
	checkResult(t, "save b", mustSave(t, s, "b", b, 10, at(6)), feed.SaveResult{New: 3})
	checkResult(t, "prune b", mustSave(t, s, "b", dated(9), 1, at(7)), feed.SaveResult{New: 1, Pruned: 3})
	checkItems(t, mustItems(t, s, feed.Query{Sources: []string{"a"}}), before)
	checkIDs(t, mustItems(t, s, feed.Query{Sources: []string{"b"}}), "d9")
}

func testListsRoundTrip(t *testing.T, open opener) {
	s := mustOpen(t, open)
	tests := []struct {
		name string
		item feed.Item
	}{
		{"no lists", feed.Item{ID: "x", Published: at(1)}},
		{"full item", feed.Item{
			ID:      "tag:example.com,2024:1",
			Link:    "https://example.com/a?b=1&c=<2>",
			Title:   "Ünïcödé \"quoted\" & <escaped> \u2028 日本語",
			Summary: "<p>Hello <b>world</b> &amp; more</p>",
			Content: strings.Repeat("<p>long content</p>\n", 500),
			// Hidden fields are stored byte for byte: no URL or HTML
			// normalization happens in the store.
			Canonical:  "https://Example.com/a?b=1#frag",
			RawSummary: "<p>Hello <b>world</b> &amp; more</p><p>Support us!</p>",
			RawContent: strings.Repeat("<p>long raw content</p>\n", 500),
			Authors: []feed.Person{
				{Name: "Ann", Email: "ann@example.com", URI: "https://ann.example.com/"},
				{Name: "Bob"},
				{Email: "only@example.com"},
				{},
			},
			Categories: []string{"go", "Go", "", "go", "日本語", "a,b;c"},
			Enclosures: []feed.Enclosure{
				{URL: "https://example.com/a.mp3", Type: "audio/mpeg", Length: 123456789012},
				{URL: "https://example.com/b.jpg"},
				{URL: "https://example.com/c.ogg", Type: "audio/ogg", Length: -1},
			},
			Published: at(1),
			Updated:   at(2),
		}},
		{"one of each", feed.Item{
			ID:         "one",
			Authors:    []feed.Person{{URI: "https://example.com/u"}},
			Categories: []string{"c"},
			Enclosures: []feed.Enclosure{{URL: "https://example.com/e", Length: 1}},
			Published:  at(1),
		}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			source := fmt.Sprintf("src%d", i)
			mustSave(t, s, source, []feed.Item{tc.item}, 10, at(3))
			want := stored(source, tc.item, at(3))
			checkItem(t, mustItem(t, s, source, tc.item.ID), want)
			checkItems(t, mustItems(t, s, feed.Query{Sources: []string{source}}), []feed.Item{want})
		})
	}

	t.Run("empty lists read back as nil", func(t *testing.T) {
		it := testItem("x", at(1))
		it.Authors, it.Categories, it.Enclosures = []feed.Person{}, []string{}, []feed.Enclosure{}
		mustSave(t, s, "empty", []feed.Item{it}, 10, at(3))
		got := mustItem(t, s, "empty", "x")
		if got.Authors != nil || got.Categories != nil || got.Enclosures != nil {
			t.Errorf("lists = %#v, %#v, %#v; want nil", got.Authors, got.Categories, got.Enclosures)
		}
	})
}

func testTimes(t *testing.T, open opener) {
	s := mustOpen(t, open)
	zone := time.FixedZone("UTC-7", -7*3600)
	tests := []struct {
		name string
		in   time.Time
		want time.Time
	}{
		{"UTC", at(1), at(1)},
		{"other zone", time.Date(2024, 5, 1, 6, 0, 0, 0, zone), time.Date(2024, 5, 1, 13, 0, 0, 0, time.UTC)},
		{"local zone", at(1).Local(), at(1)},
		{"microseconds kept", t0.Add(123456 * time.Microsecond), t0.Add(123456 * time.Microsecond)},
		{"nanoseconds truncated", t0.Add(999999999), t0.Add(999999 * time.Microsecond)},
		{"before 1970", time.Date(1969, 7, 20, 20, 17, 40, 0, time.UTC), time.Date(1969, 7, 20, 20, 17, 40, 0, time.UTC)},
		{"year 1", time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC), time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC)},
		{"year 9999", time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)},
		{"after 2262", time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			source := fmt.Sprintf("src%d", i)
			it := testItem("x", tc.in)
			it.Updated = tc.in
			now := time.Date(2024, 6, 1, 8, 0, 0, 0, zone)
			mustSave(t, s, source, []feed.Item{it}, 10, now)
			got := mustItem(t, s, source, "x")
			for _, f := range []struct {
				name      string
				got, want time.Time
			}{{"Published", got.Published, tc.want}, {"Updated", got.Updated, tc.want}, {"FirstSeen", got.FirstSeen, now.UTC()}} {
				if f.got != f.want { // == also compares the location: it must be UTC
					t.Errorf("%s = %v (%s), want %v", f.name, f.got, f.got.Location(), f.want)
				}
			}
		})
	}
}

func testItemsOrder(t *testing.T, open opener) {
	s := mustOpen(t, open)
	// Ties at every level of the order: published, then first seen
	// (descending), then source, then id (ascending).
	mustSave(t, s, "b", []feed.Item{testItem("2", at(5)), testItem("1", at(5)), testItem("old", at(1))}, 10, at(10))
	mustSave(t, s, "a", []feed.Item{testItem("9", at(5)), testItem("new", at(6))}, 10, at(10))
	mustSave(t, s, "c", []feed.Item{testItem("0", at(5))}, 10, at(11)) // seen later: first among at(5)
	got := mustItems(t, s, feed.Query{Sources: []string{"c", "b", "a"}})
	want := []string{"a/new", "c/0", "a/9", "b/1", "b/2", "b/old"}
	if !reflect.DeepEqual(keys(got), want) {
		t.Errorf("order = %q, want %q", keys(got), want)
	}
}

func testItemsQuery(t *testing.T, open opener) {
	s := mustOpen(t, open)
	mustSave(t, s, "a", dated(6, 4, 2), 10, at(10))
	mustSave(t, s, "b", dated(5, 3, 1), 10, at(10))
	mustSave(t, s, "c", dated(7), 10, at(10))
	tests := []struct {
		name string
		q    feed.Query
		want []string
	}{
		{"one source", feed.Query{Sources: []string{"b"}}, []string{"b/d5", "b/d3", "b/d1"}},
		{"two sources merge by date", feed.Query{Sources: []string{"a", "b"}},
			[]string{"a/d6", "b/d5", "a/d4", "b/d3", "a/d2", "b/d1"}},
		{"limit", feed.Query{Sources: []string{"a", "b"}, Limit: 3}, []string{"a/d6", "b/d5", "a/d4"}},
		{"limit above the count", feed.Query{Sources: []string{"c"}, Limit: 5}, []string{"c/d7"}},
		{"repeated source", feed.Query{Sources: []string{"c", "c"}}, []string{"c/d7"}},
		{"unknown source", feed.Query{Sources: []string{"nope"}}, nil},
		{"no sources select none", feed.Query{}, nil},
		{"no sources with a limit", feed.Query{Limit: 3}, nil},
		{"names are exact", feed.Query{Sources: []string{"A", "a "}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := keys(mustItems(t, s, tc.q))
			if len(got) != len(tc.want) || (len(got) > 0 && !reflect.DeepEqual(got, tc.want)) {
				t.Errorf("Items(%+v) = %q, want %q", tc.q, got, tc.want)
			}
		})
	}

	bad := []struct {
		name    string
		q       feed.Query
		wantErr string
	}{
		{"negative limit", feed.Query{Sources: []string{"a"}, Limit: -1}, "negative limit -1"},
		{"empty source name", feed.Query{Sources: []string{"a", ""}}, "source 1: empty name"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Items(context.Background(), tc.q)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Items(%+v) error = %v, want one containing %q", tc.q, err, tc.wantErr)
			}
		})
	}
}

func testState(t *testing.T, open opener) {
	s := mustOpen(t, open)
	ctx := context.Background()
	zone := time.FixedZone("UTC+2", 2*3600)

	got, err := s.State(ctx, "unknown")
	if err != nil {
		t.Fatalf("State(unknown): %v", err)
	}
	if want := (feed.SourceState{Name: "unknown"}); got != want {
		t.Errorf("State(unknown) = %+v, want %+v", got, want)
	}

	full := feed.SourceState{
		Name:         "full",
		URL:          "https://example.com/feed",
		Validators:   feed.Validators{ETag: `W/"abc"`, LastModified: "Wed, 01 May 2024 12:00:00 GMT"},
		LastFetch:    time.Date(2024, 5, 1, 14, 0, 0, 123456789, zone),
		NextFetch:    at(3),
		LastSuccess:  at(-1),
		LastError:    "fetch https://example.com/feed: 503 Service Unavailable",
		LastStatus:   503,
		FeedTitle:    "Example “feed”",
		FeedLink:     "https://example.com/",
		Furniture:    "0123456789abcdef",
		Rules:        "fedcba9876543210",
		FirstSuccess: time.Date(2024, 4, 1, 12, 0, 0, 0, time.UTC),
		Failures:     7,
		Moved:        "https://example.com/new/feed",
		Discovered:   "https://example.com/feed.atom",
		Gone:         true,
		LastDuration: 1500*time.Millisecond + 999, // stored to the microsecond
		LastNew:      3,
		LastUpdated:  2,
		LastCause:    feed.CauseHTTP,
		NextReason:   feed.NextRetryAfter,
		ItemCount:    42, // ignored: the store counts
	}
	tests := []struct {
		name string
		save []feed.SourceState // saved in order
		want feed.SourceState
	}{
		{"every field", []feed.SourceState{full}, func() feed.SourceState {
			w := full
			w.LastFetch = time.Date(2024, 5, 1, 12, 0, 0, 123456000, time.UTC)
			w.LastDuration = 1500 * time.Millisecond
			w.ItemCount = 0
			return w
		}()},
		{"zero state", []feed.SourceState{{Name: "zero"}}, feed.SourceState{Name: "zero"}},
		{"overwrite clears fields", []feed.SourceState{full, {Name: "full2", LastStatus: 200}}, feed.SourceState{Name: "full2", LastStatus: 200}},
		// A recovered source: the backoff and the gone mark are reset
		// while the move is kept.
		{"overwrite resets backoff", []feed.SourceState{full, {Name: "full3", Moved: full.Moved}},
			feed.SourceState{Name: "full3", Moved: full.Moved}},
		// Why it failed and why it is tried again when it is: the status
		// pages read both back.
		{"cause and next reason", []feed.SourceState{{Name: "offline", LastError: "fetch x: no such host", LastCause: feed.CauseNoHost, Failures: 1, NextFetch: at(1), NextReason: feed.NextBackoff}},
			feed.SourceState{Name: "offline", LastError: "fetch x: no such host", LastCause: feed.CauseNoHost, Failures: 1, NextFetch: at(1), NextReason: feed.NextBackoff}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for i, st := range tc.save {
				st.Name = tc.want.Name
				if err := s.SaveState(ctx, st); err != nil {
					t.Fatalf("SaveState %d: %v", i, err)
				}
			}
			got, err := s.State(ctx, tc.want.Name)
			if err != nil {
				t.Fatalf("State: %v", err)
			}
			if got != tc.want {
				t.Errorf("State =\n %+v\nwant\n %+v", got, tc.want)
			}
		})
	}

	t.Run("item count", func(t *testing.T) {
		mustSave(t, s, "counted", dated(3, 2, 1), 10, at(5))
		got, err := s.State(ctx, "counted")
		if err != nil {
			t.Fatalf("State: %v", err)
		}
		if want := (feed.SourceState{Name: "counted", ItemCount: 3}); got != want {
			t.Errorf("State = %+v, want %+v", got, want)
		}
	})
}

func testArticles(t *testing.T, open opener) {
	s := mustOpen(t, open)
	ctx := context.Background()
	const page = "https://news.example/2024/05/story"
	full := feed.Article{
		URL:       page,
		RulesKey:  "0123456789abcdef",
		FinalURL:  "https://www.news.example/2024/05/story?amp=0",
		Canonical: "https://news.example/story",
		Title:     "Story “quoted” & <escaped> 日本語",
		Content:   strings.Repeat("<p>paragraph</p>\n", 300),
		ItemHash:  "sha256:feedcafe",
		Fetched:   time.Date(2024, 5, 1, 14, 0, 0, 123456789, time.FixedZone("UTC+2", 2*3600)),
		Published: time.Date(2024, 4, 30, 9, 30, 0, 0, time.FixedZone("UTC+2", 2*3600)),
		Updated:   time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC),
		Author:    "Ana Lýsa “AL” Ørsted",
		Image:     "https://news.example/img/hero.jpg?w=1200",
	}
	fullWant := full
	fullWant.Fetched = time.Date(2024, 5, 1, 12, 0, 0, 123456000, time.UTC)
	fullWant.Published = time.Date(2024, 4, 30, 7, 30, 0, 0, time.UTC)
	failed := feed.Article{URL: page, RulesKey: full.RulesKey, ItemHash: "sha256:beef",
		Err: "fetch https://news.example/2024/05/story: 503 Service Unavailable", Fetched: at(5)}
	// Keys here are relative to the page: each case uses its own URL.
	tests := []struct {
		name string
		puts []feed.Article
		get  [2]string // url, rules key
		want *feed.Article
	}{
		{"every field round-trips", []feed.Article{full}, [2]string{page, full.RulesKey}, &fullWant},
		{"only the key and time", []feed.Article{{URL: page, RulesKey: "k", Fetched: at(1)}},
			[2]string{page, "k"}, &feed.Article{URL: page, RulesKey: "k", Fetched: at(1)}},
		{"empty rules key is a key", []feed.Article{{URL: page, Title: "T", Fetched: at(1)}},
			[2]string{page, ""}, &feed.Article{URL: page, Title: "T", Fetched: at(1)}},
		{"a failure overwrites an extraction and clears it", []feed.Article{full, failed},
			[2]string{page, full.RulesKey}, &failed},
		{"an extraction overwrites a failure", []feed.Article{failed, full},
			[2]string{page, full.RulesKey}, &fullWant},
		{"other rules are another entry", []feed.Article{full, {URL: page, RulesKey: "other", Title: "Other", Fetched: at(9)}},
			[2]string{page, full.RulesKey}, &fullWant},
		{"the other entry is kept too", []feed.Article{full, {URL: page, RulesKey: "other", Title: "Other", Fetched: at(9)}},
			[2]string{page, "other"}, &feed.Article{URL: page, RulesKey: "other", Title: "Other", Fetched: at(9)}},
		{"miss: unknown page", []feed.Article{full}, [2]string{page + "/other", full.RulesKey}, nil},
		{"miss: other rules", []feed.Article{full}, [2]string{page, "fedcba9876543210"}, nil},
		// The cache stores URLs as given: normalizing is the caller's.
		{"miss: URLs are exact", []feed.Article{full}, [2]string{strings.ToUpper(page), full.RulesKey}, nil},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prefix := fmt.Sprintf("https://case%d.example/", i)
			rekey := func(url string) string { return prefix + url }
			for j, a := range tc.puts {
				a.URL = rekey(a.URL)
				if err := s.PutArticle(ctx, a); err != nil {
					t.Fatalf("PutArticle %d: %v", j, err)
				}
			}
			got, ok, err := s.GetArticle(ctx, rekey(tc.get[0]), tc.get[1])
			if err != nil {
				t.Fatalf("GetArticle: %v", err)
			}
			if tc.want == nil {
				if ok || got != (feed.Article{}) {
					t.Errorf("GetArticle = %+v, %v; want a miss", got, ok)
				}
				return
			}
			want := *tc.want
			want.URL = rekey(want.URL)
			if !ok || got != want { // == also compares Fetched's location: it must be UTC
				t.Errorf("GetArticle = %v,\n %+v\nwant\n %+v", ok, got, want)
			}
		})
	}

	bad := []struct {
		name    string
		call    func() error
		wantErr string
	}{
		{"Put with empty URL", func() error { return s.PutArticle(ctx, feed.Article{RulesKey: "k", Fetched: at(1)}) }, "empty url"},
		{"Put with blank URL", func() error {
			return s.PutArticle(ctx, feed.Article{URL: " ", RulesKey: "k", Fetched: at(1)})
		}, "empty url"},
		{"Put without fetch time", func() error { return s.PutArticle(ctx, feed.Article{URL: "https://bad.example/a"}) }, "zero fetch time"},
		{"Put with fetch time after 9999", func() error {
			return s.PutArticle(ctx, feed.Article{URL: "https://bad.example/a", Fetched: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)})
		}, "years 1 to 9999"},
		{"Get with empty URL", func() error { _, _, err := s.GetArticle(ctx, "", "k"); return err }, "empty url"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
	for _, key := range []string{"", "k"} {
		if _, ok, err := s.GetArticle(ctx, "https://bad.example/a", key); ok || err != nil {
			t.Errorf("GetArticle(bad.example, %q) after refused puts = %v, %v; want a miss", key, ok, err)
		}
	}
}

func testStates(t *testing.T, open opener) {
	s := mustOpen(t, open)
	ctx := context.Background()
	if got, err := s.States(ctx); err != nil || len(got) != 0 {
		t.Fatalf("States of an empty store = %+v, %v; want none", got, err)
	}
	for _, st := range []feed.SourceState{{Name: "zeta", LastStatus: 200}, {Name: "alpha", FeedTitle: "A"}} {
		if err := s.SaveState(ctx, st); err != nil {
			t.Fatalf("SaveState: %v", err)
		}
	}
	mustSave(t, s, "alpha", dated(2, 1), 10, at(5))
	mustSave(t, s, "mid", dated(1), 10, at(5)) // items, no saved state
	got, err := s.States(ctx)
	if err != nil {
		t.Fatalf("States: %v", err)
	}
	want := []feed.SourceState{
		{Name: "alpha", FeedTitle: "A", ItemCount: 2},
		{Name: "mid", ItemCount: 1},
		{Name: "zeta", LastStatus: 200},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("States =\n %+v\nwant\n %+v", got, want)
	}
}

func testBadInput(t *testing.T, open opener) {
	s := mustOpen(t, open)
	ctx := context.Background()
	mustSave(t, s, "src", dated(2, 1), 10, at(5))
	if err := s.SaveState(ctx, feed.SourceState{Name: "src", LastStatus: 200}); err != nil {
		t.Fatalf("SaveState: %v", err)
	}
	before := mustItems(t, s, feed.Query{Sources: []string{"src"}})
	beforeStates, err := s.States(ctx)
	if err != nil {
		t.Fatalf("States: %v", err)
	}

	good := testItem("d2", at(9)) // would change a stored item
	good.Title = "changed"
	tests := []struct {
		name    string
		source  string
		items   []feed.Item
		now     time.Time
		wantErr []string // all must appear in the message
	}{
		{"empty source", "", dated(3), at(6), []string{"empty source name"}},
		{"blank source", "  ", dated(3), at(6), []string{"empty source name"}},
		{"empty id", "src", []feed.Item{good, {Link: "https://example.com/no-id"}}, at(6),
			[]string{`"src"`, "item 1", "https://example.com/no-id", "empty id"}},
		{"blank id", "src", []feed.Item{good, {ID: " \t", Title: "T"}}, at(6), []string{"item 1", "empty id"}},
		{"item of another source", "src", []feed.Item{good, {ID: "y", Source: "other"}}, at(6),
			[]string{"item 1", `"y"`, `source "other"`}},
		{"zero save time", "src", []feed.Item{good}, time.Time{}, []string{"zero save time"}},
		{"published after 9999", "src", []feed.Item{good, testItem("far", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))}, at(6),
			[]string{"item 1", `"far"`, "published", "years 1 to 9999"}},
		{"updated before year 1", "src", []feed.Item{good, {ID: "old", Updated: time.Date(0, 12, 31, 0, 0, 0, 0, time.UTC)}}, at(6),
			[]string{"item 1", `"old"`, "updated", "years 1 to 9999"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := s.SaveItems(ctx, tc.source, tc.items, 1, tc.now)
			if err == nil {
				t.Fatalf("SaveItems: no error, result %+v", res)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if res != (feed.SaveResult{}) {
				t.Errorf("result = %+v, want zero on error", res)
			}
			checkItems(t, mustItems(t, s, feed.Query{Sources: []string{"src"}}), before)
		})
	}

	other := []struct {
		name    string
		call    func() error
		wantErr string
	}{
		{"SaveState without name", func() error { return s.SaveState(ctx, feed.SourceState{LastStatus: 500}) }, "empty source name"},
		{"SaveState time after 9999", func() error {
			return s.SaveState(ctx, feed.SourceState{Name: "src", NextFetch: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)})
		}, "next fetch"},
		{"SaveState negative failures", func() error {
			return s.SaveState(ctx, feed.SourceState{Name: "src", Failures: -1})
		}, "negative failure count"},
		{"SaveState negative duration", func() error {
			return s.SaveState(ctx, feed.SourceState{Name: "src", LastFetch: at(9), LastDuration: -time.Second})
		}, "negative duration"},
		{"SaveState negative item counts", func() error {
			return s.SaveState(ctx, feed.SourceState{Name: "src", LastFetch: at(9), LastNew: -1})
		}, "negative item counts"},
		{"Fetches without name", func() error { _, err := s.Fetches(ctx, " ", 0); return err }, "empty source name"},
		{"RecentItemCounts after 9999", func() error {
			_, err := s.RecentItemCounts(ctx, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))
			return err
		}, "years 1 to 9999"},
		{"State without name", func() error { _, err := s.State(ctx, ""); return err }, "empty source name"},
		{"Item without source", func() error { _, _, err := s.Item(ctx, feed.Key{ID: "d1"}); return err }, "empty source name"},
		{"Item without id", func() error { _, _, err := s.Item(ctx, feed.Key{Source: "src"}); return err }, "empty id"},
	}
	for _, tc := range other {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
	afterStates, err := s.States(ctx)
	if err != nil {
		t.Fatalf("States: %v", err)
	}
	if !reflect.DeepEqual(afterStates, beforeStates) {
		t.Errorf("states changed by bad input:\n got %+v\nwant %+v", afterStates, beforeStates)
	}
	if got, err := s.Fetches(ctx, "src", 0); err != nil || len(got) != 0 {
		t.Errorf("fetch history after refused states = %+v, %v; want none", got, err)
	}
}

func testDuplicateIDs(t *testing.T, open opener) {
	s := mustOpen(t, open)
	first := testItem("x", at(2))
	second := testItem("x", at(1))
	second.Title = "older copy"
	checkResult(t, "save", mustSave(t, s, "src", []feed.Item{first, second}, 10, at(5)), feed.SaveResult{New: 1})
	checkItem(t, mustItem(t, s, "src", "x"), stored("src", first, at(5)))
	checkResult(t, "again", mustSave(t, s, "src", []feed.Item{first, second}, 10, at(6)), feed.SaveResult{})
}

func testCancelledContext(t *testing.T, open opener) {
	s := mustOpen(t, open)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls := []struct {
		name string
		call func() error
	}{
		{"SaveItems", func() error { _, err := s.SaveItems(ctx, "src", dated(1), 10, at(2)); return err }},
		{"SaveState", func() error {
			return s.SaveState(ctx, feed.SourceState{Name: "src", LastStatus: 200, LastFetch: at(1)})
		}},
		{"Items", func() error { _, err := s.Items(ctx, feed.Query{Sources: []string{"src"}}); return err }},
		{"Item", func() error { _, _, err := s.Item(ctx, feed.Key{Source: "src", ID: "d1"}); return err }},
		{"State", func() error { _, err := s.State(ctx, "src"); return err }},
		{"States", func() error { _, err := s.States(ctx); return err }},
		{"Fetches", func() error { _, err := s.Fetches(ctx, "src", 0); return err }},
		{"RecentItemCounts", func() error { _, err := s.RecentItemCounts(ctx, at(1)); return err }},
		{"Size", func() error { _, err := s.Size(ctx); return err }},
		{"GetArticle", func() error { _, _, err := s.GetArticle(ctx, "https://example.com/a", "k"); return err }},
		{"PutArticle", func() error {
			return s.PutArticle(ctx, feed.Article{URL: "https://example.com/a", RulesKey: "k", Fetched: at(1)})
		}},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			if err := c.call(); !errors.Is(err, context.Canceled) {
				t.Errorf("error = %v, want context.Canceled", err)
			}
		})
	}
	states, err := s.States(context.Background())
	if err != nil || len(states) != 0 {
		t.Errorf("after cancelled calls: States = %+v, %v; want nothing stored", states, err)
	}
	if _, ok, err := s.GetArticle(context.Background(), "https://example.com/a", "k"); ok || err != nil {
		t.Errorf("after cancelled calls: GetArticle = %v, %v; want no article", ok, err)
	}
	if got, err := s.Fetches(context.Background(), "src", 0); err != nil || len(got) != 0 {
		t.Errorf("after cancelled calls: Fetches = %+v, %v; want none", got, err)
	}
}

func testConcurrentHandles(t *testing.T, open opener) {
	h1, h2 := mustOpen(t, open), mustOpen(t, open)
	const batches, perBatch = 8, 5
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	write := func(s conformanceStore, name string) {
		defer wg.Done()
		for b := range batches {
			items := make([]feed.Item, perBatch)
			for i := range items {
				items[i] = testItem(fmt.Sprintf("%s-%d-%d", name, b, i), at(b))
			}
			// Each writer saves to its own source and to one shared by all.
			for _, src := range []string{name, "shared"} {
				if _, err := s.SaveItems(ctx, src, items, 1000, at(100+b)); err != nil {
					errs <- fmt.Errorf("writer %s: %w", name, err)
					return
				}
			}
			if err := s.SaveState(ctx, feed.SourceState{Name: name, LastStatus: 200 + b}); err != nil {
				errs <- fmt.Errorf("writer %s: %w", name, err)
				return
			}
		}
	}
	read := func(s conformanceStore) {
		defer wg.Done()
		for range batches {
			if _, err := s.Items(ctx, feed.Query{Sources: []string{"shared"}, Limit: 10}); err != nil {
				errs <- fmt.Errorf("reader: %w", err)
				return
			}
		}
	}
	writers := map[string]conformanceStore{"w1": h1, "w2": h1, "w3": h2, "w4": h2}
	for name, s := range writers {
		wg.Add(1)
		go write(s, name)
	}
	wg.Add(2)
	go read(h1)
	go read(h2)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	states, err := h1.States(ctx)
	if err != nil {
		t.Fatalf("States: %v", err)
	}
	want := []feed.SourceState{{Name: "shared", ItemCount: len(writers) * batches * perBatch}}
	for _, name := range []string{"w1", "w2", "w3", "w4"} {
		want = append(want, feed.SourceState{Name: name, LastStatus: 200 + batches - 1, ItemCount: batches * perBatch})
	}
	slices.SortFunc(want, func(a, b feed.SourceState) int { return strings.Compare(a.Name, b.Name) })
	if !reflect.DeepEqual(states, want) {
		t.Errorf("States =\n %+v\nwant\n %+v", states, want)
	}
}

// testItemsNoRaw: Query.NoRaw lists the same items with their raw fields
// left empty, and nothing else different.
func testItemsNoRaw(t *testing.T, open opener) {
	s := mustOpen(t, open)
	it := withHidden(testItem("x", at(1)))
	mustSave(t, s, "src", []feed.Item{it}, 10, at(2))
	full := mustItems(t, s, feed.Query{Sources: []string{"src"}})
	light := mustItems(t, s, feed.Query{Sources: []string{"src"}, NoRaw: true})
	if len(full) != 1 || len(light) != 1 {
		t.Fatalf("got %d and %d items, want 1 each", len(full), len(light))
	}
	if full[0].RawContent == "" || full[0].RawSummary == "" {
		t.Fatalf("the full listing lost the raw fields: %+v", full[0])
	}
	want := full[0]
	want.RawSummary, want.RawContent = "", ""
	if !reflect.DeepEqual(light[0], want) {
		t.Errorf("NoRaw listing =\n %+v\nwant\n %+v", light[0], want)
	}
}

func testItemsPaged(t *testing.T, open opener) {
	s := mustOpen(t, open)
	ctx := context.Background()
	// Ties at every level, as in testItemsOrder: the oldest-first order
	// is its exact reverse.
	mustSave(t, s, "b", []feed.Item{testItem("2", at(5)), testItem("1", at(5)), testItem("old", at(1))}, 10, at(10))
	mustSave(t, s, "a", []feed.Item{testItem("9", at(5)), testItem("new", at(6))}, 10, at(10))
	mustSave(t, s, "c", []feed.Item{testItem("0", at(5))}, 10, at(11))
	newest := []string{"a/new", "c/0", "a/9", "b/1", "b/2", "b/old"}
	oldest := reversed(newest)
	all := []string{"c", "b", "a"}
	tests := []struct {
		name string
		q    feed.Query
		want []string
	}{
		{"oldest first", feed.Query{Sources: all, Oldest: true}, oldest},
		{"oldest first, one source", feed.Query{Sources: []string{"b"}, Oldest: true}, []string{"b/old", "b/2", "b/1"}},
		{"a page from the oldest", feed.Query{Sources: all, Oldest: true, Limit: 2, Offset: 2}, oldest[2:4]},
		{"the last, short page", feed.Query{Sources: all, Oldest: true, Limit: 4, Offset: 4}, oldest[4:]},
		{"offset of one source", feed.Query{Sources: []string{"b"}, Oldest: true, Limit: 1, Offset: 1}, []string{"b/2"}},
		{"offset newest first", feed.Query{Sources: all, Limit: 2, Offset: 1}, newest[1:3]},
		{"offset without a limit", feed.Query{Sources: all, Offset: 3}, newest[3:]},
		{"offset past the end", feed.Query{Sources: all, Oldest: true, Limit: 2, Offset: 6}, nil},
		{"no sources", feed.Query{Oldest: true, Offset: 1}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := keys(mustItems(t, s, tc.q))
			if len(got) != len(tc.want) || (len(got) > 0 && !reflect.DeepEqual(got, tc.want)) {
				t.Errorf("Items(%+v) = %q, want %q", tc.q, got, tc.want)
			}
		})
	}
	if _, err := s.Items(ctx, feed.Query{Sources: all, Offset: -1}); err == nil || !strings.Contains(err.Error(), "negative offset -1") {
		t.Errorf("negative offset: error = %v", err)
	}

	counts := []struct {
		name    string
		sources []string
		want    int
	}{
		{"all", all, 6},
		{"one", []string{"b"}, 3},
		{"repeated", []string{"a", "a"}, 2},
		{"unknown", []string{"nope"}, 0},
		{"none", nil, 0},
	}
	for _, tc := range counts {
		t.Run("count "+tc.name, func(t *testing.T) {
			n, err := s.CountItems(ctx, tc.sources)
			if err != nil || n != tc.want {
				t.Errorf("CountItems(%q) = %d, %v; want %d", tc.sources, n, err, tc.want)
			}
		})
	}
	if _, err := s.CountItems(ctx, []string{"a", " "}); err == nil || !strings.Contains(err.Error(), "source 1: empty name") {
		t.Errorf("empty name: error = %v", err)
	}
}

func reversed(s []string) []string {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

// testSaveStates: several states are stored in one go, all or none.
func testSaveStates(t *testing.T, open opener) {
	s := mustOpen(t, open)
	ctx := context.Background()
	batch := []feed.SourceState{
		{Name: "a", LastStatus: 304, LastFetch: at(1), Validators: feed.Validators{ETag: `"a"`}},
		{Name: "b", LastStatus: 304, LastFetch: at(2)},
	}
	if err := s.SaveStates(ctx, batch); err != nil {
		t.Fatalf("SaveStates: %v", err)
	}
	for _, want := range batch {
		got, err := s.State(ctx, want.Name)
		if err != nil || got.LastStatus != 304 || !got.LastFetch.Equal(want.LastFetch) || got.Validators != want.Validators {
			t.Errorf("State(%s) = %+v, %v; want %+v", want.Name, got, err, want)
		}
	}
	bad := []feed.SourceState{{Name: "c", LastStatus: 200}, {Name: "d", Failures: -1}}
	if err := s.SaveStates(ctx, bad); err == nil || !strings.Contains(err.Error(), `"d"`) {
		t.Errorf("SaveStates with a bad state: %v, want an error naming d", err)
	}
	if got, _ := s.State(ctx, "c"); got.LastStatus != 0 {
		t.Errorf("a refused batch stored part of itself: %+v", got)
	}
	if err := s.SaveStates(ctx, nil); err != nil {
		t.Errorf("SaveStates(nil): %v", err)
	}
}
