package publish

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/atom"
	"github.com/mmcdole/gofeed/rss"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/testkit"
)

// memStore is a tiny in-memory implementation of itemStore. It answers a
// query the way a store must: the selected sources only, newest first (by
// date, then first seen, then source and id) or exactly the reverse, after
// Offset, at most Limit items.
type memStore struct {
	mu       sync.Mutex
	items    []feed.Item
	states   []feed.SourceState
	itemsErr error
	stateErr error
	queries  []feed.Query
}

func (m *memStore) Items(ctx context.Context, q feed.Query) ([]feed.Item, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.queries = append(m.queries, feed.Query{Sources: slices.Clone(q.Sources), Limit: q.Limit, Offset: q.Offset, Oldest: q.Oldest})
	if m.itemsErr != nil {
		return nil, m.itemsErr
	}
	var out []feed.Item
	for _, it := range m.items {
		if slices.Contains(q.Sources, it.Source) {
			out = append(out, it)
		}
	}
	slices.SortFunc(out, func(a, b feed.Item) int {
		return cmp.Or(b.Date().Compare(a.Date()), b.FirstSeen.Compare(a.FirstSeen),
			strings.Compare(a.Source, b.Source), strings.Compare(a.ID, b.ID))
	})
	if q.Oldest {
		slices.Reverse(out)
	}
	out = out[min(q.Offset, len(out)):]
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

func (m *memStore) CountItems(ctx context.Context, sources []string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.itemsErr != nil {
		return 0, m.itemsErr
	}
	n := 0
	for _, it := range m.items {
		if slices.Contains(sources, it.Source) {
			n++
		}
	}
	return n, nil
}

func (m *memStore) States(ctx context.Context) ([]feed.SourceState, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stateErr != nil {
		return nil, m.stateErr
	}
	return slices.Clone(m.states), nil
}

func (m *memStore) set(items []feed.Item) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.items = items
}

const testBase = "https://news.example.org"

// t0 is the fixture's reference time.
var t0 = time.Date(2024, time.March, 1, 12, 0, 0, 0, time.UTC)

func testSources() []feed.Source {
	return []feed.Source{
		{Name: "alpha", URL: "https://alpha.example.com/feed.xml", Title: "Alpha Blog", Categories: []string{"tech"}},
		{Name: "beta", URL: "https://beta.example.net/rss", Categories: []string{"news", "Tech"}},
		{Name: "gamma", URL: "https://gamma.example.org/atom.xml"},
	}
}

func testStates() []feed.SourceState {
	return []feed.SourceState{
		{Name: "alpha", FeedTitle: "Alpha's own title", FeedLink: "https://alpha.example.com/", LastSuccess: t0},
		{Name: "beta", FeedTitle: "Beta News", FeedLink: "https://beta.example.net/", LastSuccess: t0},
	}
}

func testSpecs() []FeedSpec {
	return []FeedSpec{
		{Name: "all", Title: "All the news", Description: "Everything we read", Sources: []string{"alpha", "beta", "gamma"}, Limit: 10},
		{Name: "tech", Title: "Tech", Sources: []string{"alpha"}, Limit: 2},
		{Name: "empty", Title: "Nothing yet"},
	}
}

