package boilerplate

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/feedmill/feedmill/internal/feed"
)

// synth makes n items, newest first, each with a story paragraph of its own
// followed by extra(i).
func synth(n int, extra func(i int) string) []feed.Item {
	items := make([]feed.Item, n)
	for i := range items {
		link := fmt.Sprintf("https://synth.example/story/%d", i)
		items[i] = feed.Item{
			Source:     "synth",
			ID:         link,
			Link:       link,
			RawContent: fmt.Sprintf("<p>Story number %d, told in its own words.</p>\n%s", i, extra(i)),
		}
	}
	return items
}

func TestThreshold(t *testing.T) {
	for _, tc := range []struct{ n, want int }{
		{0, 0}, {1, 0}, {2, 0},
		{3, 2}, {4, 3},
		{5, 3}, {6, 3}, {10, 3},
		{11, 4}, {20, 6}, {50, 15}, {99, 30}, {100, 30},
	} {
		if got := threshold(tc.n); got != tc.want {
			t.Errorf("threshold(%d) = %d, want %d", tc.n, got, tc.want)
		}
	}
}

// TestRecurrence pins when a block recurs often enough to be furniture: n
// articles, the block in the first k of them.
func TestRecurrence(t *testing.T) {
	const appeal = `<p>Dear readers, please support us monthly.</p>`
	for _, tc := range []struct {
		name    string
		n, k    int
		block   string
		removed bool
	}{
		{"3 articles, in all", 3, 3, appeal, true},
		{"3 articles, in 2", 3, 2, appeal, true},
		{"3 articles, one word in 1", 3, 1, `<p>Advertisement</p>`, false},
		{"4 articles, in 2", 4, 2, appeal, false},
		{"4 articles, in 3", 4, 3, appeal, true},
		{"5 articles, a quote shared by 2", 5, 2, `<p>“We were told this was a lifeline,” she said.</p>`, false},
		{"5 articles, in 3", 5, 3, appeal, true},
		{"10 articles, in 2", 10, 2, appeal, false},
		{"10 articles, in 3", 10, 3, appeal, true},
		{"100 articles, newsletter box in 40", 100, 40, `<p>Get our newsletter.</p>`, true},
		{"100 articles, in 30", 100, 30, appeal, true},
		{"100 articles, in 29", 100, 29, appeal, false},
		{"100 articles, one word in 1", 100, 1, `<p>Share</p>`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			items := synth(tc.n, func(i int) string {
				if i < tc.k {
					return tc.block
				}
				return ""
			})
			m := Learn(items)
			out, removals := m.Clean(items[0].RawContent)
			if removed := !strings.Contains(out, tc.block); removed != tc.removed {
				t.Errorf("removed = %v, want %v (removals %v)", removed, tc.removed, removals)
			}
			if !strings.Contains(out, "Story number 0") {
				t.Errorf("story removed: %q", out)
			}
		})
	}
}

// TestNeverOnOneArticle pins that a block seen in one article is never
// furniture, whatever the size of the window.
func TestNeverOnOneArticle(t *testing.T) {
	for _, n := range []int{3, 4, 5, 7, 10, 50, Window} {
		items := synth(n, func(i int) string {
			if i == n/2 {
				return "<p>Ad</p>"
			}
			return "<p>Support us</p>"
		})
		m := Learn(items)
		if out, _ := m.Clean(items[n/2].RawContent); !strings.Contains(out, "<p>Ad</p>") {
			t.Errorf("%d articles: a block of one article was removed: %q", n, out)
		}
	}
}

// structureModel knows, as furniture, the blocks of a small site.
func structureModel(t *testing.T) *Model {
	t.Helper()
	m := Learn(synth(3, func(int) string {
		return `<h3>Read more</h3>
<p>Advertisement</p>
<div><h3>Newsletter</h3><p>Get our newsletter.</p><p><a href="https://x.example/n">Sign up</a></p></div>
<figure><figcaption>Photo: Staff</figcaption></figure>
<div><p>x</p>Subscribe <a href="https://x.example/s">now</a></div>`
	}))
	if m.Key() == "" {
		t.Fatal("nothing learned")
	}
	return m
}

