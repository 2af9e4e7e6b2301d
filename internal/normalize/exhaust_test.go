package normalize

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/testkit"
)

// billionLaughs is the classic entity expansion bomb: ten levels of ten
// references each, a billion "lol"s (3 GB) if expanded.
func billionLaughs(root string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?>` + "\n<!DOCTYPE " + root + " [\n<!ENTITY lol0 \"lol\">\n")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, "<!ENTITY lol%d \"%s\">\n", i, strings.Repeat(fmt.Sprintf("&lol%d;", i-1), 10))
	}
	b.WriteString("]>\n")
	return b.String()
}

// quadraticBlowup declares one large entity and references it many times:
// no nesting for a depth limit to catch, still gigabytes if expanded.
func quadraticBlowup(root string) string {
	return `<?xml version="1.0"?>` + "\n<!DOCTYPE " + root + ` [<!ENTITY a "` + strings.Repeat("a", 100_000) + `">]>` + "\n"
}

// nested returns depth open tags, text, and depth close tags.
func nested(open, close string, depth int) string {
	return strings.Repeat(open, depth) + "x" + strings.Repeat(close, depth)
}

// TestResourceExhaustion feeds Normalize the inputs that exhaust naive
// parsers: entity expansion bombs, external entities, deep nesting in every
// place that nests, and more elements or items than a feed ever has. Each
// must finish within the time and heap budgets, with an error (tooComplex
// says which) or a result that holds no expansion.
func TestResourceExhaustion(t *testing.T) {
	depth := testkit.BombDepth
	lols := strings.Repeat("&lol9;", 10)
	tests := []struct {
		name       string
		body       string
		tooComplex bool
	}{
		{"billion laughs rss", billionLaughs("rss") + `<rss version="2.0"><channel><title>&lol9;</title><item><title>` + lols + `</title><description>&lol9;</description></item></channel></rss>`, false},
		{"billion laughs atom", billionLaughs("feed") + `<feed xmlns="http://www.w3.org/2005/Atom"><title>&lol9;</title><entry><id>1</id><title type="html">&lol9;</title><content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">` + lols + `</div></content></entry></feed>`, false},
		{"quadratic blowup", quadraticBlowup("rss") + `<rss version="2.0"><channel><item><title>` + strings.Repeat("&a;", 10_000) + `</title></item></channel></rss>`, false},
		{"external entity", `<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd"><!ENTITY % p SYSTEM "http://127.0.0.1:1/evil.dtd"> %p;]><rss version="2.0"><channel><item><title>&xxe;</title></item></channel></rss>`, false},
		{"nested elements in a channel", `<rss version="2.0"><channel><item><title>t</title></item>` + nested("<x>", "</x>", depth) + `</channel></rss>`, true},
		{"nested elements in a description", `<rss version="2.0"><channel><item><title>t</title><description>` + nested("<div>", "</div>", depth) + `</description></item></channel></rss>`, true},
		{"unclosed nested elements", `<rss version="2.0"><channel><item><title>t</title><description>` + strings.Repeat("<div>", depth), true},
		{"nested xhtml content", `<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>1</id><title>t</title><content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">` + nested("<div>", "</div>", depth) + `</div></content></entry></feed>`, true},
		{"nested atom extension", `<feed xmlns="http://www.w3.org/2005/Atom" xmlns:e="urn:e"><entry><id>1</id><title>t</title>` + nested("<e:x>", "</e:x>", depth) + `</entry></feed>`, true},
		{"nested escaped html", `<rss version="2.0"><channel><item><title>t</title><description>` + nested("&lt;div&gt;", "&lt;/div&gt;", depth) + `</description></item></channel></rss>`, false},
		{"nested unclosed escaped html", `<rss version="2.0"><channel><item><title>t</title><description>` + strings.Repeat("&lt;b&gt;&lt;i&gt;", depth/2) + `</description></item></channel></rss>`, false},
		{"nested html in a title", `<rss version="2.0"><channel><item><title>` + nested("&lt;span&gt;", "&lt;/span&gt;", depth) + `</title></item></channel></rss>`, false},
		{"nested json arrays", `{"version":"https://jsonfeed.org/version/1.1","items":[{"id":"1","title":` + nested("[", "]", depth) + `}]}`, true},
		{"nested json objects", `{"version":"https://jsonfeed.org/version/1.1","items":[{"id":"1","_x":` + nested(`{"a":`, "}", depth) + `}]}`, true},
		{"nested json html", `{"version":"https://jsonfeed.org/version/1.1","items":[{"id":"1","content_html":"` + nested("<p>", "</p>", depth) + `"}]}`, false},
		{"too many elements", `<feed xmlns="http://www.w3.org/2005/Atom" xmlns:e="urn:e"><entry><id>1</id><title>t</title>` + strings.Repeat("<e:x/>", MaxElements) + `</entry></feed>`, true},
		{"too many items", `<rss version="2.0"><channel>` + strings.Repeat("<item></item>", MaxItems+1) + `</channel></rss>`, true},
		{"too many json items", `{"version":"https://jsonfeed.org/version/1.1","items":[` + strings.Repeat("{},", MaxItems) + `{}]}`, true},
		{"too many json objects", `{"version":"https://jsonfeed.org/version/1.1","items":[{"_x":[` + strings.Repeat("[],", MaxElements) + `[]]}]}`, true},
	}
	n := New(Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				got *Feed
				err error
			)
			c := testkit.Measure(func() {
				got, err = n.Normalize(feed.Source{Name: "bomb"}, []byte(tt.body), "https://bomb.example/feed", testNow)
			})
			t.Logf("%d bytes in: %v, err %v", len(tt.body), c, err)
			if c.Over(len(tt.body)) {
				t.Errorf("took %v; the budget is %v", c, testkit.Budget(len(tt.body)))
			}
			if got := errors.Is(err, ErrTooComplex); got != tt.tooComplex {
				t.Errorf("error %v; want too complex: %v", err, tt.tooComplex)
			}
			if err == nil {
				checkInvariants(t, got)
				for _, it := range got.Items {
					for _, s := range []string{it.Title, it.Summary, it.Content} {
						if strings.Contains(s, "lollol") || strings.Contains(s, strings.Repeat("a", 50)) || strings.Contains(s, "root:") {
							t.Errorf("an entity was expanded: %.80q", s)
						}
					}
				}
			}
		})
	}
}

