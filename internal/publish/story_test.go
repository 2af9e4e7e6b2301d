package publish

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/atom"
	"github.com/mmcdole/gofeed/rss"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/testkit"
)

// describe writes a story as "SHOWN [id=ID] [+ALSO...]", with items as
// source/id: the id only when it is not the shown copy's own.
func describe(s story) string {
	out := s.shown.Source + "/" + s.shown.ID
	if s.id != s.shown.PublicID() {
		out += " id=" + s.id
	}
	for _, c := range s.also {
		out += " +" + c.Source + "/" + c.ID
	}
	return out
}

func TestGroupStories(t *testing.T) {
	h := time.Hour
	item := func(src, id, link string, published, firstSeen time.Duration) feed.Item {
		return feed.Item{Source: src, ID: id, Link: link, Published: t0.Add(published), FirstSeen: t0.Add(firstSeen)}
	}
	canon := func(it feed.Item, c string) feed.Item { it.Canonical = c; return it }
	titled := func(it feed.Item, title string) feed.Item { it.Title = title; return it }
	prio := map[string]int{"wire": 10, "mid": 5, "mid2": 5}
	const long = "Council approves the new harbour bridge plan"
	tests := []struct {
		name   string
		items  []feed.Item
		title  bool          // DedupeTitle
		none   bool          // DedupeNone
		window time.Duration // 0: DefaultDedupeWindow
		limit  int           // 0: 10
		want   []string      // describe of each story, in order
	}{
		{
			name: "newest first",
			items: []feed.Item{
				item("a", "1", "https://e.x/1", -2*h, 0),
				item("a", "2", "https://e.x/2", 0, 0),
				item("a", "3", "https://e.x/3", -h, 0),
			},
			want: []string{"a/2", "a/3", "a/1"},
		},
		{
			name: "equal dates in key order",
			items: []feed.Item{
				item("b", "1", "https://e.x/b1", 0, 0),
				item("a", "2", "https://e.x/a2", 0, 0),
				item("a", "1", "https://e.x/a1", 0, 0),
			},
			want: []string{"a/1", "a/2", "b/1"},
		},
		{
			name: "same normalized link shows the first seen",
			items: []feed.Item{
				item("a", "1", "https://e.x/story", 0, h),
				item("b", "9", "HTTPS://E.X:443/story#x", -h, 0),
			},
			want: []string{"b/9 +a/1"},
		},
		{
			name: "first-seen tie goes to the earliest published",
			items: []feed.Item{
				item("a", "1", "https://e.x/story", 0, 0),
				item("b", "1", "https://e.x/story", -h, 0),
			},
			want: []string{"b/1 +a/1"},
		},
		{
			name: "full tie goes to the source name",
			items: []feed.Item{
				item("zeta", "1", "https://e.x/story", 0, 0),
				item("beta", "2", "https://e.x/story", 0, 0),
			},
			want: []string{"beta/2 +zeta/1"},
		},
		{
			name: "same public id",
			items: []feed.Item{
				item("a", "tag:x,2024:1", "https://a.x/1", 0, h),
				item("b", "tag:x,2024:1", "https://b.x/1", 0, 0),
			},
			want: []string{"b/tag:x,2024:1 +a/tag:x,2024:1"},
		},
		{
			name: "bare ids of different sources differ",
			items: []feed.Item{
				item("a", "1", "", 0, 0),
				item("b", "1", "", -h, 0),
			},
			want: []string{"a/1", "b/1"},
		},
		{
			name: "transitive: link then id",
			items: []feed.Item{
				item("a", "tag:x,2024:1", "https://a.x/1", 0, 2*h),
				item("b", "tag:x,2024:1", "https://b.x/1", 0, h),
				item("c", "3", "https://a.x/1", 0, 0),
			},
			want: []string{"c/3 +b/tag:x,2024:1 +a/tag:x,2024:1"},
		},
		{
			// Tracking-parameter variants arrive canonicalized already.
			name: "equal canonical, different links",
			items: []feed.Item{
				canon(item("a", "1", "https://a.x/s?utm_source=rss", 0, 0), "https://news.x/s"),
				canon(item("b", "2", "https://b.x/p/2", 0, h), "https://news.x/s"),
			},
			want: []string{"a/1 +b/2"},
		},
		{
			name: "a canonical meets an older copy's link",
			items: []feed.Item{
				item("a", "1", "https://news.x/s", 0, 0),
				canon(item("b", "2", "https://b.x/p/2", 0, h), "https://NEWS.x:443/s"),
			},
			want: []string{"a/1 +b/2"},
		},
		{
			name: "different canonicals stay apart",
			items: []feed.Item{
				canon(item("a", "1", "https://a.x/1", 0, 0), "https://news.x/1"),
				canon(item("b", "2", "https://b.x/2", -h, 0), "https://news.x/2"),
			},
			want: []string{"a/1", "b/2"},
		},
		{
			name: "a front-page canonical names no story",
			items: []feed.Item{
				canon(item("a", "1", "https://a.x/1", 0, 0), "https://a.x/"),
				canon(item("a", "2", "https://a.x/2", -h, 0), "https://a.x"),
			},
			want: []string{"a/1", "a/2"},
		},
		{
			name: "priority wins over first seen; the id stays the first seen's",
			items: []feed.Item{
				item("a", "1", "https://e.x/s", 0, 0),
				item("wire", "w1", "https://e.x/s", -h, h),
			},
			want: []string{"wire/w1 id=urn:feedmill:a:1 +a/1"},
		},
		{
			name: "other copies in priority then first-seen order",
			items: []feed.Item{
				item("a", "1", "https://e.x/s", 0, 0),
				item("mid", "m", "https://e.x/s", 0, 2*h),
				item("mid2", "n", "https://e.x/s", 0, h),
				item("wire", "w", "https://e.x/s", 0, 3*h),
			},
			want: []string{"wire/w id=urn:feedmill:a:1 +mid2/n +mid/m +a/1"},
		},
		{
			name: "one copy per other source, none of the shown one's",
			items: []feed.Item{
				item("a", "1", "https://e.x/s", 0, 0),
				item("a", "2", "https://E.x/s", 0, h),
				canon(item("b", "1", "https://b.x/1", 0, 2*h), "https://e.x/s"),
				canon(item("b", "2", "https://b.x/2", 0, 3*h), "https://e.x/s"),
				canon(item("b", "3", "https://b.x/3", 0, h), "https://e.x/s"),
			},
			want: []string{"a/1 +b/3"},
		},
		{
			name: "posts at fragments of one page are distinct stories",
			items: []feed.Item{
				item("a", "1", "https://e.x/2026/11/29#a1", 0, 0),
				item("a", "2", "https://e.x/2026/11/29#a2", -h, 0),
				canon(item("a", "3", "https://e.x/2026/11/29#a3", -2*h, 0), "https://e.x/2026/11/29"),
			},
			want: []string{"a/1", "a/2", "a/3"},
		},
		{
			name: "the same fragment in two sources is one story",
			items: []feed.Item{
				item("a", "1", "https://e.x/d#a1", 0, 0),
				item("b", "9", "https://e.x/d#a1", -h, h),
				item("b", "8", "https://e.x/d#a2", -h, h),
			},
			want: []string{"a/1 +b/9", "b/8"},
		},
		{
			name: "a bare link is the page's only fragment in another source",
			items: []feed.Item{
				item("a", "1", "https://e.x/s", 0, 0),
				item("b", "1", "https://e.x/s#comments", -h, h),
			},
			want: []string{"a/1 +b/1"},
		},
		{
			name: "one source's bare link and fragment are distinct",
			items: []feed.Item{
				item("a", "1", "https://e.x/s", 0, 0),
				item("a", "2", "https://e.x/s#update", -h, 0),
			},
			want: []string{"a/1", "a/2"},
		},
		{
			name: "a bare link between two fragments joins neither",
			items: []feed.Item{
				item("a", "1", "https://e.x/d#a1", 0, 0),
				item("a", "2", "https://e.x/d#a2", -h, 0),
				item("b", "1", "https://e.x/d", -2*h, 0),
			},
			want: []string{"a/1", "a/2", "b/1"},
		},
		{
			name: "none merges nothing",
			none: true,
			items: []feed.Item{
				item("a", "1", "https://e.x/s", 0, 0),
				item("b", "1", "https://e.x/s", -h, h),
				titled(item("a", "2", "https://a.x/2", -2*h, 0), long),
				titled(item("b", "2", "https://b.x/2", -2*h, h), long),
			},
			want: []string{"a/1", "b/1", "a/2", "b/2"},
		},
		{
			name: "a story stands at its shown copy's date",
			items: []feed.Item{
				item("a", "1", "https://e.x/s", 0, 0),
				item("wire", "w", "https://e.x/s", -3*h, h),
				item("c", "1", "https://e.x/other", -h, 0),
			},
			want: []string{"c/1", "wire/w id=urn:feedmill:a:1 +a/1"},
		},
		{
			name: "limit counts stories",
			items: []feed.Item{
				item("a", "1", "https://e.x/1", 0, 0),
				item("b", "1", "https://e.x/1", 0, h),
				item("a", "2", "https://e.x/2", -h, 0),
				item("a", "3", "https://e.x/3", -2*h, 0),
			},
			limit: 2,
			want:  []string{"a/1 +b/1", "a/2"},
		},
		{
			name: "link mode ignores titles",
			items: []feed.Item{
				titled(item("a", "1", "https://a.x/1", 0, 0), long),
				titled(item("b", "1", "https://b.x/1", 0, 0), long),
			},
			want: []string{"a/1", "b/1"},
		},
		{
			name:  "title: near-identical titles merge",
			title: true,
			items: []feed.Item{
				titled(item("a", "1", "https://a.x/1", 0, 0), long),
				titled(item("b", "1", "https://b.x/1", -h, h), "Council approves new harbour bridge plan!"),
			},
			want: []string{"a/1 +b/1"},
		},
		{
			name:  "title: case, punctuation and diacritics do not matter",
			title: true,
			items: []feed.Item{
				titled(item("a", "1", "https://a.x/1", 0, h), "Café owners protest new rules — downtown"),
				titled(item("b", "1", "https://b.x/1", 0, 0), "CAFE OWNERS PROTEST NEW RULES DOWNTOWN"),
			},
			want: []string{"b/1 +a/1"},
		},
		{
			name:  "title: short titles never merge",
			title: true,
			items: []feed.Item{
				titled(item("a", "1", "https://a.x/1", 0, 0), "Weekly update"),
				titled(item("b", "1", "https://b.x/1", -h, 0), "Weekly update"),
				titled(item("a", "2", "https://a.x/2", -2*h, 0), "Open thread today"),
				titled(item("b", "2", "https://b.x/2", -3*h, 0), "Open thread today"),
			},
			want: []string{"a/1", "b/1", "a/2", "b/2"},
		},
		{
			name:  "title: different stories stay apart",
			title: true,
			items: []feed.Item{
				titled(item("a", "1", "https://a.x/1", 0, 0), "Storm closes schools across the region"),
				titled(item("b", "1", "https://b.x/1", -h, 0), "Storm closes roads across the north"),
			},
			want: []string{"a/1", "b/1"},
		},
		{
			name:  "title: the default window is 48h",
			title: true,
			items: []feed.Item{
				titled(item("a", "1", "https://a.x/1", 0, 0), long),
				titled(item("b", "1", "https://b.x/1", -47*h, h), long),
				titled(item("c", "1", "https://c.x/1", -96*h, 0), long),
			},
			want: []string{"a/1 +b/1", "c/1"},
		},
		{
			name:   "title: a shorter window",
			title:  true,
			window: time.Hour,
			items: []feed.Item{
				titled(item("a", "1", "https://a.x/1", 0, 0), long),
				titled(item("b", "1", "https://b.x/1", -2*h, 0), long),
				titled(item("c", "1", "https://c.x/1", -2*h-30*time.Minute, h), long),
			},
			want: []string{"a/1", "b/1 +c/1"},
		},
		{
			name:  "title: one source's repeats are not merged",
			title: true,
			items: []feed.Item{
				titled(item("a", "1", "https://a.x/1", 0, 0), long),
				titled(item("a", "2", "https://a.x/2", -h, 0), long),
			},
			want: []string{"a/1", "a/2"},
		},
		{
			name:  "title: follows the shown-copy rule",
			title: true,
			items: []feed.Item{
				titled(item("a", "1", "https://a.x/1", 0, 0), long),
				titled(item("wire", "w", "https://w.x/1", -h, h), long),
			},
			want: []string{"wire/w id=urn:feedmill:a:1 +a/1"},
		},
		{
			name: "nothing",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := grouping{priority: func(s string) int { return prio[s] }, none: tt.none, byTitle: tt.title, window: tt.window}
			if g.window == 0 {
				g.window = DefaultDedupeWindow
			}
			limit := tt.limit
			if limit == 0 {
				limit = 10
			}
			// The input order must not matter.
			orders := map[string][]feed.Item{"given": tt.items, "reversed": slices.Clone(tt.items)}
			slices.Reverse(orders["reversed"])
			if len(tt.items) > 1 {
				orders["rotated"] = append(slices.Clone(tt.items[1:]), tt.items[0])
			}
			for name, items := range orders {
				var got []string
				for _, s := range groupStories(items, g, limit) {
					got = append(got, describe(s))
				}
				if !slices.Equal(got, tt.want) {
					t.Errorf("%s input: got %q, want %q", name, got, tt.want)
				}
			}
		})
	}
}

