package scrape

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/normalize"
	"github.com/feedmill/feedmill/internal/testkit"
	nethtml "golang.org/x/net/html"
)

// scrapeFixture is a page of testdata/scrape with what Scrape must make
// of it.
type scrapeFixture struct {
	name  string
	file  string
	url   string
	rules *feed.ItemRules // nil: inferred

	single    bool
	needPages bool
	skipped   int
	// items are the exact titles and links, in order.
	items [][2]string
	// excluded are links on the page that must not become items:
	// navigation, tag clouds, pagination, footers.
	excluded []string
}

var teaserRules = &feed.ItemRules{
	Each:    "article.teaser",
	Title:   "h2",
	Link:    "h2 a@href",
	Date:    "time@datetime",
	Summary: "p.lede",
	Image:   "img@src",
	Author:  ".byline",
}

var scrapeFixtures = []scrapeFixture{
	{
		name: "teasers-rules", file: "teasers.html", url: "https://www.millbrook-courier.example/local/",
		rules: teaserRules, skipped: 1,
		items: [][2]string{
			{"Mill pond footbridge reopens after six months", "https://www.millbrook-courier.example/local/2025/05/31/mill-pond-footbridge-reopens"},
			{"Library extends its Saturday opening hours", "https://www.millbrook-courier.example/local/2025/05/30/library-extends-opening-hours"},
			{"Allotment waiting list closes for the summer", "https://www.millbrook-courier.example/local/2025/05/29/allotment-waiting-list-closes"},
		},
		excluded: []string{"https://www.millbrook-courier.example/local/page/2/", "https://www.millbrook-courier.example/about/"},
	},
	{
		name: "teasers-inferred", file: "teasers.html", url: "https://www.millbrook-courier.example/local/",
		needPages: true, skipped: 1,
		items: [][2]string{
			{"Mill pond footbridge reopens after six months", "https://www.millbrook-courier.example/local/2025/05/31/mill-pond-footbridge-reopens"},
			{"Library extends its Saturday opening hours", "https://www.millbrook-courier.example/local/2025/05/30/library-extends-opening-hours"},
			{"Allotment waiting list closes for the summer", "https://www.millbrook-courier.example/local/2025/05/29/allotment-waiting-list-closes"},
		},
	},
	{
		name: "grid", file: "grid.html", url: "https://www.riverton.example/news",
		needPages: true,
		items: [][2]string{
			{"New recycling centre opens at Hollow Lane", "https://www.riverton.example/news/2025/05/new-recycling-centre-opens-at-hollow-lane"},
			{"High Street resurfacing starts in June", "https://www.riverton.example/news/2025/05/high-street-resurfacing-starts-in-june"},
			{"Councillors approve budget for new play areas", "https://www.riverton.example/news/2025/05/councillors-approve-new-play-area-budget"},
			{"Have your say on the draft local plan", "https://www.riverton.example/news/2025/05/have-your-say-on-the-draft-local-plan"},
			{"Mayor opens the riverside walk extension", "https://www.riverton.example/news/2025/05/mayor-opens-riverside-walk-extension"},
			{"Garden waste subscriptions now open", "https://www.riverton.example/news/2025/05/garden-waste-subscriptions-now-open"},
		},
		excluded: []string{
			"https://www.riverton.example/bins-and-recycling/collection-days-for-your-street",     // menu
			"https://www.riverton.example/news/topics/bins-and-recycling",                         // topic listing
			"https://www.riverton.example/news/tag/consultation",                                  // tag cloud
			"https://www.riverton.example/news?page=2",                                            // pagination
			"https://www.riverton.example/news/page/2",                                            // pagination with a headline-like text
			"https://www.riverton.example/news/2025/04/ferry-point-car-park-charges-change",       // sidebar
			"https://www.riverton.example/accessibility/accessibility-statement-for-this-website", // footer
		},
	},
	{
		name: "plainlist", file: "plainlist.html", url: "https://hartfield-parish.example/notes/",
		needPages: true,
		items: [][2]string{
			{"Spring fair raises a record sum for the church roof", "https://hartfield-parish.example/notes/2025/spring-fair-raises-record-sum"},
			{"A new bench on the green, in memory of Joan Fenwick", "https://hartfield-parish.example/notes/2025/new-bench-on-the-green"},
			{"Speed watch volunteers wanted for the Lewes road", "https://hartfield-parish.example/notes/2025/speed-watch-volunteers-wanted"},
			{"Footpath 7 reopened after the winter floods", "https://hartfield-parish.example/notes/2025/footpath-7-reopened"},
			{"Annual parish meeting: date and agenda", "https://hartfield-parish.example/notes/2025/annual-parish-meeting-date"},
		},
		excluded: []string{
			"https://hartfield-parish.example/parish-council/",                                  // menu
			"https://hartfield-parish.example/parish-council/councillors",                       // quick links
			"https://hartfield-parish.example/notes/tag/footpaths-and-bridleways-of-the-parish", // tag
			"https://hartfield-parish.example/notes/?page=2",                                    // pagination
			"https://hartfield-parish.example/notes/2019/how-to-contact-the-clerk",              // footer
		},
	},
	{
		name: "frontpage", file: "frontpage.html", url: "https://lakeside-echo.example/",
		needPages: true,
		items: [][2]string{
			{"Storm closes the lakeside road overnight as water rises", "https://lakeside-echo.example/news/2025/06/01/storm-closes-lakeside-road-overnight"},
			{"Ferry timetable changes for the summer season", "https://lakeside-echo.example/news/2025/05/31/ferry-timetable-changes-for-summer"},
			{"School rowing team wins the regional title", "https://lakeside-echo.example/news/2025/05/31/school-rowing-team-wins-regional-title"},
			{"New owners for the old boathouse café", "https://lakeside-echo.example/news/2025/05/30/new-owners-for-the-old-boathouse"},
			{"Lake water quality report published", "https://lakeside-echo.example/news/2025/05/30/water-quality-report-published"},
			{"Market square parking trial extended", "https://lakeside-echo.example/news/2025/05/29/market-square-parking-trial-extended"},
			{"Lakeside FC sign a new goalkeeper", "https://lakeside-echo.example/sport/2025/05/31/lakeside-fc-sign-new-goalkeeper"},
			{"Regatta entries reach a record high", "https://lakeside-echo.example/sport/2025/05/30/regatta-entries-reach-record-high"},
			{"Cricket club launches pavilion appeal", "https://lakeside-echo.example/sport/2025/05/28/cricket-club-pavilion-appeal"},
		},
		excluded: []string{
			"https://lakeside-echo.example/news/subscribe-to-the-morning-briefing-newsletter",        // navigation
			"https://lakeside-echo.example/news/page/2",                                              // "More news"
			"https://lakeside-echo.example/sport",                                                    // section front
			"https://lakeside-echo.example/tag/lakeside-fc-and-local-football",                       // tag cloud
			"https://lakeside-echo.example/news/2020/01/01/how-we-report-corrections-and-complaints", // footer
		},
	},
	{
		name: "single", file: "single.html", url: "https://lakeside-echo.example/news/2025/06/01/storm-closes-lakeside-road-overnight?utm_source=twitter",
		single: true,
		items: [][2]string{
			{"Storm closes the lakeside road overnight as water rises", "https://lakeside-echo.example/news/2025/06/01/storm-closes-lakeside-road-overnight"},
		},
		excluded: []string{
			"https://lakeside-echo.example/news/2025/05/30/water-quality-report-published", // related stories
			"https://lakeside-echo.example/news/2025/04/12/flood-defences-plan-approved",
		},
	},
}

