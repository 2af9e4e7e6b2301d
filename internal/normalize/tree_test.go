package normalize

import (
	"fmt"
	"html"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/fetch"
	nethtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// dumpTree writes the structure of the children of n, one node a line:
// what a test compares when two trees must be the same.
func dumpTree(n *nethtml.Node) string {
	var b strings.Builder
	var walk func(*nethtml.Node, int)
	walk = func(n *nethtml.Node, depth int) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			fmt.Fprintf(&b, "%s%d %q %d %q %q\n", strings.Repeat(" ", depth), c.Type, c.Data, c.DataAtom, c.Namespace, c.Attr)
			walk(c, depth+1)
		}
	}
	walk(n, 0)
	return b.String()
}

// parsedTree is the reference buildSimple is held to: x/net/html's parse
// of s as the content of a <div>, before flattenDepth. ok is false when
// the parser refuses s.
func parsedTree(s string) (*nethtml.Node, bool) {
	root := &nethtml.Node{Type: nethtml.ElementNode, Data: "div", DataAtom: atom.Div}
	nodes, err := nethtml.ParseFragment(strings.NewReader(s), root)
	if err != nil {
		return nil, false
	}
	for _, c := range nodes {
		root.AppendChild(c)
	}
	return root, true
}

// checkSimple fails t when buildSimple builds a tree of s that is not the
// parser's. It reports whether buildSimple built one.
func checkSimple(t *testing.T, s string) bool {
	t.Helper()
	got := buildSimple(strings.NewReader(s))
	if got == nil {
		return false
	}
	want, ok := parsedTree(s)
	if !ok {
		t.Errorf("buildSimple built a tree of %q, which the parser refuses", s)
		return true
	}
	if g, w := dumpTree(got), dumpTree(want); g != w {
		t.Errorf("buildSimple(%q):\n%s\nthe parser:\n%s", s, g, w)
	}
	return true
}

// TestBuildSimple holds buildSimple to the parser's tree on what
// bluemonday gives (simple: it must build those itself) and on what it
// must leave to the parser (the HTML5 algorithm restructures them).
func TestBuildSimple(t *testing.T) {
	simple := []string{
		``,
		`plain text`,
		`<p>a <b class="x" id="y">b</b> c</p><p>d<br/>e</p>`,
		`<ul><li>one</li><li>two <a href="https://x.example/" title="t">link</a></li></ul>`,
		`<table><thead><tr><th>h</th></tr></thead><tbody><tr><td>1</td><td><p>2</p></td></tr></tbody></table>`,
		"<table>\n<tbody>\n<tr>\n<td>x</td>\n</tr>\n</tbody>\n</table>",
		"<pre>\n\ncode\n</pre>",
		`<figure><img src="https://x.example/a.png" alt="a"/><figcaption>cap</figcaption></figure>`,
		`<iframe src="https://www.youtube.com/embed/x"></iframe>`,
		`<video controls="" src="https://x.example/v.mp4"><source src="https://x.example/v.webm"/></video>`,
		`<dl><dt>t</dt><dd>d</dd></dl><h2>title</h2><blockquote><p>q</p></blockquote>`,
		`a &amp; b &lt;c&gt; &#39;d&#34; &#13; e`,
		`<b><b><b><b>four</b></b></b></b>`,
		`<a href="z" class="c" data-x="1">sorted</a>`,
		`<table><colgroup> <col/></colgroup><caption>c</caption></table>`,
	}
	for _, s := range simple {
		if !checkSimple(t, s) {
			t.Errorf("buildSimple(%q) left to the parser; want it built", s)
		}
	}
	parser := []string{
		`<p>a<div>b</div></p>`,
		`<p><h1>x</h1></p>`,
		`<h1><h2>x</h2></h1>`,
		`<li>a<li>b`,
		`<dl><dt>a<dd>b</dl>`,
		`<a href="1">a<a href="2">b</a></a>`,
		`<b>1<p>2</b>3</p>`,
		`<table><tr><td>x</td></tr></table>`,
		`<table>text<tr></tr></table>`,
		`<table><colgroup>` + "\x00" + `</colgroup></table>`,
		`<td>cell</td>`,
		`<div/>x`,
		`<iframe>raw <b>text</b></iframe>`,
		`<!-- c -->x`,
		`<svg><p>x</p></svg>`,
		`<custom-el>x</custom-el>`,
		`</br>`,
		`<span>a</div>`,
		`<p>x<hr/>`,
		`<nobr>a<nobr>b`,
	}
	for _, s := range parser {
		checkSimple(t, s) // either left to the parser, or built the same
	}
}