// testItems covers: authors with and without e-mail, an author with only an
// address, categories (with a repeat of a source category), enclosures with
// and without length, an item without a title, one with only a summary, one
// with neither, HTML with entities, the same story from two sources by link
// and by id.
func testItems() []feed.Item {
	h := time.Hour
	return []feed.Item{
		{
			Source: "alpha", ID: "https://alpha.example.com/posts/1", Link: "https://alpha.example.com/posts/1",
			Title:      "Hello & welcome",
			Summary:    "<p>Short <b>intro</b></p>",
			Content:    "<p>Full text with &amp; entities &lt;tag&gt; and “quotes” — é</p>",
			Authors:    []feed.Person{{Name: "Ann Author", Email: "ann@example.com"}},
			Categories: []string{"Go", "tech"},
			Image:      "https://alpha.example.com/img/hello.jpg?w=800&h=450",
			Published:  t0, Updated: t0.Add(h), FirstSeen: t0,
		},
		{
			Source: "alpha", ID: "tag:alpha.example.com,2024:2", Link: "https://alpha.example.com/posts/2",
			Summary:    "<p>This post has no title but a fairly long first paragraph that goes on and on, well beyond eighty characters.</p>",
			Authors:    []feed.Person{{Name: "Bob"}},
			Enclosures: []feed.Enclosure{{URL: "https://alpha.example.com/ep2.mp3", Type: "audio/mpeg", Length: 12345}},
			Published:  t0.Add(-h), FirstSeen: t0.Add(-h),
		},
		{
			// The same story as alpha's first post: seen later, so dropped.
			Source: "beta", ID: "1234", Link: "HTTPS://Alpha.Example.com:443/posts/1#top",
			Title:     "Hello again",
			Summary:   "<p>copy</p>",
			Published: t0.Add(30 * time.Minute), FirstSeen: t0.Add(2 * h),
		},
		{
			Source: "beta", ID: "b-2", Link: "https://beta.example.net/2",
			Title:      "Summary only",
			Summary:    "Only a <em>summary</em>",
			Enclosures: []feed.Enclosure{{URL: "https://beta.example.net/2.mp4", Type: "video/mp4"}},
			Published:  t0.Add(-2 * h), FirstSeen: t0.Add(-2 * h),
		},
		{
			Source: "gamma", ID: "https://gamma.example.org/g1", Link: "https://gamma.example.org/g1?ref=feed",
			Title:     "Gamma & <friends>",
			Content:   "<p>Content only</p>",
			Authors:   []feed.Person{{Email: "carol@example.org"}},
			Published: t0.Add(-3 * h), FirstSeen: t0.Add(-3 * h),
		},
		{
			Source: "alpha", ID: "tag:shared.example,2024:x", Link: "https://alpha.example.com/shared",
			Title:     "Shared story",
			Summary:   "<p>Shared</p>",
			Published: t0.Add(-4 * h), FirstSeen: t0.Add(-4 * h),
		},
		{
			// The same id as alpha's shared story, seen later: dropped.
			Source: "gamma", ID: "tag:shared.example,2024:x", Link: "https://gamma.example.org/shared",
			Title:     "Shared story (copy)",
			Published: t0.Add(-4 * h), FirstSeen: t0.Add(-3 * h),
		},
		{
			Source: "gamma", ID: "g3", Link: "https://gamma.example.org/g3",
			Published: t0.Add(-5 * h), FirstSeen: t0.Add(-5 * h),
		},
	}
}

// wantAll is what the "all" feed must say, in order.
var wantAll = []struct {
	id, link, title, source, sourceURL string
	published                          time.Time
}{
	{"https://alpha.example.com/posts/1", "https://alpha.example.com/posts/1", "Hello & welcome", "Alpha Blog", "https://alpha.example.com/feed.xml", t0},
	{"tag:alpha.example.com,2024:2", "https://alpha.example.com/posts/2", "This post has no title but a fairly long first paragraph that goes on and on,…", "Alpha Blog", "https://alpha.example.com/feed.xml", t0.Add(-time.Hour)},
	{"urn:feedmill:beta:b-2", "https://beta.example.net/2", "Summary only", "Beta News", "https://beta.example.net/rss", t0.Add(-2 * time.Hour)},
	{"https://gamma.example.org/g1", "https://gamma.example.org/g1?ref=feed", "Gamma & <friends>", "gamma", "https://gamma.example.org/atom.xml", t0.Add(-3 * time.Hour)},
	{"tag:shared.example,2024:x", "https://alpha.example.com/shared", "Shared story", "Alpha Blog", "https://alpha.example.com/feed.xml", t0.Add(-4 * time.Hour)},
	{"urn:feedmill:gamma:g3", "https://gamma.example.org/g3", "(untitled)", "gamma", "https://gamma.example.org/atom.xml", t0.Add(-5 * time.Hour)},
}

func newTestPublisher(t testing.TB, st *memStore) *Publisher {
	t.Helper()
	if st.items == nil {
		st.items = testItems()
	}
	if st.states == nil {
		st.states = testStates()
	}
	return New(Options{BaseURL: testBase + "/", Version: "1.2.3"}, testSpecs(), testSources(), st)
}

func rebuilt(t *testing.T, st *memStore) *Publisher {
	t.Helper()
	p := newTestPublisher(t, st)
	if err := p.Rebuild(t.Context()); err != nil {
		t.Fatalf("Rebuild: %v", err)
	}
	return p
}

