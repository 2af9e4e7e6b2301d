package publish

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
)

// item returns a plain item of src dated at d, whose id and link are
// https://SRC.example/KEY, so its public id is that URL.
func item(src, key string, d time.Time) feed.Item {
	u := "https://" + src + ".example/" + key
	return feed.Item{Source: src, ID: u, Link: u, Title: "Item " + key, Published: d, FirstSeen: d}
}

// publishedIDs returns the ids of the named feed's current JSON document,
// in order.
func publishedIDs(t *testing.T, p *Publisher, name string) []string {
	t.Helper()
	var doc struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	if err := json.Unmarshal(mustSnapshot(t, p, name, JSON).Body, &doc); err != nil {
		t.Fatalf("json: %v", err)
	}
	ids := []string{}
	for _, it := range doc.Items {
		ids = append(ids, it.ID)
	}
	return ids
}

// urls makes the public ids of keys ("src/key").
func urls(keys ...string) []string {
	out := []string{}
	for _, k := range keys {
		out = append(out, "https://"+k[:1]+".example/"+k[2:])
	}
	return out
}

// filterItems are one of each field a pattern can match, newest first.
func filterItems() []feed.Item {
	h := time.Hour
	title := item("a", "title", t0)
	title.Title = "Go 1.26 is out"
	content := item("a", "content", t0.Add(-h))
	content.Title = "Language news"
	content.Content = "<p>All about <b>Rust</b> &amp; more</p>"
	summary := item("a", "summary", t0.Add(-2*h))
	summary.Title = "Tips"
	summary.Summary = "<p>Python&nbsp;tips</p>"
	author := item("b", "author", t0.Add(-3*h))
	author.Authors = []feed.Person{{Name: "Ann Smith", Email: "ann@example.com"}}
	category := item("b", "category", t0.Add(-4*h))
	category.Categories = []string{"Sponsored", "Deals"}
	markup := item("b", "markup", t0.Add(-5*h))
	markup.Content = `<p>See <a href="https://golang.example/">the site</a></p><script>golang()</script>`
	return []feed.Item{title, content, summary, author, category, markup}
}

