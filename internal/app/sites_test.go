package app_test

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

// newsSite serves sites without feeds: a small paper's front page (no
// selectors needed), a council's news listing (selectors given), a JSON
// API and a single article page. more adds a story to the front page.
type newsSite struct {
	*httptest.Server
	more        atomic.Bool
	notModified atomic.Int64
}

const councilPage = `<!doctype html><html><head><title>Council news</title></head><body>
<nav><a href="/council/">Home</a> <a href="/council/news/">News</a> <a href="/council/bins/">Bin days</a></nav>
<section id="news">
<article class="teaser"><h2><a href="/council/news/budget-2027-consultation">Budget 2027: have your say</a></h2><time datetime="2026-11-25">25 November</time><p class="lede">The consultation is open until January.</p></article>
<article class="teaser"><h2><a href="/council/news/winter-gritting-routes">Winter gritting routes published</a></h2><time datetime="2026-11-22">22 November</time><p class="lede">Check which roads are treated first.</p></article>
<article class="teaser"><h2><a href="/council/news/library-hours">Library opening hours extended</a></h2><time datetime="2026-11-19">19 November</time><p class="lede">Open until eight on Thursdays.</p></article>
</section>
<footer><a href="/council/contact">Contact</a></footer></body></html>`

const apiDoc = `{"data":{"posts":[
 {"id":2,"headline":"Harbour webcam back online","url":"/api/stories/webcam","published_at":"2026-11-26T09:00:00Z","body_html":"<p>The webcam on the pier works again.</p><script>alert(1)</script>"},
 {"id":1,"headline":"Tide tables for December","url":"https://gazette.example/tides/december","published_at":"2026-11-23T18:30:00Z","body_html":"<p>High and low water times.</p>"}
]}}`

const singleArticle = `<!doctype html><html><head><title>Winter fair returns to the quay | The Harbour Gazette</title>
<meta property="og:type" content="article">
<script type="application/ld+json">{"@context":"https://schema.org","@type":"NewsArticle","headline":"Winter fair returns to the quay","datePublished":"2026-11-26T16:45:00Z","author":{"@type":"Person","name":"Mara Quayle"}}</script>
</head><body><nav><a href="/">Home</a> <a href="/news/">News</a> <a href="/sport/">Sport</a></nav>
<article><h1>Winter fair returns to the quay</h1>
<p>The winter fair is back on the quay for three weekends in December, with forty stalls, a carousel and the brass band on Saturday evenings.</p>
<p>Organisers moved the stalls closer to the harbour wall this year, so that the fish market can open as usual on weekday mornings.</p>
<p>Entry is free; the proceeds of the raffle go to the lifeboat station, which is raising money for its new boat house.</p>
<p>Related: <a href="/news/2026/11/ferry-timetable-changes-for-winter">Ferry timetable changes for the winter season</a></p>
</article></body></html>`