func mustSnapshot(t *testing.T, p *Publisher, name string, f Format) *Snapshot {
	t.Helper()
	s, ok := p.Snapshot(name, f)
	if !ok {
		t.Fatalf("Snapshot(%q, %s): not found", name, f)
	}
	return s
}

var formats = []Format{RSS, Atom, JSON}

func TestGolden(t *testing.T) {
	p := rebuilt(t, &memStore{})
	for _, name := range []string{"all", "tech", "empty"} {
		for _, f := range formats {
			t.Run(name+"."+f.String(), func(t *testing.T) {
				testkit.Golden(t, "testdata/"+name+"."+f.String(), mustSnapshot(t, p, name, f).Body)
			})
		}
	}
	t.Run("sources.opml", func(t *testing.T) {
		testkit.Golden(t, "testdata/sources.opml", p.OPML().Body)
	})
}

// TestParseBack reads every format back with gofeed, as a reader would, and
// checks ids, links, titles, dates, order and attribution.
func TestParseBack(t *testing.T) {
	p := rebuilt(t, &memStore{})
	for _, f := range formats {
		t.Run(f.String(), func(t *testing.T) {
			body := mustSnapshot(t, p, "all", f).Body
			parsed, err := gofeed.NewParser().Parse(bytes.NewReader(body))
			if err != nil {
				t.Fatalf("gofeed: %v", err)
			}
			if parsed.Title != "All the news" {
				t.Errorf("feed title = %q", parsed.Title)
			}
			if want := testBase + "/"; parsed.Link != want {
				t.Errorf("feed link = %q, want %q", parsed.Link, want)
			}
			if want := FeedURL(testBase, "all", f); parsed.FeedLink != want {
				t.Errorf("feed self link = %q, want %q", parsed.FeedLink, want)
			}
			if len(parsed.Items) != len(wantAll) {
				t.Fatalf("%d items, want %d", len(parsed.Items), len(wantAll))
			}
			for i, w := range wantAll {
				it := parsed.Items[i]
				if it.GUID != w.id || it.Link != w.link || it.Title != w.title {
					t.Errorf("item %d = (%q, %q, %q), want (%q, %q, %q)", i, it.GUID, it.Link, it.Title, w.id, w.link, w.title)
				}
				if it.PublishedParsed == nil || !it.PublishedParsed.Equal(w.published) {
					t.Errorf("item %d published = %v, want %v", i, it.PublishedParsed, w.published)
				}
				if len(it.Authors) == 0 || it.Authors[0].Name+it.Authors[0].Email == "" {
					// An address alone is read as an e-mail, not a name.
					t.Errorf("item %d has no author", i)
				}
			}
			first := parsed.Items[0]
			if !slices.Equal(first.Categories, []string{"Go", "tech"}) {
				t.Errorf("first item categories = %q", first.Categories)
			}
			if first.UpdatedParsed != nil && !first.UpdatedParsed.Equal(t0.Add(time.Hour)) {
				t.Errorf("first item updated = %v", first.UpdatedParsed)
			}
			// The story was carried by beta too: the footer names it.
			if want := "<p>Full text with &amp; entities &lt;tag&gt; and “quotes” — é</p>" +
				`<p class="feedmill-sources">Also in: <a href="HTTPS://Alpha.Example.com:443/posts/1#top">Beta News</a></p>`; first.Content != want {
				t.Errorf("first item content = %q, want %q", first.Content, want)
			}
			if len(parsed.Items[1].Enclosures) != 1 || parsed.Items[1].Enclosures[0].Length != "12345" {
				t.Errorf("second item enclosures = %+v", parsed.Items[1].Enclosures)
			}
			if a := parsed.Items[2].Authors; len(a) != 1 || a[0].Name != "Beta News" {
				t.Errorf("authorless item: authors = %+v, want the source title", a)
			}
			checkSources(t, f, body)
		})
	}
}

