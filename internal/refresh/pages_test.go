package refresh

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
)

// paperSite is an httptest paper without a feed: a listing of teasers
// dated by day only and credited to the paper, and article pages that
// know better (a timestamp in JSON-LD, a meta tag or a byline, the
// reporter's byline, a hero picture above the story).
func paperSite(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	story := func(n int) string {
		return fmt.Sprintf(`<p>Story %d. The harbour board met on Thursday evening and agreed, after a long debate about dredging, moorings and the winter timetable of the ferry, to spend its reserve on the outer wall.</p>
<p>Fishermen had asked for the work for years. The board's chair said the wall would be finished before the spring tides, and that the quay would stay open while the crews worked around them.</p>
<p>The plan now goes to the council, which is expected to approve it at its meeting next month, along with a new charge for visiting yachts in the summer season.</p>`, n)
	}
	pages := map[string]string{
		// A date-only listing value never overrides the page's timestamp.
		"1": `<head><title>One</title><meta property="og:site_name" content="Portmoor Post">
<script type="application/ld+json">{"@type":"NewsArticle","headline":"One","datePublished":"2025-12-04T09:30:00Z"}</script></head>
<body><header class="site-header"><a href="/"><img src="/static/masthead.png" alt="Portmoor Post"></a><nav><a href="/news">News</a></nav></header>
<h1>One</h1><figure><img data-src="/media/one.jpg" src="/img/blank.gif" alt="The quay"><figcaption>The quay at dawn</figcaption></figure>
<article><p class="byline">By Sam Okafor</p>` + story(1) + `</article></body>`,
		// The page gives only a day (its byline's), on which the listing's
		// timestamp falls: the listing's is kept.
		"2": `<head><title>Two</title></head><body><article><h1>Two</h1><p>Posted on 3 Dec 2025 by Ines Vogel</p>` + story(2) + `</article></body>`,
		// The page's meta tag names another day than the listing: the
		// page is the better witness.
		"3": `<head><title>Three</title><meta property="article:published_time" content="2025-12-02T07:00:00Z"><meta property="og:image" content="/media/three.jpg"></head>
<body><article><h1>Three</h1>` + story(3) + `</article></body>`,
	}
	mux.HandleFunc("GET /news", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<html><head><title>Portmoor Post</title></head><body><ul>
<li class="story"><a href="/a/1">One</a> <span class="date">4 Dec 2025</span> <span class="by">Portmoor Post</span></li>
<li class="story"><a href="/a/2">Two</a> <span class="date">2025-12-03T18:45:00Z</span></li>
<li class="story"><a href="/a/3">Three</a> <span class="date">1 Dec 2025</span> <img src="/media/three-thumb.jpg" alt=""></li>
</ul></body></html>`)
	})
	mux.HandleFunc("GET /a/{n}", func(w http.ResponseWriter, r *http.Request) {
		p, ok := pages[r.PathValue("n")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<!doctype html><html>"+p+"</html>")
	})
	return srv
}

// TestWebPageItemsTakeTheirPagesWord: for a web page source, each item's
// page dates and credits it over the listing (a date-only listing value
// never over a timestamp of the page), and its lead picture becomes the
// item's, over the listing's thumbnail. Before pages won for html sources, item 1 kept the listing's
// midnight and the paper as author, and item 3 the listing's day. The
// preview shows what a refresh makes; the store what it kept.
func TestWebPageItemsTakeTheirPagesWord(t *testing.T) {
	srv := paperSite(t)
	src := feed.Source{Name: "portmoor", URL: srv.URL + "/news", Type: feed.TypeHTML, Schedule: "@hourly", FullText: true,
		Items: &feed.ItemRules{Each: "li.story", Title: "a", Date: "span.date", Author: "span.by", Image: "img"}}
	r, fx := newRefresher(t, []feed.Source{src}, Options{})
	p, err := r.Preview(t.Context(), "portmoor", 0)
	if err != nil {
		t.Fatal(err)
	}
	var previewed []feed.Item
	for _, c := range p.Items {
		previewed = append(previewed, c.Item)
	}
	checkPaperItems(t, "preview", srv.URL, previewed)

	if res := r.RefreshOne(t.Context(), src); res.Err != nil || res.New != 3 {
		t.Fatalf("refresh: %+v", res)
	}
	stored, err := fx.store.Items(t.Context(), feed.Query{Sources: []string{"portmoor"}})
	if err != nil {
		t.Fatal(err)
	}
	checkPaperItems(t, "stored", srv.URL, stored)
}

func checkPaperItems(t *testing.T, what, site string, items []feed.Item) {
	t.Helper()
	byPath := map[string]feed.Item{}
	for _, it := range items {
		byPath[strings.TrimPrefix(it.Link, site)] = it
	}
	for _, w := range []struct {
		path      string
		published time.Time
		author    string
		image     string
	}{
		{"/a/1", time.Date(2025, 12, 4, 9, 30, 0, 0, time.UTC), "Sam Okafor", site + "/media/one.jpg"},
		{"/a/2", time.Date(2025, 12, 3, 18, 45, 0, 0, time.UTC), "Ines Vogel", ""},
		{"/a/3", time.Date(2025, 12, 2, 7, 0, 0, 0, time.UTC), "", site + "/media/three.jpg"}, // the page's picture over the listing's thumbnail
	} {
		it, ok := byPath[w.path]
		if !ok {
			t.Errorf("%s: %s missing; have %v", what, w.path, reflect.ValueOf(byPath).MapKeys())
			continue
		}
		if !it.Published.Equal(w.published) {
			t.Errorf("%s %s: Published %v, want %v", what, w.path, it.Published, w.published)
		}
		var names []string
		for _, p := range it.Authors {
			names = append(names, p.Name)
		}
		if got := strings.Join(names, ", "); got != w.author {
			t.Errorf("%s %s: Authors %q, want %q", what, w.path, got, w.author)
		}
		if it.Image != w.image {
			t.Errorf("%s %s: Image %q, want %q", what, w.path, it.Image, w.image)
		}
		if strings.Contains(it.Content, "By Sam Okafor") || strings.Contains(it.Content, "Posted on") || strings.Contains(it.Summary, "Posted on") {
			t.Errorf("%s %s: byline left in content or summary:\n%s\n%s", what, w.path, it.Summary, it.Content)
		}
	}
	if it := byPath["/a/1"]; !strings.Contains(it.Content, "one.jpg") || !strings.Contains(it.Content, "The quay at dawn") {
		t.Errorf("%s: the hero and its caption are not in the content:\n%s", what, it.Content)
	}
}

// TestApplyArticleTrust pins whose word wins when a page completes an
// item: a web page's own page over its listing, a feed over the page.
func TestApplyArticleTrust(t *testing.T) {
	day := time.Date(2025, 12, 4, 0, 0, 0, 0, time.UTC)
	stamp := time.Date(2025, 12, 4, 9, 30, 0, 0, time.UTC)
	other := time.Date(2025, 12, 2, 7, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name       string
		pageWins   bool
		item, page time.Time
		itemAuthor string
		pageAuthor string
		wantDate   time.Time
		wantAuthor string
	}{
		{"page timestamp over listing day", true, day, stamp, "Portmoor Post", "Sam Okafor", stamp, "Sam Okafor"},
		{"listing timestamp over page day", true, stamp, day, "", "Sam Okafor", stamp, "Sam Okafor"},
		{"page's other day over listing's", true, day, other, "", "", other, ""},
		{"page fills what the listing lacks", true, time.Time{}, stamp, "Ann", "", stamp, "Ann"},
		{"feed's date and author win", false, other, stamp, "Ann", "Sam Okafor", other, "Ann"},
		{"page fills what the feed lacks", false, time.Time{}, stamp, "", "Sam Okafor", stamp, "Sam Okafor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			it := feed.Item{Published: tc.item}
			if tc.itemAuthor != "" {
				it.Authors = []feed.Person{{Name: tc.itemAuthor}}
			}
			applyArticle(&it, feed.Article{Content: "<p>x</p>", Published: tc.page, Author: tc.pageAuthor, Image: "https://a.example/i.jpg"}, tc.pageWins)
			author := ""
			if len(it.Authors) > 0 {
				author = it.Authors[0].Name
			}
			if !it.Published.Equal(tc.wantDate) || author != tc.wantAuthor || it.Image != "https://a.example/i.jpg" {
				t.Errorf("got %v %q %q; want %v %q and the page's image", it.Published, author, it.Image, tc.wantDate, tc.wantAuthor)
			}
		})
	}
}