func newNewsSite(t *testing.T) *newsSite {
	t.Helper()
	dir := filepath.Join("testdata", "sites", "paper")
	front, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	s := &newsSite{}
	serve := func(w http.ResponseWriter, r *http.Request, contentType, body string) {
		etag := fmt.Sprintf(`"%x"`, sha256.Sum256([]byte(body)))
		if r.Header.Get("If-None-Match") == etag {
			s.notModified.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("ETag", etag)
		fmt.Fprint(w, body)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		page := string(front)
		if s.more.Load() {
			card := `<div class="card"><a href="/news/2026/11/lighthouse-open-day-draws-record-crowd"><img src="/img/light.jpg" alt=""><h3>Lighthouse open day draws a record crowd</h3></a><p>Two thousand visitors.</p></div>`
			page = strings.Replace(page, `<div class="grid">`, `<div class="grid">`+card, 1)
		}
		serve(w, r, "text/html; charset=utf-8", page)
	})
	mux.HandleFunc("GET /news/2026/11/{slug}", func(w http.ResponseWriter, r *http.Request) {
		body, err := os.ReadFile(filepath.Join(dir, filepath.Base(r.PathValue("slug"))+".html"))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		serve(w, r, "text/html; charset=utf-8", string(body))
	})
	mux.HandleFunc("GET /council/news/{$}", func(w http.ResponseWriter, r *http.Request) {
		serve(w, r, "text/html; charset=utf-8", councilPage)
	})
	mux.HandleFunc("GET /api/posts", func(w http.ResponseWriter, r *http.Request) {
		serve(w, r, "application/json", apiDoc)
	})
	mux.HandleFunc("GET /story/winter-fair-returns-to-the-quay", func(w http.ResponseWriter, r *http.Request) {
		serve(w, r, "text/html; charset=utf-8", singleArticle)
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// jsonItem is an item of our JSON Feed output.
type jsonItem struct {
	ID            string `json:"id"`
	URL           string `json:"url"`
	Title         string `json:"title"`
	Summary       string `json:"summary"`
	ContentHTML   string `json:"content_html"`
	Image         string `json:"image"`
	DatePublished string `json:"date_published"`
	Authors       []struct {
		Name string `json:"name"`
	} `json:"authors"`
}

func publishedItems(t *testing.T, base string) map[string]jsonItem {
	t.Helper()
	_, body := get(t, base+"/feeds/all.json")
	var doc struct {
		Items []jsonItem `json:"items"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("all.json: %v", err)
	}
	byTitle := map[string]jsonItem{}
	for _, it := range doc.Items {
		byTitle[it.Title] = it
	}
	return byTitle
}

// TestSitesWithoutFeeds follows four sources that publish no feed — a
// front page whose listing feedmill finds itself, a listing with
// selectors, a JSON API and a single article page — and checks that they
// give clean, dated items in the published feed, that navigation, tags,
// pagination and footers do not become items, and that a changed listing
// adds only its new story, with the others keeping their ids.
func TestSitesWithoutFeeds(t *testing.T) {
	t.Parallel()
	site := newNewsSite(t)
	config, base := sitesConfig(t, site.URL, `
  - name: gazette
    url: %[1]s/
  - name: council
    url: %[1]s/council/news/
    type: html
    items:
      each: "article.teaser"
      title: "h2"
      link: "h2 a@href"
      date: "time@datetime"
      date_format: "2006-01-02"
      summary: "p.lede"
  - name: api
    url: %[1]s/api/posts
    type: json
    items:
      each: "data.posts"
      title: "headline"
      link: "url"
      date: "published_at"
      content: "body_html"
  - name: fair
    url: %[1]s/story/winter-fair-returns-to-the-quay`)
	if code, _, errOut := run(t, "check", "-config", config); code != 0 {
		t.Fatalf("check: exit %d\n%s", code, errOut)
	}
	// preview shows the selectors it inferred, and that a single article
	// is one.
	code, out, errOut := run(t, "preview", "-config", config, "gazette")
	if code != 0 || !strings.Contains(out, "found its listing with these selectors") || !strings.Contains(out, "each: ") {
		t.Errorf("preview gazette: exit %d, no inferred selectors:\n%s\n%s", code, out, errOut)
	}
	t.Logf("preview gazette:\n%s", out)
	if code, out, _ := run(t, "preview", "-config", config, "fair"); code != 0 || !strings.Contains(out, "the page is one article") {
		t.Errorf("preview fair: exit %d:\n%s", code, out)
	}
	if code, _, errOut := run(t, "fetch", "-config", config); code != 0 {
		t.Fatalf("first fetch: exit %d\n%s", code, errOut)
	}
	d := startDaemonArgs(t, base, "serve", "-config", config)
	items := publishedItems(t, base)

	type want struct {
		source, link, date, author, text string
	}
	wants := map[string]want{
		"Ferry timetable changes for the winter season":       {"gazette", site.URL + "/news/2026/11/ferry-timetable-changes-for-winter", "2026-11-20T07:30:00Z", "Mara Quayle", "four crossings a day"},
		"Harbour wall repairs finished three weeks early":     {"gazette", site.URL + "/news/2026/11/harbour-wall-repairs-finished-early", "2026-11-18T14:00:00Z", "", "two hundred granite blocks"},
		"Fish market reopens after the November storm":        {"gazette", site.URL + "/news/2026/11/fish-market-reopens-after-storm", "2026-11-16T07:15:00Z", "", "tore part of its roof"},
		"New lifeboat named by the primary school's children": {"gazette", site.URL + "/news/2026/11/new-lifeboat-named-by-school-children", "2026-11-14T12:00:00Z", "Ana Selby", "Morning Star"},
		"Budget 2027: have your say":                          {"council", site.URL + "/council/news/budget-2027-consultation", "2026-11-25T00:00:00Z", "", "consultation is open"},
		"Winter gritting routes published":                    {"council", site.URL + "/council/news/winter-gritting-routes", "2026-11-22T00:00:00Z", "", "roads are treated"},
		"Library opening hours extended":                      {"council", site.URL + "/council/news/library-hours", "2026-11-19T00:00:00Z", "", "eight on Thursdays"},
		"Harbour webcam back online":                          {"api", site.URL + "/api/stories/webcam", "2026-11-26T09:00:00Z", "", "webcam on the pier"},
		"Tide tables for December":                            {"api", "https://gazette.example/tides/december", "2026-11-23T18:30:00Z", "", "High and low water"},
		"Winter fair returns to the quay":                     {"fair", site.URL + "/story/winter-fair-returns-to-the-quay", "2026-11-26T16:45:00Z", "Mara Quayle", "forty stalls"},
	}
	for title, w := range wants {
		it, ok := items[title]
		if !ok {
			t.Errorf("%s (%s): not published", title, w.source)
			continue
		}
		if it.URL != w.link {
			t.Errorf("%s: link %s, want %s", title, it.URL, w.link)
		}
		if it.DatePublished != w.date {
			t.Errorf("%s: date %q, want %s (from its page)", title, it.DatePublished, w.date)
		}
		if w.author != "" && (len(it.Authors) == 0 || it.Authors[0].Name != w.author) {
			t.Errorf("%s: authors %+v, want %s", title, it.Authors, w.author)
		}
		if !strings.Contains(it.ContentHTML, w.text) {
			t.Errorf("%s: content lacks %q:\n%s", title, w.text, it.ContentHTML)
		}
		if strings.Contains(it.ContentHTML, "<script") || strings.Contains(it.ContentHTML, "alert(") {
			t.Errorf("%s: content not sanitized:\n%s", title, it.ContentHTML)
		}
	}
	if len(items) != len(wants) {
		var extra []string
		for title, it := range items {
			if _, ok := wants[title]; !ok {
				extra = append(extra, fmt.Sprintf("%q (%s)", title, it.URL))
			}
		}
		slices.Sort(extra)
		t.Errorf("%d items published, want %d; not expected: %s", len(items), len(wants), strings.Join(extra, ", "))
	}
	t.Logf("%d items published from the four sources without a feed", len(items))
	ids := map[string]string{}
	for title, it := range items {
		ids[title] = it.ID
	}
	d.stop(t)

	// The front page gains a story: a second pass adds it alone, the other
	// pages answer 304 to the validators of the first.
	site.more.Store(true)
	before := site.notModified.Load()
	if code, _, errOut := run(t, "fetch", "-config", config); code != 0 {
		t.Fatalf("second fetch: exit %d\n%s", code, errOut)
	}
	if n := site.notModified.Load() - before; n < 3 {
		t.Errorf("second pass: %d answers 304, want the 3 unchanged sources at least", n)
	}
	startDaemonArgs(t, base, "serve", "-config", config)
	items = publishedItems(t, base)
	if len(items) != len(wants)+1 {
		t.Errorf("after the front page changed: %d items, want %d", len(items), len(wants)+1)
	}
	if it, ok := items["Lighthouse open day draws a record crowd"]; !ok || it.DatePublished != "2026-11-24T09:00:00Z" {
		t.Errorf("the new story: %+v, %v; want it dated 2026-11-24T09:00:00Z from its page", it, ok)
	}
	for title, id := range ids {
		if items[title].ID != id {
			t.Errorf("%s: id %q after a refresh and a restart, was %q", title, items[title].ID, id)
		}
	}
}

// TestSiteRulesMatchingNothing: a listing on which the source's selectors
// match nothing is that source's error, never a quiet empty success.
func TestSiteRulesMatchingNothing(t *testing.T) {
	t.Parallel()
	site := newNewsSite(t)
	config := filepath.Join(t.TempDir(), "feeds.yaml")
	cfg := fmt.Sprintf(`fetch:
  min_gap: 0s
sources:
  - name: council
    url: %s/council/news/
    type: html
    items:
      each: "div.news-item"
      link: "a@href"
`, site.URL)
	if err := os.WriteFile(config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := run(t, "fetch", "-config", config)
	if code != 1 || !strings.Contains(errOut, `items.each "div.news-item" matched 0 elements`) {
		t.Errorf("fetch with rules matching nothing: exit %d, want 1 and the reason:\n%s", code, errOut)
	}
}

// sitesConfig writes the feeds.yaml of a daemon on a free port that
// fetches the sites' sources, a YAML list in which %[1]s stands for
// siteURL, and publishes them all in the feed "all"; it returns the file
// and the daemon's base URL.
func sitesConfig(t *testing.T, siteURL, sources string) (config, base string) {
	t.Helper()
	port := freePort(t)
	base = fmt.Sprintf("http://127.0.0.1:%d", port)
	config = filepath.Join(t.TempDir(), "feeds.yaml")
	cfg := fmt.Sprintf(`server:
  listen: 127.0.0.1:%d
  base_url: %s
schedule: "@every 1h"
fetch:
  min_gap: 0s
  per_host: 4
sources:`, port, base) + fmt.Sprintf(sources, siteURL) + `
feeds:
  - name: all
    sources: ["*"]
    limit: 100
`
	if err := os.WriteFile(config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return config, base
}
