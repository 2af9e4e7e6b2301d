package normalize

import (
	"net/url"
	"runtime"
	"strings"
	"testing"

	nethtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/testkit"
)

func TestCleanText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "Hello world", "Hello world"},
		{"trim and collapse", "  Hello \n\t  world  ", "Hello world"},
		{"nbsp and zero-width", "Hello\u00a0\u00a0world\u200b!", "Hello world!"},
		{"control characters dropped", "Hel\x01lo\x7f", "Hello"},
		{"entity decoded", "AT&amp;T", "AT&T"},
		{"numeric entities", "caf&#233; &#x2014; ok", "café — ok"},
		{"double escaped decoded once", "Tom &amp;amp; Jerry", "Tom &amp; Jerry"},
		{"escaped tag decoded once, not stripped", "&lt;b&gt;bold&lt;/b&gt;", "<b>bold</b>"},
		{"inline tags leave no space", "<em>Go</em>'s <b>new</b> release", "Go's new release"},
		{"block tags leave a space", "one<br>two<p>three</p>", "one two three"},
		{"tag with attributes", `<a href="x" title="y">link</a> text`, "link text"},
		{"script and style removed with content", "<script>alert(1)</script>Title<style>b{}</style>", "Title"},
		{"comment removed", "a<!-- hidden -->b", "a b"},
		{"less-than sign kept", "a < b and c > d", "a < b and c > d"},
		{"unknown tag-like text kept", "Vec<T> and x<y>z", "Vec<T> and x<y>z"},
		{"unterminated tag kept", "5 <b", "5 <b"},
		{"escaped script removed", "&lt;script&gt;alert(1)&lt;/script&gt;Title", "Title"},
		{"escaped handler removed", "&lt;img src=x onerror=alert(1)&gt;Title", "Title"},
		{"handler on an unknown element", `<x onclick="alert(1)">hi`, "hi"},
		{"handler after a quoted bracket", `&lt;x title="a>b" onclick=alert(1)&gt;hi`, "hi"},
		{"unterminated tag with a handler", "Title &lt;img src=x onerror=alert(1)//", "Title"},
		{"svg", "<svg onload=alert(1)>x</svg>", "x"},
		{"escaped svg", "&lt;svg&gt;&lt;a&gt;x&lt;/a&gt;&lt;/svg&gt;", "<a>x</a>"},
		{"script URL in an unknown element", `&lt;x href=" java&#x09;script:alert(1)"&gt;hi`, "hi"},
		{"no raw text hides a tag", "&lt;xmp&gt;&lt;img src=x onerror=alert(1)&gt;&lt;/xmp&gt;", "<xmp> </xmp>"},
		{"escaped generics kept", "Vec&lt;T&gt; &amp; List&lt;String&gt;", "Vec<T> & List<String>"},
		{"lone ampersand kept", "Q&A", "Q&A"},
		{"invalid utf-8 replaced", "bad\xffbyte", "bad\uFFFDbyte"},
		{"empty", "", ""},
		{"only whitespace", " \n ", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := cleanText(tc.in); got != tc.want {
				t.Errorf("cleanText(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestResolveURL(t *testing.T) {
	base := testkit.MustURL(t, "https://site.example/blog/")
	page := testkit.MustURL(t, "https://site.example/blog/post-1")
	tests := []struct {
		name        string
		ref         string
		base, page  *url.URL
		allowMailto bool
		want        string
	}{
		{"absolute kept", "https://other.example/a?b=c#d", base, nil, false, "https://other.example/a?b=c#d"},
		{"relative path", "img/a.png", base, nil, false, "https://site.example/blog/img/a.png"},
		{"root relative", "/about", base, nil, false, "https://site.example/about"},
		{"dot segments", "../x", base, nil, false, "https://site.example/x"},
		{"protocol relative", "//cdn.example/a.js", base, nil, false, "https://cdn.example/a.js"},
		{"fragment against the page", "#fn1", base, page, false, "https://site.example/blog/post-1#fn1"},
		{"fragment without a page", "#fn1", base, nil, false, "https://site.example/blog/#fn1"},
		{"relative without base", "a.png", nil, nil, false, ""},
		{"spaces trimmed", "  /a  ", base, nil, false, "https://site.example/a"},
		{"empty", "", base, nil, false, ""},
		{"javascript", "javascript:alert(1)", base, nil, true, ""},
		{"javascript mixed case", "JaVaScRiPt:alert(1)", base, nil, true, ""},
		{"javascript split by a tab", "java\tscript:alert(1)", base, nil, true, ""},
		{"javascript split by a newline", "java\nscript:alert(1)", base, nil, true, ""},
		{"data", "data:text/html,<script>alert(1)</script>", base, nil, true, ""},
		{"vbscript", "vbscript:msgbox", base, nil, true, ""},
		{"ftp", "ftp://files.example/a", base, nil, true, ""},
		{"http without host", "http:/path", base, nil, false, ""},
		{"mailto in links", "mailto:a@example.org", base, nil, true, "mailto:a@example.org"},
		{"mailto elsewhere", "mailto:a@example.org", base, nil, false, ""},
		{"unparseable", "http://[::1", base, nil, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := resolveURL(tc.base, tc.page, tc.ref, tc.allowMailto); got != tc.want {
				t.Errorf("resolveURL(%q) = %q, want %q", tc.ref, got, tc.want)
			}
		})
	}
}

func TestSanitizeHTML(t *testing.T) {
	base := testkit.MustURL(t, "https://site.example/blog/")
	page := testkit.MustURL(t, "https://site.example/blog/post")
	tests := []struct {
		name, in, want string
	}{
		{"links resolved, no nofollow added", `<a href="x">x</a>`, `<a href="https://site.example/blog/x">x</a>`},
		{"rel and target removed", `<a href="https://a.example/" rel="nofollow" target="_blank">a</a>`, `<a href="https://a.example/">a</a>`},
		{"mailto link kept", `<a href="mailto:a@example.org">mail</a>`, `<a href="mailto:a@example.org">mail</a>`},
		{"javascript link loses its href", `<a href="javascript:alert(1)">x</a>`, `x`},
		{"entity-encoded javascript", `<a href="&#106;avascript:alert(1)">x</a>`, `x`},
		{"image with srcset", `<img src="a.png" srcset="a.png 1x, a@2x.png 2x" alt="Fig. 1: a" width="10" height="20">`,
			`<img src="https://site.example/blog/a.png" srcset="https://site.example/blog/a.png 1x, https://site.example/blog/a@2x.png 2x" alt="Fig. 1: a" width="10" height="20"/>`},
		{"srcset drops bad candidates and descriptors", `<img src="a.png" srcset="javascript:x 1x, b.png bogus, c.png,d.png 3x">`, // "c.png,d.png" is one URL, as browsers read it
			`<img src="https://site.example/blog/a.png" srcset="https://site.example/blog/b.png, https://site.example/blog/c.png,d.png 3x"/>`},
		{"srcset with commas inside a URL", `<img src="a.png" srcset="https://i.example/w_100,h_50/a.png 100w">`,
			`<img src="https://site.example/blog/a.png" srcset="https://i.example/w_100,h_50/a.png 100w"/>`},
		{"data image dropped", `<img src="data:image/png;base64,iVBORw0KGgo=" alt="x">`, ``},
		{"image without a usable URL dropped", `<p>a<img alt="x" src="javascript:y">b</p>`, `<p>ab</p>`},
		{"event handlers and style dropped", `<p onclick="x()" style="color:red" class="c" id="keep">t</p>`, `<p id="keep">t</p>`},
		{"script removed with content", `<p>a</p><script>alert(1)</script>`, `<p>a</p>`},
		{"iframe other than a player removed", `<iframe src="https://ads.example/frame"></iframe><p>b</p>`, `<p>b</p>`},
		{"video gets controls, loses autoplay and bad poster", `<video src="v.mp4" poster="javascript:x" autoplay></video>`,
			`<video src="https://site.example/blog/v.mp4" controls=""></video>`},
		{"video sources", `<video controls poster="p.jpg"><source src="javascript:x" type="video/mp4"><source src="v.webm" type="video/webm"></video>`,
			`<video controls="" poster="https://site.example/blog/p.jpg"><source src="https://site.example/blog/v.webm" type="video/webm"/></video>`},
		{"player without a usable source dropped", `<p>a</p><audio src="data:audio/mp3;base64,AAAA"></audio><video><source src="javascript:x"></video>`, `<p>a</p>`},
		{"audio", `<audio src="/a.mp3" preload="none"></audio>`, `<audio src="https://site.example/a.mp3" preload="none" controls=""></audio>`},
		{"picture", `<picture><source srcset="a.webp" type="image/webp"><img src="a.jpg"></picture>`,
			`<picture><source srcset="https://site.example/blog/a.webp" type="image/webp"/><img src="https://site.example/blog/a.jpg"/></picture>`},
		{"figure and blockquote", `<figure><blockquote cite="/q">q</blockquote><figcaption>c</figcaption></figure>`,
			`<figure><blockquote cite="https://site.example/q">q</blockquote><figcaption>c</figcaption></figure>`},
		{"table", `<table><tr><td colspan="2">x</td></tr></table>`, `<table><tbody><tr><td colspan="2">x</td></tr></tbody></table>`},
		{"code and pre", `<pre><code>a &lt; b</code></pre>`, `<pre><code>a &lt; b</code></pre>`},
		{"footnote against the page", `<a href="#fn1">1</a>`, `<a href="https://site.example/blog/post#fn1">1</a>`},
		{"only markup is empty", `<p> </p><div></div>`, ``},
		{"form elements removed", `<form action="/x"><input name="q"><button>go</button></form>`, `go`},
	}
	n := New(Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := n.sanitizeHTML(tc.in, base, page)
			if got != tc.want {
				t.Errorf("sanitizeHTML(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
			if bad := testkit.UnsafeURLs(got); len(bad) > 0 {
				t.Errorf("unsafe URLs %q", bad)
			}
		})
	}
}

// TestBluemondayTraps pins the bluemonday v1.0.27 behaviours newPolicy works
// around, so that an upgrade that changes them is noticed.
func TestBluemondayTraps(t *testing.T) {
	t.Run("UGCPolicy adds nofollow", func(t *testing.T) {
		got := newPolicy().Sanitize(`<a href="https://a.example/">a</a>`)
		if strings.Contains(got, "nofollow") {
			t.Errorf("newPolicy added nofollow: %q", got)
		}
	})
	t.Run("bluemonday does not check source src itself", func(t *testing.T) {
		p := newPolicy()
		// Our pattern refuses it; without the pattern, <source> is not
		// among the elements whose src bluemonday validates.
		if got := p.Sanitize(`<video controls><source src="javascript:alert(1)"></video>`); strings.Contains(got, "javascript") {
			t.Errorf("source src kept: %q", got)
		}
	})
	t.Run("bluemonday does not resolve relative URLs", func(t *testing.T) {
		// Relative URLs are refused outright by our policy, proving that
		// resolveContent must run first.
		if got := newPolicy().Sanitize(`<a href="/x">x</a>`); got != "x" {
			t.Errorf("relative link = %q, want it dropped", got)
		}
	})
}

func TestTextToHTML(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"one line", "Hello", "<p>Hello</p>"},
		{"escaped", `a < b & "c"`, "<p>a &lt; b &amp; &#34;c&#34;</p>"},
		{"line breaks", "one\ntwo\r\nthree", "<p>one<br>two<br>three</p>"},
		{"paragraphs", "one\n\n\ntwo\n \nthree", "<p>one</p><p>two</p><p>three</p>"},
		{"blank", "  \n ", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := textToHTML(tc.in); got != tc.want {
				t.Errorf("textToHTML(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestHTMLOrText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"markup is html", "<p>Hello <b>there</b></p>", "<p>Hello <b>there</b></p>"},
		{"plain text is escaped", "1 < 2 and x<y>z", "<p>1 &lt; 2 and x&lt;y&gt;z</p>"},
		{"plain text keeps lines", "one\ntwo", "<p>one<br/>two</p>"},
		{"entities in plain text decoded once", "Tom &amp;amp; Jerry &amp; co", "<p>Tom &amp;amp; Jerry &amp; co</p>"},
		{"comment marks html", "a<!-- x -->b", "ab"},
		{"empty", "", ""},
	}
	n := New(Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := n.htmlOrText(tc.in, nil, nil); got != tc.want {
				t.Errorf("htmlOrText(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// htmlDepth returns how deeply the elements of fragment nest, as
// x/net/html parses it (not ParseFragment, which flattens).
func htmlDepth(t *testing.T, fragment string) int {
	t.Helper()
	root := &nethtml.Node{Type: nethtml.ElementNode, Data: "div", DataAtom: atom.Div}
	nodes, err := nethtml.ParseFragment(strings.NewReader(fragment), root)
	if err != nil {
		t.Fatalf("output does not parse: %v", err)
	}
	var depth func(*nethtml.Node) int
	depth = func(n *nethtml.Node) int {
		if n.Type != nethtml.ElementNode {
			return 0
		}
		d := 0
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			d = max(d, depth(c))
		}
		return d + 1
	}
	d := 0
	for _, n := range nodes {
		d = max(d, depth(n))
	}
	return d
}

// TestDeepHTMLFlattened: HTML nested pathologically deep, past what
// x/net/html parses (512) or merely past what readers take, comes out
// nested at most MaxHTMLDepth deep, with its text, at a cost in memory
// that grows with its length alone. Before, a fragment past 512 levels
// came out as its markup escaped into text, and one within 512 levels
// kept them all.
func TestDeepHTMLFlattened(t *testing.T) {
	rss := func(description string) string {
		return `<rss version="2.0"><channel><item><title>t</title><link>https://x.example/1</link><description>` + description + `</description></item></channel></rss>`
	}
	jsonFeed := func(html string) string {
		return `{"version":"https://jsonfeed.org/version/1.1","items":[{"id":"1","url":"https://x.example/1","content_html":"` + html + `"}]}`
	}
	escaped := func(s string) string { return strings.NewReplacer("<", "&lt;", ">", "&gt;").Replace(s) }
	const deep = 100_000
	tests := []struct {
		name string
		body string
	}{
		{"100,000 divs in json", jsonFeed(nested("<div>", "</div>", deep))},
		{"100,000 unclosed divs in json", jsonFeed(strings.Repeat("<div>", deep) + "x")},
		{"100,000 escaped divs in rss", rss(escaped(nested("<div>", "</div>", deep)))},
		{"50,000 escaped b and i in rss", rss(escaped(strings.Repeat("<b><i>", deep/2) + "x"))},
		{"500 blockquotes in json", jsonFeed(nested("<blockquote>", "</blockquote>", 500))},
		{"100,000 mismatched tags in json", jsonFeed(strings.Repeat("<div></span>", deep) + "x")},
	}
	n := New(Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			before := ms.TotalAlloc
			f, err := n.Normalize(feed.Source{Name: "deep"}, []byte(tt.body), "https://x.example/feed", testNow)
			runtime.ReadMemStats(&ms)
			allocated := ms.TotalAlloc - before
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			checkInvariants(t, f)
			it := f.Items[0]
			html := it.Content
			if html == "" {
				html = it.Summary
			}
			if strings.Contains(html, "&lt;div") || strings.Contains(html, "&lt;b") {
				t.Errorf("markup came out as text: %.80q", html)
			}
			if !strings.Contains(html, "x") {
				t.Errorf("the text was lost: %.200q", html)
			}
			if d := htmlDepth(t, html); d > MaxHTMLDepth+1 {
				t.Errorf("output nested %d deep, want at most %d", d, MaxHTMLDepth+1)
			}
			// Memory, not time: a count a loaded machine cannot miss.
			if limit := uint64(400 * len(tt.body)); allocated > limit {
				t.Errorf("allocated %d MiB for a %d KiB body, want under %d MiB", allocated>>20, len(tt.body)>>10, limit>>20)
			}
			t.Logf("%d KiB in, %d MiB allocated, %d bytes out", len(tt.body)>>10, allocated>>20, len(html))
		})
	}
}

// TestFlattenKeepsWhatFits: nesting within MaxHTMLDepth is left as it
// is, and unwrapping deeper elements keeps their text and images.
func TestFlattenKeepsWhatFits(t *testing.T) {
	n := New(Options{})
	within := nested("<blockquote>", "</blockquote>", MaxHTMLDepth)
	if got := n.sanitizeHTML(within, nil, nil); got != within {
		t.Errorf("nesting within the limit changed: %.80q", got)
	}
	deep := nested("<blockquote>", "</blockquote>", MaxHTMLDepth+20)
	deep = strings.Replace(deep, "x", `<em>x</em><img src="https://x.example/a.png" alt="a">y`, 1)
	got := n.sanitizeHTML(deep, nil, nil)
	if d := htmlDepth(t, got); d != MaxHTMLDepth+1 {
		t.Errorf("nested %d deep, want %d (the image below the last level)", d, MaxHTMLDepth+1)
	}
	if !strings.Contains(got, `x<img src="https://x.example/a.png" alt="a"/>y`) {
		t.Errorf("text or image lost: %.200q", got[max(0, len(got)-200):])
	}
}