// TestStructure pins what goes with a furniture block and what stays.
func TestStructure(t *testing.T) {
	m := structureModel(t)
	for _, tc := range []struct{ name, in, want string }{
		{
			"an interleaved box goes whole, the paragraphs around it stay",
			"<p>One.</p>\n<div><h3>Newsletter</h3><p>Get our newsletter.</p><p><a href=\"https://x.example/n\">Sign up</a></p></div>\n<p>Two.</p>",
			"<p>One.</p>\n<p>Two.</p>",
		},
		{
			"a heading takes the link paragraphs under it, not the story after them",
			`<p>One.</p><h3>Read more</h3><p><a href="https://x.example/a">A</a></p><p><a href="https://x.example/b">B</a></p><p>Two.</p>`,
			`<p>One.</p><p>Two.</p>`,
		},
		{
			"a heading takes its list; a link paragraph after the list is the story",
			`<h3>Read more</h3><ul><li><a href="https://x.example/a">A</a></li></ul><p><a href="https://x.example/doc">The report</a></p><p>One.</p>`,
			`<p><a href="https://x.example/doc">The report</a></p><p>One.</p>`,
		},
		{
			"a heading in a box takes the box",
			`<p>One.</p><aside><h3>Read more</h3><ul><li><a href="https://x.example/a"><img src="https://x.example/a.jpg" alt="">A</a></li></ul></aside>`,
			`<p>One.</p>`,
		},
		{
			"other furniture takes a list of links",
			`<p>One.</p><p>Advertisement</p><ul><li><a href="https://x.example/a">A</a></li></ul><p>Two.</p>`,
			`<p>One.</p><p>Two.</p>`,
		},
		{
			"other furniture does not take a link paragraph",
			`<p>One.</p><p>Advertisement</p><p><a href="https://x.example/v">Watch the video</a></p>`,
			`<p>One.</p><p><a href="https://x.example/v">Watch the video</a></p>`,
		},
		{
			"a list with text outside its links stays",
			`<h3>Read more</h3><ul><li>A plain point of the story</li></ul><p>One.</p>`,
			`<ul><li>A plain point of the story</li></ul><p>One.</p>`,
		},
		{
			"a list with an image outside its links stays",
			`<h3>Read more</h3><ul><li><img src="https://x.example/chart.png" alt=""><a href="https://x.example/a">A</a></li></ul><p>One.</p>`,
			`<ul><li><img src="https://x.example/chart.png" alt=""/><a href="https://x.example/a">A</a></li></ul><p>One.</p>`,
		},
		{
			"a figure keeps its image when its credit goes",
			`<figure><img src="https://x.example/i.jpg" alt="A pier"><figcaption>Photo: Staff</figcaption></figure><p>One.</p>`,
			`<figure><img src="https://x.example/i.jpg" alt="A pier"/></figure><p>One.</p>`,
		},
		{
			"emptied boxes go, boxes empty before stay",
			`<div><section><p>Advertisement</p></section></div><p></p><p>One.</p>`,
			`<p></p><p>One.</p>`,
		},
		{
			"inline text beside blocks is a block",
			`<div><p>One.</p>Subscribe <a href="https://x.example/s">now</a></div>`,
			`<div><p>One.</p></div>`,
		},
		{
			"case and whitespace do not matter",
			"<p>  ADVERTISEMENT\u00a0\n</p><p>One.</p>",
			`<p>One.</p>`,
		},
		{
			"furniture words inside a story paragraph stay",
			`<p>Advertisement revenue fell by a third.</p><p>Sign up</p>`,
			`<p>Advertisement revenue fell by a third.</p>`,
		},
		{
			"a link around blocks is a box",
			`<a href="https://x.example/c"><div>Advertisement</div></a><p>One.</p>`,
			`<p>One.</p>`,
		},
		{
			"a table is one block",
			`<table><tbody><tr><td>Advertisement</td><td>7</td></tr></tbody></table><p>Sign up</p>`,
			`<table><tbody><tr><td>Advertisement</td><td>7</td></tr></tbody></table>`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, removals := m.Clean(tc.in)
			if got != tc.want {
				t.Errorf("Clean:\n got %s\nwant %s\nremovals %v", got, tc.want, removals)
			}
			if (got == tc.in) != (removals == nil) {
				t.Errorf("removals %v for output %q", removals, got)
			}
		})
	}
}

