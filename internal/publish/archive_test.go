package publish

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mmcdole/gofeed/atom"
	ext "github.com/mmcdole/gofeed/extensions"
	"github.com/mmcdole/gofeed/rss"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/testkit"
)

const testHub = "https://news.example.org/websub/hub"

// The "paged" fixture: two sources, eleven stored items making ten
// stories (p/3 was carried by q too, as q/dup), a limit of 3, so K =
// 11/3 = 3 archive pages, and a hub.
func pagedSources() []feed.Source {
	return []feed.Source{
		{Name: "p", URL: "https://p.example/feed", Title: "Paper", Categories: []string{"print"}},
		{Name: "q", URL: "https://q.example/feed", Title: "Quill"},
	}
}

func pagedStates() []feed.SourceState {
	return []feed.SourceState{
		{Name: "p", FeedLink: "https://p.example/", FirstSuccess: t0.Add(-365 * 24 * time.Hour)},
		{Name: "q", FeedLink: "https://q.example/", FirstSuccess: t0.Add(-365 * 24 * time.Hour)},
	}
}

func pagedItems() []feed.Item {
	h := time.Hour
	var items []feed.Item
	for i := range 6 {
		it := item("p", strconv.Itoa(i), t0.Add(-time.Duration(2*i)*h))
		it.Summary = fmt.Sprintf("<p>Paper story %d.</p>", i)
		it.Authors = []feed.Person{{Name: "Pat"}}
		items = append(items, it)
	}
	for i := range 4 {
		it := item("q", strconv.Itoa(i), t0.Add(-time.Duration(2*i+1)*h))
		it.Content = fmt.Sprintf("<p>Quill story %d.</p>", i)
		items = append(items, it)
	}
	dup := item("q", "dup", t0.Add(-6*h))
	dup.Canonical, dup.FirstSeen = items[3].Link, t0.Add(-5*h)
	return append(items, dup)
}

// pagedE is the fixture's stories, oldest first; q/dup lies next to
// p/3 in the stored sequence, so both fall on page 2 and make one story.
var pagedE = urls("p/5", "p/4", "q/3", "p/3", "q/2", "p/2", "q/1", "p/1", "q/0", "p/0")

func pagedPublisher(t testing.TB, st *memStore) *Publisher {
	t.Helper()
	if st.items == nil {
		st.items = pagedItems()
	}
	if st.states == nil {
		st.states = pagedStates()
	}
	specs := []FeedSpec{
		{Name: "paged", Title: "Paged", Description: "History in pages", Sources: []string{"p", "q"}, Limit: 3, Backfill: -1},
		{Name: "short", Title: "Short", Sources: []string{"q"}, Limit: 10},
	}
	return New(Options{BaseURL: testBase, Version: "1.2.3", Hub: testHub}, specs, pagedSources(), st)
}

func rebuiltPaged(t *testing.T, st *memStore) *Publisher {
	t.Helper()
	p := pagedPublisher(t, st)
	if err := p.Rebuild(t.Context()); err != nil {
		t.Fatalf("Rebuild: %v", err)
	}
	return p
}

func mustArchive(t *testing.T, p *Publisher, name string, f Format, page int) *Snapshot {
	t.Helper()
	s, err := p.Archive(t.Context(), name, f, page)
	if err != nil {
		t.Fatalf("Archive(%q, %s, %d): %v", name, f, page, err)
	}
	return s
}