func TestTitleWords(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"case and punctuation", "Hello, World! Hello?", "hello world"},
		{"diacritics", "Crème brûlée à Zürich", "a brulee creme zurich"},
		{"typographic punctuation", "“Quoted” — dash…and more", "and dash more quoted"},
		{"digits kept", "Top 10 of 2024", "10 2024 of top"},
		{"non-latin letters", "Новости дня", "дня новости"},
		{"nothing", " !!! ", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := strings.Join(titleWords(tt.in), " "); got != tt.want {
				t.Errorf("titleWords(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSimilarTitles(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want bool
	}{
		{"equal", "a b c d", "a b c d", true},
		{"one of five differs", "a b c d e", "a b c d", true},       // 4/5
		{"one of six changed", "a b c d e f", "a b c d e g", false}, // 5/7
		{"two of ten extra", "a b c d e f g h", "a b c d e f g h i j", true},
		{"nothing shared", "a b c d", "e f g h", false},
		{"both empty", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := similarTitles(titleWords(tt.a), titleWords(tt.b)); got != tt.want {
				t.Errorf("similarTitles(%q, %q) = %v", tt.a, tt.b, got)
			}
		})
	}
}

// TestMergeTitlesMatchesBruteForce pins the prefix filter: it must find
// exactly the stories that comparing every pair finds.
func TestMergeTitlesMatchesBruteForce(t *testing.T) {
	vocab := strings.Fields("bridge budget council harbour storm schools region market vote court the a of new")
	rng := rand.New(rand.NewPCG(1, 2))
	items := make([]feed.Item, 300)
	for i := range items {
		n := 3 + rng.IntN(6)
		var title []string
		for range n {
			title = append(title, vocab[rng.IntN(len(vocab))])
		}
		items[i] = feed.Item{
			Source: fmt.Sprint("s", rng.IntN(4)), ID: fmt.Sprint(i), Title: strings.Join(title, " "),
			Published: t0.Add(-time.Duration(rng.IntN(96)) * time.Hour),
		}
	}
	window := 24 * time.Hour
	partition := func(merge func(union func(i, j int), find func(int) int)) []int {
		parent := make([]int, len(items))
		for i := range parent {
			parent[i] = i
		}
		var find func(int) int
		find = func(i int) int {
			if parent[i] != i {
				parent[i] = find(parent[i])
			}
			return parent[i]
		}
		merge(func(i, j int) { parent[find(i)] = find(j) }, find)
		// Name each group by its smallest member.
		low := make(map[int]int)
		for i := len(items) - 1; i >= 0; i-- {
			low[find(i)] = i
		}
		out := make([]int, len(items))
		for i := range items {
			out[i] = low[find(i)]
		}
		return out
	}
	got := partition(func(union func(i, j int), find func(int) int) { mergeTitles(items, window, union, find) })
	want := partition(func(union func(i, j int), _ func(int) int) {
		for i := range items {
			for j := range i {
				a, b := titleWords(items[i].Title), titleWords(items[j].Title)
				d := items[i].Date().Sub(items[j].Date())
				if items[i].Source != items[j].Source && len(a) >= minTitleWords && len(b) >= minTitleWords &&
					d <= window && d >= -window && similarTitles(a, b) {
					union(i, j)
				}
			}
		}
	})
	if !slices.Equal(got, want) {
		t.Errorf("prefix filter and brute force disagree:\n got %v\nwant %v", got, want)
	}
	merged := 0
	for i, g := range want {
		if g != i {
			merged++
		}
	}
	if merged < 10 {
		t.Errorf("only %d items merged: the fixture does not exercise merging", merged)
	}
}