// TestUnchanged pins that a fragment with nothing to remove comes back
// byte for byte, however it is written, so that stored items do not churn.
func TestUnchanged(t *testing.T) {
	articles, _ := loadSite(t, "northwind")
	models := map[string]*Model{
		"nil":          nil,
		"empty":        Learn(nil),
		"no furniture": Learn(synth(5, func(int) string { return "" })),
		"northwind":    Learn(siteItems("northwind", articles)),
	}
	for _, in := range []string{
		``,
		"  \n",
		`plain text & more`,
		`<P CLASS=lead>Story<BR>line</P>`,
		`<p>unclosed <b>bold`,
		`<p>It&#39;s &quot;quoted&quot; &amp; escaped</p>`,
		`<p>Enjoying ad-free content? Not a block of its own here: the banner, quoted.</p>`,
		articles[0].story[1],
	} {
		for name, m := range models {
			if got, removals := m.Clean(in); got != in || removals != nil {
				t.Errorf("%s model: Clean(%q) = %q, %v; want it unchanged", name, in, got, removals)
			}
		}
	}
}

// TestNeverEmpty pins that Clean leaves an article that is all furniture
// as it is.
func TestNeverEmpty(t *testing.T) {
	m := structureModel(t)
	for _, in := range []string{
		`<p>Advertisement</p><h3>Read more</h3><ul><li><a href="https://x.example/a">A</a></li></ul>`,
		`<p><img src="https://x.example/i.jpg" alt=""></p><p>Advertisement</p>`,
		`<figure><figcaption>Photo: Staff</figcaption></figure>`,
	} {
		if got, removals := m.Clean(in); got != in || removals != nil {
			t.Errorf("Clean(%q) = %q, %v; want it unchanged", in, got, removals)
		}
	}
}

// TestTextBuilder pins how text is compared: whitespace of any kind
// collapsed, zero-width spaces dropped, case folded for signatures only.
func TestTextBuilder(t *testing.T) {
	for _, tc := range []struct{ in, display, sig string }{
		{"", "", ""},
		{"   \n\t ", "", ""},
		{"Plain words, one space.", "Plain words, one space.", "plain words, one space."},
		{"  Lead\tand\r\ntrail  ", "Lead and trail", "lead and trail"},
		{"a \u00a0 b\u2003c", "a b c", "a b c"},
		{"Zero\u200bwidth\ufeff", "Zerowidth", "zerowidth"},
		{"ÉTÉ À PARIS", "ÉTÉ À PARIS", "été à paris"},
		{"x  y", "x y", "x y"},
	} {
		for _, lower := range []bool{false, true} {
			b := textBuilder{lower: lower}
			// Written in pieces, as text nodes come.
			for piece := range strings.SplitSeq(tc.in, "|") {
				b.WriteString(piece)
			}
			want := tc.display
			if lower {
				want = tc.sig
			}
			if got := string(b.b); got != want {
				t.Errorf("textBuilder{lower: %v}(%q) = %q, want %q", lower, tc.in, got, want)
			}
		}
	}
	b := textBuilder{}
	b.WriteString("one ")
	b.WriteString(" two")
	if got := string(b.b); got != "one two" {
		t.Errorf("across writes: %q, want %q", got, "one two")
	}
}

