package scrape

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/normalize"
)

// readPage reads a file of testdata/pages: article pages of an invented
// paper, each showing what a person sees at a glance (a hero picture, a
// byline, a date above the story) where readability does not look.
func readPage(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "pages", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// storyPage is an article page with a story long enough for readability,
// head and top (before the story's paragraphs) given.
func storyPage(head, top string) []byte {
	return []byte(`<!doctype html><html><head><title>Harbour story</title>` + head + `</head><body>
<nav><a href="/">Home</a> <a href="/news">News</a></nav>
<article><h1>Harbour story</h1>` + top + `
<p>The harbour board met on Thursday evening and agreed, after a long debate about dredging, moorings and the winter timetable of the ferry, to spend the reserve on the outer wall.</p>
<p>Fishermen had asked for the work for years. The board's chair said the wall would be finished before the spring tides, and that the quay would stay open while the crews worked around them.</p>
<p>The plan now goes to the council, which is expected to approve it at its meeting next month, along with a new charge for visiting yachts in the summer season.</p>
</article><footer>© The Portmoor Post</footer></body></html>`)
}

const pageURL = "https://www.portmoor.example/news/2026/12/story"

// TestExtractHeroBylineDate is the page a user reported: the site's name
// was published as author although the page said "By Sam Okafor", the
// picture above the story was lost, and the date above <article> was not
// read. Each of these failed before bylines, hero pictures and <time>
// outside <article> were read.
func TestExtractHeroBylineDate(t *testing.T) {
	page := readPage(t, "quay-wall-hero.html")
	for _, tc := range []struct {
		name string
		page []byte
	}{
		// <meta name="author"> names the paper: readability keeps the
		// byline in the story, and the metadata credits the site.
		{"site as meta author", page},
		// No author in the metadata: readability takes the byline out of
		// the story itself, and it was dropped.
		{"no meta author", []byte(strings.Replace(string(page), `<meta name="author" content="The Portmoor Post">`, "", 1))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			art, err := newTestScraper().Extract(feed.Source{Name: "portmoor"}, tc.page, "https://www.portmoor.example/news/2026/12/quay-wall-repairs")
			if err != nil {
				t.Fatal(err)
			}
			if art.Author != "Sam Okafor" {
				t.Errorf("Author = %q, want the byline's Sam Okafor", art.Author)
			}
			if want := time.Date(2026, 12, 4, 8, 30, 0, 0, time.UTC); !art.Published.Equal(want) {
				t.Errorf("Published = %v, want %v (the post-meta's <time>, not trending, related, comments or footer)", art.Published, want)
			}
			if want := "https://www.portmoor.example/media/2026/12/quay-wall-1600.jpg?w=1600&q=80"; art.Image != want {
				t.Errorf("Image = %q, want the lazy hero %q", art.Image, want)
			}
			text := visibleText(art.Content)
			if strings.Contains(text, "Sam Okafor") {
				t.Errorf("the byline is left in the content: %s", text)
			}
			if !strings.HasPrefix(art.Content, "<figure>") || !strings.Contains(art.Content, "quay-wall-1600.jpg") || !strings.Contains(text, "The repaired wall at low tide. Photograph: Tamsin Roe") {
				t.Errorf("content does not start with the hero and its caption:\n%s", art.Content)
			}
			if strings.Count(art.Content, "<img") != 1 || strings.Contains(art.Content, "masthead") || strings.Contains(art.Content, "data:") {
				t.Errorf("content shows the hero once, no logo, no placeholder:\n%s", art.Content)
			}
			if s := visibleText(normalize.DeriveSummary(art.Content)); !strings.HasPrefix(s, "Repairs to the storm-damaged quay wall") {
				t.Errorf("derived summary starts %q, want the story's first words", s)
			}
			checkHygiene(t, art.Content, true)
		})
	}
}