// checkSources parses the attribution of every item with the format's own
// parser, since gofeed's universal item has no source.
func checkSources(t *testing.T, f Format, body []byte) {
	t.Helper()
	type src struct{ title, url string }
	var got []src
	switch f {
	case RSS:
		doc, err := (&rss.Parser{}).Parse(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("rss parser: %v", err)
		}
		for i, it := range doc.Items {
			if it.Source == nil {
				t.Fatalf("rss item %d has no source", i)
			}
			got = append(got, src{it.Source.Title, it.Source.URL})
			wantPerma := "false"
			if wantAll[i].id == wantAll[i].link {
				wantPerma = "true"
			}
			if it.GUID == nil || it.GUID.IsPermalink != wantPerma {
				t.Errorf("rss item %d guid = %+v, want isPermaLink=%s", i, it.GUID, wantPerma)
			}
		}
		if c := doc.Items[0].DublinCoreExt; c == nil || !slices.Equal(c.Creator, []string{"Ann Author"}) {
			t.Errorf("rss item 0 dc:creator = %+v", c)
		}
		if a := doc.Items[0].Author; a != "ann@example.com (Ann Author)" {
			t.Errorf("rss item 0 author = %q", a)
		}
		if a := doc.Items[1].Author; a != "" {
			t.Errorf("rss item 1 author = %q, want none (no e-mail)", a)
		}
	case Atom:
		doc, err := (&atom.Parser{}).Parse(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("atom parser: %v", err)
		}
		for i, e := range doc.Entries {
			if e.Source == nil {
				t.Fatalf("atom entry %d has no source", i)
			}
			got = append(got, src{e.Source.Title, e.Source.ID})
			var self string
			for _, l := range e.Source.Links {
				if l.Rel == "self" {
					self = l.Href
				}
			}
			if self != e.Source.ID {
				t.Errorf("atom entry %d source self link = %q, want %q", i, self, e.Source.ID)
			}
			if e.Source.UpdatedParsed == nil {
				t.Errorf("atom entry %d source has no updated", i)
			}
		}
		if len(doc.Authors) != 1 || doc.Authors[0].Name != "feedmill" {
			t.Errorf("atom feed authors = %+v", doc.Authors)
		}
		if doc.ID != FeedURL(testBase, "all", Atom) {
			t.Errorf("atom feed id = %q", doc.ID)
		}
		if want := t0.Add(2 * time.Hour); doc.UpdatedParsed == nil || !doc.UpdatedParsed.Equal(want) {
			t.Errorf("atom feed updated = %v, want %v (when beta's copy of the first story arrived)", doc.UpdatedParsed, want)
		}
	case JSON:
		var doc struct {
			Items []struct {
				Ext struct {
					Source struct {
						Name, Title, URL string
						Home             string `json:"home_page_url"`
					} `json:"source"`
				} `json:"_feedmill"`
			} `json:"items"`
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatalf("json: %v", err)
		}
		for _, it := range doc.Items {
			got = append(got, src{it.Ext.Source.Title, it.Ext.Source.URL})
		}
		if h := doc.Items[0].Ext.Source.Home; h != "https://alpha.example.com/" {
			t.Errorf("json item 0 source home_page_url = %q", h)
		}
	}
	var want []src
	for _, w := range wantAll {
		want = append(want, src{w.source, w.sourceURL})
	}
	if !slices.Equal(got, want) {
		t.Errorf("sources = %q, want %q", got, want)
	}
}

func TestSnapshotMetadata(t *testing.T) {
	p := rebuilt(t, &memStore{})
	tests := []struct {
		feed    string
		items   int
		lastMod time.Time
	}{
		// The newest change of "all" is beta's copy of the first story,
		// first seen at t0+2h: it added a footer.
		{"all", 6, t0.Add(2 * time.Hour)},
		{"tech", 2, t0.Add(time.Hour)},
		{"empty", 0, emptyFeedTime},
	}
	for _, tt := range tests {
		for _, f := range formats {
			t.Run(tt.feed+"."+f.String(), func(t *testing.T) {
				s := mustSnapshot(t, p, tt.feed, f)
				if s.Items != tt.items {
					t.Errorf("Items = %d, want %d", s.Items, tt.items)
				}
				if !s.LastModified.Equal(tt.lastMod) || s.LastModified.Location() != time.UTC {
					t.Errorf("LastModified = %v, want %v UTC", s.LastModified, tt.lastMod)
				}
				if s.ContentType != f.ContentType() {
					t.Errorf("ContentType = %q", s.ContentType)
				}
				if len(s.ETag) != 34 || s.ETag[0] != '"' || s.ETag[33] != '"' {
					t.Errorf("ETag = %s, want a strong quoted hash", s.ETag)
				}
				zr, err := gzip.NewReader(bytes.NewReader(s.Gzip))
				if err != nil {
					t.Fatal(err)
				}
				plain, err := io.ReadAll(zr)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(plain, s.Body) {
					t.Error("Gzip does not decompress to Body")
				}
			})
		}
	}
}