func TestStoryCanonical(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", ""},
		{"normalized", "HTTPS://News.X:443/a#b", "https://news.x/a"},
		{"front page", "https://news.x/", ""},
		{"bare host", "https://news.x", ""},
		{"front page with a query names an article", "https://news.x/?p=12", "https://news.x/?p=12"},
		{"relative", "/a/b", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := storyCanonical(tt.in); got != tt.want {
				t.Errorf("storyCanonical(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSourcesFooter(t *testing.T) {
	tests := []struct {
		name string
		also []alsoCopy
		want string
	}{
		{"none", nil, ""},
		{
			"one",
			[]alsoCopy{{source: sourceInfo{title: "Beta News"}, link: "https://b.x/1"}},
			`<p class="feedmill-sources">Also in: <a href="https://b.x/1">Beta News</a></p>`,
		},
		{
			"escaped, and a copy without a link",
			[]alsoCopy{
				{source: sourceInfo{title: `Q&A <"news">`}, link: "https://b.x/1?a=1&b=2"},
				{source: sourceInfo{title: "Gamma"}},
			},
			`<p class="feedmill-sources">Also in: <a href="https://b.x/1?a=1&amp;b=2">Q&amp;A &lt;&#34;news&#34;&gt;</a>, Gamma</p>`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sourcesFooter(tt.also); got != tt.want {
				t.Errorf("footer = %s\nwant     %s", got, tt.want)
			}
		})
	}
}

func TestDedupeSpec(t *testing.T) {
	p := New(Options{}, []FeedSpec{
		{Name: "default"},
		{Name: "title", Dedupe: DedupeTitle, DedupeWindow: time.Hour},
		{Name: "typo", Dedupe: "titles"},
		{Name: "none", Dedupe: DedupeNone},
		{Name: "off", Dedupe: "off"},
	}, nil, &memStore{})
	var got []string
	for _, s := range p.Feeds() {
		got = append(got, s.Name+":"+s.Dedupe+":"+s.dedupeWindow().String())
	}
	want := []string{"default:link:48h0m0s", "title:title:1h0m0s", "typo:link:48h0m0s", "none:none:48h0m0s", "off:none:48h0m0s"}
	if !slices.Equal(got, want) {
		t.Errorf("specs = %q, want %q", got, want)
	}
}

// The "stories" fixture: three sources carrying overlapping stories.
// delta is a wire service with the highest priority, zeta is preferred to
// epsilon.
func storySources() []feed.Source {
	return []feed.Source{
		{Name: "delta", URL: "https://delta.example.com/wire.xml", Title: "Delta Wire", Priority: 10},
		{Name: "epsilon", URL: "https://epsilon.example.net/feed", Title: "Epsilon Daily"},
		{Name: "zeta", URL: "https://zeta.example.org/rss", Title: "Zeta Times", Priority: 5},
	}
}

func storyStates() []feed.SourceState {
	return []feed.SourceState{
		{Name: "delta", FeedLink: "https://delta.example.com/"},
		{Name: "epsilon", FeedLink: "https://epsilon.example.net/"},
	}
}

func storySpecs() []FeedSpec {
	return []FeedSpec{{Name: "stories", Title: "Top stories", Sources: []string{"delta", "epsilon", "zeta"}, Limit: 10, Dedupe: DedupeTitle}}
}

// storyItems covers: a story of three copies joined by canonical (the wire
// copy shown, seen last, under the id of the copy seen first), a
// summary-only story joined by title, short titles that stay apart, equal
// titles too far apart in time, a title-only story of two copies, and a
// single-copy item.
func storyItems() []feed.Item {
	h, m := time.Hour, time.Minute
	const bridge = "https://news.example.com/2024/03/harbour-bridge"
	return []feed.Item{
		{
			Source: "epsilon", ID: "e-42", Link: "https://epsilon.example.net/p/42", Canonical: bridge,
			Title: "Harbour bridge approved", Content: "<p>Epsilon's copy.</p>",
			Published: t0.Add(-h), FirstSeen: t0.Add(-h),
		},
		{
			Source: "delta", ID: "https://delta.example.com/wire/42", Link: "https://delta.example.com/wire/42?utm_source=rss", Canonical: bridge,
			Title: "Harbour bridge approved after long debate", Summary: "<p>Wire summary.</p>", Content: "<p>The wire copy.</p>",
			Authors:   []feed.Person{{Name: "Wire Desk"}},
			Published: t0.Add(-90 * m), FirstSeen: t0.Add(-30 * m),
		},
		{
			Source: "zeta", ID: "z-7", Link: "https://zeta.example.org/harbour?a=1&b=2", Canonical: bridge,
			Title: "Bridge: approved", Published: t0.Add(-h), FirstSeen: t0,
		},
		{
			Source: "epsilon", ID: "e-43", Link: "https://epsilon.example.net/p/43",
			Title: "Council approves the new harbour budget", Summary: "<p>Budget news.</p>",
			Published: t0.Add(-2 * h), FirstSeen: t0.Add(-2 * h),
		},
		{
			Source: "zeta", ID: "z-8", Link: "https://zeta.example.org/budget",
			Title: "Council approves new harbour budget!", Summary: "<p>Zeta on the budget.</p>",
			Published: t0.Add(-150 * m), FirstSeen: t0.Add(-2*h + 5*m),
		},
		{
			Source: "epsilon", ID: "e-44", Link: "https://epsilon.example.net/p/44", Title: "Weekly update",
			Published: t0.Add(-3 * h), FirstSeen: t0.Add(-3 * h),
		},
		{
			Source: "zeta", ID: "z-9", Link: "https://zeta.example.org/weekly", Title: "Weekly update",
			Published: t0.Add(-3 * h), FirstSeen: t0.Add(-3 * h),
		},
		{
			Source: "delta", ID: "https://delta.example.com/wire/50", Link: "https://delta.example.com/wire/50",
			Title: "Storm closes schools across the region", Content: "<p>Schools shut today.</p>",
			Published: t0.Add(-4 * h), FirstSeen: t0.Add(-4 * h),
		},
		{
			Source: "epsilon", ID: "e-45", Link: "https://epsilon.example.net/p/45",
			Title: "Storm closes schools across the region", Summary: "<p>Last winter.</p>",
			Published: t0.Add(-53 * h), FirstSeen: t0.Add(-53 * h),
		},
		{
			Source: "delta", ID: "https://delta.example.com/wire/55", Link: "https://delta.example.com/wire/55",
			Title: "Markets close higher on Friday", Published: t0.Add(-5 * h), FirstSeen: t0.Add(-5 * h),
		},
		{
			Source: "epsilon", ID: "e-55", Link: "https://delta.example.com/wire/55#comments",
			Title: "Markets close higher", Published: t0.Add(-5 * h), FirstSeen: t0.Add(-4 * h),
		},
	}
}

func storyPublisher(t testing.TB, items []feed.Item) *Publisher {
	t.Helper()
	st := &memStore{items: items, states: storyStates()}
	return New(Options{BaseURL: testBase, Version: "1.2.3"}, storySpecs(), storySources(), st)
}

func rebuiltStories(t *testing.T) *Publisher {
	t.Helper()
	p := storyPublisher(t, storyItems())
	if err := p.Rebuild(t.Context()); err != nil {
		t.Fatalf("Rebuild: %v", err)
	}
	return p
}

func TestGoldenStories(t *testing.T) {
	p := rebuiltStories(t)
	for _, f := range formats {
		t.Run(f.String(), func(t *testing.T) {
			testkit.Golden(t, "testdata/stories."+f.String(), mustSnapshot(t, p, "stories", f).Body)
		})
	}
}

// wantStories is what the "stories" feed must say, in order: the shown
// copy's link and source, the story's id, and the footer's sources.
var wantStories = []struct {
	id, link, source string
	also             []string // source titles
	alsoLinks        []string
}{
	{"urn:feedmill:epsilon:e-42", "https://delta.example.com/wire/42?utm_source=rss", "Delta Wire",
		[]string{"Zeta Times", "Epsilon Daily"}, []string{"https://zeta.example.org/harbour?a=1&b=2", "https://epsilon.example.net/p/42"}},
	{"urn:feedmill:epsilon:e-43", "https://zeta.example.org/budget", "Zeta Times",
		[]string{"Epsilon Daily"}, []string{"https://epsilon.example.net/p/43"}},
	{"urn:feedmill:epsilon:e-44", "https://epsilon.example.net/p/44", "Epsilon Daily", nil, nil},
	{"urn:feedmill:zeta:z-9", "https://zeta.example.org/weekly", "Zeta Times", nil, nil},
	{"https://delta.example.com/wire/50", "https://delta.example.com/wire/50", "Delta Wire", nil, nil},
	{"https://delta.example.com/wire/55", "https://delta.example.com/wire/55", "Delta Wire",
		[]string{"Epsilon Daily"}, []string{"https://delta.example.com/wire/55#comments"}},
	{"urn:feedmill:epsilon:e-45", "https://epsilon.example.net/p/45", "Epsilon Daily", nil, nil},
}

// footerOf returns the source titles and links of an item body's footer,
// or nil when it has none.
func footerOf(t *testing.T, body string) (titles, links []string) {
	t.Helper()
	_, footer, ok := strings.Cut(body, `<p class="feedmill-sources">Also in: `)
	if !ok {
		return nil, nil
	}
	if strings.Count(body, "feedmill-sources") != 1 || !strings.HasSuffix(footer, "</p>") {
		t.Errorf("footer not once at the end of %q", body)
	}
	for _, part := range strings.Split(strings.TrimSuffix(footer, "</p>"), ", ") {
		href, rest, ok := strings.Cut(strings.TrimPrefix(part, `<a href="`), `">`)
		if !ok {
			t.Errorf("footer entry %q has no link", part)
			continue
		}
		links = append(links, strings.ReplaceAll(href, "&amp;", "&"))
		titles = append(titles, strings.TrimSuffix(rest, "</a>"))
	}
	return titles, links
}

// TestStoriesParseBack reads the "stories" feed back as readers do and
// checks, in every format, the shown copy, the story id, the attribution
// and the footer.
func TestStoriesParseBack(t *testing.T) {
	p := rebuiltStories(t)
	for _, f := range formats {
		t.Run(f.String(), func(t *testing.T) {
			body := mustSnapshot(t, p, "stories", f).Body
			parsed, err := gofeed.NewParser().Parse(bytes.NewReader(body))
			if err != nil {
				t.Fatalf("gofeed: %v", err)
			}
			if len(parsed.Items) != len(wantStories) {
				t.Fatalf("%d items, want %d", len(parsed.Items), len(wantStories))
			}
			sources := storySourceTitles(t, f, body)
			for i, w := range wantStories {
				it := parsed.Items[i]
				if it.GUID != w.id || it.Link != w.link || sources[i] != w.source {
					t.Errorf("item %d = (%q, %q, %q), want (%q, %q, %q)", i, it.GUID, it.Link, sources[i], w.id, w.link, w.source)
				}
				// The footer ends the body a reader shows: content when
				// there is some, else the description / summary.
				shown := it.Content
				if shown == "" {
					shown = it.Description
				}
				titles, links := footerOf(t, shown)
				if !slices.Equal(titles, w.also) || !slices.Equal(links, w.alsoLinks) {
					t.Errorf("item %d footer = %q %q, want %q %q", i, titles, links, w.also, w.alsoLinks)
				}
				if w.also == nil && strings.Contains(it.Content+it.Description, "feedmill-sources") {
					t.Errorf("item %d: a single-copy story has a footer", i)
				}
			}
			// The wire copy is shown whole: its own title, author and
			// summary, epsilon's id.
			if it := parsed.Items[0]; it.Title != "Harbour bridge approved after long debate" ||
				len(it.Authors) != 1 || it.Authors[0].Name != "Wire Desk" {
				t.Errorf("item 0 = %q by %+v, want the wire copy", it.Title, it.Authors)
			}
			if f == JSON {
				checkJSONAlso(t, body)
			}
		})
	}
}

// storySourceTitles returns the attributed source title of every item,
// read with the format's own parser.
func storySourceTitles(t *testing.T, f Format, body []byte) []string {
	t.Helper()
	var out []string
	switch f {
	case RSS:
		doc, err := (&rss.Parser{}).Parse(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range doc.Items {
			out = append(out, it.Source.Title)
		}
	case Atom:
		doc, err := (&atom.Parser{}).Parse(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range doc.Entries {
			out = append(out, e.Source.Title)
		}
	case JSON:
		var doc struct {
			Items []struct {
				Ext struct {
					Source struct{ Title string } `json:"source"`
				} `json:"_feedmill"`
			} `json:"items"`
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatal(err)
		}
		for _, it := range doc.Items {
			out = append(out, it.Ext.Source.Title)
		}
	}
	return out
}

func checkJSONAlso(t *testing.T, body []byte) {
	t.Helper()
	type also struct {
		Name    string `json:"name"`
		Title   string `json:"title"`
		URL     string `json:"url"`
		Home    string `json:"home_page_url"`
		ItemURL string `json:"item_url"`
	}
	var doc struct {
		Items []struct {
			Ext map[string]json.RawMessage `json:"_feedmill"`
		} `json:"items"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	for i, w := range wantStories {
		raw, ok := doc.Items[i].Ext["also"]
		if w.also == nil {
			if ok {
				t.Errorf("json item %d has _feedmill.also: %s", i, raw)
			}
			continue
		}
		var got []also
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatalf("json item %d also: %v", i, err)
		}
		var titles, links []string
		for _, a := range got {
			titles = append(titles, a.Title)
			links = append(links, a.ItemURL)
		}
		if !slices.Equal(titles, w.also) || !slices.Equal(links, w.alsoLinks) {
			t.Errorf("json item %d also = %+v", i, got)
		}
	}
	var first []also
	if err := json.Unmarshal(doc.Items[0].Ext["also"], &first); err != nil {
		t.Fatal(err)
	}
	want := []also{
		{Name: "zeta", Title: "Zeta Times", URL: "https://zeta.example.org/rss", ItemURL: "https://zeta.example.org/harbour?a=1&b=2"},
		{Name: "epsilon", Title: "Epsilon Daily", URL: "https://epsilon.example.net/feed", Home: "https://epsilon.example.net/", ItemURL: "https://epsilon.example.net/p/42"},
	}
	if !slices.Equal(first, want) {
		t.Errorf("json item 0 also = %+v, want %+v", first, want)
	}
}

// TestStoriesDeterministic: the bytes, hence the ETag, of a feed with
// merged stories depend on the items only, not on the order a store
// returns them in.
func TestStoriesDeterministic(t *testing.T) {
	items := storyItems()
	rev := slices.Clone(items)
	slices.Reverse(rev)
	var etags []string
	for _, its := range [][]feed.Item{items, rev} {
		p := storyPublisher(t, its)
		if err := p.Rebuild(t.Context()); err != nil {
			t.Fatal(err)
		}
		for _, f := range formats {
			etags = append(etags, mustSnapshot(t, p, "stories", f).ETag)
		}
	}
	if !slices.Equal(etags[:3], etags[3:]) {
		t.Errorf("ETags depend on the store's order: %q", etags)
	}
}

// TestStoryChangeMovesFeedDate: a copy arriving later changes the feed (its
// footer) without an item date saying so; the feed's date, hence its
// Last-Modified, moves to when the copy was first seen, while the entry's own
// updated date stays.
func TestStoryChangeMovesFeedDate(t *testing.T) {
	st := &memStore{items: storyItems(), states: storyStates()}
	p := New(Options{BaseURL: testBase}, storySpecs(), storySources(), st)
	if err := p.Rebuild(t.Context()); err != nil {
		t.Fatal(err)
	}
	before := mustSnapshot(t, p, "stories", Atom)
	if !before.LastModified.Equal(t0) {
		t.Errorf("LastModified = %v, want %v (zeta's copy arrived last)", before.LastModified, t0)
	}
	later := t0.Add(5 * time.Hour)
	st.set(append(storyItems(), feed.Item{
		Source: "zeta", ID: "z-50", Link: "https://zeta.example.org/storm",
		Title: "Storm closes schools across the region", Published: t0.Add(-4 * time.Hour), FirstSeen: later,
	}))
	if err := p.Rebuild(t.Context()); err != nil {
		t.Fatal(err)
	}
	after := mustSnapshot(t, p, "stories", Atom)
	if after.ETag == before.ETag || !after.LastModified.Equal(later) {
		t.Errorf("after a new copy: ETag %s -> %s, LastModified %v, want a new ETag and %v", before.ETag, after.ETag, after.LastModified, later)
	}
	doc, err := (&atom.Parser{}).Parse(bytes.NewReader(after.Body))
	if err != nil {
		t.Fatal(err)
	}
	if e := doc.Entries[4]; e.ID != "https://delta.example.com/wire/50" || !strings.Contains(e.Content.Value, "Zeta Times") ||
		e.UpdatedParsed == nil || !e.UpdatedParsed.Equal(t0.Add(-4*time.Hour)) {
		t.Errorf("storm entry = %s updated %v content %q", e.ID, e.UpdatedParsed, e.Content.Value)
	}
	if n := len(doc.Entries); n != len(wantStories) {
		t.Errorf("%d entries, want %d: the new copy joined its story", n, len(wantStories))
	}
}
