package app_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/feedmill/feedmill/internal/testkit"
)

// secretFeed is what the authenticated origin serves.
const secretFeed = `<?xml version="1.0"?>
<rss version="2.0"><channel><title>Members only</title><link>https://members.example/</link><description>d</description>
<item><title>Private post</title><link>https://members.example/1</link><guid>https://members.example/1</guid><pubDate>Thu, 06 Mar 2025 12:00:00 GMT</pubDate></item>
</channel></rss>`

// The secrets of the test's source URLs: none may show up anywhere.
var secrets = []string{"s3cr3t", "K3Y", "T0K", "R3D", "M0V", "S3SS"}

// secretOrigin serves secretFeed at /feed to requests with the right basic
// auth and key, answers /redirect with a temporary redirect to a failing
// URL that carries a token, and /moved with a permanent one to a URL with
// a token, where the feed is.
// It accepts the credentials creds holds at the time of the request.
func secretOrigin(t *testing.T, creds *atomic.Pointer[[2]string]) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	serve := func(w http.ResponseWriter, r *http.Request) {
		password, key := creds.Load()[0], creds.Load()[1]
		user, pass, ok := r.BasicAuth()
		if !ok || user != "user" || pass != password || r.URL.Query().Get("apikey") != key {
			http.Error(w, "who are you?", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, secretFeed)
	}
	mux.HandleFunc("/feed", serve)
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/broken?access_token=R3D&page=2", http.StatusFound)
	})
	mux.HandleFunc("/broken", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "oops", http.StatusInternalServerError)
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/feed?apikey="+creds.Load()[1]+"&signature=M0V&page=2", http.StatusMovedPermanently)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// writeSecretConfig writes a feeds.yaml whose sources carry credentials:
// one that works, one whose server is down, one redirected to a failing
// URL with a token, one that moved permanently to a URL with a token.
func writeSecretConfig(t *testing.T, dir, base string, port int, origin, password string) string {
	t.Helper()
	u := strings.TrimPrefix(origin, "http://")
	cfg := fmt.Sprintf(`server:
  listen: 127.0.0.1:%[1]d
  base_url: %[2]s
storage:
  dsn: feedmill.db
schedule: "@every 1h"
fetch:
  min_gap: 0s
  secret_params: [session]
sources:
  - name: members
    url: http://user:%[4]s@%[3]s/feed?apikey=K3Y&token=T0K&page=2
  - name: locked
    url: http://user:%[4]s@%[5]s/feed?apikey=K3Y&token=T0K&page=2&session=S3SS
  - name: redirected
    url: http://%[3]s/redirect?apikey=K3Y&page=2
  - name: relocated
    url: http://user:%[4]s@%[3]s/moved?apikey=K3Y&token=T0K&page=2
`, port, base, u, password, testkit.RefusedAddr(t))
	path := filepath.Join(dir, "feeds.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSecretsNeverPublished runs the daemon on sources whose URLs carry a
// password, an API key and tokens, some of which fail, and reads every
// public output and the whole log: no secret may appear, and the rest of
// the URLs (page=2) must.
func TestSecretsNeverPublished(t *testing.T) {
	var creds atomic.Pointer[[2]string]
	creds.Store(&[2]string{"s3cr3t", "K3Y"})
	origin := secretOrigin(t, &creds)
	dir := t.TempDir()
	port := freePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	config := writeSecretConfig(t, dir, base, port, origin.URL, "s3cr3t")
	d := startDaemonArgs(t, base, "serve", "-config", config, "-log-level", "debug")

	testkit.WaitFor(t, "every source fetched once", func() bool {
		_, body := get(t, base+"/status.json")
		return !strings.Contains(string(body), `"status": "never fetched"`) && !strings.Contains(string(body), `"status":"never fetched"`)
	})
	testkit.WaitFor(t, "the private post published", func() bool {
		_, body := get(t, base+"/feeds/all.atom")
		return strings.Contains(string(body), "Private post")
	})

	outputs := map[string]string{}
	for _, path := range []string{
		"/feeds/all.atom", "/feeds/all.rss", "/feeds/all.json", "/feeds/all.opml", "/opml",
		"/", "/status.json", "/sources/members", "/sources/locked", "/sources/redirected", "/sources/relocated",
		"/metrics", "/healthz",
	} {
		resp, body := get(t, base+path)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %s", path, resp.Status)
		}
		outputs[path] = string(body)
	}
	_, out, errOut := run(t, "sources", "-config", config)
	outputs["feedmill sources"] = out + errOut
	d.stop(t)
	outputs["daemon log"] = d.stderr.String()

	for what, text := range outputs {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s carries the secret %q:\n%s", what, s, around(text, s))
			}
		}
	}
	// What is not secret is kept.
	for _, what := range []string{"/feeds/all.atom", "/feeds/all.rss", "/feeds/all.json", "/opml", "/", "/status.json", "/sources/members"} {
		if !strings.Contains(outputs[what], "page=2") {
			t.Errorf("%s lost the URL's page=2", what)
		}
	}
	// The failures are recorded and shown, redacted.
	for _, want := range []string{"connection refused", "HTTP 500", "redirected to"} {
		if !strings.Contains(outputs["/status.json"], want) {
			t.Errorf("status.json lacks the error %q", want)
		}
	}
	if t.Failed() {
		t.Logf("status.json:\n%s", outputs["/status.json"])
	}
}