// readScrape reads a file of testdata/scrape.
func readScrape(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "scrape", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (fx scrapeFixture) source() feed.Source {
	return feed.Source{Name: "scrape-test", Type: feed.TypeHTML, Items: fx.rules}
}

// TestScrapeFixtures scrapes every fixture and checks the exact items, the
// links that must not be items, the flags, the promises items keep, and
// the whole result against its golden file (-update rewrites them).
func TestScrapeFixtures(t *testing.T) {
	n := newTestScraper()
	for _, fx := range scrapeFixtures {
		t.Run(fx.name, func(t *testing.T) {
			got, err := n.Scrape(fx.source(), readScrape(t, fx.file), fx.url, testNow)
			if err != nil {
				t.Fatalf("Scrape: %v", err)
			}
			var items [][2]string
			links := make(map[string]bool)
			for _, it := range got.Feed.Items {
				items = append(items, [2]string{it.Title, it.Link})
				links[it.Link] = true
			}
			if !reflect.DeepEqual(items, fx.items) {
				t.Errorf("items:\n got %q\nwant %q", items, fx.items)
			}
			for _, l := range fx.excluded {
				if links[l] {
					t.Errorf("%s became an item", l)
				}
			}
			if got.Single != fx.single || got.NeedPages != fx.needPages || got.Skipped != fx.skipped {
				t.Errorf("Single, NeedPages, Skipped = %v, %v, %d; want %v, %v, %d",
					got.Single, got.NeedPages, got.Skipped, fx.single, fx.needPages, fx.skipped)
			}
			if fx.single != (got.Rules == nil) {
				t.Errorf("Rules = %+v with Single %v", got.Rules, got.Single)
			}
			checkScraped(t, got)
			testkit.Golden(t, filepath.Join("testdata", "scrape", fx.name+".golden.json"), scrapedJSON(t, got))
		})
	}
}

// checkScraped fails t unless the scraped items keep the promises of
// feed items: those of Normalize, the canonical link as id, and nothing
// executable.
func checkScraped(t *testing.T, got *Scraped) {
	t.Helper()
	checkInvariants(t, got.Feed)
	for i, it := range got.Feed.Items {
		if it.Source != "scrape-test" && it.Source != "hostile" {
			t.Errorf("item %d: source %q", i, it.Source)
		}
		if it.ID != normalize.New(normalize.Options{}).Canonical(it.Link) {
			t.Errorf("item %d: id %q is not the canonical link of %q", i, it.ID, it.Link)
		}
		for _, p := range rules.HostileItemProblems(it) {
			t.Errorf("item %d: %s", i, p)
		}
	}
}

func scrapedJSON(t *testing.T, got *Scraped) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(got); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestScrapeFields pins what the teaser rules take from each element: a
// datetime attribute, a <time> without one read from its text, a lazy
// image, summary HTML, an author.
func TestScrapeFields(t *testing.T) {
	got, err := newTestScraper().Scrape(feed.Source{Name: "scrape-test", Items: teaserRules}, readScrape(t, "teasers.html"), "https://www.millbrook-courier.example/local/", testNow)
	if err != nil {
		t.Fatal(err)
	}
	items := got.Feed.Items
	if len(items) != 3 {
		t.Fatalf("%d items", len(items))
	}
	wantDates := []time.Time{
		time.Date(2025, 5, 31, 7, 15, 0, 0, time.UTC),
		time.Date(2025, 5, 30, 0, 0, 0, 0, time.UTC),
		time.Date(2025, 5, 29, 0, 0, 0, 0, time.UTC),
	}
	for i, want := range wantDates {
		if !items[i].Published.Equal(want) || items[i].Published.Location() != time.UTC {
			t.Errorf("item %d: Published %v, want %v", i, items[i].Published, want)
		}
	}
	if want := "<p>Walkers can once again cross the <b>mill pond</b> without the mile-long detour.</p>"; items[0].Summary != want {
		t.Errorf("Summary = %q, want %q", items[0].Summary, want)
	}
	if want := "https://www.millbrook-courier.example/img/library-thumb.png"; items[1].Image != want || len(items[1].Enclosures) != 0 {
		t.Errorf("lazy image: Image = %q, Enclosures = %+v; want %s and no enclosure", items[1].Image, items[1].Enclosures, want)
	}
	if len(items[2].Enclosures) != 0 || items[2].Image != "" {
		t.Errorf("item without image has enclosures %+v, image %q", items[2].Enclosures, items[2].Image)
	}
	if want := []feed.Person{{Name: "Ruth Okafor"}}; !reflect.DeepEqual(items[0].Authors, want) {
		t.Errorf("Authors = %+v", items[0].Authors)
	}
	if got.Feed.Title != "Local news – The Millbrook Courier" || got.Feed.Link != "https://www.millbrook-courier.example/local/" {
		t.Errorf("feed %q %q", got.Feed.Title, got.Feed.Link)
	}
	if got.NeedPages {
		t.Error("NeedPages with a date rule")
	}
}

// TestScrapeRoundTrip feeds the rules inferred from each listing back to
// Scrape: they must find the same items, and inferring again must give
// the same rules.
func TestScrapeRoundTrip(t *testing.T) {
	n := newTestScraper()
	for _, fx := range scrapeFixtures {
		if fx.rules != nil || fx.single {
			continue
		}
		t.Run(fx.name, func(t *testing.T) {
			page := readScrape(t, fx.file)
			inferred, err := n.Scrape(fx.source(), page, fx.url, testNow)
			if err != nil {
				t.Fatal(err)
			}
			if inferred.Rules == nil || inferred.Rules.Each == "" || inferred.Rules.Link == "" {
				t.Fatalf("no rules inferred: %+v", inferred.Rules)
			}
			src := fx.source()
			src.Items = inferred.Rules
			given, err := n.Scrape(src, page, fx.url, testNow)
			if err != nil {
				t.Fatalf("Scrape with the inferred rules %+v: %v", *inferred.Rules, err)
			}
			if !reflect.DeepEqual(given.Feed.Items, inferred.Feed.Items) {
				t.Errorf("rules %+v find other items:\n got %+v\nwant %+v", *inferred.Rules, given.Feed.Items, inferred.Feed.Items)
			}
			again, err := n.Scrape(fx.source(), page, fx.url, testNow)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(again.Rules, inferred.Rules) {
				t.Errorf("inferred %+v, then %+v", *inferred.Rules, *again.Rules)
			}
		})
	}
}

// TestScrapeInferredRules pins the selectors inferred for each listing:
// what the preview shows for the user to copy.
func TestScrapeInferredRules(t *testing.T) {
	want := map[string]feed.ItemRules{
		"teasers-inferred": {Each: "article.teaser", Title: "h2", Link: "a@href", Date: "time@datetime", Summary: "p.lede", Image: "img@src"},
		"grid":             {Each: "div.card", Title: "h3.card__title", Link: "a@href", Date: "span.card__date", Summary: "p", Image: "img@src"},
		"plainlist":        {Each: "#main > ul:nth-of-type(2) > li", Title: "a", Link: "a@href", Date: ":scope"},
		"frontpage":        {Each: "section.lead, li.headlines__item, div.sport-grid > article.story", Link: "a@href", Date: "time@datetime"},
	}
	n := newTestScraper()
	for _, fx := range scrapeFixtures {
		w, ok := want[fx.name]
		if !ok {
			continue
		}
		t.Run(fx.name, func(t *testing.T) {
			got, err := n.Scrape(fx.source(), readScrape(t, fx.file), fx.url, testNow)
			if err != nil {
				t.Fatal(err)
			}
			if got.Rules == nil || *got.Rules != w {
				t.Errorf("rules %+v, want %+v", got.Rules, w)
			}
		})
	}
}

// TestScrapeFrontPageDates checks the lead story keeps its own date and
// that its second link in the list is dropped as a duplicate.
func TestScrapeFrontPageDates(t *testing.T) {
	got, err := newTestScraper().Scrape(feed.Source{Name: "scrape-test"}, readScrape(t, "frontpage.html"), "https://lakeside-echo.example/", testNow)
	if err != nil {
		t.Fatal(err)
	}
	if got.Feed.Duplicates != 1 {
		t.Errorf("Duplicates = %d, want 1 (the lead story's second link)", got.Feed.Duplicates)
	}
	if want := time.Date(2025, 6, 1, 6, 30, 0, 0, time.UTC); !got.Feed.Items[0].Published.Equal(want) {
		t.Errorf("lead Published = %v, want %v", got.Feed.Items[0].Published, want)
	}
	for i, it := range got.Feed.Items {
		if it.Published.IsZero() {
			t.Errorf("item %d (%s) has no date", i, it.Link)
		}
	}
}

// TestScrapeSingle checks a single article page used as the source URL:
// one item, the page itself, from its metadata and its extracted article,
// and nothing it links to.
func TestScrapeSingle(t *testing.T) {
	n := newTestScraper()
	pageURL := "https://lakeside-echo.example/news/2025/06/01/storm-closes-lakeside-road-overnight?utm_source=twitter"
	got, err := n.Scrape(feed.Source{Name: "scrape-test"}, readScrape(t, "single.html"), pageURL, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Single || got.NeedPages || got.Rules != nil || len(got.Feed.Items) != 1 {
		t.Fatalf("Single %v, NeedPages %v, Rules %v, %d items", got.Single, got.NeedPages, got.Rules, len(got.Feed.Items))
	}
	it := got.Feed.Items[0]
	want := "https://lakeside-echo.example/news/2025/06/01/storm-closes-lakeside-road-overnight"
	if it.Link != want || it.ID != want || it.Canonical != want {
		t.Errorf("Link %q, ID %q, Canonical %q; want %q", it.Link, it.ID, it.Canonical, want)
	}
	if !it.Published.Equal(time.Date(2025, 6, 1, 6, 30, 0, 0, time.UTC)) {
		t.Errorf("Published = %v", it.Published)
	}
	if !reflect.DeepEqual(it.Authors, []feed.Person{{Name: "Dana Whitlock"}}) {
		t.Errorf("Authors = %+v", it.Authors)
	}
	if !strings.Contains(it.Content, "hill route through Upper Fold") || strings.Contains(it.Content, "Related stories") {
		t.Errorf("Content = %q", it.Content)
	}
	if it.Summary != "<p>Drivers are advised to use the hill route.</p>" {
		t.Errorf("Summary = %q", it.Summary)
	}

	// Pages that declare nothing but hold one long <article>, or that
	// carry only meta tags, are articles too.
	for _, file := range []string{"article-time.html", "article-meta.html", "article-jsonld.html"} {
		got, err := n.Scrape(feed.Source{Name: "scrape-test"}, readScrape(t, file), "https://www.riverton.example/news/x", testNow)
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		if !got.Single || len(got.Feed.Items) != 1 || got.Feed.Items[0].Published.IsZero() {
			t.Errorf("%s: Single %v, items %+v", file, got.Single, got.Feed.Items)
		}
	}
}

// TestArticleMeta reads each article fixture, whose dates are each in one
// place only.
func TestArticleMeta(t *testing.T) {
	for _, tc := range []struct {
		file string
		url  string
		want Meta
	}{
		{
			"article-jsonld.html", "https://www.riverton.example/news/2025/05/new-recycling-centre-opens-at-hollow-lane",
			Meta{
				Title:       "New recycling centre opens at Hollow Lane",
				Published:   time.Date(2025, 5, 28, 8, 30, 0, 0, time.UTC),
				Updated:     time.Date(2025, 5, 29, 13, 0, 0, 0, time.UTC),
				Author:      "Press Office, Amir Haddad",
				Image:       "https://www.riverton.example/media/recycling-centre-1200.jpg",
				Description: "The centre takes garden waste, electricals and hard plastics.",
				Type:        "NewsArticle",
				URL:         "https://www.riverton.example/news/2025/05/new-recycling-centre-opens-at-hollow-lane",
			},
		},
		{
			"article-meta.html", "https://www.riverton.example/news/2025/05/high-street-resurfacing-starts-in-june",
			Meta{
				Title:       "High Street resurfacing starts in June",
				Published:   time.Date(2025, 5, 26, 7, 0, 0, 0, time.UTC),
				Updated:     time.Date(2025, 5, 27, 10, 15, 0, 0, time.UTC),
				Author:      "Jo Bright", // not the article:author profile URL
				Image:       "https://www.riverton.example/media/high-street-1200.jpg",
				Description: "Work will be done overnight to keep shops open.",
				Type:        "article",
			},
		},
		{
			"article-time.html", "https://www.riverton.example/news/2025/05/garden-waste-subscriptions-now-open",
			Meta{
				Title:     "Garden waste subscriptions now open",
				Published: time.Date(2025, 5, 2, 11, 0, 0, 0, time.UTC), // not the aside's, not the update's
			},
		},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got := ArticleMeta(readScrape(t, tc.file), tc.url)
			got.ldArticle, got.ldIDs, got.authors = false, nil, nil
			got.siteAuthor, got.ogImage, got.ldImage = false, "", ""
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ArticleMeta:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestArticleMetaJSONLD covers the shapes JSON-LD comes in.
func TestArticleMetaJSONLD(t *testing.T) {
	page := func(ld ...string) []byte {
		var b strings.Builder
		b.WriteString("<html><head><title>Page title</title>")
		for _, s := range ld {
			b.WriteString(`<script type="application/ld+json">` + s + `</script>`)
		}
		b.WriteString("</head><body><p>x</p></body></html>")
		return []byte(b.String())
	}
	for _, tc := range []struct {
		name               string
		page               []byte
		title, author, typ string
		published          time.Time
	}{
		{"plain", page(`{"@type":"BlogPosting","headline":"A","datePublished":"2025-01-02","author":"Ann"}`), "A", "Ann", "BlogPosting", time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)},
		{"schema URL type", page(`{"@type":"http://schema.org/ReportageNewsArticle","headline":"B","datePublished":"2025-01-03T10:00:00+02:00"}`), "B", "", "ReportageNewsArticle", time.Date(2025, 1, 3, 8, 0, 0, 0, time.UTC)},
		{"array at top", page(`[{"@type":"BreadcrumbList"},{"@type":"NewsArticle","headline":"C","author":[{"name":"Dee"},{"name":"Eve"}]}]`), "C", "Dee, Eve", "NewsArticle", time.Time{}},
		{"page main entity", page(`{"@type":"WebPage","mainEntity":{"@type":"Article","name":"D","dateCreated":"2025-02-01T00:00:00Z"}}`), "D", "", "Article", time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)},
		{"broken block skipped", page(`{"@type":"NewsArticle",}`, `{"@type":"NewsArticle","headline":"E"}`), "E", "", "NewsArticle", time.Time{}},
		{"commented", page(`<!-- {"@type":"NewsArticle","headline":"F"} -->`), "F", "", "NewsArticle", time.Time{}},
		{"no article", page(`{"@type":"Organization","name":"Org"}`), "Page title", "", "", time.Time{}},
		{"placeholder date", page(`{"@type":"NewsArticle","headline":"G","datePublished":"1970-01-01T00:00:00Z"}`), "G", "", "NewsArticle", time.Time{}},
		{"author URL dropped", page(`{"@type":"NewsArticle","headline":"H","author":"https://x.example/me"}`), "H", "", "NewsArticle", time.Time{}},
		{"markup in headline", page(`{"@type":"NewsArticle","headline":"<script>alert(1)<\/script>I &amp; J"}`), "I & J", "", "NewsArticle", time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := ArticleMeta(tc.page, "https://x.example/a")
			if m.Title != tc.title || m.Author != tc.author || m.Type != tc.typ || !m.Published.Equal(tc.published) {
				t.Errorf("got %q %q %q %v; want %q %q %q %v", m.Title, m.Author, m.Type, m.Published, tc.title, tc.author, tc.typ, tc.published)
			}
		})
	}

	// Of several articles, the one naming the page wins.
	two := page(`{"@type":"NewsArticle","headline":"Other","url":"https://x.example/other"}`, `{"@type":"NewsArticle","headline":"This","url":"https://x.example/a/"}`)
	if m := ArticleMeta(two, "https://x.example/a"); m.Title != "This" {
		t.Errorf("Title = %q, want the article naming the page", m.Title)
	}
}

// TestExtractMeta checks that Extract dates and credits the article from
// the page's metadata.
func TestExtractMeta(t *testing.T) {
	n := newTestScraper()
	for _, tc := range []struct {
		file      string
		published time.Time
		updated   time.Time
		author    string
	}{
		{"article-jsonld.html", time.Date(2025, 5, 28, 8, 30, 0, 0, time.UTC), time.Date(2025, 5, 29, 13, 0, 0, 0, time.UTC), "Press Office, Amir Haddad"},
		{"article-meta.html", time.Date(2025, 5, 26, 7, 0, 0, 0, time.UTC), time.Date(2025, 5, 27, 10, 15, 0, 0, time.UTC), "Jo Bright"},
		{"article-time.html", time.Date(2025, 5, 2, 11, 0, 0, 0, time.UTC), time.Time{}, "the waste team"}, // its byline
	} {
		art, err := n.Extract(feed.Source{Name: "x"}, readScrape(t, tc.file), "https://www.riverton.example/news/x")
		if err != nil {
			t.Errorf("%s: %v", tc.file, err)
			continue
		}
		if !art.Published.Equal(tc.published) || !art.Updated.Equal(tc.updated) || art.Author != tc.author {
			t.Errorf("%s: %v %v %q; want %v %v %q", tc.file, art.Published, art.Updated, art.Author, tc.published, tc.updated, tc.author)
		}
	}
}

// TestScrapeErrors checks that rules finding nothing are errors naming
// the source and the rule, never an empty success.
func TestScrapeErrors(t *testing.T) {
	n := newTestScraper()
	teasers := readScrape(t, "teasers.html")
	for _, tc := range []struct {
		name    string
		rules   *feed.ItemRules
		page    []byte
		want    string
		noItems bool
	}{
		{"each matches nothing", &feed.ItemRules{Each: "div.story"}, teasers, `items.each "div.story" matched 0 elements`, true},
		{"no link anywhere", &feed.ItemRules{Each: "p.lede"}, teasers, `items.link (default: the element's first link) gave no http(s) link in any of the 4 elements`, true},
		{"link rule finds none", &feed.ItemRules{Each: "article.teaser", Link: ".byline@href"}, teasers, `items.link ".byline@href" gave no http(s) link`, true},
		{"bad each", &feed.ItemRules{Each: "article["}, teasers, `items.each: selector "article["`, false},
		{"bad field", &feed.ItemRules{Each: "article", Title: "h2::x("}, teasers, `items.title: selector`, false},
		{"no listing, no article", nil, []byte(`<html><body><nav><a href="/a/b/c-d-e">Some link in the nav</a></nav><p>Nothing.</p></body></html>`), `no listing of articles found`, true},
		{"empty page", nil, nil, `no listing of articles found`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := n.Scrape(feed.Source{Name: "src1", Items: tc.rules}, tc.page, "https://www.millbrook-courier.example/local/", testNow)
			if err == nil {
				t.Fatalf("no error; got %+v", got.Feed.Items)
			}
			if got != nil {
				t.Error("a result with the error")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "src1") {
				t.Errorf("error %q does not name the source and %q", err, tc.want)
			}
			if errors.Is(err, ErrNoItems) != tc.noItems {
				t.Errorf("errors.Is(%v, ErrNoItems) = %v", err, !tc.noItems)
			}
		})
	}
}