func TestBeforeFirstRebuild(t *testing.T) {
	p := newTestPublisher(t, &memStore{})
	if _, ok := p.Snapshot("all", RSS); ok {
		t.Error("Snapshot before Rebuild reported true")
	}
	if s := p.OPML(); s != nil {
		t.Error("OPML before Rebuild is not nil")
	}
	if got := len(p.Feeds()); got != 3 {
		t.Errorf("Feeds() has %d specs, want 3", got)
	}
}

func TestSnapshotUnknown(t *testing.T) {
	p := rebuilt(t, &memStore{})
	tests := []struct {
		name string
		feed string
		f    Format
	}{
		{"unknown feed", "nope", RSS},
		{"format out of range", "all", Format(7)},
		{"negative format", "all", Format(-1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, ok := p.Snapshot(tt.feed, tt.f); ok {
				t.Error("reported true")
			}
		})
	}
}

// TestStableAcrossRebuilds: the bytes depend on the items only, so a second
// rebuild keeps the very same snapshots, and a publisher started at another
// wall-clock time (a restart) produces the same ETags.
func TestStableAcrossRebuilds(t *testing.T) {
	st := &memStore{}
	p1 := newTestPublisher(t, st)
	p1.now = func() time.Time { return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) }
	if err := p1.Rebuild(t.Context()); err != nil {
		t.Fatal(err)
	}
	first := map[string]*Snapshot{}
	for _, spec := range p1.Feeds() {
		for _, f := range formats {
			first[spec.Name+"."+f.String()] = mustSnapshot(t, p1, spec.Name, f)
		}
	}
	opml := p1.OPML()

	p1.now = func() time.Time { return time.Date(2031, 6, 1, 0, 0, 0, 0, time.UTC) }
	if err := p1.Rebuild(t.Context()); err != nil {
		t.Fatal(err)
	}
	p2 := newTestPublisher(t, st)
	p2.now = func() time.Time { return time.Date(2032, 1, 1, 0, 0, 0, 0, time.UTC) }
	if err := p2.Rebuild(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, spec := range p1.Feeds() {
		for _, f := range formats {
			key := spec.Name + "." + f.String()
			if s := mustSnapshot(t, p1, spec.Name, f); s != first[key] {
				t.Errorf("%s: unchanged feed got a new snapshot", key)
			}
			if s := mustSnapshot(t, p2, spec.Name, f); s.ETag != first[key].ETag || !s.LastModified.Equal(first[key].LastModified) {
				t.Errorf("%s: restart changed ETag %s -> %s or Last-Modified", key, first[key].ETag, s.ETag)
			}
		}
	}
	if p1.OPML() != opml {
		t.Error("unchanged OPML got a new snapshot")
	}
	if p2.OPML().ETag != opml.ETag {
		t.Error("OPML ETag depends on the clock")
	}
}