// TestExtractOGImageAndTextByline: no hero beside the story (a sprite is
// no picture), so og:image is the lead picture and is shown first; the
// byline "Posted on ... by ..." credits the article and leaves it; "by
// Tuesday's deadline" in the story stays.
func TestExtractOGImageAndTextByline(t *testing.T) {
	art, err := newTestScraper().Extract(feed.Source{Name: "portmoor"}, readPage(t, "library-roof-og.html"), "https://www.portmoor.example/news/2026/11/library-roof")
	if err != nil {
		t.Fatal(err)
	}
	if want := "https://www.portmoor.example/media/2026/11/library-roof.jpg"; art.Image != want {
		t.Errorf("Image = %q, want og:image %q", art.Image, want)
	}
	if !strings.HasPrefix(art.Content, `<figure><img src="https://www.portmoor.example/media/2026/11/library-roof.jpg"`) {
		t.Errorf("content does not start with og:image:\n%s", art.Content)
	}
	if art.Author != "Ines Vogel" {
		t.Errorf("Author = %q, want Ines Vogel", art.Author)
	}
	if want := time.Date(2026, 11, 20, 14, 5, 0, 0, time.UTC); !art.Published.Equal(want) {
		t.Errorf("Published = %v, want the meta tag's %v over the byline's day", art.Published, want)
	}
	text := visibleText(art.Content)
	if strings.Contains(text, "Posted on") || !strings.Contains(text, "carried by Tuesday's deadline") {
		t.Errorf("byline left or story cut: %s", text)
	}
}

// TestExtractLeadImage covers where a lead picture comes from and what is
// never one.
func TestExtractLeadImage(t *testing.T) {
	const hero = "https://www.portmoor.example/media/hero.jpg"
	for _, tc := range []struct {
		name, head, top string
		want            string
		atTop           bool // the picture comes before the story's text
	}{
		{"JSON-LD image string", `<script type="application/ld+json">{"@type":"NewsArticle","image":"/media/hero.jpg"}</script>`, "", hero, true},
		{"JSON-LD image object", `<script type="application/ld+json">{"@type":"NewsArticle","image":{"@type":"ImageObject","url":"https://www.portmoor.example/media/hero.jpg","width":1600}}</script>`, "", hero, true},
		{"JSON-LD image array", `<script type="application/ld+json">{"@type":"NewsArticle","image":["https://www.portmoor.example/media/hero.jpg","https://www.portmoor.example/media/hero-4x3.jpg"]}</script>`, "", hero, true},
		{"og:image over JSON-LD", `<meta property="og:image" content="/media/hero.jpg"><script type="application/ld+json">{"@type":"NewsArticle","image":"/media/other.jpg"}</script>`, "", hero, true},
		{"hero over og:image", `<meta property="og:image" content="/media/share.jpg">`, `<figure><img src="/media/hero.jpg" alt="x"><figcaption>Caption</figcaption></figure>`, hero, true},
		{"lazy hero data-src", "", `<figure><img src="/img/blank.gif" data-src="/media/hero.jpg" alt="x"></figure>`, hero, true},
		{"lazy hero srcset only", "", `<figure><img srcset="/media/hero.jpg 800w, /media/hero-1600.jpg 1600w" alt="x"></figure>`, hero, true},
		{"lazy hero noscript only", "", `<figure><noscript><img src="/media/hero.jpg" alt="x"></noscript></figure>`, hero, true},
		{"logo is no picture", "", `<div class="site-logo"><img src="/media/hero.jpg" alt="Portmoor"></div>`, "", false},
		{"logo file is no picture", `<meta property="og:image" content="/static/portmoor-logo.png">`, "", "", false},
		{"icon is no picture", "", `<img src="/media/hero.jpg" width="32" height="32" alt="">`, "", false},
		{"no picture", "", "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			art, err := newTestScraper().Extract(feed.Source{Name: "portmoor"}, storyPage(tc.head, tc.top), pageURL)
			if err != nil {
				t.Fatal(err)
			}
			if art.Image != tc.want {
				t.Errorf("Image = %q, want %q", art.Image, tc.want)
			}
			img, text := strings.Index(art.Content, "<img"), strings.Index(art.Content, "The harbour board")
			if got := img >= 0 && img < text; tc.want != "" && got != tc.atTop {
				t.Errorf("picture at the top: %v, want %v:\n%s", got, tc.atTop, art.Content)
			}
			if tc.want == "" && strings.HasPrefix(art.Content, "<figure>") {
				t.Errorf("a picture was put at the top:\n%s", art.Content)
			}
			if tc.want != "" && strings.Count(art.Content, "<img") != 1 {
				t.Errorf("the picture is not shown exactly once:\n%s", art.Content)
			}
		})
	}
}

// TestExtractLeadImageShownOnce: a body that shows the lead picture (in
// another size) does not get it again.
func TestExtractLeadImageShownOnce(t *testing.T) {
	page := storyPage(`<meta property="og:image" content="https://www.portmoor.example/media/hero.jpg?w=1200&amp;fit=crop">`,
		`<p><img src="/media/hero-800x450.jpg" srcset="/media/hero-800x450.jpg 800w, /media/hero.jpg?w=1600 1600w" alt="x"></p>`)
	art, err := newTestScraper().Extract(feed.Source{Name: "portmoor"}, page, pageURL)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(art.Content, "<img"); n != 1 {
		t.Errorf("%d images, want the body's one:\n%s", n, art.Content)
	}
	if art.Image == "" {
		t.Error("no Image")
	}
}