// TestShapeLimits pins where the limits lie and that the feeds that come
// near them for honest reasons pass: sloppy raw HTML, ten thousand items,
// deep but sane nesting, markup-like text in strings.
func TestShapeLimits(t *testing.T) {
	rssItems := func(n int, item string) string {
		return `<rss version="2.0"><channel>` + strings.Repeat(item, n) + `</channel></rss>`
	}
	tests := []struct {
		name string
		body string
		ok   bool
	}{
		{"10,000 items of 20 elements", rssItems(10_000, "<item>"+strings.Repeat("<category>c</category>", 19)+"</item>"), true},
		{"items at the limit", rssItems(MaxItems, "<item/>"), true},
		{"items past the limit", rssItems(MaxItems+1, "<item/>"), false},
		{"atom entries past the limit", `<feed xmlns="http://www.w3.org/2005/Atom">` + strings.Repeat("<atom:entry/>", MaxItems+1) + `</feed>`, false},
		{"depth at the limit", nested("<x>", "</x>", MaxDepth), true},
		{"depth past the limit", nested("<x>", "</x>", MaxDepth+1), false},
		{"self-closing elements do not nest", rssItems(1, "<item>"+strings.Repeat("<x/>", 10_000)+"</item>"), true},
		{"unclosed line breaks do not nest", rssItems(1, "<item><description>"+strings.Repeat("<br>", 10_000)+"</description></item>"), true},
		{"unclosed paragraphs nest", rssItems(1, "<item><description>"+strings.Repeat("<p>", MaxDepth+1)+"</description></item>"), false},
		{"a quoted '>' does not end a tag", `<rss a=">" b='>'>` + nested("<x y='>'>", "</x>", MaxDepth-1) + `</rss>`, true},
		{"comments, CDATA and doctypes hold no tags", `<!DOCTYPE rss [<!ENTITY a "<x>">]><rss><!--` + strings.Repeat("<x>", 1000) + `--><![CDATA[` + strings.Repeat("<x>", 1000) + `]]></rss>`, true},
		{"stray '<' in text", rssItems(1, "<item><title>"+strings.Repeat("a < b ", 1000)+"</title></item>"), true},
		{"unterminated comment", "<rss><!-- " + strings.Repeat("<x>", 1000), true},
		{"json at the depth limit", nested("[", "]", MaxDepth), true},
		{"json past the depth limit", nested("[", "]", MaxDepth+1), false},
		{"json brackets in strings", `{"items":[{"title":"` + strings.Repeat(`[{\"`, 1000) + `"}]}`, true},
		{"json items at the limit", `{"items":[` + strings.Repeat("{},", MaxItems-1) + `{}]}`, true},
		{"json authors count as items", `{"authors":[{},{}],"items":[` + strings.Repeat("{},", MaxItems-2) + `{}]}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkShape([]byte(tt.body))
			if (err == nil) != tt.ok || err != nil && !errors.Is(err, ErrTooComplex) {
				t.Errorf("checkShape = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

// TestTooComplexPageIsNotAFeed keeps autodiscovery working for web pages
// past the limits: what matters about them is that they are not feeds.
func TestTooComplexPageIsNotAFeed(t *testing.T) {
	page := "<!DOCTYPE html><html><head><link rel=alternate type=application/rss+xml href=/feed></head><body>" + strings.Repeat("<div>", MaxDepth+1)
	_, err := New(Options{}).Normalize(feed.Source{Name: "page"}, []byte(page), "https://page.example/", testNow)
	if !errors.Is(err, ErrNotAFeed) {
		t.Errorf("Normalize = %v, want ErrNotAFeed", err)
	}
}