func TestArchiveURL(t *testing.T) {
	tests := []struct {
		name, base, feed string
		f                Format
		page             int
		want             string
	}{
		{"plain", "https://x.example", "all", RSS, 1, "https://x.example/feeds/all/archive/1.rss"},
		{"trailing slash", "https://x.example/", "all", Atom, 12, "https://x.example/feeds/all/archive/12.atom"},
		{"base path and escaped name", "https://x.example/mill", "a b", JSON, 3, "https://x.example/mill/feeds/a%20b/archive/3.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ArchiveURL(tt.base, tt.feed, tt.f, tt.page); got != tt.want {
				t.Errorf("ArchiveURL = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestGoldenPaged(t *testing.T) {
	p := rebuiltPaged(t, &memStore{})
	for _, f := range formats {
		t.Run(f.String(), func(t *testing.T) {
			testkit.Golden(t, "testdata/paged."+f.String(), mustSnapshot(t, p, "paged", f).Body)
			testkit.Golden(t, "testdata/paged.archive-2."+f.String(), mustArchive(t, p, "paged", f, 2).Body)
		})
	}
}

// pagedDoc is what a reader finds in a document: its ids, links by rel,
// hubs and whether it says it is an archive.
type pagedDoc struct {
	self    string
	ids     []string
	links   map[string]string
	hubs    []string
	archive bool
}

// parseDoc reads a document with the format's own parser (gofeed's for
// Atom and RSS, encoding/json for JSON Feed).
func parseDoc(t *testing.T, f Format, body []byte) pagedDoc {
	t.Helper()
	d := pagedDoc{links: map[string]string{}}
	addLink := func(rel, href string) {
		if rel == "hub" {
			d.hubs = append(d.hubs, href)
			return
		}
		if old, ok := d.links[rel]; ok && old != href {
			t.Errorf("two %q links: %q and %q", rel, old, href)
		}
		d.links[rel] = href
	}
	hasArchive := func(e ext.Extensions) bool { return len(e["fh"]["archive"]) == 1 }
	switch f {
	case Atom:
		doc, err := (&atom.Parser{}).Parse(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("atom parser: %v", err)
		}
		for _, l := range doc.Links {
			addLink(l.Rel, l.Href)
			if l.Rel != "hub" && l.Rel != "alternate" && l.Type != "application/atom+xml" {
				t.Errorf("atom link %q has type %q", l.Rel, l.Type)
			}
		}
		for _, e := range doc.Entries {
			d.ids = append(d.ids, e.ID)
		}
		d.archive, d.self = hasArchive(doc.Extensions), doc.ID
		if d.self != d.links["self"] {
			t.Errorf("atom id %q is not its self link %q", d.self, d.links["self"])
		}
	case RSS:
		doc, err := (&rss.Parser{}).Parse(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("rss parser: %v", err)
		}
		for _, l := range doc.Extensions["atom"]["link"] {
			addLink(l.Attrs["rel"], l.Attrs["href"])
		}
		for _, it := range doc.Items {
			d.ids = append(d.ids, it.GUID.Value)
		}
		d.archive, d.self = hasArchive(doc.Extensions), d.links["self"]
	case JSON:
		var doc struct {
			FeedURL string `json:"feed_url"`
			NextURL string `json:"next_url"`
			Hubs    []struct {
				Type, URL string
			} `json:"hubs"`
			Ext *struct {
				Archive     bool   `json:"archive"`
				CurrentURL  string `json:"current_url"`
				PreviousURL string `json:"previous_url"`
			} `json:"_feedmill"`
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatalf("json: %v", err)
		}
		d.self = doc.FeedURL
		if doc.NextURL != "" {
			addLink("next", doc.NextURL)
		}
		for _, h := range doc.Hubs {
			if h.Type != "WebSub" {
				t.Errorf("hub type %q", h.Type)
			}
			addLink("hub", h.URL)
		}
		if doc.Ext != nil {
			d.archive = doc.Ext.Archive
			addLink("current", doc.Ext.CurrentURL)
			addLink("previous", doc.Ext.PreviousURL)
		}
		for _, it := range doc.Items {
			d.ids = append(d.ids, it.ID)
		}
	}
	return d
}

// get returns the snapshot a public URL of the publisher names, as the
// server would serve it.
func get(t *testing.T, p *Publisher, u string) *Snapshot {
	t.Helper()
	path, ok := strings.CutPrefix(u, testBase+"/feeds/")
	if !ok {
		t.Fatalf("not a feed URL: %s", u)
	}
	dot := strings.LastIndexByte(path, '.')
	f, ok := ParseFormat(path[dot+1:])
	if !ok {
		t.Fatalf("no format in %s", u)
	}
	if name, page, ok := strings.Cut(path[:dot], "/archive/"); ok {
		k, err := strconv.Atoi(page)
		if err != nil {
			t.Fatalf("bad page in %s", u)
		}
		return mustArchive(t, p, name, f, k)
	}
	return mustSnapshot(t, p, path[:dot], f)
}

// TestPagingWalk follows "next" from the current document to the oldest
// page in every format, checking every link on the way, and finds every
// story of the feed's history exactly once in the archive.
func TestPagingWalk(t *testing.T) {
	p := rebuiltPaged(t, &memStore{})
	for _, f := range formats {
		t.Run(f.String(), func(t *testing.T) {
			currentURL := FeedURL(testBase, "paged", f)
			cur := parseDoc(t, f, get(t, p, currentURL).Body)
			if cur.archive || cur.self != currentURL {
				t.Errorf("current document: archive %v, self %q", cur.archive, cur.self)
			}
			if want := pagedE[7:]; !slices.Equal(cur.ids, reversed(want)) {
				t.Errorf("current ids = %q, want %q", cur.ids, reversed(want))
			}
			if want := []string{testHub}; !slices.Equal(cur.hubs, want) {
				t.Errorf("current hubs = %q", cur.hubs)
			}
			if f != JSON && cur.links["prev-archive"] != cur.links["next"] {
				t.Errorf("current prev-archive %q != next %q", cur.links["prev-archive"], cur.links["next"])
			}
			var walked []string
			newer := currentURL
			u := cur.links["next"]
			for page := 3; u != ""; page-- {
				if page == 0 {
					t.Fatalf("more than 3 pages: %s", u)
				}
				if want := ArchiveURL(testBase, "paged", f, page); u != want {
					t.Fatalf("next = %q, want %q", u, want)
				}
				d := parseDoc(t, f, get(t, p, u).Body)
				if !d.archive || d.self != u || d.links["current"] != currentURL || d.links["previous"] != newer {
					t.Errorf("page %d: archive %v self %q current %q previous %q (want %q)", page, d.archive, d.self, d.links["current"], d.links["previous"], newer)
				}
				if f != JSON && (d.links["next-archive"] != newer || d.links["prev-archive"] != d.links["next"]) {
					t.Errorf("page %d: next-archive %q prev-archive %q", page, d.links["next-archive"], d.links["prev-archive"])
				}
				if !slices.Equal(d.hubs, []string{testHub}) {
					t.Errorf("page %d hubs = %q", page, d.hubs)
				}
				walked = append(walked, d.ids...)
				newer, u = u, d.links["next"]
			}
			// Newest page first, each newest first: every stored item
			// but the newest N mod L = 2 (q/0 and p/0), which only the
			// current document holds; page 2 shows p/3 and q/dup as one
			// story, so it has 2 entries.
			if want := reversed(pagedE[:8]); !slices.Equal(walked, want) {
				t.Errorf("walked ids = %q, want %q", walked, want)
			}
			all := slices.Concat(cur.ids, walked)
			slices.Sort(all)
			if got := slices.Compact(all); !slices.Equal(got, sorted(pagedE)) {
				t.Errorf("current + archive ids = %q, want every story %q", got, sorted(pagedE))
			}
		})
	}
}

func reversed(s []string) []string {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// TestArchiveStable: archive pages are counted from the oldest, so new
// items leave them as they are; a new complete page changes only the
// link of the page before it.
func TestArchiveStable(t *testing.T) {
	st := &memStore{}
	p := rebuiltPaged(t, st)
	before := map[string]*Snapshot{}
	for _, f := range formats {
		for k := 1; k <= 3; k++ {
			before[fmt.Sprint(f, k)] = mustArchive(t, p, "paged", f, k)
		}
	}
	// 11 stored items + 1: page 4 is complete.
	items := append(pagedItems(), item("q", "new1", t0.Add(time.Hour)))
	st.set(items)
	if err := p.Rebuild(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, f := range formats {
		for k := 1; k <= 2; k++ {
			if s := mustArchive(t, p, "paged", f, k); s.ETag != before[fmt.Sprint(f, k)].ETag {
				t.Errorf("%s page %d changed after a new page:\n%s", f, k, s.Body)
			}
		}
		old := parseDoc(t, f, before[fmt.Sprint(f, 3)].Body)
		s3 := mustArchive(t, p, "paged", f, 3)
		d := parseDoc(t, f, s3.Body)
		if !slices.Equal(d.ids, old.ids) || d.links["previous"] != ArchiveURL(testBase, "paged", f, 4) {
			t.Errorf("%s page 3: ids %q (were %q), previous %q", f, d.ids, old.ids, d.links["previous"])
		}
		s4 := mustArchive(t, p, "paged", f, 4)
		if d4 := parseDoc(t, f, s4.Body); !slices.Equal(d4.ids, urls("q/new1", "p/0", "q/0")) {
			t.Errorf("%s page 4 ids = %q", f, d4.ids)
		}
		before[fmt.Sprint(f, 3)], before[fmt.Sprint(f, 4)] = s3, s4
		cur := parseDoc(t, f, mustSnapshot(t, p, "paged", f).Body)
		if cur.links["next"] != ArchiveURL(testBase, "paged", f, 4) {
			t.Errorf("%s current next = %q", f, cur.links["next"])
		}
	}

	// 13: no new page, and no page changes.
	st.set(append(items, item("q", "new2", t0.Add(2*time.Hour))))
	if err := p.Rebuild(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, f := range formats {
		for k := 1; k <= 4; k++ {
			if s := mustArchive(t, p, "paged", f, k); s.ETag != before[fmt.Sprint(f, k)].ETag {
				t.Errorf("%s page %d changed after a new item:\n%s", f, k, s.Body)
			}
		}
	}
}

func TestArchiveNotFound(t *testing.T) {
	t.Run("before the first rebuild", func(t *testing.T) {
		p := pagedPublisher(t, &memStore{})
		if _, err := p.Archive(t.Context(), "paged", RSS, 1); !errors.Is(err, ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
	})
	p := rebuiltPaged(t, &memStore{})
	tests := []struct {
		name string
		feed string
		f    Format
		page int
	}{
		{"unknown feed", "nope", RSS, 1},
		{"page zero", "paged", RSS, 0},
		{"negative page", "paged", Atom, -1},
		{"past the newest page", "paged", JSON, 4},
		{"unknown format", "paged", Format(3), 1},
		{"negative format", "paged", Format(-1), 1},
		{"feed shorter than its limit", "short", RSS, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := p.Archive(t.Context(), tt.feed, tt.f, tt.page)
			if !errors.Is(err, ErrNotFound) || s != nil {
				t.Errorf("Archive = %v, %v; want nil, ErrNotFound", s, err)
			}
		})
	}
	t.Run("pruned since the rebuild", func(t *testing.T) {
		st := &memStore{}
		p := rebuiltPaged(t, st)
		st.set(pagedItems()[:5])
		if _, err := p.Archive(t.Context(), "paged", RSS, 3); !errors.Is(err, ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
	})
	t.Run("store error is not ErrNotFound", func(t *testing.T) {
		st := &memStore{}
		p := rebuiltPaged(t, st)
		boom := errors.New("disk on fire")
		st.itemsErr = boom
		_, err := p.Archive(t.Context(), "paged", RSS, 1)
		if !errors.Is(err, boom) || errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `"paged"`) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("cancelled while waiting", func(t *testing.T) {
		p := rebuiltPaged(t, &memStore{})
		p.archives.fill <- struct{}{} // another rendering in progress
		defer func() { <-p.archives.fill }()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := p.Archive(ctx, "paged", RSS, 1); !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	})
}

// TestArchiveCache: pages are rendered once per feed change, and reading
// a page in every format reads the store once.
func TestArchiveCache(t *testing.T) {
	st := &memStore{}
	p := rebuiltPaged(t, st)
	queries := func() int {
		st.mu.Lock()
		defer st.mu.Unlock()
		return len(st.queries)
	}
	q0 := queries()
	first := map[string]*Snapshot{}
	for k := 1; k <= 3; k++ {
		for _, f := range formats {
			first[fmt.Sprint(f, k)] = mustArchive(t, p, "paged", f, k)
		}
	}
	if n := queries() - q0; n != 3 {
		t.Errorf("walking 3 pages in 3 formats made %d store queries, want 3", n)
	}
	if s := mustArchive(t, p, "paged", Atom, 2); s != first[fmt.Sprint(Atom, 2)] {
		t.Error("a cached page was rendered again")
	}
	if err := p.Rebuild(t.Context()); err != nil {
		t.Fatal(err)
	}
	q1 := queries()
	if s := mustArchive(t, p, "paged", Atom, 2); s != first[fmt.Sprint(Atom, 2)] {
		t.Error("a rebuild that changed nothing dropped a cached page")
	}
	if queries() != q1 {
		t.Error("a cached page read the store")
	}

	items := pagedItems()
	items[3].Title = "edited" // p/3: an old story, on page 2 only
	st.set(items)
	if err := p.Rebuild(t.Context()); err != nil {
		t.Fatal(err)
	}
	if s := mustArchive(t, p, "paged", Atom, 2); !bytes.Contains(s.Body, []byte("edited")) {
		t.Error("page 2 not rendered again after its story changed")
	}
	t.Run("bounded", func(t *testing.T) {
		c := newArchiveCache(2)
		fs := &feedState{}
		live := func(*feedState) bool { return true }
		for k := 1; k <= 3; k++ {
			c.put(archiveKey{fs: fs, page: k}, &Snapshot{Items: k}, live)
		}
		if c.get(archiveKey{fs: fs, page: 1}) != nil || c.get(archiveKey{fs: fs, page: 3}) == nil || len(c.entries) != 2 {
			t.Errorf("cache of 2 holds %d entries; oldest kept: %v", len(c.entries), c.get(archiveKey{fs: fs, page: 1}) != nil)
		}
	})
}

// TestArchiveConcurrent pages while rebuilding; the race detector judges
// it.
func TestArchiveConcurrent(t *testing.T) {
	st := &memStore{}
	p := rebuiltPaged(t, st)
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() {
			items := pagedItems()
			items[0].Title = fmt.Sprint("edit ", i)
			st.set(items)
			if err := p.Rebuild(t.Context()); err != nil {
				t.Errorf("Rebuild: %v", err)
			}
		})
		wg.Go(func() {
			for k := range 6 {
				if _, err := p.Archive(t.Context(), "paged", formats[k%3], k%3+1); err != nil {
					t.Errorf("Archive: %v", err)
				}
			}
		})
	}
	wg.Wait()
}

func TestHubLinks(t *testing.T) {
	t.Run("none without a hub", func(t *testing.T) {
		p := rebuilt(t, &memStore{})
		for _, f := range formats {
			if d := parseDoc(t, f, mustSnapshot(t, p, "tech", f).Body); len(d.hubs) != 0 {
				t.Errorf("%s hubs = %q", f, d.hubs)
			}
			if d := parseDoc(t, f, mustArchive(t, p, "tech", f, 1).Body); len(d.hubs) != 0 {
				t.Errorf("%s archive hubs = %q", f, d.hubs)
			}
		}
	})
	t.Run("every document with a hub", func(t *testing.T) {
		p := rebuiltPaged(t, &memStore{})
		for _, f := range formats {
			for _, name := range []string{"paged", "short"} {
				if d := parseDoc(t, f, mustSnapshot(t, p, name, f).Body); !slices.Equal(d.hubs, []string{testHub}) {
					t.Errorf("%s.%s hubs = %q", name, f, d.hubs)
				}
			}
		}
	})
}

func TestFeedOPML(t *testing.T) {
	if _, ok := newTestPublisher(t, &memStore{}).FeedOPML("all"); ok {
		t.Error("FeedOPML before Rebuild reported true")
	}
	p := rebuilt(t, &memStore{})
	tests := []struct {
		feed  string
		title string
		want  []string // xmlUrl of each outline
	}{
		{"all", "All the news", []string{"https://alpha.example.com/feed.xml", "https://beta.example.net/rss", "https://gamma.example.org/atom.xml"}},
		{"tech", "Tech", []string{"https://alpha.example.com/feed.xml"}},
		{"empty", "Nothing yet", nil},
	}
	for _, tt := range tests {
		t.Run(tt.feed, func(t *testing.T) {
			s, ok := p.FeedOPML(tt.feed)
			if !ok {
				t.Fatal("not found")
			}
			var doc struct {
				Version string `xml:"version,attr"`
				Title   string `xml:"head>title"`
				Body    *struct {
					Outlines []struct {
						XMLURL string `xml:"xmlUrl,attr"`
					} `xml:"outline"`
				} `xml:"body"`
			}
			if err := xml.Unmarshal(s.Body, &doc); err != nil {
				t.Fatalf("OPML does not parse: %v", err)
			}
			if doc.Version != "2.0" || doc.Title != tt.title || doc.Body == nil {
				t.Fatalf("version %q title %q body %v", doc.Version, doc.Title, doc.Body != nil)
			}
			var got []string
			for _, o := range doc.Body.Outlines {
				got = append(got, o.XMLURL)
			}
			if !slices.Equal(got, tt.want) || s.Items != len(tt.want) || s.ContentType != OPMLContentType {
				t.Errorf("outlines %q (Items %d, %q), want %q", got, s.Items, s.ContentType, tt.want)
			}
		})
	}
	t.Run("same outline format as the OPML of all", func(t *testing.T) {
		s, _ := p.FeedOPML("all")
		want := strings.Replace(string(p.OPML().Body), "<title>feedmill sources</title>", "<title>All the news</title>", 1)
		if string(s.Body) != want {
			t.Errorf("feed OPML:\n%s\nwant\n%s", s.Body, want)
		}
		testkit.Golden(t, "testdata/tech.opml", mustFeedOPML(t, p, "tech").Body)
	})
	t.Run("unknown feed", func(t *testing.T) {
		if _, ok := p.FeedOPML("nope"); ok {
			t.Error("reported true")
		}
	})
	t.Run("kept across rebuilds", func(t *testing.T) {
		s := mustFeedOPML(t, p, "tech")
		if err := p.Rebuild(t.Context()); err != nil {
			t.Fatal(err)
		}
		if mustFeedOPML(t, p, "tech") != s {
			t.Error("unchanged OPML got a new snapshot")
		}
	})
}

func mustFeedOPML(t *testing.T, p *Publisher, name string) *Snapshot {
	t.Helper()
	s, ok := p.FeedOPML(name)
	if !ok {
		t.Fatalf("FeedOPML(%q): not found", name)
	}
	return s
}

func TestOnPublish(t *testing.T) {
	st := &memStore{items: testItems(), states: testStates()}
	var p *Publisher
	var calls [][]Change
	// Every source's own feed has WebSub subscribers: those a Rebuild
	// renders and reports.
	p = New(Options{BaseURL: testBase, Subscribed: allSourceTopics, OnPublish: func(changed []Change) {
		for _, c := range changed {
			// The new snapshots are visible: the hub serves them.
			lookup := p.Snapshot
			if c.Source {
				lookup = func(name string, f Format) (*Snapshot, bool) {
					s, err := p.SourceSnapshot(t.Context(), name, f)
					return s, err == nil
				}
			}
			if s, ok := lookup(c.Name, c.Format); !ok || s != c.Snapshot {
				t.Errorf("%s.%s: Snapshot() is not the changed snapshot", c.Name, c.Format)
			}
		}
		calls = append(calls, changed)
	}}, testSpecs(), testSources(), st)
	rebuild := func() {
		t.Helper()
		if err := p.Rebuild(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	rebuild()
	if len(calls) != 0 {
		t.Fatalf("first Rebuild reported %d changes", len(calls[0]))
	}
	rebuild()
	if len(calls) != 0 {
		t.Fatal("a Rebuild that changed nothing reported changes")
	}

	items := testItems()
	items[0].Title = "Hello, edited" // alpha's: in "all" and "tech"
	st.set(items)
	rebuild()
	if len(calls) != 1 {
		t.Fatalf("%d calls, want 1", len(calls))
	}
	var got []string
	for _, c := range calls[0] {
		got = append(got, changeName(c))
		want := FeedURL(testBase, c.Name, c.Format)
		if c.Source {
			want = SourceFeedURL(testBase, c.Name, c.Format)
		}
		if c.URL != want || !bytes.Contains(c.Snapshot.Body, []byte("Hello, edited")) {
			t.Errorf("%s: URL %q, body without the edit", changeName(c), c.URL)
		}
	}
	// The edited item is alpha's: its own feed changed, beta's and gamma's
	// did not.
	if want := []string{"all.rss", "all.atom", "all.json", "tech.rss", "tech.atom", "tech.json",
		"sources/alpha.rss", "sources/alpha.atom", "sources/alpha.json"}; !slices.Equal(got, want) {
		t.Errorf("changed = %q, want %q", got, want)
	}

	t.Run("a feed first rendered after the start is new content", func(t *testing.T) {
		st := &memStore{items: testItems(), states: testStates(), itemsErr: errors.New("locked")}
		var changed []string
		p := New(Options{BaseURL: testBase, Subscribed: allSourceTopics, OnPublish: func(c []Change) {
			for _, c := range c {
				changed = append(changed, changeName(c))
			}
		}}, testSpecs(), testSources(), st)
		if err := p.Rebuild(t.Context()); err == nil {
			t.Fatal("Rebuild did not fail")
		}
		st.itemsErr = nil
		if err := p.Rebuild(t.Context()); err != nil {
			t.Fatal(err)
		}
		if want := []string{"all.rss", "all.atom", "all.json", "tech.rss", "tech.atom", "tech.json",
			"sources/alpha.rss", "sources/alpha.atom", "sources/alpha.json",
			"sources/beta.rss", "sources/beta.atom", "sources/beta.json",
			"sources/gamma.rss", "sources/gamma.atom", "sources/gamma.json"}; !slices.Equal(changed, want) {
			t.Errorf("changed = %q, want %q", changed, want)
		}
	})
}

// allSourceTopics is Options.Subscribed when every source's own feed, in
// every format, has WebSub subscribers.
func allSourceTopics(context.Context) ([]string, error) {
	var topics []string
	for _, s := range testSources() {
		for _, f := range formats {
			topics = append(topics, SourceFeedURL(testBase, s.Name, f))
		}
	}
	return topics, nil
}

// changeName names a Change by its path: "all.rss", "sources/alpha.rss".
func changeName(c Change) string {
	if c.Source {
		return "sources/" + c.Name + "." + c.Format.String()
	}
	return c.Name + "." + c.Format.String()
}

// TestExpiresAcrossFeeds: Expires is the earliest of all feeds, and a feed
// that failed to rebuild keeps counting with its old documents.
func TestExpiresAcrossFeeds(t *testing.T) {
	h := time.Hour
	st := &memStore{items: []feed.Item{item("a", "1", t0.Add(-h)), item("a", "2", t0.Add(-3*h))}, states: []feed.SourceState{}}
	specs := []FeedSpec{
		{Name: "day", Sources: []string{"a"}, MaxAge: 24 * h},
		{Name: "short", Sources: []string{"a"}, MaxAge: 4 * h},
		{Name: "forever", Sources: []string{"a"}},
	}
	p := New(Options{BaseURL: testBase, Now: func() time.Time { return t0 }}, specs, []feed.Source{{Name: "a", URL: "https://a.example/f"}}, st)
	if !p.Expires().IsZero() {
		t.Error("Expires before Rebuild is not zero")
	}
	if err := p.Rebuild(t.Context()); err != nil {
		t.Fatal(err)
	}
	if want := t0.Add(h); !p.Expires().Equal(want) {
		t.Errorf("Expires = %v, want %v (a/2 leaves the short feed)", p.Expires(), want)
	}
	st.itemsErr = errors.New("locked")
	if err := p.Rebuild(t.Context()); err == nil {
		t.Fatal("Rebuild did not fail")
	}
	if want := t0.Add(h); !p.Expires().Equal(want) {
		t.Errorf("Expires after a failed rebuild = %v, want %v", p.Expires(), want)
	}
}

// walkIDs follows "next" from the current JSON document of a feed to its
// oldest archive page and returns every id found, the current document's
// included, and how many archive pages it walked.
func walkIDs(t *testing.T, p *Publisher, name string) (map[string]bool, int) {
	t.Helper()
	ids := map[string]bool{}
	u, pages := FeedURL(testBase, name, JSON), -1
	for ; u != ""; pages++ {
		if pages > 100 {
			t.Fatalf("more than 100 archive pages: %s", u)
		}
		d := parseDoc(t, JSON, get(t, p, u).Body)
		for _, id := range d.ids {
			ids[id] = true
		}
		u = d.links["next"]
	}
	return ids, pages
}

// TestArchiveHoldsWholeHistory: every stored item a feed selects is
// reachable from its current document through the archive pages, also
// when the feed has fewer items than one page (a new source's backlog held
// back by backfill) and when the newest items are left out of the current
// document by per_source_limit or max_age.
func TestArchiveHoldsWholeHistory(t *testing.T) {
	h := time.Hour
	added := t0.Add(-h)
	backlog := func(n int) []feed.Item {
		var out []feed.Item
		for i := range n {
			it := item("n", fmt.Sprintf("b%02d", i), added.Add(-time.Duration(i+1)*h))
			it.FirstSeen = added
			out = append(out, it)
		}
		return out
	}
	recent := func(src string, n int) []feed.Item {
		var out []feed.Item
		for i := range n {
			out = append(out, item(src, fmt.Sprintf("r%02d", i), t0.Add(-time.Duration(i)*time.Minute)))
		}
		return out
	}
	tests := []struct {
		name  string
		items []feed.Item
		spec  FeedSpec
		pages int // archive pages expected
	}{
		{"backlog held back, less than a page", backlog(12), FeedSpec{Limit: 50, Backfill: 3}, 1},
		{"backlog held back, one page and a rest", backlog(62), FeedSpec{Limit: 50, Backfill: 3}, 2},
		{"per-source limit", slices.Concat(recent("n", 25), recent("o", 3)), FeedSpec{Limit: 10, PerSourceLimit: 2}, 3},
		{"max age", recent("n", 8), FeedSpec{Limit: 10, MaxAge: 5 * time.Minute}, 1},
		{"everything in the current document: no archive", recent("n", 8), FeedSpec{Limit: 10}, 0},
		{"the rest in the current document: complete pages only", recent("n", 25), FeedSpec{Limit: 10}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &memStore{items: tt.items, states: []feed.SourceState{{Name: "n", FirstSuccess: added}, {Name: "o", FirstSuccess: t0.Add(-48 * h)}}}
			spec := tt.spec
			spec.Name, spec.Sources = "f", []string{"n", "o"}
			p := New(Options{BaseURL: testBase, Now: func() time.Time { return t0 }}, []FeedSpec{spec},
				[]feed.Source{{Name: "n", URL: "https://n.example/f"}, {Name: "o", URL: "https://o.example/f"}}, st)
			if err := p.Rebuild(t.Context()); err != nil {
				t.Fatal(err)
			}
			ids, pages := walkIDs(t, p, "f")
			if pages != tt.pages {
				t.Errorf("%d archive pages, want %d", pages, tt.pages)
			}
			for _, it := range tt.items {
				if !ids[it.PublicID()] {
					t.Errorf("%s is stored but reachable from no document", it.PublicID())
				}
			}
			if tt.pages > 0 {
				if _, err := p.Archive(t.Context(), "f", Atom, 1); err != nil {
					t.Errorf("archive/1.atom: %v", err)
				}
			}
		})
	}
}