func TestChangedItemsChangeETag(t *testing.T) {
	st := &memStore{}
	p := rebuilt(t, st)
	before := map[string]*Snapshot{}
	for _, name := range []string{"all", "empty"} {
		for _, f := range formats {
			before[name+f.String()] = mustSnapshot(t, p, name, f)
		}
	}
	items := testItems()
	items[0].Title = "Hello & welcome, edited"
	items[0].Updated = t0.Add(3 * time.Hour)
	st.set(items)
	if err := p.Rebuild(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, f := range formats {
		old, s := before["all"+f.String()], mustSnapshot(t, p, "all", f)
		if s.ETag == old.ETag {
			t.Errorf("all.%s: ETag unchanged after an edit", f)
		}
		if !s.LastModified.Equal(t0.Add(3 * time.Hour)) {
			t.Errorf("all.%s: LastModified = %v", f, s.LastModified)
		}
		if !bytes.Contains(s.Body, []byte("edited")) {
			t.Errorf("all.%s: body lacks the edit", f)
		}
		if mustSnapshot(t, p, "empty", f) != before["empty"+f.String()] {
			t.Errorf("empty.%s: snapshot replaced although nothing changed", f)
		}
	}
}

// TestRebuildReadsWindow: a Rebuild reads each feed's newest items, a
// window of W = max(4×limit, 200), one query per feed with sources, and
// nothing for the sources' own feeds, which are read on request.
func TestRebuildReadsWindow(t *testing.T) {
	st := &memStore{}
	rebuilt(t, st)
	want := []feed.Query{
		{Sources: []string{"alpha", "beta", "gamma"}, Limit: 200},
		{Sources: []string{"alpha"}, Limit: 200},
	}
	if len(st.queries) != len(want) {
		t.Fatalf("queries = %+v, want %+v", st.queries, want)
	}
	for i, q := range st.queries {
		if !slices.Equal(q.Sources, want[i].Sources) || q.Limit != want[i].Limit || q.Offset != 0 || q.Oldest {
			t.Errorf("query %d = %+v, want %+v", i, q, want[i])
		}
	}
}

// TestRebuildBounded: with 10,000 stored items and a limit of 50, a
// Rebuild and an archive page read a bounded number of items, never all
// of them, and still publish the newest 50 and link to the last of the
// 200 archive pages.
func TestRebuildBounded(t *testing.T) {
	var items []feed.Item
	var sources []feed.Source
	var names []string
	for s := range 10 {
		name := fmt.Sprintf("s%d", s)
		names = append(names, name)
		sources = append(sources, feed.Source{Name: name, URL: "https://" + name + ".example/feed"})
		for i := range 1000 {
			items = append(items, item(name, fmt.Sprint(i), t0.Add(-time.Duration(i*10+s)*time.Minute)))
		}
	}
	st := &memStore{items: items, states: []feed.SourceState{}}
	p := New(Options{BaseURL: testBase}, []FeedSpec{{Name: "f", Sources: names, Limit: 50}}, sources, st)
	if err := p.Rebuild(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Archive(t.Context(), "f", Atom, 200); err != nil {
		t.Fatalf("Archive page 200: %v", err)
	}
	for _, q := range st.queries {
		if q.Limit <= 0 || q.Limit > 200 {
			t.Errorf("query %+v: want a limit of at most 200", q)
		}
	}
	got := publishedIDs(t, p, "f")
	if len(got) != 50 || got[0] != "https://s0.example/0" || got[49] != "https://s9.example/4" {
		t.Errorf("current document: %d items, %q ... %q", len(got), got[0], got[len(got)-1])
	}
	next := parseDoc(t, JSON, mustSnapshot(t, p, "f", JSON).Body).links["next"]
	if want := ArchiveURL(testBase, "f", JSON, 200); next != want {
		t.Errorf("next = %q, want %q", next, want)
	}
}

func TestRebuildErrors(t *testing.T) {
	boom := errors.New("disk on fire")
	t.Run("items error keeps the previous snapshots", func(t *testing.T) {
		st := &memStore{}
		p := rebuilt(t, st)
		old := mustSnapshot(t, p, "all", Atom)
		st.itemsErr = boom
		err := p.Rebuild(t.Context())
		if !errors.Is(err, boom) || !strings.Contains(err.Error(), "publish all") || !strings.Contains(err.Error(), "publish tech") {
			t.Fatalf("Rebuild error = %v, want both failing feeds named and the cause wrapped", err)
		}
		if mustSnapshot(t, p, "all", Atom) != old {
			t.Error("a failed feed lost its snapshot")
		}
		if _, ok := p.Snapshot("empty", Atom); !ok {
			t.Error("a feed without sources was not published")
		}
	})
	t.Run("items error on the first rebuild publishes nothing for that feed", func(t *testing.T) {
		st := &memStore{itemsErr: boom}
		p := newTestPublisher(t, st)
		if err := p.Rebuild(t.Context()); !errors.Is(err, boom) {
			t.Fatalf("Rebuild error = %v", err)
		}
		if _, ok := p.Snapshot("all", RSS); ok {
			t.Error("failed feed has a snapshot")
		}
		if p.OPML() == nil {
			t.Error("OPML not published")
		}
	})
	t.Run("states error changes nothing", func(t *testing.T) {
		st := &memStore{}
		p := rebuilt(t, st)
		old := mustSnapshot(t, p, "all", JSON)
		st.stateErr = boom
		st.set(nil)
		if err := p.Rebuild(t.Context()); !errors.Is(err, boom) {
			t.Fatalf("Rebuild error = %v", err)
		}
		if mustSnapshot(t, p, "all", JSON) != old {
			t.Error("snapshot replaced after a failed rebuild")
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		p := newTestPublisher(t, &memStore{})
		if err := p.Rebuild(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("Rebuild error = %v, want context.Canceled", err)
		}
	})
}

// TestConcurrentRebuild runs rebuilds and reads at once; the race detector
// judges it.
func TestConcurrentRebuild(t *testing.T) {
	st := &memStore{}
	p := rebuilt(t, st)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			if i%2 == 0 {
				items := testItems()
				items[0].Title = fmt.Sprintf("edit %d", i)
				st.set(items)
			}
			if err := p.Rebuild(t.Context()); err != nil {
				t.Errorf("Rebuild: %v", err)
			}
		})
		wg.Go(func() {
			for range 20 {
				if s, ok := p.Snapshot("all", RSS); !ok || len(s.Body) == 0 {
					t.Error("no snapshot while rebuilding")
				}
				_ = p.OPML().ETag
			}
		})
	}
	wg.Wait()
}

