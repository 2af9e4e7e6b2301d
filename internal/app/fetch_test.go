package app_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/feedmill/feedmill/internal/testkit"
)

// newsroom is a source's server whose feed the test adds stories to, and
// which counts the requests.
type newsroom struct {
	*httptest.Server
	mu       sync.Mutex
	stories  []string
	requests atomic.Int64
}

func newNewsroom(t *testing.T, site string, stories ...string) *newsroom {
	t.Helper()
	n := &newsroom{stories: stories}
	n.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.requests.Add(1)
		n.mu.Lock()
		stories := n.stories
		n.mu.Unlock()
		etag := fmt.Sprintf(`"%d"`, len(stories))
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>%s</title><link>https://%s.example/</link><description>d</description>`, site, site)
		for i, s := range stories {
			fmt.Fprintf(w, `<item><title>%s</title><link>https://%s.example/%d</link><guid>https://%s.example/%d</guid><pubDate>Mon, 0%d Mar 2025 10:00:00 +0000</pubDate></item>`, s, site, i, site, i, i+1)
		}
		fmt.Fprint(w, `</channel></rss>`)
	}))
	t.Cleanup(n.Close)
	return n
}

func (n *newsroom) add(story string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.stories = append(n.stories, story)
}

// TestFetchBesideServe runs `feedmill fetch NAME` while `feedmill serve`
// runs on the same store: the command fetches just the source named, at
// once although the daemon fetched it a moment ago, the daemon publishes
// what it stored without a restart (noticing it within storage.poll, left
// at its default), and does not fetch the source again itself. A name that
// selects nothing is a command line error with a suggestion.
func TestFetchBesideServe(t *testing.T) {
	stores := []struct {
		name    string
		storage func(t *testing.T, dir string) string
	}{
		{"sqlite", func(t *testing.T, dir string) string {
			return fmt.Sprintf("storage:\n  dsn: %s\n", filepath.Join(dir, "feedmill.db"))
		}},
		{"postgres", func(t *testing.T, dir string) string {
			return fmt.Sprintf("storage:\n  driver: postgres\n  dsn: %q\n", postgresDSN(t))
		}},
	}
	for _, tt := range stores {
		t.Run(tt.name, func(t *testing.T) {
			news, other := newNewsroom(t, "news", "First story"), newNewsroom(t, "other", "Other story")
			dir := t.TempDir()
			port := freePort(t)
			base := fmt.Sprintf("http://127.0.0.1:%d", port)
			config := filepath.Join(dir, "feeds.yaml")
			cfg := fmt.Sprintf("server:\n  listen: 127.0.0.1:%d\n  base_url: %s\n%sschedule: \"@every 6h\"\nfetch:\n  min_gap: 0s\n"+
				"sources:\n  - name: news\n    url: %s/feed.xml\n  - name: other\n    url: %s/feed.xml\nfeeds:\n  - name: all\n    sources: [\"*\"]\n",
				port, base, tt.storage(t, dir), news.URL, other.URL)
			if err := os.WriteFile(config, []byte(cfg), 0o644); err != nil {
				t.Fatal(err)
			}
			d := startDaemonArgs(t, base, "serve", "-config", config, "-log-level", "debug")
			published := func(title string) func() bool {
				return func() bool {
					resp, err := http.Get(base + "/feeds/all.atom")
					if err != nil {
						return false
					}
					defer resp.Body.Close()
					body, err := io.ReadAll(resp.Body)
					return err == nil && strings.Contains(string(body), title)
				}
			}
			testkit.WaitFor(t, "the daemon publishes the first stories", func() bool {
				return published("First story")() && published("Other story")()
			})

			news.add("Fresh story")
			newsBefore, otherBefore := news.requests.Load(), other.requests.Load()
			code, _, stderr := run(t, "fetch", "-config", config, "news")
			if code != 0 {
				t.Fatalf("feedmill fetch news: exit status %d\n%s", code, stderr)
			}
			if !strings.Contains(stderr, "1 sources: 1 with new or updated items") {
				t.Errorf("summary:\n%s", stderr)
			}
			if got := news.requests.Load() - newsBefore; got != 1 {
				t.Errorf("news requested %d times by fetch, want once", got)
			}
			if got := other.requests.Load() - otherBefore; got != 0 {
				t.Errorf("other requested %d times, want none: it was not named", got)
			}
			testkit.WaitFor(t, "the running daemon publishes the story fetch stored", published("Fresh story"))
			if got := news.requests.Load() - newsBefore; got != 1 {
				t.Errorf("news requested %d times since fetch began, want once (the daemon fetched it again)\n%s", got, d.stderr.String())
			}

			code, _, stderr = run(t, "fetch", "-config", config, "nwes", "oth*")
			if code != 2 || !strings.Contains(stderr, `unknown source "nwes": did you mean "news"?`) {
				t.Errorf("feedmill fetch nwes: exit status %d, stderr:\n%s\nwant 2 and a suggestion", code, stderr)
			}
			code, _, stderr = run(t, "fetch", "-config", config, "sport-*")
			if code != 2 || !strings.Contains(stderr, `no source matches "sport-*"`) {
				t.Errorf("feedmill fetch sport-*: exit status %d, stderr:\n%s\nwant 2", code, stderr)
			}
		})
	}
}