// TestScrapeHostile checks that nothing a page carries comes out
// executable: scripts in titles, script links, event handlers.
func TestScrapeHostile(t *testing.T) {
	var b strings.Builder
	b.WriteString(`<html><head><title>&lt;script&gt;alert("title")&lt;/script&gt;Listing</title></head><body><ul class="list">`)
	items := []string{
		`<li><h3><a href="/news/2025/first-hostile-story-here">&lt;script&gt;alert(1)&lt;/script&gt;First hostile story here</a></h3><p onclick="alert(2)">A summary <a href="javascript:alert(3)">that links</a> to script <img src=x onerror=alert(4)></p></li>`,
		`<li><h3><a href="/news/2025/second-hostile-story-here"><img src="x" onerror="alert(5)">Second &lt;img src=x onerror=alert(6)&gt; hostile story</a></h3><p>Another summary that is long enough <script>alert(7)</script></p></li>`,
		`<li><h3><a href="javascript:alert(8)//news/2025/third-story">Third story whose link runs script</a></h3><p>Its summary text is long enough too.</p></li>`,
		`<li><h3><a href=" java&#x09;script:alert(9)">Fourth story whose link runs script</a></h3><p>Its summary text is long enough too.</p></li>`,
		`<li><h3><a href="/news/2025/fifth-hostile-story-here" style="x">Fifth hostile story <svg onload=alert(10)></svg>here</a></h3><p>Its summary text is long enough too.</p></li>`,
	}
	for _, it := range items {
		b.WriteString(it)
	}
	b.WriteString(`</ul></body></html>`)
	page := []byte(b.String())
	n := newTestScraper()
	for _, rules := range []*feed.ItemRules{nil, {Each: "ul.list > li", Title: "h3", Link: "h3 a@href", Summary: "p"}} {
		got, err := n.Scrape(feed.Source{Name: "hostile", Items: rules}, page, "https://hostile.example/", testNow)
		if err != nil {
			t.Fatalf("rules %+v: %v", rules, err)
		}
		checkScraped(t, got)
		var links []string
		for _, it := range got.Feed.Items {
			links = append(links, it.Link)
			if strings.Contains(it.Title, "<script") || strings.Contains(it.Title, "onerror") || strings.Contains(it.Summary, "onclick") ||
				strings.Contains(it.Summary, "javascript") || strings.Contains(it.Summary, "<script") || strings.Contains(it.Summary, "alert(7)") {
				t.Errorf("rules %+v: item %+v is not inert", rules, it)
			}
		}
		want := []string{
			"https://hostile.example/news/2025/first-hostile-story-here",
			"https://hostile.example/news/2025/second-hostile-story-here",
			"https://hostile.example/news/2025/fifth-hostile-story-here",
		}
		if !slices.Equal(links, want) {
			t.Errorf("rules %+v: links %q, want %q", rules, links, want)
		}
		if rules != nil && got.Skipped != 2 {
			t.Errorf("Skipped = %d, want the two script links", got.Skipped)
		}
		if strings.Contains(got.Feed.Title, "<script") {
			t.Errorf("feed title %q", got.Feed.Title)
		}
	}
}