// TestSourceIDsSurviveSecretRotation publishes the same source with one
// password and key, then another: the ids and links that name the source
// in the published documents stay the same.
func TestSourceIDsSurviveSecretRotation(t *testing.T) {
	sourceIDs := regexp.MustCompile(`(?s)<source>.*?</source>|"_feedmill":\s*\{.*?\}|<source url="[^"]*"|xmlUrl="[^"]*"`)
	var seen []string
	var creds atomic.Pointer[[2]string]
	origin := secretOrigin(t, &creds)
	for _, cred := range [][2]string{{"s3cr3t", "K3Y"}, {"n3w", "N3WK3Y"}} {
		creds.Store(&cred)
		dir := t.TempDir()
		port := freePort(t)
		base := "http://feeds.example"
		u := strings.TrimPrefix(origin.URL, "http://")
		cfg := fmt.Sprintf("server:\n  listen: 127.0.0.1:%d\n  base_url: %s\nstorage:\n  dsn: feedmill.db\nsources:\n  - name: members\n    url: http://user:%s@%s/feed?apikey=%s&page=2\n",
			port, base, cred[0], u, cred[1])
		config := filepath.Join(dir, "feeds.yaml")
		if err := os.WriteFile(config, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		if code, out, errOut := run(t, "fetch", "-config", config); code != 0 {
			t.Fatalf("fetch: exit %d\n%s%s", code, out, errOut)
		}
		d := startDaemonArgs(t, fmt.Sprintf("http://127.0.0.1:%d", port), "serve", "-config", config)
		var ids []string
		for _, path := range []string{"/feeds/all.atom", "/feeds/all.rss", "/feeds/all.json", "/opml"} {
			_, body := get(t, fmt.Sprintf("http://127.0.0.1:%d%s", port, path))
			found := sourceIDs.FindAllString(string(body), -1)
			if len(found) == 0 {
				t.Fatalf("%s names no source:\n%s", path, body)
			}
			for _, f := range found {
				// The source's own update time is not an id.
				ids = append(ids, regexp.MustCompile(`<updated>[^<]*</updated>`).ReplaceAllString(f, ""))
			}
		}
		d.stop(t)
		seen = append(seen, strings.Join(ids, "\n"))
	}
	if seen[0] != seen[1] {
		t.Errorf("the published source ids changed with the secret:\nbefore:\n%s\nafter:\n%s", seen[0], seen[1])
	}
	if strings.Contains(seen[0], "s3cr3t") || strings.Contains(seen[1], "N3WK3Y") {
		t.Errorf("the published source ids carry the secret:\n%s", seen[0]+"\n"+seen[1])
	}
}

// around returns the text around the first s in text.
func around(text, s string) string {
	i := strings.Index(text, s)
	lo, hi := max(i-200, 0), min(i+len(s)+200, len(text))
	return text[lo:hi]
}