// TestBuildSimpleOnSanitized runs every item's HTML of the fixtures and
// the hostile vectors through the first half of sanitizeTree and holds
// buildSimple to the parser's tree of bluemonday's output.
func TestBuildSimpleOnSanitized(t *testing.T) {
	n := New(Options{})
	base := parseBase("https://example.org/feed.xml")
	var inputs []string
	inputs = append(inputs, readVectors(t).html...)
	inputs = append(inputs,
		`<p>Hello <img data-src="/a.jpg" src="data:image/gif;base64,R0l"><noscript><img src="/a.jpg"></noscript></p>`,
		`<div><p><span></span></p><table><tr><td>x<td>y</table></div>`,
		`<p>a<form><button><div>x</div></button></form></p>`,
	)
	built := 0
	for _, in := range inputs {
		root := ParseFragment(in)
		unlazy(root, true)
		n.fixURLs(root, base, nil)
		sanitized := n.policy.Sanitize(RenderChildren(root))
		if checkSimple(t, sanitized) {
			built++
		}
	}
	t.Logf("buildSimple built %d of %d sanitized fragments", built, len(inputs))
	if built*2 < len(inputs) {
		t.Errorf("buildSimple built %d of %d sanitized fragments; want most", built, len(inputs))
	}
}

// FuzzBuildSimple holds buildSimple to the parser on any input: whatever
// tree it builds must be the parser's.
//
//	go test -run '^$' -fuzz=FuzzBuildSimple -fuzztime=1m -fuzzminimizetime=5s ./internal/normalize/
func FuzzBuildSimple(f *testing.F) {
	for _, s := range []string{`<p>a<b>b</b></p>`, `<table><tbody><tr><td>x</td></tr></tbody></table>`, "<pre>\nx</pre>", `<ul><li>a</li></ul>`, `<a href=x>y</a>`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkSimple(t, s)
	})
}

// oneTreeInputs are fragments the one-tree shortcuts are checked on: the
// hostile vectors and a few of each kind a feed carries.
func oneTreeInputs(t testing.TB) []string {
	in := append([]string(nil), readVectors(t).html...)
	return append(in,
		`<p>Hello <img data-src="/a.jpg" src="data:image/gif;base64,R0l"><noscript><img src="/a.jpg"></noscript></p>`,
		`<h2>Title</h2><p>`+strings.Repeat("Running text of an article, ", 30)+`</p><figure><img src="/x.png"><figcaption>c</figcaption></figure>`,
		`<table><tr><td>only a table</td></tr></table>`,
		`&lt;script&gt;alert(1)&lt;/script&gt;`,
		`<p>&lt;scr<b>ipt&gt;x&lt;/script&gt;</b></p>`,
		`<p> </p><p>&#8203;</p>`,
		"<pre>\n  code\n</pre>",
		"\xff\xfe<p>bad \xc3 utf-8</p>",
	)
}

// TestOneTree holds what is read from the sanitized tree to what was
// read from the rendered HTML before: hasVisible to hasVisibleContent,
// deriveSummary of the tree to DeriveSummary of the HTML.
func TestOneTree(t *testing.T) {
	n := New(Options{})
	for _, in := range append(oneTreeInputs(t), "<p> \u200b x</p>", "<p>&lt;script&gt;x</p>", "<p>\xff x</p>", "<p>x<!-- c --></p>") {
		checkOneTree(t, n, in)
	}
}

