package normalize

import (
	"testing"

	"github.com/feedmill/feedmill/internal/testkit"
)

// TestHygiene covers what sanitizeHTML does beyond sanitizing, on feed
// content and extracted articles alike.
func TestHygiene(t *testing.T) {
	const gif = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"
	tests := []struct {
		name, in, want string
	}{
		// Lazy images.
		{"data-src over a data URI", `<img src="` + gif + `" data-src="/a.jpg" alt="a">`, `<img src="https://site.example/a.jpg" alt="a"/>`},
		{"data-src without src", `<img data-src="a.jpg">`, `<img src="https://site.example/blog/a.jpg"/>`},
		{"data-lazy-src over a placeholder file", `<img src="/img/placeholder.png" data-lazy-src="/a.jpg">`, `<img src="https://site.example/a.jpg"/>`},
		{"data-original over a blank gif", `<img src="/i/blank.gif" data-original="/a.jpg" class="lazyload">`, `<img src="https://site.example/a.jpg"/>`},
		{"data-src over a blurred preview", `<img src="/a-20px.jpg" data-src="/a.jpg">`, `<img src="https://site.example/a.jpg"/>`},
		{"data-srcset", `<img src="/a.jpg" data-srcset="/a-1x.jpg 1x, /a-2x.jpg 2x">`, `<img src="https://site.example/a.jpg" srcset="https://site.example/a-1x.jpg 1x, https://site.example/a-2x.jpg 2x"/>`},
		{"data-srcset replaces a placeholder srcset", `<img srcset="` + gif + `" data-srcset="/a.jpg 640w">`, `<img srcset="https://site.example/a.jpg 640w"/>`},
		{"placeholder srcset dropped", `<img src="/a.jpg" srcset="` + gif + ` 1x">`, `<img src="https://site.example/a.jpg"/>`},
		{"data-lazy-srcset", `<img data-lazy-src="/a.jpg" data-lazy-srcset="/a-300.jpg 300w">`, `<img src="https://site.example/a.jpg" srcset="https://site.example/a-300.jpg 300w"/>`},
		{"lazy source in picture", `<picture><source data-srcset="/a.webp" type="image/webp"><img data-src="/a.jpg"></picture>`,
			`<picture><source type="image/webp" srcset="https://site.example/a.webp"/><img src="https://site.example/a.jpg"/></picture>`},
		{"data URI in a lazy attribute ignored", `<img src="/a.jpg" data-src="` + gif + `">`, `<img src="https://site.example/a.jpg"/>`},
		{"placeholder without a real URL dropped", `<p>x<img src="` + gif + `"></p>`, `<p>x</p>`},
		{"placeholder file without a real URL dropped", `<p>x<img src="/static/img/placeholder.png"><img src="/i/spacer.gif" alt="s"></p>`, `<p>x</p>`},
		{"placeholder src with a srcset", `<img src="/blank.gif" srcset="/a.jpg 1x">`, `<img srcset="https://site.example/a.jpg 1x"/>`},

		// Noscript fallbacks.
		{"noscript after a lazy image: one image", `<img class="lazy" data-src="/a.jpg"><noscript><img src="/a.jpg"></noscript>`, `<img src="https://site.example/a.jpg"/>`},
		{"noscript replaces a placeholder", `<img class="js-lazy" alt="x"><noscript><img src="/a.jpg" alt="x"></noscript>`, `<img src="https://site.example/a.jpg" alt="x"/>`},
		{"noscript replaces a placeholder in a wrapper", `<figure><span class="w"><img src="/blank.gif"></span><noscript><img src="/a.jpg"></noscript><figcaption>c</figcaption></figure>`,
			`<figure><span><img src="https://site.example/a.jpg"/></span><figcaption>c</figcaption></figure>`},
		{"noscript alone unwrapped", `<p>x</p><noscript><img src="/a.jpg"></noscript>`, `<p>x</p><img src="https://site.example/a.jpg"/>`},
		{"noscript without an image dropped", `<p>x</p><noscript><p>Please enable JavaScript.</p></noscript>`, `<p>x</p>`},
		{"noscript tracking pixel dropped", `<p>x</p><noscript><img src="https://sb.scorecardresearch.com/p?c1=2" width="1" height="1"></noscript>`, `<p>x</p>`},

		// Tracking pixels.
		{"1x1 image", `<p>a<img src="/t.gif" width="1" height="1">b</p>`, `<p>ab</p>`},
		{"1px dimensions", `<p>a<img src="/t.gif" width="1px" height="1px"></p>`, `<p>a</p>`},
		{"zero width", `<p>a<img src="/t.gif" width="0"></p>`, `<p>a</p>`},
		{"hidden by style", `<p>a<img src="/t.gif" style="display: none"></p>`, `<p>a</p>`},
		{"one dimension small is an image", `<img src="/rule.png" width="600" height="1">`, `<img src="https://site.example/rule.png" width="600" height="1"/>`},
		{"feedburner", `<p>a</p><img src="https://feeds.feedburner.com/~r/Blog/~4/abc" height="1" width="1" alt=""/>`, `<p>a</p>`},
		{"feedburner without size", `<p>a</p><img src="http://feeds.feedburner.com/~r/Blog/~4/abc">`, `<p>a</p>`},
		{"feedburner flare link", `<p>a</p><a href="http://feeds.feedburner.com/~ff/Blog?a=x"><img src="http://feeds.feedburner.com/~ff/Blog?d=y" border="0"></a>`, `<p>a</p>`},
		{"feedproxy", `<p>a</p><img src="https://feedproxy.google.com/~r/Blog/~4/abc">`, `<p>a</p>`},
		{"wordpress pixel", `<p>a</p><img src="https://pixel.wp.com/g.gif?blog=1">`, `<p>a</p>`},
		{"wordpress stats", `<p>a</p><img src="https://stats.wordpress.com/b.gif?v=noscript">`, `<p>a</p>`},
		{"google analytics", `<p>a</p><img src="https://www.google-analytics.com/collect?v=1">`, `<p>a</p>`},
		{"mf.feeds host", `<p>a</p><img src="http://mf.feeds.reuters.com/c/feedburner/123/f/456/s/789/mf.gif">`, `<p>a</p>`},
		{"pixel path", `<p>a</p><img src="https://news.example/pixel?id=3"><img src="https://news.example/t/pixel.gif">`, `<p>a</p>`},
		{"pixel-like names are images", `<img src="https://news.example/pixel-art/cat.png">`, `<img src="https://news.example/pixel-art/cat.png"/>`},

		// Empty elements.
		{"empty paragraph", `<p>a</p><p></p><p> </p><p>&nbsp;</p><p>b</p>`, `<p>a</p><p>b</p>`},
		{"nested empties", `<div><div><span></span><br></div></div><p>a</p>`, `<p>a</p>`},
		{"link without text", `<p>a <a href="/x"></a>b</p>`, `<p>a b</p>`},
		{"link left empty by a pixel", `<p>a</p><a href="/x"><img src="/t.gif" width="1" height="1"></a>`, `<p>a</p>`},
		{"image paragraph kept", `<p><img src="/a.jpg"></p>`, `<p><img src="https://site.example/a.jpg"/></p>`},
		{"line break between text kept", `<p>a<br>b</p>`, `<p>a<br/>b</p>`},
		{"empty table cell kept", `<table><tr><td></td><td>x</td></tr></table>`, `<table><tbody><tr><td></td><td>x</td></tr></tbody></table>`},
		{"paragraph emptied by sanitizing", `<p><script>x()</script></p><p>a</p>`, `<p>a</p>`},

		// Whitespace.
		{"runs collapsed", "<p>a  \n\t b</p>", `<p>a b</p>`},
		{"between blocks dropped", "<p>a</p>\n\n  <p>b</p>", `<p>a</p><p>b</p>`},
		{"at block edges dropped", "<p>  a <b>b</b>  </p>", `<p>a <b>b</b></p>`},
		{"between inline elements kept", "<p><b>a</b> <i>b</i></p>", `<p><b>a</b> <i>b</i></p>`},
		{"inside an inline element kept", "<p>a<span> b</span></p>", `<p>a<span> b</span></p>`},
		{"pre untouched", "<pre>a  b\n  c</pre>", "<pre>a  b\n  c</pre>"},
		{"code in pre untouched", "<pre><code>if x {\n\treturn\n}</code></pre>", "<pre><code>if x {\n\treturn\n}</code></pre>"},
		{"no-break spaces kept", "<p>10\u00a0km</p>", "<p>10\u00a0km</p>"},

		// Iframes.
		{"youtube", `<iframe width="560" height="315" src="https://www.youtube.com/embed/abc?rel=0" frameborder="0" allow="autoplay" allowfullscreen title="T"></iframe>`,
			`<iframe width="560" height="315" src="https://www.youtube.com/embed/abc?rel=0" allowfullscreen="" title="T"></iframe>`},
		{"youtube protocol-relative, no www", `<iframe src="//youtube.com/embed/abc"></iframe>`, `<iframe src="https://www.youtube.com/embed/abc"></iframe>`},
		{"youtube http", `<iframe src="http://www.youtube.com/embed/abc"></iframe>`, `<iframe src="https://www.youtube.com/embed/abc"></iframe>`},
		{"youtube-nocookie", `<iframe src="https://www.youtube-nocookie.com/embed/abc"></iframe>`, `<iframe src="https://www.youtube-nocookie.com/embed/abc"></iframe>`},
		{"vimeo", `<iframe src="https://player.vimeo.com/video/123?h=9" width="640" height="360" allowfullscreen></iframe>`, `<iframe src="https://player.vimeo.com/video/123?h=9" width="640" height="360" allowfullscreen=""></iframe>`},
		{"lazy youtube", `<iframe data-src="https://www.youtube.com/embed/abc" class="lazyload"></iframe>`, `<iframe src="https://www.youtube.com/embed/abc"></iframe>`},
		{"fallback content dropped", `<iframe src="https://www.youtube.com/embed/abc"><p>Your browser <b>cannot</b></p></iframe>`, `<iframe src="https://www.youtube.com/embed/abc"></iframe>`},
		{"youtube page, not a player", `<p>a</p><iframe src="https://www.youtube.com/watch?v=abc"></iframe>`, `<p>a</p>`},
		{"look-alike host", `<p>a</p><iframe src="https://www.youtube.com.evil.example/embed/abc"></iframe>`, `<p>a</p>`},
		{"vimeo site, not its player", `<p>a</p><iframe src="https://vimeo.com/123"></iframe>`, `<p>a</p>`},
		{"ad frame", `<p>a</p><iframe src="https://ads.example/slot" width="300" height="250"></iframe>`, `<p>a</p>`},
		{"javascript frame", `<p>a</p><iframe src="javascript:alert(1)"></iframe>`, `<p>a</p>`},
		{"frame without src", `<p>a</p><iframe width="1" height="1"></iframe>`, `<p>a</p>`},
		{"a player alone is content", `<iframe src="https://player.vimeo.com/video/1"></iframe>`, `<iframe src="https://player.vimeo.com/video/1"></iframe>`},
	}
	base := testkit.MustURL(t, "https://site.example/blog/")
	page := testkit.MustURL(t, "https://site.example/blog/post")
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
			if again := n.sanitizeHTML(got, base, page); again != got {
				t.Errorf("not idempotent:\n once %q\ntwice %q", got, again)
			}
		})
	}
}

// TestBluemondayIframes pins that the policy itself refuses iframes other
// than players, should fixIframe ever let one through.
func TestBluemondayIframes(t *testing.T) {
	p := newPolicy()
	tests := []struct{ in, want string }{
		{`<iframe src="https://www.youtube.com/embed/x"></iframe>`, `<iframe src="https://www.youtube.com/embed/x"></iframe>`},
		{`<iframe src="https://youtube.com/embed/x"></iframe>`, ``},
		{`<iframe src="https://ads.example/"></iframe>`, ``},
		{`<iframe src="https://ads.example/" width="300"></iframe>`, `<iframe width="300"></iframe>`},
	}
	for _, tc := range tests {
		if got := p.Sanitize(tc.in); got != tc.want {
			t.Errorf("Sanitize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// The last case is why tidy's input never holds such an iframe:
	// fixIframe drops it before the policy runs.
	if got := New(Options{}).sanitizeHTML(`<p>a</p><iframe src="https://ads.example/" width="300"></iframe>`, nil, nil); got != `<p>a</p>` {
		t.Errorf("sanitizeHTML kept a foreign iframe: %q", got)
	}
}
