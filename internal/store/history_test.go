package store

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
)

// attempt returns the state of source after an attempt at t: a success
// bringing newItems and updated items for a status below 400, else a
// failure. Its duration has a sub-microsecond part, which the store drops.
func attempt(source string, t time.Time, status, newItems, updated int) feed.SourceState {
	st := feed.SourceState{
		Name:         source,
		LastFetch:    t,
		NextFetch:    t.Add(time.Hour),
		LastStatus:   status,
		LastDuration: time.Duration(status)*time.Millisecond + 1234*time.Nanosecond,
		LastNew:      newItems,
		LastUpdated:  updated,
	}
	if status >= 400 {
		st.LastError = fmt.Sprintf("fetch https://example.com/%s: status %d", source, status)
		st.Failures = 1
	} else {
		st.LastSuccess = t
	}
	return st
}

// fetchOf is the history entry st records, as the store returns it. The
// states of attempt have times in UTC, to the microsecond.
func fetchOf(st feed.SourceState) feed.Fetch {
	return feed.Fetch{
		At:       st.LastFetch,
		Duration: st.LastDuration.Truncate(time.Microsecond),
		Status:   st.LastStatus,
		Err:      st.LastError,
		New:      st.LastNew,
		Updated:  st.LastUpdated,
	}
}

func fetchesOf(sts ...feed.SourceState) []feed.Fetch {
	out := make([]feed.Fetch, len(sts))
	for i, st := range sts {
		out[i] = fetchOf(st)
	}
	return out
}

func mustSaveState(t testing.TB, s conformanceStore, sts ...feed.SourceState) {
	t.Helper()
	if err := s.SaveStates(context.Background(), sts); err != nil {
		t.Fatalf("SaveStates(%d states): %v", len(sts), err)
	}
}

// checkFetches compares the history of source, at most limit entries,
// with want. == on the entries also compares At's location: it must be
// UTC.
func checkFetches(t testing.TB, s conformanceStore, source string, limit int, want []feed.Fetch) {
	t.Helper()
	got, err := s.Fetches(context.Background(), source, limit)
	if err != nil {
		t.Fatalf("Fetches(%q, %d): %v", source, limit, err)
	}
	if len(got) != len(want) {
		t.Errorf("Fetches(%q, %d): %d entries %+v, want %d %+v", source, limit, len(got), got, len(want), want)
		return
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Fetches(%q, %d)[%d] =\n %+v\nwant\n %+v", source, limit, i, got[i], want[i])
		}
	}
}

// checkAttempt checks that the stored state of st.Name describes the
// attempt st records.
func checkAttempt(t testing.TB, s conformanceStore, st feed.SourceState) {
	t.Helper()
	got, err := s.State(context.Background(), st.Name)
	if err != nil {
		t.Fatalf("State(%q): %v", st.Name, err)
	}
	if !got.LastFetch.Equal(st.LastFetch) || got.LastDuration != st.LastDuration.Truncate(time.Microsecond) ||
		got.LastStatus != st.LastStatus || got.LastError != st.LastError ||
		got.LastNew != st.LastNew || got.LastUpdated != st.LastUpdated {
		t.Errorf("State(%q) = %+v, want the attempt of %+v", st.Name, got, st)
	}
}