func TestEmptyFeedValid(t *testing.T) {
	p := rebuilt(t, &memStore{})
	for _, f := range formats {
		t.Run(f.String(), func(t *testing.T) {
			body := mustSnapshot(t, p, "empty", f).Body
			parsed, err := gofeed.NewParser().Parse(bytes.NewReader(body))
			if err != nil {
				t.Fatalf("gofeed: %v", err)
			}
			if parsed.Title != "Nothing yet" || len(parsed.Items) != 0 {
				t.Errorf("title %q, %d items", parsed.Title, len(parsed.Items))
			}
		})
	}
	t.Run("json items is an empty array", func(t *testing.T) {
		var doc map[string]any
		if err := json.Unmarshal(mustSnapshot(t, p, "empty", JSON).Body, &doc); err != nil {
			t.Fatal(err)
		}
		if items, ok := doc["items"].([]any); !ok || len(items) != 0 {
			t.Errorf("items = %#v, want []", doc["items"])
		}
	})
}

func TestOPML(t *testing.T) {
	p := rebuilt(t, &memStore{})
	s := p.OPML()
	var doc struct {
		XMLName xml.Name `xml:"opml"`
		Version string   `xml:"version,attr"`
		Title   string   `xml:"head>title"`
		Outline []struct {
			Type     string `xml:"type,attr"`
			Text     string `xml:"text,attr"`
			Title    string `xml:"title,attr"`
			XMLURL   string `xml:"xmlUrl,attr"`
			HTMLURL  string `xml:"htmlUrl,attr"`
			Category string `xml:"category,attr"`
		} `xml:"body>outline"`
	}
	if err := xml.Unmarshal(s.Body, &doc); err != nil {
		t.Fatalf("OPML does not parse: %v", err)
	}
	if doc.Version != "2.0" || doc.Title == "" {
		t.Errorf("version %q title %q", doc.Version, doc.Title)
	}
	type row struct{ typ, text, title, xmlURL, htmlURL, category string }
	var got []row
	for _, o := range doc.Outline {
		got = append(got, row{o.Type, o.Text, o.Title, o.XMLURL, o.HTMLURL, o.Category})
	}
	want := []row{
		{"rss", "Alpha Blog", "Alpha Blog", "https://alpha.example.com/feed.xml", "https://alpha.example.com/", "tech"},
		{"rss", "Beta News", "Beta News", "https://beta.example.net/rss", "https://beta.example.net/", "news,Tech"},
		{"rss", "gamma", "gamma", "https://gamma.example.org/atom.xml", "", ""},
	}
	if !slices.Equal(got, want) {
		t.Errorf("outlines =\n%q\nwant\n%q", got, want)
	}
	if s.ContentType != OPMLContentType || s.Items != 3 {
		t.Errorf("ContentType %q Items %d", s.ContentType, s.Items)
	}
}

// feedcheckTool returns the path of the shared feedcheck tool, skipping
// the test when it is not there or with -short.
func feedcheckTool(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("feedcheck runs external tools; skipped with -short")
	}
	return testkit.Feedcheck(t)
}

// feedcheck judges one document in format f with the shared feedcheck
// tool (see feedcheckTool).
func feedcheck(t *testing.T, f Format, body []byte) {
	t.Helper()
	tool := feedcheckTool(t)
	path := filepath.Join(t.TempDir(), "doc."+f.String())
	if err := os.WriteFile(path, body, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, tool, path, "--format", f.String()).CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("feedcheck: OK")) {
		t.Errorf("feedcheck %s: %v\n%s", f, err, out)
	}
}