// FuzzOneTree is TestOneTree on any input.
func FuzzOneTree(f *testing.F) {
	for _, s := range oneTreeInputs(f) {
		f.Add(s)
	}
	n := New(Options{})
	f.Fuzz(func(t *testing.T, s string) {
		checkOneTree(t, n, s)
	})
}

func checkOneTree(t *testing.T, n *Normalizer, in string) {
	t.Helper()
	base := parseBase("https://example.org/feed.xml")
	root := ParseFragment(in)
	unlazy(root, true)
	n.fixURLs(root, base, nil)
	if tree := tidyTree([]byte(n.policy.Sanitize(RenderChildren(root)))); tree != nil {
		out := strings.TrimSpace(RenderChildren(tree))
		if got, want := out != "" && hasVisible(tree, out), hasVisibleContent(out); got != want {
			t.Errorf("hasVisible(%q) = %v, hasVisibleContent = %v", out, got, want)
		}
	}
	full, fullTree := n.sanitizeTree(in, base, nil)
	if got, want := deriveSummary(fullTree), DeriveSummary(full); got != want {
		t.Errorf("summary of %q from the tree:\n%q\nfrom the HTML:\n%q", in, got, want)
	}
}

// plainTextCases are texts plainTextTree must read as sanitizeHTML reads
// textToHTML of them.
var plainTextCases = []string{
	"", " ", "one line", "two\nlines", "para one\n\npara two\r\n\r\nthree\rfour",
	"  spaced   out\t\ttext  ", "a\x00b", "\x00", "\x00\n\x00", "\u200b", "\u200b\nx",
	"<b>not markup</b> & 'quotes\" &amp;", "\xff\xfe invalid", "tab\fform\vvert", " \u00a0 nbsp \u00a0 ",
	"line \x00\nnext", "&#0; &lt;", "x\n\u00a0\ny",
}

func TestPlainTextTree(t *testing.T) {
	n := New(Options{})
	for _, s := range plainTextCases {
		if got, want := n.plainText(s), n.sanitizeHTML(textToHTML(s), nil, nil); got != want {
			t.Errorf("plainText(%q) = %q, want %q", s, got, want)
		}
	}
}

// FuzzPlainTextTree holds plainTextTree to sanitizeHTML(textToHTML(s)) on
// any text.
func FuzzPlainTextTree(f *testing.F) {
	for _, s := range plainTextCases {
		f.Add(s)
	}
	n := New(Options{})
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := n.plainText(s), n.sanitizeHTML(textToHTML(s), nil, nil); got != want {
			t.Errorf("plainText(%q) = %q, want %q", s, got, want)
		}
	})
}

// TestContentTrees holds Feed.Trees to its word: each item's tree is the
// one ParseFragment builds of the item's content, node for node, for the
// fixtures, the hostile vectors carried by a feed, and the corpus where
// it is at hand.
func TestContentTrees(t *testing.T) {
	n := New(Options{})
	check := func(t *testing.T, name string, body []byte, baseURL string) {
		t.Helper()
		f, err := n.Normalize(feed.Source{Name: "trees"}, body, baseURL, time.Now())
		if err != nil {
			return // refused documents have no items to check
		}
		for _, it := range f.Items {
			tree := f.Trees[it.Content]
			if tree == nil {
				continue
			}
			if got, want := dumpTree(tree), dumpTree(ParseFragment(it.Content)); got != want {
				t.Errorf("%s: item %s: tree kept:\n%s\nparse of its content:\n%s", name, it.ID, got, want)
			}
		}
	}
	kept := 0
	for _, fx := range fixtures {
		body, err := os.ReadFile(filepath.Join("testdata", fx.file))
		if err != nil {
			t.Fatal(err)
		}
		check(t, fx.file, body, fx.baseURL)
		if f, err := n.Normalize(feed.Source{Name: "trees"}, body, fx.baseURL, time.Now()); err == nil {
			kept += len(f.Trees)
		}
	}
	if kept == 0 {
		t.Fatal("no fixture kept a tree: the test checks nothing")
	}
	var items strings.Builder
	for i, v := range readVectors(t).html {
		fmt.Fprintf(&items, "<item><guid>v%d</guid><description>%s</description></item>", i, html.EscapeString(v))
	}
	check(t, "hostile vectors", []byte(`<rss version="2.0"><channel><title>v</title><link>https://v.example/</link>`+items.String()+`</channel></rss>`), "https://v.example/feed")
	t.Run("corpus", func(t *testing.T) {
		for _, row := range readManifest(t) {
			raw, err := os.ReadFile(filepath.Join(corpusDir, row.path))
			if err != nil {
				t.Fatal(err)
			}
			check(t, row.path, fetch.ToUTF8(raw, row.contentType()), "https://corpus.example/feed")
		}
	})
}

