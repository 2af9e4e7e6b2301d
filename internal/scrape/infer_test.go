package scrape

import (
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/cascadia"
	nethtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/normalize"
)

func TestParseDate(t *testing.T) {
	for _, tc := range []struct {
		in, layout string
		want       time.Time
	}{
		{"2025-05-31T08:15:00+01:00", "", time.Date(2025, 5, 31, 7, 15, 0, 0, time.UTC)},
		{"2025-05-31T08:15:00.123Z", "", time.Date(2025, 5, 31, 8, 15, 0, 123e6, time.UTC)},
		{"2025-05-31", "", time.Date(2025, 5, 31, 0, 0, 0, 0, time.UTC)},
		{"2025-05-31 08:15", "", time.Date(2025, 5, 31, 8, 15, 0, 0, time.UTC)},
		{"Sat, 31 May 2025 08:15:00 +0200", "", time.Date(2025, 5, 31, 6, 15, 0, 0, time.UTC)},
		{"Sat, 31 May 2025 08:15:00 GMT", "", time.Date(2025, 5, 31, 8, 15, 0, 0, time.UTC)},
		{"31 May 2025", "", time.Date(2025, 5, 31, 0, 0, 0, 0, time.UTC)},
		{"  31   May\n2025 ", "", time.Date(2025, 5, 31, 0, 0, 0, 0, time.UTC)},
		{"May 31, 2025", "", time.Date(2025, 5, 31, 0, 0, 0, 0, time.UTC)},
		{"Jan. 2, 2025", "", time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)},
		{"31.05.2025", "", time.Date(2025, 5, 31, 0, 0, 0, 0, time.UTC)},
		{"02.03.2025", "", time.Date(2025, 3, 2, 0, 0, 0, 0, time.UTC)}, // day first, as dots are written
		{"Published 3rd March 2025", "", time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)},
		{"Posted on: March 21st, 2025", "", time.Date(2025, 3, 21, 0, 0, 0, 0, time.UTC)},
		{"Monday, 2 June 2025", "", time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC)},
		{"Spring fair raises a record sum — 12 April 2025", "", time.Date(2025, 4, 12, 0, 0, 0, 0, time.UTC)},
		{"03/02/2025", "02/01/2006", time.Date(2025, 2, 3, 0, 0, 0, 0, time.UTC)},
		{"03/02/2025", "", time.Date(2025, 3, 2, 0, 0, 0, 0, time.UTC)},  // month first without a layout
		{"31/05/2025", "", time.Date(2025, 5, 31, 0, 0, 0, 0, time.UTC)}, // ambiguity resolved
		{"le 31 May 2025", "bad layout", time.Date(2025, 5, 31, 0, 0, 0, 0, time.UTC)},
		{"2 hours ago", "", time.Time{}},
		{"yesterday", "", time.Time{}},
		{"Footpath reopened", "", time.Time{}},
		{"", "", time.Time{}},
	} {
		if got := parseDate(tc.in, tc.layout); !got.Equal(tc.want) || got.Location() != time.UTC {
			t.Errorf("parseDate(%q, %q) = %v, want %v", tc.in, tc.layout, got, tc.want)
		}
	}
}

