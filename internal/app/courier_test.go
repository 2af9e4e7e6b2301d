package app_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/feedmill/feedmill/internal/testkit"
)

// courierSite serves testdata/sites/courier: a small paper's front page
// (a lead story shaped unlike the cards below it, a grid of cards, a
// navigation bar, a tag cloud, pagination and a footer), its five article
// pages, each dating and crediting its story in another place (JSON-LD,
// article:published_time, parsely-pub-date, a <time> outside <article>,
// DC.date) and each opening with its picture in another way, and the RSS
// feed of a blog that reuses one picture in most of its posts.
func courierSite(t *testing.T) *httptest.Server {
	t.Helper()
	dir := filepath.Join("testdata", "sites", "courier")
	var srv *httptest.Server
	file := func(name, contentType string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			body, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", contentType)
			w.Write([]byte(strings.ReplaceAll(string(body), "http://courier.test", srv.URL)))
		}
	}
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", file("index.html", "text/html; charset=utf-8"))
	mux.HandleFunc("GET /2026/{month}/{day}/{slug}", func(w http.ResponseWriter, r *http.Request) {
		file(filepath.Base(r.PathValue("slug"))+".html", "text/html; charset=utf-8")(w, r)
	})
	mux.Handle("GET /blog/feed.xml", file("blog.xml", "application/rss+xml"))
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestSmallPaper is the small paper of issue 15 read as a person reads it:
// from a front page and no selectors, exactly its five stories, the lead
// among them, each dated and credited by its own page, its byline taken
// out of the text and made the author, its picture kept at the top of the
// text and published as the item's image; and from a blog that reuses
// one picture, every post with its picture. Each source's own feed passes
// feedcheck in all three formats.
func TestSmallPaper(t *testing.T) {
	t.Parallel()
	site := courierSite(t)
	config, base := sitesConfig(t, site.URL, `
  - name: courier
    url: %[1]s/
  - name: weir
    url: %[1]s/blog/feed.xml`)
	if code, _, errOut := run(t, "fetch", "-config", config); code != 0 {
		t.Fatalf("fetch: exit %d\n%s", code, errOut)
	}
	startDaemonArgs(t, base, "serve", "-config", config)

	_, body := get(t, base+"/sources/courier.json")
	var doc struct {
		Items []jsonItem `json:"items"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("courier.json: %v\n%s", err, body)
	}
	img := func(name string) string { return site.URL + "/img/" + name }
	type want struct {
		date, author, image, text string
		hero                      string // what the picture opening the text shows; "" when the page has none
		byline                    string // the byline's words, which must leave the text
	}
	wants := map[string]want{
		"/2026/12/04/river-bridge-reopens-after-repairs": {date: "2026-12-04T07:15:00Z", author: "Sam Okafor", image: img("bridge-1600.jpg"), hero: "bridge-", text: "cracks in two of its five arches", byline: "By Sam Okafor"},
		"/2026/12/03/school-roof-fund-reaches-target":    {date: "2026-12-03T16:40:00Z", author: "Ines Vogel", image: img("roof-1200.jpg"), hero: "roof-1200.jpg", text: "winter fete on Saturday", byline: "Posted on"},
		"/2026/12/02/market-hall-gets-new-tenants":       {date: "2026-12-02T11:05:00Z", author: "Staff reporter", image: img("market-1200.jpg"), hero: "market-1200.jpg", text: "second-hand bookshop", byline: "Staff reporter"},
		// No picture of its own on the page: the listing's thumbnail.
		"/2026/12/01/valley-rovers-win-county-cup": {date: "2026-12-01T21:30:00Z", author: "Tom Reyes", image: img("rovers-400.jpg"), text: "saved the last penalty", byline: "By Tom Reyes"},
		"/2026/11/30/library-extends-winter-hours": {date: "2026-11-30T09:00:00Z", author: "Priya Natarajan", image: img("library-1200.jpg"), hero: "library-1200.jpg", text: "until eight in the evening"},
	}
	var got []string
	for _, it := range doc.Items {
		path := strings.TrimPrefix(it.URL, site.URL)
		got = append(got, path)
		w, ok := wants[path]
		if !ok {
			continue
		}
		if it.DatePublished != w.date {
			t.Errorf("%s: date %s, want %s from its page", path, it.DatePublished, w.date)
		}
		if len(it.Authors) != 1 || it.Authors[0].Name != w.author {
			t.Errorf("%s: authors %+v, want %s", path, it.Authors, w.author)
		}
		if !strings.Contains(it.ContentHTML, w.text) {
			t.Errorf("%s: content lacks %q:\n%s", path, w.text, it.ContentHTML)
		}
		if w.byline != "" {
			for field, s := range map[string]string{"content": it.ContentHTML, "summary": it.Summary} {
				if strings.Contains(s, w.byline) {
					t.Errorf("%s: the byline %q is still in the %s:\n%s", path, w.byline, field, s)
				}
			}
		}
		// The newsletter box of every article is the site's furniture.
		if strings.Contains(it.ContentHTML, "Get the Courier in your inbox") {
			t.Errorf("%s: the newsletter box was published:\n%s", path, it.ContentHTML)
		}
		if it.Image != w.image {
			t.Errorf("%s: image %q, want %q", path, it.Image, w.image)
		}
		if w.hero == "" {
			continue
		}
		// The page's picture opens the text, before the first paragraph.
		if i, p := strings.Index(it.ContentHTML, "<img"), strings.Index(it.ContentHTML, "<p"); i < 0 || p >= 0 && p < i {
			t.Errorf("%s: the picture does not open the text:\n%s", path, it.ContentHTML)
		} else if !strings.Contains(it.ContentHTML[i:], w.hero) {
			t.Errorf("%s: the text opens with another picture than %s:\n%s", path, w.hero, it.ContentHTML)
		}
	}
	slices.Sort(got)
	var wantPaths []string
	for p := range wants {
		wantPaths = append(wantPaths, p)
	}
	slices.Sort(wantPaths)
	if !slices.Equal(got, wantPaths) {
		t.Errorf("the front page gave\n  %s\nwant exactly its stories\n  %s", strings.Join(got, "\n  "), strings.Join(wantPaths, "\n  "))
	}

	// The blog reuses its sketchbook picture in four posts of six: a
	// picture of the posts, not the site's furniture.
	_, body = get(t, base+"/sources/weir.json")
	doc.Items = nil
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("weir.json: %v\n%s", err, body)
	}
	if len(doc.Items) != 6 {
		t.Errorf("weir: %d items, want 6", len(doc.Items))
	}
	sketches := 0
	for _, it := range doc.Items {
		if strings.Contains(it.ContentHTML, "/blog/img/my-sketchbook.jpg") {
			sketches++
		}
		if strings.Contains(it.ContentHTML, "Thanks for reading Weir Notes") {
			t.Errorf("weir %s: the sign-off every post repeats was published:\n%s", it.Title, it.ContentHTML)
		}
	}
	if sketches != 4 {
		t.Errorf("weir: the reused picture is in %d published posts, want the 4 that carry it", sketches)
	}

	// Every source is a feed of its own, valid as readers read it, and
	// the RSS and Atom documents carry the pictures too.
	for _, format := range []string{"rss", "atom"} {
		_, body := get(t, base+"/sources/courier."+format)
		if n := strings.Count(string(body), "<media:thumbnail"); n != 5 {
			t.Errorf("courier.%s: %d media:thumbnail, want the 5 stories' pictures", format, n)
		}
	}
	tool := testkit.Feedcheck(t)
	for _, src := range []string{"courier", "weir"} {
		for _, format := range []string{"atom", "rss", "json"} {
			u := base + "/sources/" + src + "." + format
			out, err := exec.CommandContext(t.Context(), tool, u, "--format", format, "--min-entries", "5").CombinedOutput()
			if err != nil || !strings.Contains(string(out), "feedcheck: OK") {
				t.Errorf("feedcheck %s: %v\n%s", u, err, out)
			}
		}
	}
}