// TestScrapeRewrites checks that a source's rewrites apply to scraped
// items as to a feed's.
func TestScrapeRewrites(t *testing.T) {
	src := feed.Source{Name: "scrape-test", Items: teaserRules, Rewrites: []feed.Rewrite{
		{Field: feed.FieldTitle, Pattern: `^Mill pond `, Replace: ""},
		{Field: feed.FieldSummary, Pattern: `mile-long`, Replace: "long"},
	}}
	got, err := newTestScraper().Scrape(src, readScrape(t, "teasers.html"), "https://www.millbrook-courier.example/local/", testNow)
	if err != nil {
		t.Fatal(err)
	}
	it := got.Feed.Items[0]
	if it.Title != "footbridge reopens after six months" || !strings.Contains(it.Summary, "the long detour") {
		t.Errorf("rewrites not applied: %q %q", it.Title, it.Summary)
	}
	if it.ID != "https://www.millbrook-courier.example/local/2025/05/31/mill-pond-footbridge-reopens" {
		t.Errorf("ID = %q", it.ID)
	}
}

// TestScrapeBounded checks that hostile page shapes are refused or
// handled with work bounded by their size (see budget): nesting past the parser's limit, a page
// of very many links, a page of very many tags.
func TestScrapeBounded(t *testing.T) {
	n := newTestScraper()
	deep := []byte(strings.Repeat("<div>", 5000) + `<a href="/a/b/c-d-e">Some headline here now</a>` + strings.Repeat("</div>", 5000))
	// A listing that runs past the elements inference looks at: what
	// lies beyond is matched by the inferred selector but not scanned.
	var many strings.Builder
	many.WriteString("<div>" + strings.Repeat("<i></i>", maxPageElements-2000) + "</div><ul>")
	for i := range 3000 {
		many.WriteString(`<li><a href="/news/2025/story-number-` + strconv.Itoa(i) + `-of-many">Story number ` + strconv.Itoa(i) + ` of very many</a></li>`)
	}
	many.WriteString("</ul>")
	tags := []byte(strings.Repeat("<b>", normalize.MaxElements+1))
	for _, tc := range []struct {
		name string
		page []byte
		ok   bool
	}{
		{"deep", deep, false},
		{"long listing", []byte(many.String()), true},
		{"many tags", tags, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var (
				got *Scraped
				err error
			)
			c := testkit.Measure(func() {
				got, err = n.Scrape(feed.Source{Name: "bounded"}, tc.page, "https://bounded.example/", testNow)
			})
			t.Logf("%d bytes in: %v", len(tc.page), c)
			if c.Over(len(tc.page)) {
				t.Errorf("took %v; the budget is %v", c, testkit.Budget(len(tc.page)))
			}
			if tc.ok != (err == nil) {
				t.Fatalf("err = %v", err)
			}
			if tc.name == "many tags" && !errors.Is(err, normalize.ErrTooComplex) {
				t.Errorf("err = %v, want normalize.ErrTooComplex", err)
			}
			if got != nil {
				// About 1,000 items fit in the last 2,000 elements looked at.
				if n := len(got.Feed.Items); n < 900 || n > 1000 {
					t.Errorf("%d items", n)
				}
				again, err := n.Scrape(feed.Source{Name: "bounded", Items: got.Rules}, tc.page, "https://bounded.example/", testNow)
				if err != nil || !reflect.DeepEqual(again.Feed.Items, got.Feed.Items) {
					t.Errorf("rules %+v do not find the same items again: %v", got.Rules, err)
				}
			}
		})
	}
}

