package scrape

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"codeberg.org/readeck/go-readability/v2"
	nethtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/net/html/charset"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/normalize"
	"github.com/feedmill/feedmill/internal/testkit"
)

// site is a testdata/sites/<dir>/site.json: an invented news site whose
// article pages are stored as served, with the rules that extract them.
type site struct {
	dir       string
	Name      string   `json:"name"`
	Prefix    string   `json:"prefix"`  // an article's URL is Prefix + slug + Suffix
	Suffix    string   `json:"suffix"`  //
	Charset   string   `json:"charset"` // of the stored pages, declared only in a <meta>
	Select    string   `json:"select"`
	Remove    []string `json:"remove"`
	Furniture []string `json:"furniture"` // text no extraction with the rules may contain
	Articles  []string `json:"articles"`  // slugs: <slug>.html and <slug>.story.txt
}

func (s site) source(withRules bool) feed.Source {
	src := feed.Source{Name: s.dir, URL: s.Prefix + "feed", FullText: true}
	if withRules {
		src.Content = feed.ContentRules{Select: s.Select, Remove: s.Remove}
	}
	return src
}

func (s site) url(slug string) string { return s.Prefix + slug + s.Suffix }

// page returns the article page as internal/fetch delivers it: converted
// to UTF-8 by x/net/html/charset, which finds a charset declared only in a
// <meta> (the pages' <meta> is left in place, as fetch leaves it).
func (s site) page(t testing.TB, slug string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "sites", s.dir, slug+".html"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := charset.NewReader(bytes.NewReader(raw), "text/html")
	if err != nil {
		t.Fatal(err)
	}
	page, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return page
}

// story returns the paragraphs of the article's story, in order.
func (s site) story(t testing.TB, slug string) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "sites", s.dir, slug+".story.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var paras []string
	for line := range strings.SplitSeq(string(raw), "\n") {
		if line = strings.Join(strings.Fields(line), " "); line != "" {
			paras = append(paras, line)
		}
	}
	return paras
}

func loadSites(t testing.TB) []site {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join("testdata", "sites", "*", "site.json"))
	if err != nil || len(dirs) < 3 {
		t.Fatalf("want at least three sites in testdata/sites, found %d (%v)", len(dirs), err)
	}
	var sites []site
	for _, path := range dirs {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		s := site{dir: filepath.Base(filepath.Dir(path))}
		if err := json.Unmarshal(data, &s); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		sites = append(sites, s)
	}
	return sites
}

// visibleText returns the text a reader sees in sanitized HTML, whitespace
// collapsed.
func visibleText(htmlText string) string {
	ctx := &nethtml.Node{Type: nethtml.ElementNode, Data: "div", DataAtom: atom.Div}
	nodes, err := nethtml.ParseFragment(strings.NewReader(htmlText), ctx)
	if err != nil {
		return ""
	}
	for _, n := range nodes {
		ctx.AppendChild(n)
	}
	return strings.Join(strings.FieldsFunc(normalize.BlockText(ctx, nil), normalize.IsBlank), " ")
}

// checkStory fails t unless every paragraph appears in text, in order.
func checkStory(t *testing.T, text string, paras []string) {
	t.Helper()
	rest := text
	for i, p := range paras {
		at := strings.Index(rest, p)
		if at < 0 {
			if strings.Contains(text, p) {
				t.Errorf("story paragraph %d is out of order: %q", i+1, p)
			} else {
				t.Errorf("story paragraph %d is missing: %q", i+1, p)
			}
			continue
		}
		rest = rest[at+len(p):]
	}
}