func TestFoldYears(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"© 2025 example news", "© yyyy example news"},
		{"copyright 1998-2025", "copyright yyyy-yyyy"},
		{"since 1899", "since 1899"},
		{"20250 tonnes, 12025, 2100", "20250 tonnes, 12025, 2100"},
		{"in2024.", "inyyyy."},
		{"no digits", "no digits"},
		{"", ""},
	} {
		b := []byte(tc.in)
		foldYears(b)
		if got := string(b); got != tc.want {
			t.Errorf("foldYears(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestYears pins that a credit line recurs across a change of year, and that
// a line recurring with other numbers is not furniture.
func TestYears(t *testing.T) {
	items := synth(3, func(i int) string {
		return fmt.Sprintf("<p>© %d Example News</p><p>Closed at 8,%d23 points.</p>", 2024+i, i)
	})
	m := Learn(items)
	out, _ := m.Clean(items[0].RawContent)
	if strings.Contains(out, "Example News") {
		t.Errorf("credit line kept: %q", out)
	}
	if !strings.Contains(out, "Closed at 8,023 points.") {
		t.Errorf("numbers folded: %q", out)
	}
}

// TestKey pins what the fingerprint of the furniture depends on.
func TestKey(t *testing.T) {
	furniture := func(blocks ...string) func(int) string {
		return func(int) string { return strings.Join(blocks, "\n") }
	}
	base := synth(4, furniture("<p>Support us</p>", "<p>Sign up</p>"))
	key := Learn(base).Key()
	if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(key) {
		t.Fatalf("Key() = %q, want 16 hex digits", key)
	}
	reversed := slices.Clone(base)
	slices.Reverse(reversed)
	for _, tc := range []struct {
		name  string
		items []feed.Item
		same  bool
	}{
		{"learned again", base, true},
		{"in another order", reversed, true},
		{"from more articles", synth(7, furniture("<p>Support us</p>", "<p>Sign up</p>")), true},
		{"written otherwise", synth(3, furniture("<p>SUPPORT  us</p>", "<div>Sign up</div>")), true},
		{"a block more", synth(4, furniture("<p>Support us</p>", "<p>Sign up</p>", "<p>Read more</p>")), false},
		{"a block less", synth(4, furniture("<p>Support us</p>")), false},
		{"another block", synth(4, furniture("<p>Support us</p>", "<p>Sign in</p>")), false},
	} {
		got := Learn(tc.items).Key()
		if (got == key) != tc.same {
			t.Errorf("%s: Key() = %q, base %q, want same = %v", tc.name, got, key, tc.same)
		}
	}
	for _, tc := range []struct {
		name  string
		items []feed.Item
	}{
		{"no items", nil},
		{"two articles", synth(2, furniture("<p>Support us</p>"))},
		{"nothing recurs", synth(10, furniture())},
	} {
		if got := Learn(tc.items).Key(); got != "" {
			t.Errorf("%s: Key() = %q, want empty", tc.name, got)
		}
	}
}

// TestWindow pins that only the first Window items are learned from.
func TestWindow(t *testing.T) {
	items := synth(2*Window, func(i int) string {
		if i >= Window {
			return "<p>Support us</p>"
		}
		return ""
	})
	m := Learn(items)
	if m.Articles() != Window {
		t.Errorf("Articles() = %d, want %d", m.Articles(), Window)
	}
	if m.Key() != "" {
		t.Errorf("learned from items beyond the window: Key() = %q", m.Key())
	}
	slices.Reverse(items)
	if Learn(items).Key() == "" {
		t.Error("learned nothing from a window full of furniture")
	}
}

// TestArticlesCountOnce pins that an article given twice counts once,
// however it was repeated, so that its own paragraphs do not look recurring.
func TestArticlesCountOnce(t *testing.T) {
	one := feed.Item{Source: "s", ID: "1", Link: "https://s.example/1", RawContent: "<p>The story.</p><p>Support us</p>"}
	renamed := func(id, link string) feed.Item {
		it := one
		it.ID, it.Link = id, link
		return it
	}
	for _, tc := range []struct {
		name  string
		items []feed.Item
	}{
		{"same item", []feed.Item{one, one, one}},
		{"same link, other ids", []feed.Item{one, renamed("2", one.Link), renamed("3", one.Link)}},
		{"same content, other ids and links", []feed.Item{one, renamed("2", "https://s.example/2"), renamed("3", "")}},
	} {
		m := Learn(tc.items)
		if m.Articles() != 1 || m.Key() != "" {
			t.Errorf("%s: Articles() = %d, Key() = %q; want 1 and empty", tc.name, m.Articles(), m.Key())
		}
	}
	empty := feed.Item{Source: "s", ID: "e", RawContent: "<p> </p>", RawSummary: "<br>"}
	if got := Learn([]feed.Item{one, empty}).Articles(); got != 1 {
		t.Errorf("an item without text counted: Articles() = %d", got)
	}
}

// TestFields pins what Learn reads of an item: RawContent and RawSummary,
// falling back to Content and Summary, and each article once across both.
func TestFields(t *testing.T) {
	items := []feed.Item{
		{ID: "0", RawContent: "<p>Zero.</p><p>Y</p><p>Raw</p>", Content: "<p>Zero.</p><p>Cooked</p>", RawSummary: "<p>Y</p><p>Z</p>"},
		{ID: "1", Content: "<p>One.</p><p>Z</p><p>Cooked</p>"},
		{ID: "2", RawContent: "<p>Two.</p><p>Raw</p>", Content: "<p>Two.</p><p>Cooked</p>", Summary: "<p>W</p>"},
		{ID: "3", Summary: "<p>Three.</p><p>W</p>"},
	}
	m := Learn(items)
	if m.Articles() != 4 {
		t.Fatalf("Articles() = %d, want 4", m.Articles())
	}
	for block, furniture := range map[string]bool{
		"<p>Y</p>":      false, // twice in one article
		"<p>Z</p>":      false, // a summary and a content, two of four
		"<p>W</p>":      false, // summaries, two of four
		"<p>Raw</p>":    false, // two of four
		"<p>Cooked</p>": false, // two of four, Content only read when RawContent is empty
	} {
		if _, removed := m.Clean(block + "<p>Story.</p>"); (removed != nil) != furniture {
			t.Errorf("%s: removals %v, want furniture = %v", block, removed, furniture)
		}
	}
	// One more article with Raw, Z and W makes three of five for each.
	items = append(items, feed.Item{ID: "4", RawContent: "<p>Four.</p><p>Raw</p><p>Z</p>", RawSummary: "<p>W</p>"})
	m = Learn(items)
	for block, furniture := range map[string]bool{
		"<p>Y</p>": false, "<p>Z</p>": true, "<p>W</p>": true, "<p>Raw</p>": true, "<p>Cooked</p>": false,
	} {
		_, removed := m.Clean(block + "<p>Story.</p>")
		if (removed != nil) != furniture {
			t.Errorf("five articles: %s: removals %v, want furniture = %v", block, removed, furniture)
		}
	}
}

func TestRemovalString(t *testing.T) {
	for _, tc := range []struct {
		r    Removal
		want string
	}{
		{Removal{Tag: "p", Text: "Dear readers, …", Seen: 5, Of: 6}, `<p> "Dear readers, …" seen in 5 of 6 recent articles`},
		{Removal{Text: "Once Monthly Annual", Seen: 3, Of: 3}, `text "Once Monthly Annual" seen in 3 of 3 recent articles`},
		{Removal{Tag: "ul", Text: "Story A Story B", Seen: 40, Of: 100, Under: "Read more"}, `<ul> "Story A Story B": links under "Read more", seen in 40 of 100 recent articles`},
	} {
		if got := tc.r.String(); got != tc.want {
			t.Errorf("String() = %s\n           want %s", got, tc.want)
		}
	}
}

// TestRemovals pins what Clean reports: the blocks in document order, with
// their counts, and long text cut.
func TestRemovals(t *testing.T) {
	m := structureModel(t)
	long := strings.Repeat("word ", 30)
	_, removals := m.Clean(`<p>One.</p><p>Advertisement</p><h3>Read more</h3><ul><li><a href="https://x.example/a">` + long + `</a></li></ul><p><img src="https://x.example/i.jpg" alt=""></p>`)
	want := []Removal{
		{Tag: "p", Text: "Advertisement", Seen: 3, Of: 3},
		{Tag: "h3", Text: "Read more", Seen: 3, Of: 3},
		{Tag: "ul", Text: strings.TrimSpace(strings.Repeat("word ", 16)) + "…", Seen: 3, Of: 3, Under: "Read more"},
	}
	if !slices.Equal(removals, want) {
		t.Errorf("removals:\n got %v\nwant %v", removals, want)
	}
	if got := m.Articles(); got != 3 {
		t.Errorf("Articles() = %d, want 3", got)
	}
}

// TestNilModel pins that the nil model knows nothing and changes nothing.
func TestNilModel(t *testing.T) {
	var m *Model
	if m.Key() != "" || m.Articles() != 0 {
		t.Errorf("nil model: Key() = %q, Articles() = %d", m.Key(), m.Articles())
	}
	if out, removals := m.Clean("<p>x</p>"); out != "<p>x</p>" || removals != nil {
		t.Errorf("nil model changed the input: %q, %v", out, removals)
	}
}

// TestConcurrentClean runs Clean from several goroutines on one model (run
// with -race).
func TestConcurrentClean(t *testing.T) {
	articles, _ := loadSite(t, "northwind")
	m := Learn(siteItems("northwind", articles))
	want := make([]string, len(articles))
	for i, a := range articles {
		want[i], _ = m.Clean(a.html)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for i, a := range articles {
				if got, _ := m.Clean(a.html); got != want[i] {
					t.Errorf("article %s cleaned differently", a.name)
				}
			}
		})
	}
	wg.Wait()
}

// TestLargeFragment cleans a fragment of many thousands of blocks: every
// furniture block goes, the story stays, and nothing in Clean is quadratic
// enough to make this slow.
func TestLargeFragment(t *testing.T) {
	m := Learn(synth(3, func(int) string { return "<h3>Read more</h3><p>Ad</p>" }))
	const n = 4000
	in := "<div>" + strings.Repeat("<p>Ad</p><h3>Read more</h3>", n) + "<p>The story.</p>" + strings.Repeat("<div><span></span></div>", n) + "</div>" +
		// x/net/html refuses nesting deeper than 512 elements, and so
		// does normalize before content ever gets here: stay below.
		strings.Repeat("<div>", 400) + "<p>Ad</p>" + strings.Repeat("</div>", 400)
	out, removals := m.Clean(in)
	if len(removals) != 2*n+1 {
		t.Errorf("%d removals, want %d", len(removals), 2*n+1)
	}
	if strings.Contains(out, "Ad") || strings.Contains(out, "Read more") || !strings.Contains(out, "<p>The story.</p>") {
		t.Errorf("cleaned wrongly: %.200s", out)
	}
}

// TestSamePage pins that the unit of evidence is the article page: two
// items of one page, told apart only by their links' tracking parameters,
// fragment or scheme, or sharing their rel=canonical, are one witness. A
// paragraph they share is then in one article of two, not in two of three,
// and is not furniture; in two distinct pages out of three it would be.
func TestSamePage(t *testing.T) {
	const shared = `<p>The harbour board met on Tuesday night.</p>`
	item := func(id, link, canonical, summary string) feed.Item {
		return feed.Item{
			Source: "s", ID: id, Link: link, Canonical: canonical,
			RawContent: "<p>Story " + id + " in its own words.</p>" + shared,
			RawSummary: "<p>" + summary + "</p>",
		}
	}
	other := feed.Item{Source: "s", ID: "z", Link: "https://s.example/z", Canonical: "https://s.example/z", RawContent: "<p>Another story altogether.</p>"}
	for _, tc := range []struct {
		name     string
		a, b     feed.Item
		samePage bool
	}{
		{
			"tracking parameters",
			item("1", "https://s.example/a?utm_source=rss", "https://s.example/a", "Teaser one."),
			item("2", "https://s.example/a?utm_medium=social&utm_campaign=x", "https://s.example/a", "Teaser two."),
			true,
		},
		{
			"fragment",
			item("1", "https://s.example/a", "https://s.example/a", "Teaser one."),
			item("2", "https://s.example/a#comments", "https://s.example/a", "Teaser two."),
			true,
		},
		{
			"http and https",
			item("1", "http://S.example:80/a", "http://s.example/a", "Teaser one."),
			item("2", "https://s.example/a", "https://s.example/a", "Teaser two."),
			true,
		},
		{
			"the same rel=canonical",
			item("1", "https://s.example/?p=118", "https://s.example/2026/harbour-board", "Teaser one."),
			item("2", "https://s.example/news/118", "https://s.example/2026/harbour-board", "Teaser two."),
			true,
		},
		{
			"no canonical, the same link",
			item("1", "https://s.example/a#top", "", "Teaser one."),
			item("2", "https://s.example/a", "", "Teaser two."),
			true,
		},
		{
			"two pages",
			item("1", "https://s.example/a", "https://s.example/a", "Teaser one."),
			item("2", "https://s.example/b", "https://s.example/b", "Teaser two."),
			false,
		},
		{
			// A rel=canonical pointing home on every article names no
			// page: were it believed, the whole site would be one page.
			"two pages, both with the front page as canonical",
			item("1", "https://s.example/a", "https://s.example/", "Teaser one."),
			item("2", "https://s.example/b", "https://s.example/", "Teaser two."),
			false,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := Learn([]feed.Item{tc.a, tc.b, other})
			wantArticles := 3
			if tc.samePage {
				wantArticles = 2
			}
			if m.Articles() != wantArticles {
				t.Errorf("Articles() = %d, want %d", m.Articles(), wantArticles)
			}
			out, removals := m.Clean(tc.a.RawContent)
			if removed := !strings.Contains(out, shared); removed == tc.samePage {
				t.Errorf("shared paragraph removed = %v, want %v (removals %v)", removed, !tc.samePage, removals)
			}
		})
	}
}

