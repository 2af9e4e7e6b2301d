package scrape

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/normalize"
	"github.com/feedmill/feedmill/internal/testkit"
)

var apiRules = &feed.ItemRules{
	Each:    "data.posts",
	Title:   "headline",
	Link:    "url",
	Date:    "published_at",
	Content: "body_html",
	Summary: "excerpt",
	Image:   "image",
	Author:  "author",
}

// TestFromJSON reads the API fixture: relative and absolute links,
// RFC 3339 dates, Unix seconds and milliseconds, HTML and plain-text
// bodies, author objects and strings; items without a usable link are
// skipped. The result is compared with its golden file too.
func TestFromJSON(t *testing.T) {
	got, err := newTestScraper().FromJSON(feed.Source{Name: "scrape-test", Type: feed.TypeJSON, Items: apiRules}, readScrape(t, "api.json"), "https://www.valley-post.example/api/v2/posts?limit=5", testNow)
	if err != nil {
		t.Fatal(err)
	}
	checkScraped(t, &Scraped{Feed: got})
	type row struct {
		title, link string
		published   time.Time
		authors     []feed.Person
	}
	var rows []row
	for _, it := range got.Items {
		rows = append(rows, row{it.Title, it.Link, it.Published, it.Authors})
	}
	want := []row{
		{"Bridge inspection finds no damage after the flood", "https://www.valley-post.example/stories/9041-bridge-inspection-finds-no-damage",
			time.Date(2025, 5, 31, 8, 0, 0, 0, time.UTC), []feed.Person{{Name: "Lena Vogt"}}},
		{"Fish & chips van returns to the harbour", "https://www.valley-post.example/stories/9040-fish-and-chips-van-returns",
			time.Unix(1748600000, 0).UTC(), []feed.Person{{Name: "Marek Nowak"}}},
		{"Council meeting moved to Thursday", "https://www.valley-post.example/stories/9039-council-meeting-moved",
			time.Unix(1748500000, 0).UTC(), nil},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("items:\n got %+v\nwant %+v", rows, want)
	}
	first := got.Items[0]
	if strings.Contains(first.Content, "script") || strings.Contains(first.Content, "alert") {
		t.Errorf("Content not sanitized: %q", first.Content)
	}
	if !strings.Contains(first.Content, `<a href="https://www.valley-post.example/stories/9000">earlier story</a>`) {
		t.Errorf("relative link in content not resolved: %q", first.Content)
	}
	if first.Summary != "<p>Engineers found no damage.</p>" {
		t.Errorf("Summary = %q", first.Summary)
	}
	if first.Image != "https://cdn.valley-post.example/img/bridge.webp" || len(first.Enclosures) != 0 {
		t.Errorf("Image = %q, Enclosures = %+v; want the picture as Image, no enclosure", first.Image, first.Enclosures)
	}
	if got.Items[1].Content != "<p>Plain text body</p><p>with two paragraphs</p>" {
		t.Errorf("plain-text body: %q", got.Items[1].Content)
	}
	if got.Items[2].Summary == "" {
		t.Error("no summary derived from the content")
	}
	if got.Link != "https://www.valley-post.example/" {
		t.Errorf("Link = %q", got.Link)
	}
	testkit.Golden(t, filepath.Join("testdata", "scrape", "api.golden.json"), scrapedJSON(t, &Scraped{Feed: got}))
}

// TestFromJSONDefaults checks the field names looked for when the rules
// give only the array, a document that is the array, and DateFormat.
func TestFromJSONDefaults(t *testing.T) {
	n := newTestScraper()
	body := []byte(`[
		{"title": "First <b>one</b>", "link": "https://a.example/1", "date": "03/02/2025", "summary": "S", "authors": [{"name": "Ann"}]},
		{"name": "Second", "permalink": "/2", "published": "2025-02-01", "content": "<p>C</p>", "thumbnail": {"url": "/t.png"}},
		{"title": "Repeat of the first", "url": "https://a.example/1?utm_source=x"}
	]`)
	got, err := n.FromJSON(feed.Source{Name: "j", Items: &feed.ItemRules{DateFormat: "02/01/2006"}}, body, "https://a.example/api", testNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Items) != 2 || got.Duplicates != 1 {
		t.Fatalf("%d items, %d duplicates", len(got.Items), got.Duplicates)
	}
	a, b := got.Items[0], got.Items[1]
	if a.Title != "First one" || !a.Published.Equal(time.Date(2025, 2, 3, 0, 0, 0, 0, time.UTC)) || a.Summary != "<p>S</p>" || !reflect.DeepEqual(a.Authors, []feed.Person{{Name: "Ann"}}) {
		t.Errorf("first: %+v", a)
	}
	if b.Title != "Second" || b.Link != "https://a.example/2" || b.Content != "<p>C</p>" || len(b.Enclosures) != 0 || b.Image != "https://a.example/t.png" {
		t.Errorf("second: %+v", b)
	}
}