// TestScrapeConcurrent scrapes with one Normalizer from several
// goroutines (the race detector watches the selector cache).
func TestScrapeConcurrent(t *testing.T) {
	n := newTestScraper()
	var wg sync.WaitGroup
	pages := make(map[string][]byte)
	for _, fx := range scrapeFixtures {
		pages[fx.file] = readScrape(t, fx.file)
	}
	for range 4 {
		for _, fx := range scrapeFixtures {
			wg.Go(func() {
				if _, err := n.Scrape(fx.source(), pages[fx.file], fx.url, testNow); err != nil {
					t.Error(err)
				}
			})
		}
	}
	wg.Wait()
}

// TestScrapeArticleWithRelated checks that an article page declaring
// nothing about itself, with a few related links under it, is taken for
// the article, while the same links five times over make a listing.
func TestScrapeArticleWithRelated(t *testing.T) {
	related := func(k int) string {
		var b strings.Builder
		b.WriteString(`<ul class="related">`)
		for i := range k {
			b.WriteString(`<li><a href="/blog/2025/related-post-number-` + strconv.Itoa(i) + `">Related post number ` + strconv.Itoa(i) + ` here</a></li>`)
		}
		return b.String() + `</ul>`
	}
	text := strings.Repeat("<p>A paragraph of the article with enough words in it to count as running text for readers.</p>", 8)
	n := newTestScraper()
	for _, tc := range []struct {
		k      int
		single bool
	}{{3, true}, {4, true}, {5, false}} {
		page := []byte(`<html><head><title>A post</title></head><body><article><h1>A post</h1>` + text + `</article>` + related(tc.k) + `</body></html>`)
		got, err := n.Scrape(feed.Source{Name: "scrape-test"}, page, "https://blog.example/blog/2025/a-post", testNow)
		if err != nil {
			t.Fatalf("%d related: %v", tc.k, err)
		}
		if got.Single != tc.single {
			t.Errorf("%d related: Single = %v, want %v", tc.k, got.Single, tc.single)
		}
	}
}