func testFetchHistory(t *testing.T, open opener) {
	s := mustOpen(t, open)
	ctx := context.Background()
	zone := time.FixedZone("UTC+2", 2*3600)
	first := feed.SourceState{
		Name:         "src",
		URL:          "https://example.com/feed",
		LastFetch:    time.Date(2024, 5, 1, 14, 0, 0, 123456789, zone),
		NextFetch:    at(3),
		LastSuccess:  time.Date(2024, 5, 1, 14, 0, 0, 123456789, zone),
		LastStatus:   200,
		LastDuration: 2345678901 * time.Nanosecond,
		LastNew:      7,
		LastUpdated:  2,
	}
	firstFetch := feed.Fetch{
		At:       time.Date(2024, 5, 1, 12, 0, 0, 123456000, time.UTC),
		Duration: 2345678 * time.Microsecond,
		Status:   200,
		New:      7,
		Updated:  2,
	}
	resaved := first
	resaved.NextFetch, resaved.LastStatus, resaved.LastNew = at(9), 304, 0
	sameInstant := first
	sameInstant.LastFetch = first.LastFetch.In(time.UTC).Add(-700) // the same microsecond
	failed := attempt("src", at(4), 503, 0, 0)
	earlier := attempt("src", at(-1), 200, 1, 0)

	steps := []struct {
		name string
		save feed.SourceState
		want []feed.Fetch
	}{
		{"no attempt recorded yet", feed.SourceState{Name: "src", NextFetch: at(1)}, nil},
		{"a first attempt: every field", first, []feed.Fetch{firstFetch}},
		{"the same state saved again", first, []feed.Fetch{firstFetch}},
		{"the same attempt with other fields changed", resaved, []feed.Fetch{firstFetch}},
		{"the same attempt in another zone", sameInstant, []feed.Fetch{firstFetch}},
		{"a failed attempt", failed, []feed.Fetch{fetchOf(failed), firstFetch}},
		{"a state without an attempt", feed.SourceState{Name: "src", NextFetch: at(5)}, []feed.Fetch{fetchOf(failed), firstFetch}},
		// After a state without LastFetch, the failed attempt is new to
		// the state again, but the history has it already.
		{"an attempt listed already", failed, []feed.Fetch{fetchOf(failed), firstFetch}},
		{"an attempt older than the others", earlier, []feed.Fetch{fetchOf(failed), firstFetch, fetchOf(earlier)}},
	}
	for _, st := range steps {
		mustSaveState(t, s, st.save)
		checkFetches(t, s, "src", 0, st.want)
		if t.Failed() {
			t.Fatalf("after step %q", st.name)
		}
	}
	checkAttempt(t, s, earlier)

	all := fetchesOf(failed, first, earlier)
	all[1] = firstFetch
	limits := []struct {
		limit int
		want  []feed.Fetch
	}{{1, all[:1]}, {2, all[:2]}, {3, all}, {10, all}, {0, all}, {-1, all}}
	for _, tc := range limits {
		checkFetches(t, s, "src", tc.limit, tc.want)
	}
	checkFetches(t, s, "unknown", 0, nil)

	// States lists the new fields as State reads them.
	states, err := s.States(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.State(ctx, "src")
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != 1 || states[0] != st {
		t.Errorf("States = %+v, want [%+v]", states, st)
	}
}

func testFetchHistoryCap(t *testing.T, open opener) {
	s := mustOpen(t, open)
	quiet := attempt("quiet", at(0), 200, 1, 0)
	mustSaveState(t, s, quiet)
	const n = fetchHistoryKeep + 5
	var newest []feed.SourceState // newest first
	for i := range n {
		st := attempt("busy", at(i), 200+i%2*104, i, 0)
		mustSaveState(t, s, st)
		newest = append([]feed.SourceState{st}, newest...)
	}
	kept := fetchesOf(newest[:fetchHistoryKeep]...)
	checkFetches(t, s, "busy", 0, kept)
	checkFetches(t, s, "busy", 1000, kept)
	checkFetches(t, s, "busy", 3, kept[:3])
	checkFetches(t, s, "quiet", 0, fetchesOf(quiet))

	// An attempt older than every kept one is recorded in the state, but
	// falls out of the history at once.
	old := attempt("busy", at(-100), 200, 0, 0)
	mustSaveState(t, s, old)
	checkAttempt(t, s, old)
	checkFetches(t, s, "busy", 0, kept)
}

func testFetchHistoryBatch(t *testing.T, open opener) {
	s := mustOpen(t, open)
	ctx := context.Background()
	a1, b1 := attempt("a", at(1), 200, 3, 1), attempt("b", at(1), 304, 0, 0)
	mustSaveState(t, s, b1, feed.SourceState{Name: "c", NextFetch: at(2)}, a1)
	checkFetches(t, s, "a", 0, fetchesOf(a1))
	checkFetches(t, s, "b", 0, fetchesOf(b1))
	checkFetches(t, s, "c", 0, nil)

	b2 := attempt("b", at(2), 500, 0, 0)
	mustSaveState(t, s, b2, a1) // a: saved again, no new attempt
	checkFetches(t, s, "a", 0, fetchesOf(a1))
	checkFetches(t, s, "b", 0, fetchesOf(b2, b1))

	// A repeated name: the last of its states is stored, and each of
	// them that is a new attempt is in the history.
	a3, a4 := attempt("a", at(3), 200, 1, 0), attempt("a", at(4), 429, 0, 0)
	mustSaveState(t, s, a3, b2, a3, a4)
	checkFetches(t, s, "a", 0, fetchesOf(a4, a3, a1))
	checkFetches(t, s, "b", 0, fetchesOf(b2, b1))
	checkAttempt(t, s, a4)

	// More attempts of one source than the history keeps, in one batch.
	many := make([]feed.SourceState, fetchHistoryKeep+10)
	for i := range many {
		many[i] = attempt("many", at(len(many)-i), 200, i, 0) // newest first
	}
	mustSaveState(t, s, many...)
	checkFetches(t, s, "many", 0, fetchesOf(many[:fetchHistoryKeep]...))
	checkAttempt(t, s, many[len(many)-1])

	// A refresh pass of a thousand sources is one call.
	pass := make([]feed.SourceState, 1000)
	for i := range pass {
		pass[i] = attempt(fmt.Sprintf("s%04d", i), at(5), 200+i%2*104, i%3, i%2)
	}
	mustSaveState(t, s, pass...)
	for _, st := range pass {
		checkFetches(t, s, st.Name, 0, fetchesOf(st))
	}

	// A refused batch records no attempt.
	if err := s.SaveStates(ctx, []feed.SourceState{attempt("a", at(9), 200, 0, 0), {Name: "bad", Failures: -1}}); err == nil {
		t.Fatal("SaveStates with a bad state: no error")
	}
	checkFetches(t, s, "a", 0, fetchesOf(a4, a3, a1))
}

// testFetchHistoryConcurrent: handles saving the same state at once
// record its attempt once; different attempts are all recorded.
func testFetchHistoryConcurrent(t *testing.T, open opener) {
	h1, h2 := mustOpen(t, open), mustOpen(t, open)
	ctx := context.Background()
	same := attempt("same", at(1), 200, 2, 1)
	const writers = 8
	var wg sync.WaitGroup
	errs := make(chan error, 2*writers)
	var distinct []feed.SourceState // newest first
	for i := range writers {
		s := h1
		if i%2 == 1 {
			s = h2
		}
		st := attempt("distinct", at(10+i), 200, i, 0)
		distinct = append([]feed.SourceState{st}, distinct...)
		wg.Go(func() {
			if err := s.SaveState(ctx, same); err != nil {
				errs <- err
			}
			if err := s.SaveState(ctx, st); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	checkFetches(t, h1, "same", 0, fetchesOf(same))
	checkFetches(t, h2, "distinct", 0, fetchesOf(distinct...))
}

func testRecentItemCounts(t *testing.T, open opener) {
	s := mustOpen(t, open)
	ctx := context.Background()
	if got, err := s.RecentItemCounts(ctx, time.Time{}); err != nil || len(got) != 0 {
		t.Fatalf("RecentItemCounts of an empty store = %v, %v; want none", got, err)
	}
	mustSave(t, s, "a", dated(3, 2, 1), 10, at(10))
	mustSave(t, s, "b", dated(1), 10, at(10))
	mustSave(t, s, "a", dated(4, 3, 2, 1), 10, at(11)) // d4 first seen at(11)
	mustSave(t, s, "p", dated(1), 1, at(11))
	mustSave(t, s, "p", dated(2), 1, at(12)) // d1 pruned: it counts no more
	changed := dated(3)
	changed[0].Title = "changed"
	checkResult(t, "update", mustSave(t, s, "a", changed, 10, at(12)), feed.SaveResult{Updated: 1}) // first seen stays at(10)
	us := time.Microsecond
	tests := []struct {
		name  string
		since time.Time
		want  map[string]int
	}{
		{"zero: every item", time.Time{}, map[string]int{"a": 4, "b": 1, "p": 1}},
		{"year 1", minTime, map[string]int{"a": 4, "b": 1, "p": 1}},
		{"at the first save: included", at(10), map[string]int{"a": 4, "b": 1, "p": 1}},
		{"just after it", at(10).Add(us), map[string]int{"a": 1, "p": 1}},
		{"at the second save", at(11), map[string]int{"a": 1, "p": 1}},
		{"just after the second save", at(11).Add(us), map[string]int{"p": 1}},
		{"the same instant in another zone", at(12).In(time.FixedZone("UTC-5", -5*3600)), map[string]int{"p": 1}},
		{"after every save", at(12).Add(us), map[string]int{}},
		{"far future", time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), map[string]int{}},
	}
	for _, tc := range tests {
		got, err := s.RecentItemCounts(ctx, tc.since)
		if err != nil || got == nil || !maps.Equal(got, tc.want) {
			t.Errorf("%s: RecentItemCounts(%v) = %v, %v; want %v", tc.name, tc.since, got, err, tc.want)
		}
	}
}

func testSize(t *testing.T, open opener) {
	s := mustOpen(t, open)
	ctx := context.Background()
	n0, err := s.Size(ctx)
	if err != nil || n0 <= 0 {
		t.Fatalf("Size of a new store = %d, %v; want more than 0", n0, err)
	}
	items := make([]feed.Item, 300)
	for i := range items {
		items[i] = testItem(fmt.Sprint(i), at(i))
		items[i].Content = strings.Repeat(fmt.Sprintf("<p>item %d of a store that grows</p>", i), 60)
	}
	mustSave(t, s, "src", items, 1000, at(500))
	n1, err := s.Size(ctx)
	if err != nil || n1 <= n0 {
		t.Errorf("Size after saving %d items = %d, %v; want more than %d", len(items), n1, err, n0)
	}
	t.Logf("size %d, then %d after %d items", n0, n1, len(items))
}

// insertItemBeforeImagesSQL is insertItemSQL as schemas 3 to 10 had it,
// before items had an image.
const insertItemBeforeImagesSQL = `INSERT INTO items
	(source, id, link, title, summary, content, authors, categories, enclosures,
	 published, updated, first_seen, hash,
	 canonical, raw_summary, raw_content, hidden_hash)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// saveItemsBeforeImages saves new items of source into a store at a
// schema from 6 to 10, as SaveItems did then: planned by the same code,
// written with the columns of those schemas, counted in item_counts.
func saveItemsBeforeImages(t *testing.T, old *engine, source string, items []feed.Item, now time.Time) {
	t.Helper()
	ctx := context.Background()
	recs, err := prepareBatch(source, items, now)
	if err != nil {
		t.Fatal(err)
	}
	err = old.write(ctx, func(q querier) error {
		for _, r := range plan(recs, nil, len(recs), now).inserts {
			if _, err := q.exec(ctx, insertItemBeforeImagesSQL, source, r.id, r.link, r.title, r.summary, r.content,
				nullString(r.authors), nullString(r.categories), nullString(r.enclosures),
				toMicros(r.published), toMicros(r.updated), toMicros(r.firstSeen), r.hash,
				r.canonical, r.rawSummary, rawBeforeSchema13(r), r.hiddenHash); err != nil {
				return err
			}
		}
		_, err := q.exec(ctx, countItemsSQL, source, source)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// upgradeTest is an upgrade test both drivers run: old is a handle on a
// store a release left (for writing rows as it did), closeOld closes it,
// and open opens the store as this release does.
type upgradeTest func(t *testing.T, old *engine, closeOld func(), open opener)

// testUpgradeFromVersion7 opens a store written by the release before
// the fetch history: old is a handle on it at schema 7, closeOld closes
// it, and open opens it as this release does. Its items and states read
// back as they were, with the new fields zero; its history starts with
// the next attempt.
func testUpgradeFromVersion7(t *testing.T, old *engine, closeOld func(), open opener) {
	ctx := context.Background()
	// Items as schema 7 wrote them (see saveItemsBeforeImages), a state
	// with the columns schema 7 had.
	saveItemsBeforeImages(t, old, "src", dated(3, 2, 1), at(5))
	if err := old.write(ctx, func(q querier) error {
		_, err := q.exec(ctx, `INSERT INTO source_state
			(name, etag, last_modified, last_fetch, next_fetch, last_success, last_error, last_status,
			 feed_title, feed_link, url, failures)
			VALUES ('src', '"e"', '', ?, ?, ?, '', 200, 'Src', '', 'https://example.com/feed', 0)`,
			toMicros(at(5)), toMicros(at(6)), toMicros(at(5)))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	closeOld()

	s := mustOpen(t, open)
	want := feed.SourceState{Name: "src", URL: "https://example.com/feed", Validators: feed.Validators{ETag: `"e"`},
		LastFetch: at(5), NextFetch: at(6), LastSuccess: at(5), LastStatus: 200, FeedTitle: "Src", ItemCount: 3}
	st, err := s.State(ctx, "src")
	if err != nil || st != want {
		t.Errorf("State = %+v, %v; want %+v", st, err, want)
	}
	if states, err := s.States(ctx); err != nil || !reflect.DeepEqual(states, []feed.SourceState{want}) {
		t.Errorf("States = %+v, %v; want [%+v]", states, err, want)
	}
	checkIDs(t, mustItems(t, s, feed.Query{Sources: []string{"src"}}), "d3", "d2", "d1")
	checkFetches(t, s, "src", 0, nil)
	for _, tc := range []struct {
		since time.Time
		want  map[string]int
	}{{at(5), map[string]int{"src": 3}}, {at(5).Add(time.Microsecond), map[string]int{}}} {
		if got, err := s.RecentItemCounts(ctx, tc.since); err != nil || !maps.Equal(got, tc.want) {
			t.Errorf("RecentItemCounts(%v) = %v, %v; want %v", tc.since, got, err, tc.want)
		}
	}

	// The stored attempt saved again (as while a host asks to wait) is
	// not a new one.
	st.NextFetch = at(7)
	mustSaveState(t, s, st)
	checkFetches(t, s, "src", 0, nil)
	next := attempt("src", at(7), 200, 1, 0)
	mustSaveState(t, s, next)
	checkFetches(t, s, "src", 0, fetchesOf(next))
	checkAttempt(t, s, next)
}

// testUpgradeBeforeImages opens a store written by the release before
// images (schema 10): old is a handle on it, closeOld closes it, open
// opens it as this release does. Its items and articles read back with
// no image; the same items saved again write nothing (their content
// hashes are still right), and an item that gains an image is updated.
func testUpgradeBeforeImages(t *testing.T, old *engine, closeOld func(), open opener) {
	ctx := context.Background()
	items := dated(2, 1)
	saveItemsBeforeImages(t, old, "src", items, at(3))
	if err := old.write(ctx, func(q querier) error {
		_, err := q.exec(ctx, `INSERT INTO articles
			(url, rules_key, final_url, canonical, title, content, item_hash, err, fetched, published, updated, author)
			VALUES ('https://example.com/a', 'k', '', '', 'A', '<p>A</p>', '', '', ?, 0, 0, 'Ann')`, toMicros(at(3)))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	closeOld()

	s := mustOpen(t, open)
	want := []feed.Item{stored("src", items[0], at(3)), stored("src", items[1], at(3))}
	checkItems(t, mustItems(t, s, feed.Query{Sources: []string{"src"}}), want)
	a, ok, err := s.GetArticle(ctx, "https://example.com/a", "k")
	if wantA := (feed.Article{URL: "https://example.com/a", RulesKey: "k", Title: "A", Content: "<p>A</p>", Author: "Ann", Fetched: at(3)}); err != nil || !ok || a != wantA {
		t.Errorf("GetArticle = %+v, %v, %v; want %+v", a, ok, err, wantA)
	}
	checkResult(t, "the same items again", mustSave(t, s, "src", items, 10, at(4)), feed.SaveResult{})
	items[1] = withImage(items[1])
	checkResult(t, "an image added", mustSave(t, s, "src", items, 10, at(5)), feed.SaveResult{Updated: 1})
	if got := mustItem(t, s, "src", items[1].ID); got.Image != items[1].Image {
		t.Errorf("image %q, want %q", got.Image, items[1].Image)
	}
}