// TestExtractSites extracts every stored article page, with the site's rules
// and with readability alone, and compares each result with its golden file
// (-update rewrites them). Both must hold every story paragraph in order;
// with the rules, no furniture may be left. Without rules furniture may
// remain: removing it is learned boilerplate's job, later in the pipeline.
func TestExtractSites(t *testing.T) {
	n := newTestScraper()
	for _, s := range loadSites(t) {
		for _, slug := range s.Articles {
			for _, mode := range []string{"rules", "auto"} {
				t.Run(s.dir+"/"+slug+"/"+mode, func(t *testing.T) {
					pageURL := s.url(slug)
					art, err := n.Extract(s.source(mode == "rules"), s.page(t, slug), pageURL)
					if err != nil {
						t.Fatalf("Extract: %v", err)
					}
					text := visibleText(art.Content)
					checkStory(t, text, s.story(t, slug))
					if mode == "rules" {
						for _, f := range s.Furniture {
							if strings.Contains(strings.ToLower(text), strings.ToLower(f)) {
								t.Errorf("furniture %q left in %q", f, text)
							}
						}
					}
					if art.Canonical != pageURL {
						t.Errorf("Canonical = %q, want %q", art.Canonical, pageURL)
					}
					if art.Title == "" {
						t.Error("no title")
					}
					checkHygiene(t, art.Content, mode == "rules")
					testkit.Golden(t, filepath.Join("testdata", "sites", s.dir, slug+"."+mode+".golden.html"), goldenArticle(art))
				})
			}
		}
	}
}

// checkHygiene fails t when extracted HTML carries what hygiene removes.
func checkHygiene(t *testing.T, content string, wantImage bool) {
	t.Helper()
	if bad := testkit.UnsafeURLs(content); len(bad) > 0 {
		t.Errorf("unsafe URLs %q", bad)
	}
	for _, bad := range []string{"data:", "utm_", "fbclid", "pixel.wp.com", "feedburner", "yadro", "google-analytics", "placeholder", "blank.gif", "<noscript", "<script", "<form", "<input", "<button", "adnetwork", "<p></p>", "  "} {
		if strings.Contains(content, bad) {
			t.Errorf("content holds %q:\n%s", bad, content)
		}
	}
	if wantImage && !strings.Contains(content, "<img") {
		t.Errorf("content has no image:\n%s", content)
	}
	// Every image is shown once: no noscript fallback beside its script
	// version.
	seen := map[string]bool{}
	for _, m := range imgSrc.FindAllStringSubmatch(content, -1) {
		if seen[m[1]] {
			t.Errorf("image %s shown twice", m[1])
		}
		seen[m[1]] = true
	}
}

var imgSrc = regexp.MustCompile(`<img[^>]* src="([^"]*)"`)

// goldenArticle renders an extraction for a golden file: title and
// canonical as comments, then the content with a line break after each
// block, so that a diff shows what moved.
func goldenArticle(a *Article) []byte {
	var b bytes.Buffer
	b.WriteString("<!-- title: " + a.Title + " -->\n")
	b.WriteString("<!-- canonical: " + a.Canonical + " -->\n")
	b.WriteString(blockEnd.ReplaceAllString(a.Content, "$0\n"))
	b.WriteString("\n")
	return b.Bytes()
}

var blockEnd = regexp.MustCompile(`</(p|figure|h[1-6]|ul|ol|li|blockquote|div|section|article|aside|table|pre)>|<br/>`)