// TestFeedcheck runs the shared feedcheck tool (xmllint, Python feedparser,
// spec rules, newsboat) on every golden feed.
func TestFeedcheck(t *testing.T) {
	tool := feedcheckTool(t)
	main, stories, paged := rebuilt(t, &memStore{}), rebuiltStories(t), rebuiltPaged(t, &memStore{})
	type doc struct {
		label string
		get   func(t *testing.T, f Format) *Snapshot
	}
	current := func(p *Publisher, name string) doc {
		return doc{name, func(t *testing.T, f Format) *Snapshot { return mustSnapshot(t, p, name, f) }}
	}
	archive := func(p *Publisher, name string, page int) doc {
		return doc{fmt.Sprintf("%s.archive-%d", name, page), func(t *testing.T, f Format) *Snapshot { return mustArchive(t, p, name, f, page) }}
	}
	docs := []doc{
		current(main, "all"), current(main, "tech"), current(main, "empty"), current(stories, "stories"),
		current(paged, "paged"), archive(paged, "paged", 1), archive(paged, "paged", 2), archive(paged, "paged", 3),
	}
	dir := t.TempDir()
	for _, d := range docs {
		for _, f := range formats {
			t.Run(d.label+"."+f.String(), func(t *testing.T) {
				path := filepath.Join(dir, d.label+"."+f.String())
				if err := os.WriteFile(path, d.get(t, f).Body, 0o644); err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
				defer cancel()
				out, err := exec.CommandContext(ctx, tool, path, "--format", f.String()).CombinedOutput()
				if err != nil || !bytes.Contains(out, []byte("feedcheck: OK")) {
					t.Errorf("feedcheck %s: %v\n%s", d.label, err, out)
				}
			})
		}
	}
}

func BenchmarkRebuild(b *testing.B) {
	st := &memStore{states: testStates()}
	names := []string{"alpha", "beta", "gamma"}
	for i := range 500 {
		ts := t0.Add(-time.Duration(i) * time.Minute)
		st.items = append(st.items, feed.Item{
			Source:     names[i%len(names)],
			ID:         fmt.Sprintf("item-%d", i),
			Link:       fmt.Sprintf("https://example.com/%s/%d", names[i%len(names)], i),
			Title:      fmt.Sprintf("Item number %d", i),
			Summary:    "<p>A summary with <a href=\"https://example.com/\">a link</a> &amp; an entity.</p>",
			Content:    strings.Repeat("<p>Some paragraph of article text, long enough to be realistic.</p>", 10),
			Authors:    []feed.Person{{Name: "Writer", Email: "writer@example.com"}},
			Categories: []string{"one", "two"},
			Published:  ts, FirstSeen: ts,
		})
	}
	for _, dedupe := range []string{DedupeLink, DedupeTitle} {
		b.Run(dedupe, func(b *testing.B) {
			// Every item inside one window: title matching's worst case.
			specs := []FeedSpec{{Name: "all", Title: "All", Sources: names, Limit: 500, Dedupe: dedupe, DedupeWindow: 24 * time.Hour}}
			for b.Loop() {
				// A new publisher per round renders and compresses
				// everything, as after a change; an unchanged rebuild
				// skips the compression.
				p := New(Options{BaseURL: testBase}, specs, testSources(), st)
				if err := p.Rebuild(b.Context()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGroupStoriesByTitle groups 5000 items (a feed of 500 over 10
// sources) inside one window, with news-like titles: a few common words and
// rarer ones, every story carried by two sources.
func BenchmarkGroupStoriesByTitle(b *testing.B) {
	common := strings.Fields("the a of in to new after over says")
	var items []feed.Item
	for i := range 5000 {
		story := i / 2
		title := []string{common[story%len(common)], common[(story/3)%len(common)]}
		for k := range 6 {
			title = append(title, fmt.Sprintf("w%d", (story*7+k*131)%3000))
		}
		items = append(items, feed.Item{
			Source: fmt.Sprintf("s%d", i%10), ID: fmt.Sprint(i), Link: fmt.Sprintf("https://e.x/%d", i),
			Title:     strings.Join(title, " "),
			Published: t0.Add(-time.Duration(i) * time.Second),
		})
	}
	g := grouping{byTitle: true, window: DefaultDedupeWindow}
	for b.Loop() {
		groupStories(items, g, 500)
	}
}