// cleanArticle is HTML as a tidy blog engine writes it, which the policy
// returns unchanged once its URLs are resolved.
const cleanArticle = `<h2>A heading</h2><p>Running text with <em>emphasis</em>, <strong>weight</strong> and <a href="/posts/1">a relative link</a> &amp; an entity.</p>
<figure><img src="/img/1.jpg" alt="A photo" width="800" height="600"><figcaption>The caption.</figcaption></figure>
<ul><li>First</li><li>Second, <a href="https://example.org/ref?utm_source=x">a reference</a></li></ul>
<blockquote><p>A quote.</p></blockquote><pre><code>for i := range n {
	fmt.Println(i)
}</code></pre>`

// checkReuse fails t when sanitizing in with the first tree reused gives
// another HTML or another tree than reading the policy's output.
func checkReuse(t *testing.T, n *Normalizer, in string) {
	t.Helper()
	base := parseBase("https://example.org/feed.xml")
	page := parseBase("https://example.org/posts/2")
	a, ta := n.sanitizeTreeBy(in, base, page, true)
	b, tb := n.sanitizeTreeBy(in, base, page, false)
	if a != b {
		t.Fatalf("sanitize(%q):\nreusing the tree: %q\nreading the output: %q", in, a, b)
	}
	if (ta == nil) != (tb == nil) || ta != nil && dumpTree(ta) != dumpTree(tb) {
		t.Fatalf("sanitize(%q): trees differ:\nreusing the tree:\n%s\nreading the output:\n%s", in, dumpTree(ta), dumpTree(tb))
	}
}

// TestReuseSanitizedTree: when the policy changes nothing, the first tree
// stands for the tree of its output, HTML and tree alike, on every kind of
// input; and a clean article does take that way (it allocates less).
func TestReuseSanitizedTree(t *testing.T) {
	n := New(Options{})
	for _, in := range append(oneTreeInputs(t), cleanArticle, "<p>a<img src=x width=1 height=1>b</p>", "<p>a<!-- c -->b</p>", "<p>x</p><noscript><img src=/y.jpg></noscript>") {
		checkReuse(t, n, in)
	}
	base := parseBase("https://example.org/feed.xml")
	reuse := testing.AllocsPerRun(20, func() { n.sanitizeTreeBy(cleanArticle, base, nil, true) })
	read := testing.AllocsPerRun(20, func() { n.sanitizeTreeBy(cleanArticle, base, nil, false) })
	if reuse >= read {
		t.Errorf("a clean article: %v allocations reusing the tree, %v reading the output; want fewer: the tree was not reused", reuse, read)
	}
}

// FuzzReuseSanitizedTree holds the reuse of the first tree to reading the
// policy's output on any input.
func FuzzReuseSanitizedTree(f *testing.F) {
	for _, s := range append(oneTreeInputs(f), cleanArticle) {
		f.Add(s)
	}
	n := New(Options{})
	f.Fuzz(func(t *testing.T, s string) {
		checkReuse(t, n, s)
	})
}
