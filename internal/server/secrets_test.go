package server

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
)

// TestPagesHideSecrets serves sources whose URLs, stored moves, discovered
// feeds and stored errors carry a password, keys and tokens (as states
// stored before redaction did): no page shows them, and the rest of the
// URLs stays.
func TestPagesHideSecrets(t *testing.T) {
	now := time.Now().UTC()
	const secretURL = "http://user:s3cr3t@feeds.example/feed?apikey=K3Y&token=T0K&page=2&session=S3SS"
	srv := httptest.NewServer(New(Options{
		BaseURL:  "http://feeds.example",
		Redactor: feed.NewRedactor("session"),
		Sources: []feed.Source{
			{Name: "failing", URL: secretURL}, {Name: "moved", URL: secretURL}, {Name: "page", URL: secretURL},
		},
	}, fixedSnapshots{}, fixedStates{states: []feed.SourceState{
		{Name: "failing", URL: secretURL, LastFetch: now, Failures: 1,
			LastError: `fetch http://user:***@feeds.example/feed?apikey=K3Y&token=T0K&page=2: Get "http://feeds.example/x?sig=S1G&page=2": connection refused`},
		{Name: "moved", URL: secretURL, LastFetch: now, LastSuccess: now, Moved: "http://user:s3cr3t@new.example/feed?apikey=K3Y&page=2"},
		{Name: "page", URL: secretURL, LastFetch: now, LastSuccess: now, Discovered: "http://feeds.example/feed.xml?access_token=T0K&page=2"},
	}}))
	defer srv.Close()
	for _, path := range []string{"/", "/status.json", "/healthz", "/sources/failing", "/sources/moved", "/sources/page"} {
		resp, body := do(t, "GET", srv.URL+path)
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: %s", path, resp.Status)
		}
		for _, secret := range []string{"s3cr3t", "K3Y", "T0K", "S3SS", "S1G"} {
			if i := strings.Index(body, secret); i >= 0 {
				t.Errorf("%s shows %q: …%s…", path, secret, body[max(i-100, 0):min(i+50, len(body))])
			}
		}
		if !strings.Contains(body, "page=2") {
			t.Errorf("%s lost the rest of the URLs", path)
		}
	}
}
