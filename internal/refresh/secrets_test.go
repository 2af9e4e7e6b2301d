package refresh

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/feedmill/feedmill/internal/feed"
)

// TestFailuresHideSecrets refreshes sources whose URLs carry secrets, and
// whose failures name those URLs in several ways (discovery, a feed that
// moved and vanished): the stored last error, the result's error and the
// log hide them, with the names the refresher was configured with too.
func TestFailuresHideSecrets(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<!doctype html><html><head><title>p</title><link rel="alternate" type="application/rss+xml" href="/adv?token=T0K&amp;session=S3SS2&amp;page=2"></head><body>hi</body></html>`)
	})
	mux.HandleFunc("/old", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/gone?session=S3SS3&page=2", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/gone", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "gone", http.StatusGone)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	sources := []feed.Source{
		{Name: "page", URL: srv.URL + "/page?session=S3SS&page=2", Schedule: "*/15 * * * *"},
		{Name: "old", URL: strings.Replace(srv.URL, "http://", "http://user:s3cr3t@", 1) + "/old?apikey=K3Y&page=2", Schedule: "*/15 * * * *"},
	}
	var log bytes.Buffer
	r, fx := newRefresher(t, sources, Options{
		Redactor: feed.NewRedactor("session"),
		Logger:   slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	secrets := []string{"T0K", "S3SS", "s3cr3t", "K3Y"}
	for _, src := range sources {
		// Twice: the gone source fails the second time without a fetch.
		for range 2 {
			res := r.RefreshOne(t.Context(), src)
			if res.Err == nil {
				t.Fatalf("%s: no error", src.Name)
			}
			st, err := fx.store.State(t.Context(), src.Name)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range secrets {
				if strings.Contains(res.Err.Error(), s) {
					t.Errorf("%s: the error carries %q: %v", src.Name, s, res.Err)
				}
				if strings.Contains(st.LastError, s) {
					t.Errorf("%s: the stored last error carries %q: %s", src.Name, s, st.LastError)
				}
			}
			if !strings.Contains(st.LastError, "page=2") {
				t.Errorf("%s: the stored last error lost the rest of the URL: %s", src.Name, st.LastError)
			}
		}
	}
	for _, s := range secrets {
		if strings.Contains(log.String(), s) {
			t.Errorf("the log carries %q:\n%s", s, log.String())
		}
	}
}
