package normalize

import (
	"strings"
	"testing"

	nethtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// TestKeptElements holds each entry of keptElements to the policy: the
// element, with every attribute its rule admits, comes out of the policy
// as it went in.
func TestKeptElements(t *testing.T) {
	policy := newPolicy()
	samples := map[string]string{
		"href":   "https://example.org/a/b?c=d&e=f#g",
		"src":    "https://example.org/img/1.jpg",
		"alt":    `Figure 2: "results" <& more>`,
		"width":  "800",
		"height": "50%",
		"srcset": "https://example.org/img/1.jpg 1x, https://example.org/img/2.jpg 2x",
		"sizes":  "(max-width: 600px) 100vw, 50vw",
	}
	for a, rule := range keptElements {
		root := &nethtml.Node{Type: nethtml.ElementNode, Data: "div", DataAtom: atom.Div}
		el := &nethtml.Node{Type: nethtml.ElementNode, Data: a.String(), DataAtom: a}
		for key := range rule.attrs {
			val, ok := samples[key]
			if !ok {
				t.Fatalf("%s: no sample value for %s", a, key)
			}
			el.Attr = append(el.Attr, nethtml.Attribute{Key: key, Val: val})
		}
		if a != atom.Br && a != atom.Hr && a != atom.Wbr && a != atom.Img {
			el.AppendChild(&nethtml.Node{Type: nethtml.TextNode, Data: "text & <text>"})
		}
		root.AppendChild(el)
		if !keptAsIs(root) {
			t.Errorf("%s: keptAsIs false with the attributes its rule admits", a)
			continue
		}
		in := RenderChildren(root)
		if out := policy.Sanitize(in); out != in {
			t.Errorf("%s: the policy changes %q into %q", a, in, out)
		}
	}
}

// TestShed holds shed to the policy: on every element the policy knows,
// the attributes shed removes are removed by the policy too, so that the
// policy's output is the same with them or without; and comments go.
func TestShed(t *testing.T) {
	policy := newPolicy()
	shedAttrs := `class="x y" style="color:red" onclick="alert(1)" onerror="x()" data-src="/a.jpg" data-x=""`
	var elements []string
	for a := range keptElements {
		elements = append(elements, a.String())
	}
	elements = append(elements, "video", "audio", "source", "picture", "iframe", "time", "details", "bdo", "map", "area", "meter")
	for _, el := range elements {
		for _, attrs := range []string{``, `href="https://example.org/"`, `src="https://www.youtube.com/embed/x"`, `title="t" lang="en"`} {
			plain := "<" + el + " " + attrs + ">text</" + el + ">"
			with := "<" + el + " " + shedAttrs + " " + attrs + ">text</" + el + ">"
			if a, b := policy.Sanitize(plain), policy.Sanitize(with); a != b {
				t.Errorf("%s: the policy keeps something shed removes:\n%q -> %q\n%q -> %q", el, plain, a, with, b)
			}
		}
	}
	root := ParseFragment(`<p class="a" data-x="1">a<!-- c -->b<img src="https://example.org/1.jpg" onload="x()" style="width:1px" alt="z"></p>`)
	if got, want := RenderChildren(shed(root)), `<p>ab<img src="https://example.org/1.jpg" alt="z"/></p>`; got != want {
		t.Errorf("shed: got %q, want %q", got, want)
	}
}

// TestKeptAsIs: what keptAsIs passes and what it leaves to the policy.
func TestKeptAsIs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{`<p>Text with <em>emphasis</em> and <a href="https://example.org/x">a link</a>.</p>`, true},
		{`<figure><img src="https://example.org/1.jpg" alt="A photo" width="800" height="600"><figcaption>c</figcaption></figure>`, true},
		{`<table><tbody><tr><td>cell</td></tr></tbody></table>`, true},
		{`plain text`, true},
		{``, true},
		{`<p>a<!-- c -->b</p>`, false},                                 // comments go
		{`<p class="lead">a</p>`, false},                               // class goes
		{`<a>no link</a>`, false},                                      // the policy drops the tags
		{`<a href="/relative">x</a>`, false},                           // refused
		{`<a href="javascript:alert(1)">x</a>`, false},                 // refused
		{`<a href=" https://example.org/">x</a>`, false},               // trimmed
		{`<a href="HTTPS://example.org/">x</a>`, false},                // written back in lower case
		{`<a href="https://example.org/a b">x</a>`, false},             // refused
		{`<img src="https://example.org/1.jpg" onerror="x()">`, false}, // handler goes
		{`<img>`, false},                                               // the policy drops an image without attributes
		{`<p>x</p><script>alert(1)</script>`, false},
		{`<svg><title>x</title></svg>`, false},
		{`<custom-element>x</custom-element>`, false},
		{`<iframe src="https://www.youtube.com/embed/x"></iframe>`, false}, // raw content: the policy's
		{`<video src="https://example.org/v.mp4"></video>`, false},
	} {
		if got := keptAsIs(ParseFragment(tc.in)); got != tc.want {
			t.Errorf("keptAsIs(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
	// A repeated attribute is left to the policy.
	root := ParseFragment(`<a href="https://example.org/">x</a>`)
	a := root.FirstChild
	a.Attr = append(a.Attr, a.Attr[0])
	if keptAsIs(root) {
		t.Error("keptAsIs passes a link with two href attributes")
	}
}

// FuzzKeptAsIs holds shed and keptAsIs to the policy on any input: the
// policy's output is the same for the tree before and after shed, and it
// is the rendering of the shed tree itself whenever keptAsIs passes it.
func FuzzKeptAsIs(f *testing.F) {
	for _, s := range append(oneTreeInputs(f), cleanArticle,
		strings.ReplaceAll(cleanArticle, `"/`, `"https://example.org/`),
		`<p>a &amp; b &lt;c&gt; "d" 'e'</p><pre>
x</pre>`,
		"<p>\r\n\x00\u00a0</p><img src=\"https://example.org/\u00e9.jpg\" alt=x>",
		`<a href="mailto:a@example.org">mail</a><a href="https://example.org/%zz">bad escape</a>`,
		`<!-- SC_OFF --><div class="md"><p>a <a class="x" href="https://example.org/">b</a></p></div><!-- SC_ON -->`,
	) {
		f.Add(s)
	}
	policy := newPolicy()
	f.Fuzz(func(t *testing.T, s string) {
		root := ParseFragment(s)
		want := policy.Sanitize(RenderChildren(root))
		shed(root)
		in := RenderChildren(root)
		if !keptAsIs(root) {
			if got := policy.Sanitize(in); got != want {
				t.Fatalf("%q: the policy gives %q after shed, %q before", s, got, want)
			}
			return
		}
		if in != want {
			t.Fatalf("keptAsIs passed %q, rendered %q after shed; the policy gives %q", s, in, want)
		}
	})
}