// TestExtractWindows1251 extracts a windows-1251 page (charset declared only
// in its <meta>) converted as internal/fetch converts it, and checks the
// Cyrillic text came through intact.
func TestExtractWindows1251(t *testing.T) {
	var sv site
	for _, s := range loadSites(t) {
		if s.Charset == "windows-1251" {
			sv = s
		}
	}
	if sv.dir == "" {
		t.Fatal("no windows-1251 site in testdata/sites")
	}
	slug := sv.Articles[0]
	raw, err := os.ReadFile(filepath.Join("testdata", "sites", sv.dir, slug+".html"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(sv.story(t, slug)[0][:20])) {
		t.Fatal("the stored page is UTF-8; it must be windows-1251 for this test")
	}
	art, err := newTestScraper().Extract(sv.source(true), sv.page(t, slug), sv.url(slug))
	if err != nil {
		t.Fatalf("Extract: %v", err)
	}
	checkStory(t, visibleText(art.Content), sv.story(t, slug))
	if want := "В порту Новоозерска открыли новый причал для рыболовных судов — Северный вестник"; art.Title != want {
		t.Errorf("Title = %q, want %q", art.Title, want)
	}
}

// TestExtractStaleMetaCharset pins that a page already converted to UTF-8
// is read as UTF-8 although its <meta> still names its old charset, and
// that this needs Extract's own parsing: go-readability's FromReader
// detects the charset itself and would decode the page a second time.
func TestExtractStaleMetaCharset(t *testing.T) {
	story := "Жители Новоозерска выбрали новое название для набережной: она будет называться Поморской. За этот вариант проголосовали почти шесть тысяч человек, больше половины участников опроса."
	page := `<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1251"><title>Набережная</title></head>` +
		`<body><article><h1>Набережная</h1><p>` + story + `</p><p>` + story + ` Ещё раз.</p><p>` + story + ` И снова.</p></article></body></html>`
	for _, rules := range []bool{true, false} {
		src := feed.Source{Name: "sv"}
		if rules {
			src.Content.Select = "article"
		}
		art, err := newTestScraper().Extract(src, []byte(page), "https://sv.example/n/1")
		if err != nil {
			t.Fatalf("rules %v: Extract: %v", rules, err)
		}
		if !strings.Contains(visibleText(art.Content), story) || art.Title != "Набережная" {
			t.Errorf("rules %v: title %q, content %q: want the Cyrillic text intact", rules, art.Title, art.Content)
		}
	}

	a, err := readability.FromReader(strings.NewReader(page), testkit.MustURL(t, "https://sv.example/n/1"))
	if err == nil && a.Node != nil {
		var b strings.Builder
		if err := a.RenderText(&b); err == nil && strings.Contains(b.String(), story) {
			t.Log("go-readability's FromReader now reads this page as UTF-8; the trap Extract avoids is gone")
		}
	}
}

func TestExtractRules(t *testing.T) {
	const page = `<!DOCTYPE html><html><head><title>T | Site</title>
<base href="https://cdn.example/assets/">
<link rel="canonical" href="/story/1?utm_source=x#top">
</head><body>
<nav>Home News</nav>
<div class="col"><div class="body"><p>One <a href="next.html?gclid=9&amp;page=2#p">link</a>.</p><div class="promo">Buy now</div>
<div class="body"><p>Nested body, shown once.</p></div></div></div>
<aside><p>Side text.</p></aside>
<div class="body"><p>Two <img src="pic.jpg" alt="pic"></p></div>
</body></html>`
	tests := []struct {
		name string
		src  feed.Source
		want string
	}{
		{
			name: "all matches in order, nested ones once, remove inside, base href",
			src:  feed.Source{Name: "s", Content: feed.ContentRules{Select: ".body", Remove: []string{".promo"}}},
			want: `<div><p>One <a href="https://cdn.example/assets/next.html?page=2#p">link</a>.</p><div><p>Nested body, shown once.</p></div></div>` +
				`<div><p>Two <img src="https://cdn.example/assets/pic.jpg" alt="pic"/></p></div>`,
		},
		{
			name: "selector group",
			src:  feed.Source{Name: "s", Content: feed.ContentRules{Select: "aside, nav"}},
			want: `Home News<aside><p>Side text.</p></aside>`,
		},
		{
			name: "content rewrites, sanitized again",
			src: feed.Source{Name: "s", Content: feed.ContentRules{Select: "aside"}, Rewrites: []feed.Rewrite{
				{Field: feed.FieldContent, Pattern: `Side`, Replace: `<b onclick="x()">Main</b><script>alert(1)</script>`},
				{Field: feed.FieldTitle, Pattern: `T`, Replace: `Not applied`},
			}},
			want: `<aside><p><b>Main</b> text.</p></aside>`,
		},
	}
	n := newTestScraper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			art, err := n.Extract(tc.src, []byte(page), "https://site.example/story/1")
			if err != nil {
				t.Fatalf("Extract: %v", err)
			}
			if art.Content != tc.want {
				t.Errorf("Content\n got %s\nwant %s", art.Content, tc.want)
			}
			if art.Title != "T | Site" {
				t.Errorf("Title = %q", art.Title)
			}
			if art.Canonical != "https://cdn.example/story/1" {
				t.Errorf("Canonical = %q", art.Canonical)
			}
		})
	}
}

