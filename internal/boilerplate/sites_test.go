package boilerplate

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/feedmill/feedmill/internal/normalize"

	"golang.org/x/net/html"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/testkit"
)

// sites are the invented news sites in testdata/, each a directory of
// articles as readability or a feed gives them (N.html, the story inside its
// furniture), with:
//   - N.story: the story, one block per line, in order; "img: URL" for an
//     image of the story;
//   - furniture.txt: phrases of the site's furniture, none of which may be
//     left after cleaning;
//   - N.golden.html and N.removed.golden.txt: the cleaned article and what
//     Clean reported removing (go test -update rewrites them).
var sites = []string{
	"northwind", // full text by readability: banner, credit line, newsletter box between paragraphs, donation appeal, "Read more" list, share row, cookie notice
	"harbour",   // feed content, flat: banner image, stripped buttons as bare text, "Related" link paragraphs, yearly copyright line
	"valley",    // only three articles: an appeal in all, "Listen to this article" in two of three, photo credits, boxed notices
	"fernhill",  // a small blog: its mark (a template image) and a sign-off in every post; the author's sketch reused in 3 of 8 posts and a series banner in 4, which stay
}

type article struct {
	name  string // file name without extension
	html  string
	story []string
}

// loadSite reads the articles of a site, and its furniture phrases.
func loadSite(t testing.TB, site string) ([]article, []string) {
	t.Helper()
	dir := filepath.Join("testdata", site)
	var articles []article
	for i := 1; ; i++ {
		name := strconv.Itoa(i)
		body, err := os.ReadFile(filepath.Join(dir, name+".html"))
		if os.IsNotExist(err) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		story, err := os.ReadFile(filepath.Join(dir, name+".story"))
		if err != nil {
			t.Fatal(err)
		}
		articles = append(articles, article{name: name, html: string(body), story: lines(string(story))})
	}
	furniture, err := os.ReadFile(filepath.Join(dir, "furniture.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(articles) < 3 {
		t.Fatalf("%s: %d articles, want at least 3", site, len(articles))
	}
	return articles, lines(string(furniture))
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// siteItems makes the stored items of a site's articles, newest first, as
// refresh hands them to Learn.
func siteItems(site string, articles []article) []feed.Item {
	items := make([]feed.Item, 0, len(articles))
	for i := len(articles) - 1; i >= 0; i-- {
		a := articles[i]
		link := "https://" + site + ".example/story/" + a.name
		items = append(items, feed.Item{Source: site, ID: link, Link: link, RawContent: a.html, Content: a.html})
	}
	return items
}

// TestSites learns each site from its articles and cleans each article: the
// whole story stays, in order, and none of the furniture does.
func TestSites(t *testing.T) {
	for _, site := range sites {
		t.Run(site, func(t *testing.T) {
			articles, furniture := loadSite(t, site)
			checkFixtures(t, articles, furniture)
			m := Learn(siteItems(site, articles))
			if m.Articles() != len(articles) {
				t.Errorf("Articles() = %d, want %d", m.Articles(), len(articles))
			}
			if m.Key() == "" {
				t.Fatal("Key() is empty: nothing learned")
			}
			for _, a := range articles {
				t.Run(a.name, func(t *testing.T) {
					out, removals := m.Clean(a.html)
					if len(removals) == 0 {
						t.Fatal("nothing removed")
					}
					checkStory(t, out, a.story)
					for _, f := range furniture {
						if strings.Contains(out, f) {
							t.Errorf("furniture %q left in the cleaned article", f)
						}
					}
					if len(out) >= len(a.html) {
						t.Errorf("cleaned article is %d bytes, the input %d", len(out), len(a.html))
					}
					checkWellFormed(t, out)
					again, more := m.Clean(out)
					if again != out || more != nil {
						t.Errorf("Clean is not idempotent: second pass removed %v", more)
					}
					var report strings.Builder
					for _, r := range removals {
						fmt.Fprintln(&report, r)
					}
					testkit.Golden(t, filepath.Join("testdata", site, a.name+".golden.html"), []byte(out))
					testkit.Golden(t, filepath.Join("testdata", site, a.name+".removed.golden.txt"), []byte(report.String()))
				})
			}
		})
	}
}

// checkFixtures guards the fixtures themselves: every furniture phrase is in
// some article and in no story, so that the checks of TestSites mean what
// they say.
func checkFixtures(t *testing.T, articles []article, furniture []string) {
	t.Helper()
	for _, f := range furniture {
		found := false
		for _, a := range articles {
			found = found || strings.Contains(a.html, f)
			for _, s := range a.story {
				if strings.Contains(s, f) {
					t.Errorf("furniture phrase %q is in story line %q of article %s", f, s, a.name)
				}
			}
		}
		if !found {
			t.Errorf("furniture phrase %q is in no article", f)
		}
	}
	for _, a := range articles {
		checkStory(t, a.html, a.story)
	}
}

// checkStory fails t unless every line of story is in fragment, in order.
// It reads fragment with the tokenizer, not with the code under test.
func checkStory(t *testing.T, fragment string, story []string) {
	t.Helper()
	flat := flatten(fragment)
	at := 0
	for _, line := range story {
		i := strings.Index(flat[at:], line)
		if i < 0 {
			if strings.Contains(flat, line) {
				t.Errorf("story line %q is out of order", line)
			} else {
				t.Errorf("story line %q is missing", line)
			}
			continue
		}
		at += i + len(line)
	}
}

// flatten renders fragment as text, whitespace collapsed, with each image as
// "img: URL".
func flatten(fragment string) string {
	z := html.NewTokenizer(strings.NewReader(fragment))
	var b strings.Builder
	for {
		switch z.Next() {
		case html.ErrorToken:
			return strings.Join(strings.Fields(b.String()), " ")
		case html.TextToken:
			b.Write(z.Text())
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			if tok.Data == "img" {
				for _, a := range tok.Attr {
					if a.Key == "src" {
						b.WriteString(" img: " + a.Val + " ")
					}
				}
			}
		}
	}
}

// checkWellFormed fails t unless fragment is what x/net/html renders of it:
// balanced, quoted, escaped.
func checkWellFormed(t *testing.T, fragment string) {
	t.Helper()
	root := normalize.ParseFragment(fragment)
	var b strings.Builder
	for c := root.FirstChild; c != nil; c = c.NextSibling {
		if err := html.Render(&b, c); err != nil {
			t.Fatal(err)
		}
	}
	if b.String() != fragment {
		t.Errorf("output is not well-formed; it renders as\n%s", b.String())
	}
}

// TestSitesTooFewArticles pins that two articles teach nothing: each site's
// first two articles come out byte for byte as they went in.
func TestSitesTooFewArticles(t *testing.T) {
	for _, site := range sites {
		t.Run(site, func(t *testing.T) {
			articles, _ := loadSite(t, site)
			for n := 0; n <= 2; n++ {
				m := Learn(siteItems(site, articles[:n]))
				if m.Key() != "" {
					t.Errorf("%d articles: Key() = %q, want empty", n, m.Key())
				}
				for _, a := range articles {
					if out, removals := m.Clean(a.html); out != a.html || removals != nil {
						t.Errorf("%d articles: article %s changed, removals %v", n, a.name, removals)
					}
				}
			}
		})
	}
}
