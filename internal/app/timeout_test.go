package app

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/metrics"
	"github.com/feedmill/feedmill/internal/server"
)

// TestHangingSourceShown: a source that hangs past fetch.timeout is shown
// as timed out after that timeout on the status page and by `feedmill
// sources`, counted with the outcome timeout in the metrics, and backs off.
func TestHangingSourceShown(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hang.xml" {
			<-r.Context().Done() // until the client gives up
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		io.WriteString(w, `<rss version="2.0"><channel><title>Fine</title><link>https://fine.example/</link><description>d</description><item><title>Post</title><link>https://fine.example/1</link></item></channel></rss>`)
	}))
	defer origin.Close()
	p := pipelineFor(t, fmt.Sprintf(`storage:
  dsn: feedmill.db
fetch:
  timeout: 1s
sources:
  - name: hang
    url: %[1]s/hang.xml
  - name: fine
    url: %[1]s/fine.xml
`, origin.URL))
	m := metrics.New(metrics.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	for _, res := range p.refresher.RefreshAll(t.Context(), false) {
		observeResult(m, res)
	}
	const want = "timed out after 1s"

	if err := p.publisher.Rebuild(t.Context()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(server.Options{BaseURL: "http://feeds.example", Sources: p.cfg.DomainSources()}, p.publisher, p.store))
	defer srv.Close()
	page := fetchBody(t, srv.URL+"/")
	for _, w := range []string{want, `<span class="err">failing</span>`, "backing off after 1 failure"} {
		if !strings.Contains(page, w) {
			t.Errorf("status page lacks %q", w)
		}
	}
	if strings.Contains(page, "never fetched") {
		t.Errorf("status page says a source was never fetched")
	}

	states, err := p.store.States(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var table bytes.Buffer
	if err := writeSourceTable(&table, p.cfg, states, time.Now(), 0); err != nil {
		t.Fatal(err)
	}
	var line string
	for l := range strings.SplitSeq(table.String(), "\n") {
		if strings.HasPrefix(l, "hang ") {
			line = l
		}
	}
	if !strings.Contains(line, "failing") || !strings.Contains(line, want) {
		t.Errorf("feedmill sources shows the hanging source as %q, want failing and %q\n%s", line, want, table.String())
	}

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, series := range []string{
		`feedmill_fetches_total{outcome="timeout",source="hang"} 1`,
		`feedmill_fetches_total{outcome="error",source="hang"} 0`,
		`feedmill_source_consecutive_failures{source="hang"} 1`,
		`feedmill_fetches_total{outcome="ok",source="fine"} 1`,
	} {
		if !strings.Contains(rec.Body.String(), series+"\n") {
			t.Errorf("/metrics lacks %s", series)
		}
	}
}

func fetchBody(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