// TestFromJSONErrors checks that a document the rules find nothing in is
// a clear error naming the source and the path.
func TestFromJSONErrors(t *testing.T) {
	n := newTestScraper()
	for _, tc := range []struct {
		name    string
		body    string
		rules   *feed.ItemRules
		want    string
		noItems bool
	}{
		{"not JSON", `<html>oops</html>`, apiRules, "not valid JSON", false},
		{"truncated", `{"data": {"posts": [`, apiRules, "not valid JSON", false},
		{"missing path", `{"data": {}}`, apiRules, `items.each "data.posts" matched 0 items`, true},
		{"empty array", `{"data": {"posts": []}}`, apiRules, `items.each "data.posts" matched 0 items`, true},
		{"object", `{"data": {"posts": {"a": 1}}}`, apiRules, `items.each "data.posts" is an object, not an array`, false},
		{"string", `{"data": {"posts": "x"}}`, apiRules, `is a string, not an array`, false},
		{"document not an array", `{"a": 1}`, nil, `items.each "(the document)" is an object`, false},
		{"no links", `{"data": {"posts": [{"headline": "x"}, {"url": "javascript:alert(1)"}]}}`, apiRules, `items.link "url" gave no http(s) link in any of the 2 items`, true},
		{"too deep", strings.Repeat("[", normalize.MaxDepth+1) + strings.Repeat("]", normalize.MaxDepth+1), nil, "too complex", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := n.FromJSON(feed.Source{Name: "api1", Items: tc.rules}, []byte(tc.body), "https://a.example/", testNow)
			if err == nil {
				t.Fatalf("no error; got %+v", got)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "api1") {
				t.Errorf("error %q does not name the source and %q", err, tc.want)
			}
			if errors.Is(err, ErrNoItems) != tc.noItems {
				t.Errorf("errors.Is(%v, ErrNoItems) = %v", err, !tc.noItems)
			}
		})
	}
}

// TestNormalizeJSONDispatch checks which json sources Normalize reads as
// an API: those with item rules.
func TestNormalizeJSONDispatch(t *testing.T) {
	n := newTestScraper()
	api := readScrape(t, "api.json")
	got, err := n.Normalize(feed.Source{Name: "j", Type: feed.TypeJSON, Items: apiRules}, api, "https://www.valley-post.example/api", testNow)
	if err != nil || len(got.Items) != 3 {
		t.Fatalf("API through Normalize: %v, %+v", err, got)
	}
	// Without rules a json source must be a JSON Feed; without a type,
	// any JSON object still reads as one (as it always has).
	if _, err := n.Normalize(feed.Source{Name: "j", Type: feed.TypeJSON}, api, "https://www.valley-post.example/api", testNow); err == nil || !strings.Contains(err.Error(), "no JSON Feed") || errors.Is(err, normalize.ErrNotAFeed) {
		t.Errorf("API without rules: err = %v, want one saying it is no JSON Feed", err)
	}
	if _, err := n.Normalize(feed.Source{Name: "j"}, api, "https://www.valley-post.example/api", testNow); err != nil {
		t.Errorf("API without a type: %v", err)
	}
	jf := []byte(`{"version": "https://jsonfeed.org/version/1.1", "title": "T", "items": [{"id": "1", "url": "https://j.example/1", "title": "One"}]}`)
	got, err = n.Normalize(feed.Source{Name: "j", Type: feed.TypeJSON}, jf, "https://j.example/feed.json", testNow)
	if err != nil || len(got.Items) != 1 || got.Items[0].ID != "1" {
		t.Errorf("JSON Feed: %v, %+v", err, got)
	}
	// Rules are honoured even on a JSON Feed.
	got, err = n.Normalize(feed.Source{Name: "j", Type: feed.TypeJSON, Items: &feed.ItemRules{Each: "items"}}, jf, "https://j.example/feed.json", testNow)
	if err != nil || len(got.Items) != 1 || got.Items[0].ID != "https://j.example/1" || got.Items[0].Title != "One" {
		t.Errorf("JSON Feed with rules: %v, %+v", err, got)
	}
	// A page is still no feed for a source of another type.
	if _, err := n.Normalize(feed.Source{Name: "h", Type: feed.TypeHTML}, readScrape(t, "grid.html"), "https://www.riverton.example/news", testNow); !errors.Is(err, normalize.ErrNotAFeed) {
		t.Errorf("html source: err = %v, want normalize.ErrNotAFeed", err)
	}
}