// TestSamePageWindow pins that a page's items count as one article with
// the blocks of all of them, and that merging pages leaves the learning of
// real furniture alone: a box in every page is furniture however many
// items each page has.
func TestSamePageWindow(t *testing.T) {
	var items []feed.Item
	for i := range 5 {
		link := fmt.Sprintf("https://s.example/%d", i)
		for j, suffix := range []string{"", "?utm_source=a", "#c"} {
			items = append(items, feed.Item{
				Source: "s", ID: fmt.Sprintf("%d-%d", i, j), Link: link + suffix, Canonical: link,
				RawContent: fmt.Sprintf("<p>Story %d.</p><p>Story %d goes on.</p><p>Support us</p>", i, i),
				RawSummary: fmt.Sprintf("<p>Teaser %d.%d</p>", i, j),
			})
		}
	}
	m := Learn(items)
	if m.Articles() != 5 {
		t.Errorf("Articles() = %d, want 5", m.Articles())
	}
	out, removals := m.Clean(items[0].RawContent)
	if want := "<p>Story 0.</p><p>Story 0 goes on.</p>"; out != want {
		t.Errorf("Clean = %q, want %q (removals %v)", out, want, removals)
	}
	if len(removals) != 1 || removals[0].Seen != 5 || removals[0].Of != 5 {
		t.Errorf("removals %v, want Support us seen in 5 of 5", removals)
	}
}