func TestExtractCanonical(t *testing.T) {
	tests := []struct {
		name, head, want string
	}{
		{"absolute, tracking removed", `<link rel="canonical" href="HTTPS://News.Example:443/a/?utm_medium=x&amp;id=3#c">`, "https://news.example/a/?id=3"},
		{"relative", `<link rel="canonical" href="../b">`, "https://site.example/b"},
		{"rel among others, any case", `<link rel="alternate" href="/amp"><link rel="Shortlink Canonical" href="/c">`, "https://site.example/c"},
		{"first one wins", `<link rel="canonical" href="/d"><link rel="canonical" href="/e">`, "https://site.example/d"},
		{"not http", `<link rel="canonical" href="ftp://site.example/f">`, ""},
		{"javascript", `<link rel="canonical" href="javascript:alert(1)">`, ""},
		{"none", ``, ""},
	}
	n := newTestScraper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			page := `<html><head>` + tc.head + `</head><body><article><p>Some article text.</p></article></body></html>`
			art, err := n.Extract(feed.Source{Name: "s", Content: feed.ContentRules{Select: "article"}}, []byte(page), "https://site.example/x/y")
			if err != nil {
				t.Fatalf("Extract: %v", err)
			}
			if art.Canonical != tc.want {
				t.Errorf("Canonical = %q, want %q", art.Canonical, tc.want)
			}
		})
	}
}

func TestExtractErrors(t *testing.T) {
	const article = `<html><body><article><p>Text of the article.</p></article></body></html>`
	tests := []struct {
		name      string
		src       feed.Source
		page      string
		noArticle bool   // the error wraps ErrNoArticle
		mention   string // the error names this too
	}{
		{"empty page", feed.Source{Name: "s"}, ``, true, ""},
		{"only furniture", feed.Source{Name: "s"}, `<html><body><nav><a href="/">Home</a> <a href="/news">News</a></nav><ul><li><a href="/a">Headline</a></li></ul><script>x()</script></body></html>`, true, ""},
		{"selector matches nothing", feed.Source{Name: "s", Content: feed.ContentRules{Select: ".story"}}, article, true, ""},
		{"selector matches only images", feed.Source{Name: "s", Content: feed.ContentRules{Select: "figure"}}, `<figure><img src="/a.jpg"></figure>`, true, ""},
		{"remove takes it all", feed.Source{Name: "s", Content: feed.ContentRules{Select: "article", Remove: []string{"p"}}}, article, true, ""},
		// x/net/html refuses elements nested more than 512 deep.
		{"nested too deep", feed.Source{Name: "s"}, strings.Repeat("<div>", 600) + "<p>text</p>", false, "512"},
		{"bad select", feed.Source{Name: "s", Content: feed.ContentRules{Select: "article["}}, article, false, `"article["`},
		{"bad remove", feed.Source{Name: "s", Content: feed.ContentRules{Select: "article", Remove: []string{".ok", "p:nope(1)"}}}, article, false, `"p:nope(1)"`},
		{"bad rewrite", feed.Source{Name: "s", Rewrites: []feed.Rewrite{{Pattern: "(", Replace: ""}}}, article, false, `"("`},
	}
	n := newTestScraper()
	const pageURL = "https://site.example/story/9"
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			art, err := n.Extract(tc.src, []byte(tc.page), pageURL)
			if err == nil {
				t.Fatalf("Extract = %+v, want an error", art)
			}
			if art != nil {
				t.Errorf("Extract returned an article and an error")
			}
			if errors.Is(err, ErrNoArticle) != tc.noArticle {
				t.Errorf("err = %v; wraps ErrNoArticle: %v, want %v", err, errors.Is(err, ErrNoArticle), tc.noArticle)
			}
			if !strings.Contains(err.Error(), pageURL) || !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("err = %q, want it to name %s and %s", err, pageURL, tc.mention)
			}
		})
	}
}

// TestExtractConcurrent runs one Normalizer's Extract from several
// goroutines, so that -race checks the selector and pattern caches.
func TestExtractConcurrent(t *testing.T) {
	s := loadSites(t)[0]
	page := s.page(t, s.Articles[0])
	src := s.source(true)
	src.Rewrites = []feed.Rewrite{{Field: feed.FieldContent, Pattern: `harbour`, Replace: `harbour`}}
	n := newTestScraper()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := n.Extract(src, page, s.url(s.Articles[0])); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

// BenchmarkExtract measures extracting a news page with readability.
func BenchmarkExtract(b *testing.B) {
	s := loadSites(b)[0]
	page := s.page(b, s.Articles[0])
	n := newTestScraper()
	b.ReportAllocs()
	b.SetBytes(int64(len(page)))
	for b.Loop() {
		if _, err := n.Extract(s.source(false), page, s.url(s.Articles[0])); err != nil {
			b.Fatal(err)
		}
	}
}