// TestExtractPageDates: the article's own page dates it from JSON-LD,
// else a meta tag, else a <time> in the story, else its byline.
func TestExtractPageDates(t *testing.T) {
	want := time.Date(2026, 12, 4, 9, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, head, top string
		want            time.Time
	}{
		{"JSON-LD only", `<script type="application/ld+json">{"@type":"NewsArticle","datePublished":"2026-12-04T10:30:00+01:00"}</script>`, "", want},
		{"JSON-LD over meta", `<script type="application/ld+json">{"@type":"NewsArticle","datePublished":"2026-12-04T09:30:00Z"}</script><meta property="article:published_time" content="2026-12-01T00:00:00Z">`, "", want},
		{"article:published_time", `<meta property="article:published_time" content="2026-12-04T09:30:00Z">`, "", want},
		{"dc.date", `<meta name="DC.date" content="2026-12-04T09:30:00Z">`, "", want},
		{"parsely-pub-date", `<meta name="parsely-pub-date" content="2026-12-04T09:30:00Z">`, "", want},
		{"sailthru.date", `<meta name="sailthru.date" content="2026-12-04 09:30:00">`, "", want},
		{"time in the story", "", `<p class="dateline"><time datetime="2026-12-04T09:30:00Z">4 December</time></p>`, want},
		{"byline date", "", `<p>Posted on 4 Dec 2026 by Ines Vogel</p>`, time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)},
		{"none", "", "", time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			art, err := newTestScraper().Extract(feed.Source{Name: "portmoor"}, storyPage(tc.head, tc.top), pageURL)
			if err != nil {
				t.Fatal(err)
			}
			if !art.Published.Equal(tc.want) {
				t.Errorf("Published = %v, want %v", art.Published, tc.want)
			}
		})
	}
}

// TestReadByline reads the lines that credit a story, and refuses
// sentences that start with "By".
func TestReadByline(t *testing.T) {
	day := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		text   string
		marked bool
		ok     bool
		names  []string
		date   time.Time
	}{
		{"By Sam Okafor", false, true, []string{"Sam Okafor"}, time.Time{}},
		{"by Sam Okafor", false, true, []string{"Sam Okafor"}, time.Time{}},
		{"Posted on 4 Dec 2026 by Ines Vogel", false, true, []string{"Ines Vogel"}, day},
		{"— Staff reporter", false, true, []string{"Staff reporter"}, time.Time{}},
		{"– Sam Okafor", false, true, []string{"Sam Okafor"}, time.Time{}},
		{"BY SAM OKAFOR AND INES VOGEL", false, true, []string{"Sam Okafor", "Ines Vogel"}, time.Time{}},
		{"By Sam Okafor, Ines Vogel and Jan de Vries", false, true, []string{"Sam Okafor", "Ines Vogel", "Jan de Vries"}, time.Time{}},
		{"By Sam Okafor | 4 December 2026", false, true, []string{"Sam Okafor"}, day},
		{"By Sam Okafor, Political Editor", false, true, []string{"Sam Okafor"}, time.Time{}},
		{"Words by Ines Vogel on 4 Dec 2026", false, true, []string{"Ines Vogel"}, day},
		{"Sam Okafor", true, true, []string{"Sam Okafor"}, time.Time{}},
		{"Published 4 December 2026", true, true, nil, day},
		{"Sam Okafor", false, false, nil, time.Time{}},
		{"By Tuesday the council will have decided what to do with the quay.", false, false, nil, time.Time{}},
		{"By the end of the year the wall will be finished.", false, false, nil, time.Time{}},
		{"The plan was approved by the council on Tuesday.", false, false, nil, time.Time{}},
		{"Fishermen said the wall was finished by Sam Okafor's crew.", false, false, nil, time.Time{}},
		{"— and then the tide came in, and with it the boats of the whole harbour", false, false, nil, time.Time{}},
	} {
		b, ok := readByline(tc.text, tc.marked)
		if ok != tc.ok || !reflect.DeepEqual(b.names, tc.names) || !b.date.Equal(tc.date) {
			t.Errorf("readByline(%q, %v) = %q %v %v; want %q %v %v", tc.text, tc.marked, b.names, b.date, ok, tc.names, tc.date, tc.ok)
		}
	}
}

