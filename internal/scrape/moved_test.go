package scrape

import (
	"regexp"
	"strings"
	"testing"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/normalize"
	"github.com/feedmill/feedmill/internal/testkit"
)

// FuzzExtract feeds arbitrary pages to Extract, with selector rules and with
// readability: it must never panic, and an article it returns must have
// text and keep the promises of sanitizeHTML (only absolute http(s)/mailto
// URLs, no script URL, no iframe but a video player).
//
//	go test -run '^$' -fuzz=FuzzExtract -fuzztime=1m -fuzzminimizetime=5s ./internal/scrape/
func FuzzExtract(f *testing.F) {
	sites := loadSites(f)
	for _, s := range sites {
		for _, slug := range s.Articles {
			f.Add(s.page(f, slug))
		}
	}
	for _, seed := range []string{
		``,
		`<article><p>x</p></article>`,
		`<html><head><base href="javascript:x/"><link rel="canonical" href="data:x"></head><body><article class="story"><p>a<img data-src="//evil.example/a.png"><noscript><noscript><img src="x"></noscript></noscript><iframe src="//www.youtube.com/embed/x"><script>alert(1)</script></iframe></p></article></body></html>`,
		`<svg><p><style><img src=x onerror=alert(1)></style></p></svg><article class="story">text</article>`,
		`<table><article class="story"><p>misnested</table></p>`,
	} {
		f.Add([]byte(seed))
	}
	n := newTestScraper()
	byRules := sites[0].source(true)
	byRules.Rewrites = []feed.Rewrite{{Field: feed.FieldContent, Pattern: `a`, Replace: `<a href="javascript:x">a</a>`}}
	auto := sites[0].source(false)
	f.Fuzz(func(t *testing.T, page []byte) {
		for _, src := range []feed.Source{byRules, auto} {
			art, err := n.Extract(src, page, "https://fuzz.example/news/1")
			if err != nil {
				if art != nil {
					t.Errorf("Extract returned an article and an error: %v", err)
				}
				continue
			}
			if normalize.CleanText(art.Content) == "" {
				t.Errorf("article without text: %q", art.Content)
			}
			if bad := testkit.UnsafeURLs(art.Content); len(bad) > 0 {
				t.Errorf("unsafe URLs %q in %q", bad, art.Content)
			}
			for _, tag := range iframeTag.FindAllString(art.Content, -1) {
				m := srcAttr.FindStringSubmatch(tag)
				if m == nil || !rules.Player.MatchString(m[1]) {
					t.Errorf("iframe %s in %q", tag, art.Content)
				}
			}
			if strings.Contains(strings.ToLower(art.Content), "<script") {
				t.Errorf("script in %q", art.Content)
			}
			if art.Canonical != "" && !strings.HasPrefix(art.Canonical, "http") {
				t.Errorf("canonical %q", art.Canonical)
			}
		}
	})
}

// TestHasFullContentSites checks the rule on real extractions: the
// fixtures' articles are short news stories, under the threshold, so feeds
// carrying them as content would still be fetched.
func TestHasFullContentSites(t *testing.T) {
	n := newTestScraper()
	var items []feed.Item
	for _, s := range loadSites(t) {
		for _, slug := range s.Articles {
			art, err := n.Extract(s.source(true), s.page(t, slug), s.url(slug))
			if err != nil {
				t.Fatal(err)
			}
			items = append(items, feed.Item{Content: art.Content})
		}
	}
	if normalize.HasFullContent(items) {
		t.Error("the fixtures' stories, about 1,000 characters each, count as full articles")
	}
	for i := range items {
		items[i].Content += items[i].Content // twice as long: full
	}
	if !normalize.HasFullContent(items) {
		t.Error("stories of 2,000 characters do not count as full articles")
	}
}

// TestExtractDeepNesting pins what Extract relies on for article pages:
// x/net/html refuses a page nested deeper than 512 elements, quickly, so a
// hostile page fails with an error instead of costing memory or time.
func TestExtractDeepNesting(t *testing.T) {
	pages := map[string]string{
		"divs":   "<html><body><article>" + strings.Repeat("<div>", testkit.BombDepth) + "text</article></body></html>",
		"inline": "<html><body><article><p>" + strings.Repeat("<b><i>", testkit.BombDepth/2) + "text</p></article></body></html>",
		"tables": "<html><body>" + strings.Repeat("<table><tr><td>", testkit.BombDepth/3) + "text</body></html>",
	}
	n := newTestScraper()
	for name, page := range pages {
		for _, src := range []feed.Source{{Name: "auto"}, {Name: "rules", Content: feed.ContentRules{Select: "article"}}} {
			t.Run(name+"/"+src.Name, func(t *testing.T) {
				var err error
				c := testkit.Measure(func() { _, err = n.Extract(src, []byte(page), "https://deep.example/a") })
				t.Logf("%d bytes in: %v", len(page), c)
				if err == nil {
					t.Error("Extract of a page nested past 512 levels succeeded")
				}
				if c.Over(len(page)) {
					t.Errorf("took %v; the budget is %v", c, testkit.Budget(len(page)))
				}
			})
		}
	}
}

// iframeTag and srcAttr find the iframes of extracted content (as in
// normalize's FuzzSanitize).
var (
	iframeTag = regexp.MustCompile(`<iframe[^>]*>`)
	srcAttr   = regexp.MustCompile(` src="([^"]*)"`)
)
