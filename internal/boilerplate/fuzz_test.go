package boilerplate

import (
	"fmt"
	"strings"
	"testing"

	"github.com/feedmill/feedmill/internal/normalize"

	"golang.org/x/net/html"

	"github.com/feedmill/feedmill/internal/feed"
)

// FuzzClean cleans arbitrary fragments, with a model learned from a fixture
// site and with one learned from the fragment itself (which makes all of it
// furniture). Clean must never panic, must return its input when it removes
// nothing, and must otherwise return a fragment that still has text, is
// shorter than the input as x/net/html renders it (it only removes nodes)
// and, when it parses back to itself, has nothing more to remove.
// (For sanitized input, which is rendered that way already, that is the
// input's own length; for arbitrary bytes, rendering alone can lengthen
// them, closing tags and escaping text.)
//
//	go test -run '^$' -fuzz=FuzzClean -fuzztime=1m -fuzzminimizetime=5s ./internal/boilerplate/
func FuzzClean(f *testing.F) {
	var site *Model
	for _, name := range sites {
		articles, _ := loadSite(f, name)
		for _, a := range articles {
			f.Add(a.html)
		}
		if site == nil {
			site = Learn(siteItems(name, articles))
		}
	}
	for _, seed := range []string{
		``,
		`plain`,
		`<p>Advertisement</p>`,
		`<table><tr><td>x</td></tr></table>`,
		`<a href="x"><div>y</div><p>z</p></a>`,
		`<p>a<table><p>b</table>`,
		`<pre>x</pre><script>y</script><template><p>z</p></template>`,
		`<iframe src="https://x.example/">fallback</iframe><svg><text>t</text></svg>`,
		"<ul><li>a<li>b</ul>\u200b\u00a0",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, fragment string) {
		items := []feed.Item{
			{ID: "a", RawContent: fragment + "<p>One.</p>"},
			{ID: "b", RawContent: "<p>Two.</p>" + fragment},
			{ID: "c", RawContent: fragment, RawSummary: "<p>Three.</p>"},
		}
		own := Learn(items)
		for _, m := range []*Model{site, own} {
			out, removals := m.Clean(fragment)
			// Cleaning the tree Learn kept is cleaning the fragment, and
			// the tree handed back reads as the result does, for any
			// fragment that parses back to itself (all sanitized ones).
			_, trees := LearnKeeping(items, nil)
			kept, root, keptRemovals := m.CleanKept(fragment, trees)
			if kept != out || len(keptRemovals) != len(removals) {
				t.Fatalf("CleanKept = %q (%d removals), Clean = %q (%d)", kept, len(keptRemovals), out, len(removals))
			}
			if root != nil && render(t, fragment) == fragment {
				if a, b := normalize.SummaryOf(root), normalize.DeriveSummary(out); a != b {
					t.Errorf("excerpt of the kept tree %q, of the result %q", a, b)
				}
			}
			if removals == nil {
				if out != fragment {
					t.Fatalf("changed without a removal: %q -> %q", fragment, out)
				}
				continue
			}
			if canon := render(t, fragment); len(out) >= len(canon) {
				t.Errorf("output of %d bytes, the input renders as %d", len(out), len(canon))
			}
			if !hasText(normalize.ParseFragment(out)) {
				t.Errorf("output has no text: %q -> %q", fragment, out)
			}
			if render(t, out) == out {
				// Idempotence, where the output parses back to itself.
				if again, more := m.Clean(out); again != out || more != nil {
					t.Errorf("not idempotent: %q -> %q -> %q (%v)", fragment, out, again, more)
				}
			}
			for _, r := range removals {
				if r.Text == "" || r.Seen < 2 || r.Seen > r.Of || r.Of != m.Articles() {
					t.Errorf("bad removal %+v", r)
				}
			}
		}
	})
}

// render is fragment as x/net/html renders it.
func render(t testing.TB, fragment string) string {
	t.Helper()
	root := normalize.ParseFragment(fragment)
	var b strings.Builder
	for c := root.FirstChild; c != nil; c = c.NextSibling {
		if err := html.Render(&b, c); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

// benchItems are a window of typical articles: each twenty blocks, fifteen of
// them its own story and five the site's furniture, with a summary.
func benchItems() []feed.Item {
	items := make([]feed.Item, Window)
	story := strings.Repeat("The council met on Tuesday to discuss the harbour, the ferry and the school. ", 3)
	for i := range items {
		var b strings.Builder
		b.WriteString(`<div id="readability-page-1"><div><p><strong>Enjoying ad-free content?</strong> Support us.</p>`)
		for j := range 15 {
			fmt.Fprintf(&b, "<p>%d.%d %s</p>\n", i, j, story)
			if j == 7 {
				b.WriteString(`<div><h3>The Morning Tide</h3><p>Our best stories, in your inbox.</p><p><a href="https://x.example/n">Sign up</a></p></div>`)
			}
		}
		fmt.Fprintf(&b, `<h3>Read more</h3><ul><li><a href="https://x.example/%d">Another story</a></li></ul></div></div>`, i)
		items[i] = feed.Item{
			ID:         fmt.Sprint(i),
			RawContent: b.String(),
			RawSummary: fmt.Sprintf("<p>%d %s</p>", i, story),
		}
	}
	return items
}

// BenchmarkLearn learns a full window of typical articles.
func BenchmarkLearn(b *testing.B) {
	items := benchItems()
	b.ReportAllocs()
	for b.Loop() {
		if Learn(items).Key() == "" {
			b.Fatal("nothing learned")
		}
	}
}

// BenchmarkClean cleans one typical article.
func BenchmarkClean(b *testing.B) {
	items := benchItems()
	m := Learn(items)
	b.ReportAllocs()
	b.SetBytes(int64(len(items[0].RawContent)))
	for b.Loop() {
		if _, removals := m.Clean(items[0].RawContent); removals == nil {
			b.Fatal("nothing removed")
		}
	}
}
