package app

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/feedmill/feedmill/internal/server"
)

// TestStatusOfTroubledSources runs sources that moved, vanished, are web
// pages or fail through the real pipeline, and reads what the status page
// and /healthz tell the operator about each.
func TestStatusOfTroubledSources(t *testing.T) {
	const rss = `<rss version="2.0"><channel><title>%s</title><link>https://blog.example/</link><description>d</description><item><title>Post</title><link>https://blog.example/1</link></item></channel></rss>`
	mux := http.NewServeMux()
	origin := httptest.NewServer(mux)
	defer origin.Close()
	mux.HandleFunc("/old.xml", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/new.xml", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/new.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprintf(w, rss, "Moved blog")
	})
	mux.HandleFunc("/gone.xml", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "gone", http.StatusGone)
	})
	mux.HandleFunc("/page.html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, `<!doctype html><html><head><title>A blog</title><link rel="alternate" type="application/rss+xml" href="/page-feed.xml"></head><body>Hello</body></html>`)
	})
	mux.HandleFunc("/page-feed.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprintf(w, rss, "Page blog")
	})
	mux.HandleFunc("/broken.xml", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "oops", http.StatusInternalServerError)
	})
	p := pipelineFor(t, fmt.Sprintf(`storage:
  dsn: feedmill.db
sources:
  - name: moved
    url: %[1]s/old.xml
  - name: gone
    url: %[1]s/gone.xml
  - name: page
    url: %[1]s/page.html
  - name: broken
    url: %[1]s/broken.xml
`, origin.URL))
	p.refresher.RefreshAll(t.Context(), false)
	if err := p.publisher.Rebuild(t.Context()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(server.Options{BaseURL: "http://feeds.example", Sources: p.cfg.DomainSources()}, p.publisher, p.store))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		"Moved permanently to <a href=\"" + origin.URL + "/new.xml\">",
		"found by autodiscovery, is <a href=\"" + origin.URL + "/page-feed.xml\">",
		`<span class="err">gone</span> <span class="muted">(410)</span>`,
		`<span class="err">failing</span>`, "500 Internal Server Error", "backing off after 1 failure",
	} {
		if !strings.Contains(string(page), want) {
			t.Errorf("status page lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("status page:\n%s", page)
	}

	resp, err = http.Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Failing, Gone int
		Attention     []struct {
			Source, Moved, Discovered, Advice string
			Gone                              bool
			Failures                          int
		}
	}
	err = json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if h.Failing != 1 || h.Gone != 1 || len(h.Attention) != 4 {
		t.Fatalf("healthz: failing %d, gone %d, attention %+v; want 1, 1 and four sources", h.Failing, h.Gone, h.Attention)
	}
	got := map[string]string{}
	for _, a := range h.Attention {
		if a.Gone {
			a.Failures = 0 // whether a 410 counts as a failure is the refresher's business
		}
		got[a.Source] = fmt.Sprintf("moved=%s discovered=%s gone=%t failures=%d advice=%q", a.Moved, a.Discovered, a.Gone, a.Failures, a.Advice)
	}
	want := map[string]string{
		"moved":  fmt.Sprintf("moved=%s/new.xml discovered= gone=false failures=0 advice=%q", origin.URL, "the feed moved permanently: set the url of source moved to "+origin.URL+"/new.xml in the config"),
		"gone":   fmt.Sprintf("moved= discovered= gone=true failures=0 advice=%q", "the feed was removed (410 Gone) and is not polled any more: update the url of source gone in the config, or delete the source"),
		"page":   fmt.Sprintf("moved= discovered=%s/page-feed.xml gone=false failures=0 advice=\"\"", origin.URL),
		"broken": `moved= discovered= gone=false failures=1 advice=""`,
	}
	for src, w := range want {
		if got[src] != w {
			t.Errorf("healthz %s:\n got %s\nwant %s", src, got[src], w)
		}
	}
}