// TestTakeByline takes a byline off the start of a story, in the forms
// pages mark it, and nowhere else.
func TestTakeByline(t *testing.T) {
	const story = `<p>The harbour board met on Thursday evening and agreed, after a long debate about dredging, moorings and the winter timetable of the ferry, to spend its reserve on the outer wall before the spring tides.</p>`
	for _, tc := range []struct {
		name, html string
		names      []string // nil: no byline
		left       string   // what remains, when a byline is taken
	}{
		{"p.byline", `<p class="byline">By Sam Okafor</p>` + story, []string{"Sam Okafor"}, story},
		{"span.author", `<span class="author">Ines Vogel</span>` + story, []string{"Ines Vogel"}, story},
		{"rel=author", `<p><a rel="author" href="/staff/sam-okafor">Sam Okafor</a></p>` + story, []string{"Sam Okafor"}, story},
		{"text byline", `<p>By Sam Okafor</p>` + story, []string{"Sam Okafor"}, story},
		{"after the headline, in a wrapper", `<div><h1>Wall</h1><p>BY SAM OKAFOR AND INES VOGEL</p>` + story + `</div>`, []string{"Sam Okafor", "Ines Vogel"}, `<div><h1>Wall</h1>` + story + `</div>`},
		{"after a standfirst", `<p class="standfirst">The outer wall is to be mended.</p><p>— Staff reporter</p>` + story, []string{"Staff reporter"}, `<p class="standfirst">The outer wall is to be mended.</p>` + story},
		{"not after the story starts", story + `<p>By Sam Okafor</p>`, nil, ""},
		{"not inside a sentence", `<p>The wall was finished by Tuesday, said Sam Okafor.</p>` + story, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := fragmentRoot(tc.html)
			b, ok := takeByline(root)
			if ok != (tc.names != nil) || !reflect.DeepEqual(b.names, tc.names) {
				t.Fatalf("takeByline = %q %v, want %q", b.names, ok, tc.names)
			}
			if got := normalize.RenderChildren(root); ok && got != tc.left {
				t.Errorf("left\n%s\nwant\n%s", got, tc.left)
			} else if !ok && got != tc.html {
				t.Errorf("changed without a byline:\n%s", got)
			}
		})
	}
}

// TestScrapeSingleArticleByline: a page that is itself the source's one
// article gets the same byline, date and picture treatment.
func TestScrapeSingleArticleByline(t *testing.T) {
	sc, err := newTestScraper().Scrape(feed.Source{Name: "portmoor", Type: feed.TypeHTML}, readPage(t, "quay-wall-hero.html"),
		"https://www.portmoor.example/news/2026/12/quay-wall-repairs", time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if !sc.Single || len(sc.Feed.Items) != 1 {
		t.Fatalf("Single %v, %d items; want the page as one article", sc.Single, len(sc.Feed.Items))
	}
	it := sc.Feed.Items[0]
	if want := []feed.Person{{Name: "Sam Okafor"}}; !reflect.DeepEqual(it.Authors, want) {
		t.Errorf("Authors = %+v, want %+v", it.Authors, want)
	}
	if want := time.Date(2026, 12, 4, 8, 30, 0, 0, time.UTC); !it.Published.Equal(want) {
		t.Errorf("Published = %v, want %v", it.Published, want)
	}
	if !strings.Contains(it.Image, "quay-wall-1600.jpg") || !strings.HasPrefix(it.Content, "<figure>") {
		t.Errorf("Image %q, content %s", it.Image, it.Content)
	}
	if strings.HasPrefix(visibleText(it.Summary), "By ") {
		t.Errorf("summary starts with the byline: %s", it.Summary)
	}
}

// TestHeroCaptionWithoutCredit: a hero's caption stays, its marked credit
// line (the site's fixed "Photograph: …") does not.
func TestHeroCaptionWithoutCredit(t *testing.T) {
	page := storyPage("", "")
	page = []byte(strings.Replace(string(page), "<article><h1>Harbour story</h1>",
		`<h1>Harbour story</h1><figure class="lead"><img src="/media/hero.jpg" alt="x"><figcaption>The outer wall. <span class="photo-credit">Photograph: Tamsin Roe/The Portmoor Post</span></figcaption></figure><article>`, 1))
	art, err := newTestScraper().Extract(feed.Source{Name: "portmoor"}, page, pageURL)
	if err != nil {
		t.Fatal(err)
	}
	text := visibleText(art.Content)
	if !strings.HasPrefix(text, "The outer wall.") || strings.Contains(text, "Photograph:") {
		t.Errorf("want the caption without its credit first: %s", text)
	}
}