func TestUnixDate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"1748600000", time.Unix(1748600000, 0).UTC(), true},
		{"1748600000000", time.Unix(1748600000, 0).UTC(), true},
		{"1748600000.5", time.Unix(1748600000, 5e8).UTC(), true},
		{"-5", time.Time{}, false},
		{"1e300", time.Time{}, false},
		{"NaN", time.Time{}, false},
		{"x", time.Time{}, false},
	} {
		got, ok := unixDate(tc.in)
		if ok != tc.ok || !got.Equal(tc.want) {
			t.Errorf("unixDate(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseField(t *testing.T) {
	for _, tc := range []struct {
		spec, attr string
		self, sel  bool
	}{
		{"h2", "", false, true},
		{"h2 a@href", "href", false, true},
		{"@href", "href", true, false},
		{":scope", "", true, false},
		{"time@datetime", "datetime", false, true},
		{`a[href*="@x"]`, "", false, true},
		{`a[title="a@b"]@data-src`, "data-src", false, true},
		{"img @ src", "src", false, true},
		{"a@", "", false, false}, // "a@" is no selector: an error
		{"", "", false, false},
	} {
		f, err := parseField(tc.spec, cascadia.Compile)
		if tc.spec == "a@" {
			if err == nil {
				t.Errorf("parseField(%q): no error", tc.spec)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseField(%q): %v", tc.spec, err)
			continue
		}
		if f.attr != tc.attr || f.self != tc.self || (f.sel != nil) != tc.sel {
			t.Errorf("parseField(%q) = attr %q self %v sel %v", tc.spec, f.attr, f.self, f.sel != nil)
		}
	}
}

func TestHeadlineLike(t *testing.T) {
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"Mill pond footbridge reopens after six months", true},
		{"Budget approved by the council", true},
		{"Councillors approve budget", true},
		{"Storm damage everywhere", true},
		{"Sport", false},
		{"Local news", false},
		{"Read more", false},
		{"Read more about the new bins", false},
		{"Continue reading →", false},
		{"Older posts", false},
		{"Next »", false},
		{"12 comments", false},
		{"1 2 3 4 5", false},
		{"31 May 2025", false},
		{"Monday, 2 June 2025", false},
		{"新しい図書館が来月開館します", true},
		{"", false},
	} {
		if got := headlineLike(tc.text); got != tc.want {
			t.Errorf("headlineLike(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
}

func TestArticleURL(t *testing.T) {
	for _, tc := range []struct {
		u    string
		want bool
	}{
		{"https://a.example/news/2025/05/bridge-reopens", true},
		{"https://a.example/bridge-reopens-after-six-months", true},
		{"https://a.example/story/12345", true},
		{"https://a.example/2025/05/31/post.html", true},
		{"https://a.example/p/xyz.html", true},
		{"https://a.example/", false},
		{"https://a.example/index.html", false},
		{"https://a.example/news", false},
		{"https://a.example/tag/ferries", false},
		{"https://a.example/news/tag/ferries", false},
		{"https://a.example/category/news/local", false},
		{"https://a.example/topics/transport", false},
		{"https://a.example/author/jane-doe", false},
		{"https://a.example/news/page/2", false},
		{"https://a.example/news?page=2", false},
		{"https://a.example/search?q=ferry", false},
		{"https://a.example/about/our-history-and-mission", false},
		{"https://a.example/docs/annual-report-2024.pdf", false},
		{"https://a.example/news/2025/bridge?share=twitter", false},
	} {
		u, _ := url.Parse(tc.u)
		if got := articleURL(u); got != tc.want {
			t.Errorf("articleURL(%s) = %v, want %v", tc.u, got, tc.want)
		}
	}
}

func TestFurniture(t *testing.T) {
	el := func(tag, attrs string) *nethtml.Node {
		doc, err := nethtml.Parse(strings.NewReader("<body><" + tag + " " + attrs + "></" + tag + "></body>"))
		if err != nil {
			t.Fatal(err)
		}
		body := normalize.FindAll(doc, atom.Body)[0]
		return body.FirstChild
	}
	for _, tc := range []struct {
		tag, attrs string
		inArticle  bool
		want       bool
	}{
		{"nav", "", false, true},
		{"aside", "", false, true},
		{"header", "", false, true},
		{"header", `class="entry-header"`, true, false},
		{"footer", "", true, false},
		{"div", `class="main-menu"`, false, true},
		{"div", `id="menu"`, false, true},
		{"div", `class="nav-links"`, false, true},
		{"ul", `class="post-tags"`, false, true},
		{"div", `class="tag-cloud"`, false, true},
		{"div", `role="navigation"`, false, true},
		{"div", `class="breadcrumbs"`, false, true},
		{"div", `class="card-header"`, false, false},
		{"div", `class="navy-blue card"`, false, false},
		{"div", `class="has-sidebar wrap"`, false, false},
		{"div", `class="card"`, false, false},
	} {
		if got := furniture(el(tc.tag, tc.attrs), tc.inArticle); got != tc.want {
			t.Errorf("furniture(<%s %s>, %v) = %v, want %v", tc.tag, tc.attrs, tc.inArticle, got, tc.want)
		}
	}
}

func TestSiteOf(t *testing.T) {
	for in, want := range map[string]string{
		"https://news.example.co.uk/a":  "example.co.uk",
		"https://www.riverton.example/": "riverton.example",
		"http://127.0.0.1:8080/":        "127.0.0.1",
		"https://localhost/":            "localhost",
	} {
		u, _ := url.Parse(in)
		if got := siteOf(u); got != want {
			t.Errorf("siteOf(%s) = %q, want %q", in, got, want)
		}
	}
}

// FuzzScrape feeds arbitrary pages to Scrape, inferring and with rules: it
// must never panic, and what it returns must keep the promises of feed
// items; inferred rules must find the same items again.
//
//	go test -run '^$' -fuzz=FuzzScrape -fuzztime=1m -fuzzminimizetime=5s ./internal/normalize/
func FuzzScrape(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "scrape", "*.html"))
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, seed := range []string{
		``,
		`<ul><li><a href="/a/b/one-two-three">One two three four</a></li><li><a href="/a/b/four-five-six">Four five six seven</a></li></ul>`,
		`<base href="javascript:x/"><ul><li><a href="a-b-c/d">Some headline text here</a></li><li><a href="e-f-g/h">Other headline text here</a></li></ul>`,
		`<script type="application/ld+json">{"@type":"NewsArticle","url":"https://fuzz.example/news/1","author":{"@id":"x"},"@graph":[[[[]]]]}</script><article>text</article>`,
	} {
		f.Add([]byte(seed))
	}
	n := newTestScraper()
	f.Fuzz(func(t *testing.T, page []byte) {
		for _, rules := range []*feed.ItemRules{nil, teaserRules} {
			got, err := n.Scrape(feed.Source{Name: "scrape-test", Items: rules}, page, "https://fuzz.example/news/1", testNow)
			if err != nil {
				if got != nil {
					t.Errorf("Scrape returned a result and an error: %v", err)
				}
				continue
			}
			checkScraped(t, got)
			if rules == nil && got.Rules != nil {
				again, err := n.Scrape(feed.Source{Name: "scrape-test", Items: got.Rules}, page, "https://fuzz.example/news/1", testNow)
				if err != nil {
					t.Errorf("inferred rules %+v: %v", *got.Rules, err)
				} else if len(again.Feed.Items) != len(got.Feed.Items) {
					t.Errorf("inferred rules %+v find %d items, not %d", *got.Rules, len(again.Feed.Items), len(got.Feed.Items))
				}
			}
		}
	})
}

// FuzzFromJSON feeds arbitrary documents to FromJSON.
func FuzzFromJSON(f *testing.F) {
	b, err := os.ReadFile(filepath.Join("testdata", "scrape", "api.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	for _, seed := range []string{``, `[]`, `{"data":{"posts":[{"url":"/x","published_at":1e400}]}}`, `{"data":{"posts":[{"url":["/a",{"href":"/b"}],"author":[[[{"name":1}]]]}]}}`} {
		f.Add([]byte(seed))
	}
	n := newTestScraper()
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := n.FromJSON(feed.Source{Name: "scrape-test", Items: apiRules}, body, "https://fuzz.example/api", testNow)
		if err != nil {
			if got != nil {
				t.Errorf("FromJSON returned a feed and an error: %v", err)
			}
			return
		}
		checkScraped(t, &Scraped{Feed: got})
	})
}

// BenchmarkScrape measures inferring the listing of a council news page
// and building its items.
func BenchmarkScrape(b *testing.B) {
	page := readScrape(b, "grid.html")
	n := newTestScraper()
	b.ReportAllocs()
	b.SetBytes(int64(len(page)))
	for b.Loop() {
		if _, err := n.Scrape(feed.Source{Name: "bench"}, page, "https://www.riverton.example/news", testNow); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScrapeRules measures applying given rules to a listing.
func BenchmarkScrapeRules(b *testing.B) {
	page := readScrape(b, "teasers.html")
	n := newTestScraper()
	b.ReportAllocs()
	b.SetBytes(int64(len(page)))
	for b.Loop() {
		if _, err := n.Scrape(feed.Source{Name: "bench", Items: teaserRules}, page, "https://www.millbrook-courier.example/local/", testNow); err != nil {
			b.Fatal(err)
		}
	}
}

// inferFrontPages are front pages whose stories inference must find, all
// of them and nothing else: a lead story shaped apart from the grid under
// it, groups of cards of different shapes, and navigation, tags,
// pagination, "more in" links, author and category links and a footer.
var inferFrontPages = []struct {
	name, file, url string
	want            []string // the items' links, in page order
	titles          map[string]string
}{
	{
		name: "paper", file: "infer-paper.html", url: "https://www.fenwick-gazette.example/",
		want: []string{
			"https://www.fenwick-gazette.example/news/2024/12/04/harbour-wall-repairs-begin-after-storm",
			"https://www.fenwick-gazette.example/news/2024/12/03/school-roof-fund-reaches-target",
			"https://www.fenwick-gazette.example/news/2024/12/03/new-bus-shelter-on-quay-street",
			"https://www.fenwick-gazette.example/news/2024/12/02/library-extends-winter-opening-hours",
			"https://www.fenwick-gazette.example/sport/2024/12/02/fenwick-rovers-reach-cup-quarter-final",
			"https://www.fenwick-gazette.example/opinion/2024/12/03/why-the-ferry-deserves-a-second-boat",
			"https://www.fenwick-gazette.example/opinion/2024/12/01/the-market-square-needs-more-trees",
		},
		titles: map[string]string{
			"https://www.fenwick-gazette.example/news/2024/12/04/harbour-wall-repairs-begin-after-storm":  "Harbour wall repairs begin a month after the storm",
			"https://www.fenwick-gazette.example/opinion/2024/12/03/why-the-ferry-deserves-a-second-boat": "Why the ferry deserves a second boat",
			"https://www.fenwick-gazette.example/sport/2024/12/02/fenwick-rovers-reach-cup-quarter-final": "Fenwick Rovers reach the cup quarter-final",
		},
	},
	{
		name: "blog", file: "infer-blog.html", url: "https://allotment-notes.example/",
		want: []string{
			"https://allotment-notes.example/2024/12/05/leeks-that-survived-the-first-frost/",
			"https://allotment-notes.example/2024/11/28/building-a-cold-frame-from-old-windows/",
			"https://allotment-notes.example/2024/11/20/the-great-compost-experiment-part-two/",
			"https://allotment-notes.example/2024/11/12/saving-bean-seeds-for-next-year/",
		},
		titles: map[string]string{
			"https://allotment-notes.example/2024/12/05/leeks-that-survived-the-first-frost/": "The leeks that survived the first frost",
		},
	},
	{
		name: "magazine", file: "infer-magazine.html", url: "https://quarry-mag.example/",
		want: []string{
			"https://quarry-mag.example/stories/the-last-clog-maker-of-the-dales",
			"https://quarry-mag.example/stories/a-potter-who-fires-with-seaweed",
			"https://quarry-mag.example/stories/rebuilding-a-dry-stone-wall-by-hand",
			"https://quarry-mag.example/stories/what-a-bookbinder-keeps-in-her-apron",
			"https://quarry-mag.example/stories/the-forge-that-outlived-the-village",
		},
		titles: map[string]string{
			"https://quarry-mag.example/stories/the-last-clog-maker-of-the-dales": "The last clog maker of the Dales",
			"https://quarry-mag.example/stories/a-potter-who-fires-with-seaweed":  "A potter who fires her kiln with seaweed",
		},
	},
	{
		name: "local", file: "infer-local.html", url: "https://valley-voice.example/",
		want: []string{
			"https://valley-voice.example/news/2024/12/04/reservoir-footpath-to-reopen-in-march",
			"https://valley-voice.example/news/2024/12/03/new-gp-surgery-gets-planning-approval",
			"https://valley-voice.example/news/2024/12/03/christmas-lights-switch-on-moves-indoors",
			"https://valley-voice.example/news/2024/12/02/bridge-weight-limit-lowered-for-lorries",
			"https://valley-voice.example/news/2024/12/01/valley-choir-to-sing-at-the-cathedral",
			"https://valley-voice.example/columns/2024/12/a-walk-along-the-old-railway-line",
			"https://valley-voice.example/columns/2024/11/the-hedgerows-in-late-autumn",
		},
		titles: map[string]string{
			"https://valley-voice.example/news/2024/12/04/reservoir-footpath-to-reopen-in-march": "Reservoir footpath to reopen in March after the landslip",
			"https://valley-voice.example/columns/2024/11/the-hedgerows-in-late-autumn":          "The hedgerows in late autumn",
		},
	},
}

// TestInferFrontPages checks that inference without selectors publishes
// every story of a front page, the lead included, and no other link; and
// that the rules it gives back find the same items.
func TestInferFrontPages(t *testing.T) {
	n := newTestScraper()
	for _, fx := range inferFrontPages {
		t.Run(fx.name, func(t *testing.T) {
			page := readScrape(t, fx.file)
			got, err := n.Scrape(feed.Source{Name: "scrape-test", Type: feed.TypeHTML}, page, fx.url, testNow)
			if err != nil {
				t.Fatalf("Scrape: %v", err)
			}
			checkScraped(t, got)
			var links []string
			titles := make(map[string]string)
			for _, it := range got.Feed.Items {
				links = append(links, it.Link)
				titles[it.Link] = it.Title
			}
			if !slices.Equal(links, fx.want) {
				t.Errorf("links:\n got %q\nwant %q\nrules %+v", links, fx.want, got.Rules)
			}
			for link, want := range fx.titles {
				if titles[link] != want {
					t.Errorf("title of %s = %q, want %q", link, titles[link], want)
				}
			}
			if got.Single || !got.NeedPages || got.Rules == nil {
				t.Fatalf("Single %v, NeedPages %v, Rules %+v: want a listing completed from its pages", got.Single, got.NeedPages, got.Rules)
			}
			src := feed.Source{Name: "scrape-test", Type: feed.TypeHTML, Items: got.Rules}
			again, err := n.Scrape(src, page, fx.url, testNow)
			if err != nil {
				t.Fatalf("Scrape with the inferred rules %+v: %v", *got.Rules, err)
			}
			if !reflect.DeepEqual(again.Feed.Items, got.Feed.Items) {
				t.Errorf("the inferred rules %+v find other items:\n got %+v\nwant %+v", *got.Rules, again.Feed.Items, got.Feed.Items)
			}
		})
	}
}

// TestShapeFit pins when a URL outside the listing looks like its
// articles': the same first segment, or a slug at the same depth or in a
// dated path like theirs.
func TestShapeFit(t *testing.T) {
	listing := &shapeSet{first: map[string]bool{"news": true}, depths: map[int]bool{5: true}, dated: true}
	undated := &shapeSet{first: map[string]bool{"stories": true}, depths: map[int]bool{2: true}}
	for _, tc := range []struct {
		set  *shapeSet
		url  string
		want bool
	}{
		{listing, "https://a.example/news/anything-at-all", true},
		{listing, "https://a.example/opinion/2025/05/31/why-the-ferry-needs-a-second-boat", true},
		{listing, "https://a.example/columns/2025/05/a-walk-along-the-old-railway", true},
		{listing, "https://a.example/membership/why-local-journalism-needs-you", false},
		{listing, "https://a.example/columns/2025/13/a-walk-along-the-old-railway", false},
		{undated, "https://a.example/features/the-last-clog-maker", true},
		{undated, "https://a.example/features/2025/05/the-last-clog-maker", false},
		{undated, "https://a.example/features/x", false},
	} {
		if got := tc.set.fit(tc.url); got != tc.want {
			t.Errorf("fit(%s) = %v, want %v", tc.url, got, tc.want)
		}
	}
}