func TestPageKey(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://S.Example/a/b?x=1#frag", "s.example/a/b?x=1"},
		{"http://s.example:80/a", "s.example/a"},
		{"https://s.example:443", "s.example/"},
		{"https://s.example:8443/a", "s.example:8443/a"},
		{"  https://s.example/a  ", "s.example/a"},
		{"/relative", ""},
		{"mailto:x@s.example", ""},
		{"ftp://s.example/a", ""},
		{"", ""},
		{"https://[::1", ""},
	} {
		if got := pageKey(tc.in); got != tc.want {
			t.Errorf("pageKey(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestMediaBlocks pins when a block without text (an image, a row of
// icons, a player) is furniture: only when it is the site's chrome, in
// nearly all recent articles and either looking like chrome or recurring
// beside furniture text. A picture a blog reuses stays.
func TestMediaBlocks(t *testing.T) {
	const (
		sketch = `<p><img src="https://synth.example/uploads/2025/fern-sketch.jpg" alt="A fern, drawn by the author"></p>`
		logo   = `<p><a href="https://synth.example/"><img src="https://synth.example/images/site-logo.svg" alt="Synth Weekly"></a></p>`
		credit = `<figcaption>Photo: Staff</figcaption>`
	)
	in := func(k int, block string) func(int) string {
		return func(i int) string {
			if i < k {
				return block
			}
			return ""
		}
	}
	photo := func(i int) string {
		return fmt.Sprintf(`<figure><img src="https://synth.example/media/2025/photo-%d.jpg" alt="Photo %d">%s</figure>`, i, i, credit)
	}
	for _, tc := range []struct {
		name       string
		n          int
		extra      func(i int) string
		gone, kept []string // in the cleaned first article
	}{
		{"a blog reusing a picture in 4 of 10 posts", 10, in(4, sketch), nil, []string{"fern-sketch.jpg"}},
		{"a blog reusing a picture in 7 of 20 posts", 20, in(7, sketch), nil, []string{"fern-sketch.jpg"}},
		{"a small blog with one picture in every post", 5, in(5, sketch), nil, []string{"fern-sketch.jpg"}},
		{"a picture in 17 of 20 posts", 20, in(17, sketch), nil, []string{"fern-sketch.jpg"}},
		{
			"a series banner in every post of the series",
			20, in(6, `<p><img src="https://synth.example/uploads/coast-walk-banner.jpg" alt="Walking the coast, a series"></p>`),
			nil, []string{"coast-walk-banner.jpg"},
		},
		{"the site's logo in every article", 20, in(20, logo), []string{"site-logo.svg"}, nil},
		{"the site's logo in 16 of 20", 20, in(16, logo), []string{"site-logo.svg"}, nil},
		{"the site's logo in 15 of 20", 20, in(15, logo), nil, []string{"site-logo.svg"}},
		{
			"a masthead named by its alt text",
			10, in(10, `<p><img src="https://synth.example/media/a1b2c3.png" alt="Synth Weekly masthead"></p>`),
			[]string{"a1b2c3.png"}, nil,
		},
		{
			"a tracking pixel",
			10, in(10, `<p><img src="https://synth.example/t.gif?site=7" width="1" height="1" alt=""></p>`),
			[]string{"t.gif"}, nil,
		},
		{
			"a sprite in the template's folder",
			10, in(10, `<div><img src="https://synth.example/static/img/share.png" alt=""></div>`),
			[]string{"share.png"}, nil,
		},
		{
			"an icon by its declared size",
			10, in(10, `<p><img src="https://synth.example/u/9f8e.png" width="24" height="24" alt=""></p>`),
			[]string{"9f8e.png"}, nil,
		},
		{
			"a logo in a picture element",
			10, in(10, `<picture><source srcset="https://synth.example/img/logo.webp"><img src="https://synth.example/img/logo.png" alt=""></picture>`),
			[]string{"logo.png"}, nil,
		},
		{
			"a row of icons",
			10, in(10, `<div><a href="https://f.example/s"><img src="https://synth.example/icons/f.svg" alt=""></a> <a href="https://x.example/s"><img src="https://synth.example/icons/x.svg" alt=""></a></div>`),
			[]string{"f.svg", "x.svg"}, nil,
		},
		{
			"a photo beside an icon",
			10, in(10, `<p><img src="https://synth.example/media/quay.jpg" alt="The quay"><img src="https://synth.example/icons/x.svg" alt=""></p>`),
			nil, []string{"quay.jpg", "x.svg"},
		},
		{
			// The same photo under the same credit in nearly every
			// article is the site's stock header: both go.
			"a photo and its credit in every article",
			10, in(10, `<figure><img src="https://synth.example/media/2024/harbour-front.jpg" alt="The harbour front">`+credit+`</figure>`),
			[]string{"harbour-front.jpg", "Photo: Staff"}, nil,
		},
		{
			// The credit is under every article's photo: it goes. The
			// photo reused in a few articles is a real photo: it stays.
			"a credit line under a photo reused in 4 of 10",
			10, func(i int) string {
				if i < 4 {
					return `<figure><img src="https://synth.example/media/2024/harbour-front.jpg" alt="The harbour front">` + credit + `</figure>`
				}
				return photo(i)
			},
			[]string{"Photo: Staff"}, []string{"harbour-front.jpg"},
		},
		{
			"a credit line under a photo reused in 7 of 10",
			10, in(7, `<figure><img src="https://synth.example/media/2024/harbour-front.jpg" alt="The harbour front">`+credit+`</figure>`),
			[]string{"Photo: Staff"}, []string{"harbour-front.jpg"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			items := synth(tc.n, tc.extra)
			m := Learn(items)
			out, removals := m.Clean(items[0].RawContent)
			for _, s := range tc.gone {
				if strings.Contains(out, s) {
					t.Errorf("%s kept: %q (removals %v)", s, out, removals)
				}
			}
			for _, s := range tc.kept {
				if !strings.Contains(out, s) {
					t.Errorf("%s removed (removals %v)", s, removals)
				}
			}
			if !strings.Contains(out, "Story number 0") {
				t.Errorf("story removed: %q", out)
			}
		})
	}
}

func TestChromeText(t *testing.T) {
	for s, want := range map[string]bool{
		"Site logo": true, "logos": true, "favicon": true, "sitelogo": true,
		"top-banner": true, "Share buttons": true, "user avatar": true,
		"A fern, drawn by the author": false, "The harbour front": false, "": false,
	} {
		if got := chromeText(s); got != want {
			t.Errorf("chromeText(%q) = %v, want %v", s, got, want)
		}
	}
	for u, want := range map[string]bool{
		"https://x.example/static/strip.png":            true,
		"https://x.example/wp-content/themes/a/bg.png":  true,
		"https://x.example/img/Logo-Dark.svg":           true,
		"https://static.example/media/2025/quay.jpg":    false, // the host is not read
		"https://icons.example/uploads/2025/quay.jpg":   false,
		"https://x.example/media/static.jpg":            false, // a file, not a folder
		"https://x.example/media/2025/quay.jpg 2x":      false,
		"https://x.example/media/2025/quay.jpg?v=pixel": true,
	} {
		if got := chromeURL(u); got != want {
			t.Errorf("chromeURL(%q) = %v, want %v", u, got, want)
		}
	}
}