// TestScrapeEachAlone checks that rules giving only each get the other
// fields guessed from each element as inference guesses them: title,
// link, date, summary and image (a lazy one resolved).
func TestScrapeEachAlone(t *testing.T) {
	const page = "https://www.riverside-herald.example/news/"
	tests := []struct {
		name  string
		rules feed.ItemRules
	}{
		{"each alone", feed.ItemRules{Each: "div.teaser"}},
		{"each and a title", feed.ItemRules{Each: "div.teaser", Title: "h3"}},
	}
	want := []struct {
		title, link, summary, image string
		date                        time.Time
	}{
		{"Ferry winter timetable starts on Monday", page + "2025/05/03/ferry-winter-timetable", "Crossings every forty minutes", "https://www.riverside-herald.example/img/ferry.jpg", time.Date(2025, 5, 3, 8, 30, 0, 0, time.UTC)},
		{"Lighthouse reopens to visitors after repairs", page + "2025/05/02/lighthouse-reopens", "The climb to the lamp room", "https://www.riverside-herald.example/img/lighthouse.png", time.Date(2025, 5, 2, 10, 0, 0, 0, time.UTC)},
		{"Fish market moves to the old customs hall", page + "2025/05/01/fish-market-moves", "Traders say the larger hall", "https://www.riverside-herald.example/img/market.jpg", time.Date(2025, 5, 1, 6, 45, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rules := tt.rules
			got, err := newTestScraper().Scrape(feed.Source{Name: "scrape-test", Type: feed.TypeHTML, Items: &rules}, readScrape(t, "each-only.html"), page, testNow)
			if err != nil {
				t.Fatalf("Scrape: %v", err)
			}
			checkScraped(t, got)
			if len(got.Feed.Items) != len(want) {
				t.Fatalf("%d items, want %d: %+v", len(got.Feed.Items), len(want), got.Feed.Items)
			}
			for i, w := range want {
				it := got.Feed.Items[i]
				if it.Title != w.title || it.Link != w.link {
					t.Errorf("item %d: %q %q, want %q %q", i, it.Title, it.Link, w.title, w.link)
				}
				if !it.Published.Equal(w.date) {
					t.Errorf("item %d: Published %v, want %v", i, it.Published, w.date)
				}
				if !strings.Contains(it.Summary, w.summary) {
					t.Errorf("item %d: Summary %q lacks %q", i, it.Summary, w.summary)
				}
				if len(it.Enclosures) != 0 || it.Image != w.image {
					t.Errorf("item %d: Image %q, Enclosures %+v; want the image %s and no enclosure", i, it.Image, it.Enclosures, w.image)
				}
			}
			if got.NeedPages {
				t.Error("NeedPages although a date was guessed")
			}
			if got.Rules == nil || got.Rules.Each != "div.teaser" || got.Rules.Date == "" || got.Rules.Image == "" {
				t.Errorf("Rules = %+v: want the given each and the guessed fields", got.Rules)
			}
			if tt.rules.Title != "" && got.Rules.Title != tt.rules.Title {
				t.Errorf("Rules.Title = %q, want the given %q", got.Rules.Title, tt.rules.Title)
			}
		})
	}
}

