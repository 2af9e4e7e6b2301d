package fetch

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/testkit"
)

// TestSecretsStayOutOfErrorsAndLogs fetches URLs with a password, keys and
// tokens, which fail in every way an error can name a URL: none of the
// secrets may reach the error or the log, and the rest of the URL must.
func TestSecretsStayOutOfErrorsAndLogs(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/temp":
			http.Redirect(w, r, "/broken?access_token=R3D&page=2", http.StatusFound)
		case "/loop":
			http.Redirect(w, r, "/loop?session=S3SS&page=2", http.StatusFound)
		case "/ftp":
			http.Redirect(w, r, "ftp://user:F7P@127.0.0.1/?token=F7P&page=2", http.StatusFound)
		default:
			http.Error(w, "oops", http.StatusInternalServerError)
		}
	})
	down := "http://" + testkit.RefusedAddr(t)

	secrets := []string{"s3cr3t", "K3Y", "T0K", "R3D", "S3SS", "F7P"}
	tests := []struct{ name, url string }{
		{"server down", "http://user:s3cr3t@" + strings.TrimPrefix(down, "http://") + "/feed?apikey=K3Y&token=T0K&page=2"},
		{"status error", srv.URL + "/feed?apikey=K3Y&page=2"},
		{"redirected to a failing URL", srv.URL + "/temp?apikey=K3Y&page=2"},
		{"redirect loop", srv.URL + "/loop?session=S3SS&page=2"},
		{"redirect to another scheme", srv.URL + "/ftp?token=T0K&page=2"},
		{"not a URL Go parses", "http://user:s3cr3t@127.0.0.1/%zz?apikey=K3Y&page=2"},
		{"not http", "ftp://user:s3cr3t@127.0.0.1/feed?token=T0K&page=2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var log bytes.Buffer
			c := newClient(t, Options{
				Logger:       slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug})),
				Redactor:     feed.NewRedactor("session"),
				MaxRedirects: 3,
			})
			_, err := c.Fetch(t.Context(), tc.url, feed.Validators{})
			if err == nil {
				t.Fatal("no error")
			}
			for _, s := range secrets {
				if strings.Contains(err.Error(), s) {
					t.Errorf("the error carries %q: %v", s, err)
				}
				if strings.Contains(log.String(), s) {
					t.Errorf("the log carries %q: %s", s, log.String())
				}
			}
			if !strings.Contains(err.Error(), "page=2") {
				t.Errorf("the error lost the rest of the URL: %v", err)
			}
		})
	}
}