func TestIncludeExclude(t *testing.T) {
	res := func(patterns ...string) []*regexp.Regexp {
		var out []*regexp.Regexp
		for _, p := range patterns {
			out = append(out, regexp.MustCompile(p))
		}
		return out
	}
	tests := []struct {
		name             string
		include, exclude []*regexp.Regexp
		want             []string
	}{
		{"no patterns", nil, nil, urls("a/title", "a/content", "a/summary", "b/author", "b/category", "b/markup")},
		{"include title", res(`\bGo\b`), nil, urls("a/title")},
		{"include content text", res(`Rust & more`), nil, urls("a/content")},
		{"include summary text, entities decoded", res(`^Python tips$`), nil, urls("a/summary")},
		{"include author name", res(`^Ann Smith$`), nil, urls("b/author")},
		{"author e-mail is not matched", res(`ann@example`), nil, []string{}},
		{"include category, anchored to one", res(`^Deals$`), nil, urls("b/category")},
		{"markup and scripts are not text", res(`golang`), nil, []string{}},
		{"source categories are not the item's", res(`^tech$`), nil, []string{}},
		{"include: any pattern", res(`^Tips$`, `Smith`), nil, urls("a/summary", "b/author")},
		{"case follows the pattern", res(`(?i)^go`), nil, urls("a/title")},
		{"exclude category", nil, res(`(?i)^sponsored$`), urls("a/title", "a/content", "a/summary", "b/author", "b/markup")},
		{"exclude: any pattern", nil, res(`Rust`, `^Item`), urls("a/title", "a/summary")},
		{"exclude wins over include", res(`^Item`), res(`^Deals$`), urls("b/author", "b/markup")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &memStore{items: filterItems(), states: []feed.SourceState{}}
			spec := FeedSpec{Name: "f", Sources: []string{"a", "b"}, Include: tt.include, Exclude: tt.exclude}
			srcs := []feed.Source{
				{Name: "a", URL: "https://a.example/feed", Categories: []string{"tech"}},
				{Name: "b", URL: "https://b.example/feed", Categories: []string{"tech"}},
			}
			p := New(Options{BaseURL: testBase}, []FeedSpec{spec}, srcs, st)
			if err := p.Rebuild(t.Context()); err != nil {
				t.Fatal(err)
			}
			if got := publishedIDs(t, p, "f"); !slices.Equal(got, tt.want) {
				t.Errorf("ids = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestFilteredFeedFillsUp: a pattern that matches only old items still
// fills the feed to its limit, however many newer items it drops.
func TestFilteredFeedFillsUp(t *testing.T) {
	var items []feed.Item
	for i := range 200 {
		items = append(items, item("a", fmt.Sprintf("noise-%d", i), t0.Add(-time.Duration(i)*time.Minute)))
	}
	for i := range 3 {
		it := item("a", fmt.Sprintf("match-%d", i), t0.Add(-time.Duration(100+i)*time.Hour))
		it.Title = "needle"
		items = append(items, it)
	}
	st := &memStore{items: items, states: []feed.SourceState{}}
	spec := FeedSpec{Name: "f", Sources: []string{"a"}, Limit: 2, Include: []*regexp.Regexp{regexp.MustCompile(`needle`)}}
	p := New(Options{BaseURL: testBase}, []FeedSpec{spec}, []feed.Source{{Name: "a", URL: "https://a.example/feed"}}, st)
	if err := p.Rebuild(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got, want := publishedIDs(t, p, "f"), urls("a/match-0", "a/match-1"); !slices.Equal(got, want) {
		t.Errorf("ids = %q, want %q", got, want)
	}
}

func TestMaxAge(t *testing.T) {
	h := time.Hour
	// A story of two copies: b's, shown for its priority, is recent; a's,
	// seen first and whose id the story keeps, is older than MaxAge.
	old := item("a", "copy", t0.Add(-30*h))
	shown := item("b", "copy", t0.Add(-2*h))
	shown.Link = old.Link
	shown.FirstSeen = t0.Add(-h)
	items := []feed.Item{
		item("a", "fresh", t0.Add(-h)),
		item("a", "day", t0.Add(-23*h)),
		item("a", "exactly", t0.Add(-24*h)),
		item("a", "old", t0.Add(-48*h)),
		old, shown,
	}
	tests := []struct {
		name    string
		maxAge  time.Duration
		now     time.Time
		want    []string
		expires time.Time
	}{
		{"no max age", 0, t0, urls("a/fresh", "a/copy", "a/day"), time.Time{}},
		{"one day", 24 * h, t0, urls("a/fresh", "a/copy", "a/day"), t0.Add(h)},
		{"exactly a day old is out", 24 * h, t0.Add(h), urls("a/fresh", "a/copy"), t0.Add(22 * h)},
		{"all aged", 24 * h, t0.Add(30 * h), []string{}, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &memStore{items: items, states: []feed.SourceState{}}
			srcs := []feed.Source{{Name: "a", URL: "https://a.example/feed"}, {Name: "b", URL: "https://b.example/feed", Priority: 1}}
			spec := FeedSpec{Name: "f", Sources: []string{"a", "b"}, MaxAge: tt.maxAge, Limit: 3}
			p := New(Options{BaseURL: testBase, Now: func() time.Time { return tt.now }}, []FeedSpec{spec, {Name: "none", Sources: []string{"a"}}}, srcs, st)
			if err := p.Rebuild(t.Context()); err != nil {
				t.Fatal(err)
			}
			if got := publishedIDs(t, p, "f"); !slices.Equal(got, tt.want) {
				t.Errorf("ids = %q, want %q", got, tt.want)
			}
			if e := p.Expires(); !e.Equal(tt.expires) {
				t.Errorf("Expires = %v, want %v", e, tt.expires)
			}
			p1, err := p.Archive(t.Context(), "f", JSON, 1)
			if err != nil {
				t.Fatalf("Archive: %v", err)
			}
			// Page 1 holds the 3 oldest stored items, whatever their
			// age; a's old copy of the story is grouped within its page
			// only, so it shows there under its own id.
			if got, want := entryIDs(p1.Entries), urls("a/exactly", "a/copy", "a/old"); !slices.Equal(got, want) {
				t.Errorf("archive page 1 = %q, want %q: max_age does not cut the archive", got, want)
			}
		})
	}
	t.Run("rebuild at Expires drops the item", func(t *testing.T) {
		now := t0
		st := &memStore{items: items, states: []feed.SourceState{}}
		p := New(Options{BaseURL: testBase, Now: func() time.Time { return now }},
			[]FeedSpec{{Name: "f", Sources: []string{"a"}, MaxAge: 24 * h}}, []feed.Source{{Name: "a", URL: "https://a.example/feed"}}, st)
		if err := p.Rebuild(t.Context()); err != nil {
			t.Fatal(err)
		}
		now = p.Expires()
		if err := p.Rebuild(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got, want := publishedIDs(t, p, "f"), urls("a/fresh"); !slices.Equal(got, want) {
			t.Errorf("ids at Expires = %q, want %q", got, want)
		}
	})
}

func entryIDs(items []feed.Item) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, it.PublicID())
	}
	return out
}

func TestPerSourceLimit(t *testing.T) {
	h := time.Hour
	var items []feed.Item
	for i := range 5 {
		items = append(items, item("a", fmt.Sprint(i), t0.Add(-time.Duration(i)*h)))
	}
	items = append(items, item("b", "0", t0.Add(-30*time.Minute)), item("b", "1", t0.Add(-10*h)))
	// A story shown from c (priority), seen first there, whose copy a
	// carried too counts for c only.
	cc := item("c", "0", t0.Add(-45*time.Minute))
	cc.FirstSeen = t0.Add(-2 * h)
	ac := item("a", "c0", t0.Add(-45*time.Minute))
	ac.Link = cc.Link
	items = append(items, cc, ac)
	tests := []struct {
		name  string
		limit int
		per   int
		want  []string
	}{
		{"none", 20, 0, urls("a/0", "b/0", "c/0", "a/1", "a/2", "a/3", "a/4", "b/1")},
		{"two per source", 20, 2, urls("a/0", "b/0", "c/0", "a/1", "b/1")},
		{"one per source, then the limit", 2, 1, urls("a/0", "b/0")},
		{"negative is none", 20, -1, urls("a/0", "b/0", "c/0", "a/1", "a/2", "a/3", "a/4", "b/1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &memStore{items: items, states: []feed.SourceState{}}
			srcs := []feed.Source{{Name: "a", URL: "https://a.example/f"}, {Name: "b", URL: "https://b.example/f"}, {Name: "c", URL: "https://c.example/f", Priority: 1}}
			spec := FeedSpec{Name: "f", Sources: []string{"a", "b", "c"}, Limit: tt.limit, PerSourceLimit: tt.per}
			p := New(Options{BaseURL: testBase}, []FeedSpec{spec}, srcs, st)
			if err := p.Rebuild(t.Context()); err != nil {
				t.Fatal(err)
			}
			if got := publishedIDs(t, p, "f"); !slices.Equal(got, tt.want) {
				t.Errorf("ids = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestBackfill: "o" has been fetched for a month; "n" was added an hour
// ago and its first fetch brought 30 old items. "z" was never fetched
// successfully, so it has no backlog.
func TestBackfill(t *testing.T) {
	h := time.Hour
	added := t0.Add(-h)
	var items []feed.Item
	for i := range 3 {
		items = append(items, item("o", fmt.Sprint(i), t0.Add(-time.Duration(i)*24*h)))
	}
	items = append(items, item("n", "new", t0.Add(-time.Minute)))
	for i := range 30 {
		it := item("n", fmt.Sprintf("b%02d", i), added.Add(-time.Duration(i+1)*12*h))
		it.FirstSeen = added
		if i%2 == 1 {
			it.Title = "odd"
		}
		items = append(items, it)
	}
	items = append(items, item("z", "0", t0.Add(-100*24*h)))
	states := []feed.SourceState{
		{Name: "o", FirstSuccess: t0.Add(-30 * 24 * h)},
		{Name: "n", FirstSuccess: added},
		{Name: "z"},
	}
	tests := []struct {
		name     string
		backfill int
		include  string
		want     []string
	}{
		{"three newest of the backlog", 3, "", urls("o/0", "n/new", "n/b00", "o/1", "n/b01", "n/b02", "o/2", "z/0")},
		{"none", 0, "", urls("o/0", "n/new", "o/1", "o/2", "z/0")},
		{"negative: all of it", -1, "", nil},
		{"counted among the matching items", 2, "^odd$", urls("n/b01", "n/b03")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &memStore{items: items, states: states}
			srcs := []feed.Source{{Name: "o", URL: "https://o.example/f"}, {Name: "n", URL: "https://n.example/f"}, {Name: "z", URL: "https://z.example/f"}}
			spec := FeedSpec{Name: "f", Sources: []string{"o", "n", "z"}, Limit: 100, Backfill: tt.backfill}
			if tt.include != "" {
				spec.Include = []*regexp.Regexp{regexp.MustCompile(tt.include)}
			}
			p := New(Options{BaseURL: testBase}, []FeedSpec{spec}, srcs, st)
			if err := p.Rebuild(t.Context()); err != nil {
				t.Fatal(err)
			}
			got := publishedIDs(t, p, "f")
			if tt.want == nil {
				if len(got) != len(items) {
					t.Errorf("%d items, want all %d", len(got), len(items))
				}
				return
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("ids = %q,\nwant %q", got, tt.want)
			}
		})
	}
}

// TestBackfillKeepsHistory: the backfill cap keeps a new source's backlog
// out of the current document, not out of the archive pages, through which
// everything the store holds stays reachable.
func TestBackfillKeepsHistory(t *testing.T) {
	added := t0.Add(-time.Hour)
	var items []feed.Item
	for i := range 30 {
		it := item("n", fmt.Sprintf("b%02d", i), added.Add(-time.Duration(i+1)*time.Hour))
		it.FirstSeen = added
		items = append(items, it)
	}
	st := &memStore{items: items, states: []feed.SourceState{{Name: "n", FirstSuccess: added}}}
	spec := FeedSpec{Name: "f", Sources: []string{"n"}, Limit: 10, Backfill: 3}
	p := New(Options{BaseURL: testBase}, []FeedSpec{spec}, []feed.Source{{Name: "n", URL: "https://n.example/f"}}, st)
	if err := p.Rebuild(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := publishedIDs(t, p, "f"); len(got) != 3 {
		t.Errorf("current document holds %d backlog items, want the 3 newest: %q", len(got), got)
	}
	seen := map[string]bool{}
	for page := 1; ; page++ {
		snap, err := p.Archive(t.Context(), "f", JSON, page)
		if errors.Is(err, ErrNotFound) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range parseDoc(t, JSON, snap.Body).ids {
			seen[id] = true
		}
	}
	if len(seen) != 30 {
		t.Errorf("the archive pages hold %d of the 30 stored items", len(seen))
	}
}

// TestBackfillUndated: the undated items of a source's first fetch are
// dated at that fetch (the newest exactly at it, the others a second
// apart, in feed order); they are its backlog like dated ones, so a new
// source of 20 undated items does not flood the feed.
func TestBackfillUndated(t *testing.T) {
	added := t0.Add(-time.Hour)
	var items []feed.Item
	for i := range 20 {
		it := item("u", fmt.Sprintf("n%02d", i), added.Add(-time.Duration(i)*time.Second))
		it.FirstSeen = added
		items = append(items, it)
	}
	items = append(items, item("u", "later", t0)) // a new item of a later fetch
	st := &memStore{items: items, states: []feed.SourceState{{Name: "u", FirstSuccess: added}}}
	spec := FeedSpec{Name: "f", Sources: []string{"u"}, Limit: 50, Backfill: 3}
	p := New(Options{BaseURL: testBase}, []FeedSpec{spec}, []feed.Source{{Name: "u", URL: "https://u.example/f"}}, st)
	if err := p.Rebuild(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got, want := publishedIDs(t, p, "f"), urls("u/later", "u/n00", "u/n01", "u/n02"); !slices.Equal(got, want) {
		t.Errorf("ids = %q, want %q", got, want)
	}
}

// TestFragmentPosts: a link blog's day page carries three posts at three
// fragments, each with its own id: all three are published, whatever the
// other feeds' dedupe mode.
func TestFragmentPosts(t *testing.T) {
	var items []feed.Item
	for i := range 3 {
		link := fmt.Sprintf("https://scripting.example/2026/11/29#a%d", i+1)
		items = append(items, feed.Item{Source: "s", ID: link, Link: link, Title: fmt.Sprintf("Post %d", i+1),
			Canonical: "https://scripting.example/2026/11/29", Published: t0.Add(-time.Duration(i) * time.Minute), FirstSeen: t0})
	}
	for _, mode := range []string{DedupeLink, DedupeTitle, "none", "off"} {
		t.Run(mode, func(t *testing.T) {
			st := &memStore{items: items, states: []feed.SourceState{}}
			spec := FeedSpec{Name: "f", Sources: []string{"s"}, Dedupe: mode}
			p := New(Options{BaseURL: testBase}, []FeedSpec{spec}, []feed.Source{{Name: "s", URL: "https://scripting.example/rss.xml"}}, st)
			if err := p.Rebuild(t.Context()); err != nil {
				t.Fatal(err)
			}
			if got := publishedIDs(t, p, "f"); len(got) != 3 {
				t.Errorf("published %q, want the 3 posts", got)
			}
		})
	}
}

// TestDedupeNone: with dedupe none, two sources' copies of one story are
// both published.
func TestDedupeNone(t *testing.T) {
	a, b := item("a", "s", t0), item("b", "s", t0.Add(-time.Hour))
	b.Link = a.Link
	st := &memStore{items: []feed.Item{a, b}, states: []feed.SourceState{}}
	spec := FeedSpec{Name: "f", Sources: []string{"a", "b"}, Dedupe: "none"}
	p := New(Options{BaseURL: testBase}, []FeedSpec{spec}, []feed.Source{{Name: "a", URL: "https://a.example/f"}, {Name: "b", URL: "https://b.example/f"}}, st)
	if err := p.Rebuild(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got, want := publishedIDs(t, p, "f"), urls("a/s", "b/s"); !slices.Equal(got, want) {
		t.Errorf("ids = %q, want %q", got, want)
	}
}

// TestFiltersBeforeDedupe: an item the feed's exclude drops never
// displaces or absorbs the story it duplicates, even from a source of
// higher priority, seen first, linking to the same page or (with dedupe
// title) carrying the same title; in the current document and in the
// archive.
func TestFiltersBeforeDedupe(t *testing.T) {
	for _, mode := range []string{DedupeLink, DedupeTitle} {
		t.Run(mode, func(t *testing.T) {
			real := item("news", "bridge", t0)
			real.Title = "Council approves the new harbour bridge plan"
			real.FirstSeen = t0.Add(time.Hour)
			ad := item("ads", "bridge", t0.Add(time.Minute))
			ad.Title = "Sponsored: Council approves the new harbour bridge plan"
			if mode == DedupeLink {
				ad.Link = real.Link
			}
			var items []feed.Item
			for i := range 4 {
				items = append(items, item("news", fmt.Sprintf("old%d", i), t0.Add(-time.Duration(i+1)*time.Hour)))
			}
			items = append(items, real, ad)
			st := &memStore{items: items, states: []feed.SourceState{}}
			spec := FeedSpec{Name: "all", Sources: []string{"news", "ads"}, Limit: 2, Dedupe: mode,
				Exclude: []*regexp.Regexp{regexp.MustCompile(`(?i)^(sponsored|advert)`)}}
			srcs := []feed.Source{{Name: "news", URL: "https://news.example/f"}, {Name: "ads", URL: "https://ads.example/f", Priority: 10}}
			p := New(Options{BaseURL: testBase}, []FeedSpec{spec}, srcs, st)
			if err := p.Rebuild(t.Context()); err != nil {
				t.Fatal(err)
			}
			if got := publishedIDs(t, p, "all"); len(got) == 0 || got[0] != real.ID {
				t.Errorf("current document %q, want the real story %s first", got, real.ID)
			}
			snap, err := p.Archive(t.Context(), "all", JSON, 3)
			if err != nil {
				t.Fatal(err)
			}
			if doc := parseDoc(t, JSON, snap.Body); !slices.Equal(doc.ids, []string{real.ID}) || strings.Contains(string(snap.Body), "Sponsored") {
				t.Errorf("archive page 3 holds %q, want the real story alone:\n%s", doc.ids, snap.Body)
			}
		})
	}
}