// TestListingTitle: a front page titled with the site's name and a slogan
// is called by the name; any other page keeps its whole title.
func TestListingTitle(t *testing.T) {
	for _, tc := range []struct{ page, html, want string }{
		{"https://courier.example/", `<title>The Valley Courier | News from the valley since 1921</title><meta property="og:site_name" content="The Valley Courier">`, "The Valley Courier"},
		{"https://courier.example/", `<title>Home — The Valley Courier</title><meta property="og:site_name" content="The Valley Courier">`, "The Valley Courier"},
		{"https://courier.example/news/", `<title>News | The Valley Courier</title><meta property="og:site_name" content="The Valley Courier">`, "News | The Valley Courier"},
		{"https://courier.example/", `<title>Valley news and sport</title><meta property="og:site_name" content="The Valley Courier">`, "Valley news and sport"},
		{"https://courier.example/", `<title>The Valley Courier | Daily</title>`, "The Valley Courier | Daily"},
		{"https://courier.example/", `<meta property="og:site_name" content="The Valley Courier">`, "The Valley Courier"},
	} {
		doc, err := nethtml.Parse(strings.NewReader("<html><head>" + tc.html + "</head><body></body></html>"))
		if err != nil {
			t.Fatal(err)
		}
		page := normalize.ParseBase(tc.page)
		if got := listingTitle(doc, readMeta(doc, page, page), page); got != tc.want {
			t.Errorf("%s %s: %q, want %q", tc.page, tc.html, got, tc.want)
		}
	}
}
