package normalize

import (
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/html/atom"

	"github.com/feedmill/feedmill/internal/feed"
)

func TestDeriveSummary(t *testing.T) {
	words := strings.Repeat("word ", 80) // 400 characters
	tests := []struct {
		name, in, want string
	}{
		{"short text whole", `<p>Hello <b>world</b>.</p>`, `Hello world.`},
		{"blocks separated", `<p>One.</p><p>Two.</p><ul><li>a</li><li>b</li></ul>`, `One. Two. a b`},
		{"escaped", `<p>a &lt; b &amp; &#34;c&#34;</p>`, `a &lt; b &amp; &#34;c&#34;`},
		{"headings, figures, tables and code skipped", `<h2>Heading</h2><figure><img src="https://x.example/a.jpg"><figcaption>Photo: A</figcaption></figure><p>Text.</p><table><tr><td>cell</td></tr></table><pre>code</pre>`, `Text.`},
		{"only a heading: used", `<h2>Heading only</h2>`, `Heading only`},
		{"whitespace collapsed", "<p>a\n\n  b\u00a0 c</p>", `a b c`},
		{"cut at a word boundary", `<p>` + words + `</p>`, strings.TrimSpace(strings.Repeat("word ", 60)) + "…"},
		{"punctuation before the cut dropped", `<p>` + strings.Repeat("abcd, ", 60) + `</p>`, strings.TrimSuffix(strings.TrimSpace(strings.Repeat("abcd, ", 50)), ",") + "…"},
		{"no spaces: cut at the limit", `<p>` + strings.Repeat("字", 400) + `</p>`, strings.Repeat("字", 300) + "…"},
		{"exactly the limit: not cut", `<p>` + strings.Repeat("a", 300) + `</p>`, strings.Repeat("a", 300)},
		{"empty", ``, ``},
		{"only an image", `<img src="https://x.example/a.jpg">`, ``},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := DeriveSummary(tc.in)
			if got != tc.want {
				t.Errorf("DeriveSummary(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
			if n := utf8.RuneCountInString(got); n > summaryRunes+1 {
				t.Errorf("%d characters, want at most %d", n, summaryRunes+1)
			}
		})
	}
}

// TestDerivedSummaryInItems checks that Normalize derives a summary only
// when the feed gives none.
func TestDerivedSummaryInItems(t *testing.T) {
	const body = `<feed xmlns="http://www.w3.org/2005/Atom">
<entry><id>1</id><content type="html">&lt;p&gt;Body &amp;amp; soul.&lt;/p&gt;</content></entry>
<entry><id>2</id><summary>Own summary.</summary><content type="html">&lt;p&gt;Body.&lt;/p&gt;</content></entry>
<entry><id>3</id><title>No text</title></entry>
</feed>`
	f, err := New(Options{}).Normalize(feed.Source{Name: "s"}, []byte(body), "https://x.example/feed", testNow)
	if err != nil {
		t.Fatalf("Normalize: %v", err)
	}
	want := []string{"Body &amp; soul.", "<p>Own summary.</p>", ""}
	for i, it := range f.Items {
		if it.Summary != want[i] {
			t.Errorf("item %d: Summary = %q, want %q", i, it.Summary, want[i])
		}
	}
}

func TestHasFullContent(t *testing.T) {
	long := "<p>" + strings.Repeat("This is a sentence of a full article. ", 45) + "</p>" // ~1,700 characters
	teaser := "<p>" + strings.Repeat("A teaser. ", 20) + "</p>"
	item := func(summary, content string) feed.Item { return feed.Item{Summary: summary, Content: content} }
	tests := []struct {
		name  string
		items []feed.Item
		want  bool
	}{
		{"no items", nil, false},
		{"all full", []feed.Item{item("", long), item("s", long), item("", long)}, true},
		{"all teasers", []feed.Item{item(teaser, teaser), item(teaser, ""), item("", "")}, false},
		{"most full", []feed.Item{item("", long), item("", long), item("", teaser)}, true},
		{"half is not most", []feed.Item{item("", long), item("", teaser)}, false},
		{"full article in the summary only", []feed.Item{item(long, ""), item(long, "")}, true},
		{"ellipsis ending is a teaser", []feed.Item{item("", long+"<p>And then […]</p>"), item("", long+"<p>More...</p>")}, false},
		{"read more ending is a teaser", []feed.Item{item("", long+`<p><a href="https://x.example/a">Read more</a> →</p>`), item("", long+`<p>Continue reading</p>`)}, false},
		{"read more in the middle is text", []feed.Item{item("", `<p>Read more about it below.</p>`+long)}, true},
		{"markup does not count", []feed.Item{item("", `<p><img src="https://x.example/a.jpg" alt="`+strings.Repeat("x", 2000)+`"></p><p>short</p>`)}, false},
		{"cyrillic counts characters", []feed.Item{item("", "<p>"+strings.Repeat("Это полный текст статьи. ", 70)+"</p>")}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := HasFullContent(tc.items); got != tc.want {
				t.Errorf("HasFullContent = %v, want %v", got, tc.want)
			}
		})
	}
}

// FuzzExcerptText holds excerptText to what it stands for, the blank-
// separated fields of blockText, whole and cut to any limit.
func FuzzExcerptText(f *testing.F) {
	for _, s := range append(oneTreeInputs(f), cleanArticle, "<p>a\xffb  c</p><h2>t</h2>", "<p> lead </p>\u200b<div>x</div>") {
		f.Add(s, uint16(5))
	}
	f.Fuzz(func(t *testing.T, s string, limit uint16) {
		root := ParseFragment(s)
		for _, skip := range []bool{false, true} {
			var skipped map[atom.Atom]bool
			if skip {
				skipped = excerptSkipped
			}
			want := strings.Join(strings.FieldsFunc(blockText(root, skipped), isBlank), " ")
			if got := excerptText(root, skip, -1); got != want {
				t.Fatalf("excerptText(%q, %v) = %q, want %q", s, skip, got, want)
			}
			for _, l := range []int{0, 1, int(limit % 512), summaryRunes + 1} {
				cut, n := want, 0
				for i := 0; i < len(want); {
					if n == l {
						cut = want[:i]
						break
					}
					_, size := utf8.DecodeRuneInString(want[i:])
					i += size
					n++
				}
				if got := excerptText(root, skip, l); got != cut {
					t.Fatalf("excerptText(%q, %v, %d) = %q, want %q", s, skip, l, got, cut)
				}
			}
		}
	})
}
