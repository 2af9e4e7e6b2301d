package app_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/store"
	"github.com/feedmill/feedmill/internal/testkit"
)

// publishedItem is an item of the daemon's /feeds/all.json: its title and
// its source, read from the _feedmill attribution.
type publishedItem struct {
	Title    string `json:"title"`
	Feedmill struct {
		Source struct {
			Name string `json:"name"`
		} `json:"source"`
	} `json:"_feedmill"`
}

// publishedAll returns the items of the daemon's /feeds/all.json.
func publishedAll(t *testing.T, base string) []publishedItem {
	t.Helper()
	_, body := get(t, base+"/feeds/all.json")
	var doc struct {
		Items []publishedItem `json:"items"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("/feeds/all.json: %v\n%s", err, body)
	}
	return doc.Items
}

// publishedBySource counts the items of the daemon's /feeds/all.json per
// source.
func publishedBySource(t *testing.T, base string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, it := range publishedAll(t, base) {
		out[it.Feedmill.Source.Name]++
	}
	return out
}

// reloadEnv is a daemon's config directory whose feeds.yaml the test
// rewrites while the daemon runs.
type reloadEnv struct {
	*env
	port int
}

// write writes feeds.yaml listening on port with the given sources (name,
// URL pairs) and returns its text.
func (e *reloadEnv) write(t *testing.T, port int, sources ...string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "server:\n  listen: 127.0.0.1:%d\n  base_url: %s\nstorage:\n  dsn: feedmill.db\nschedule: \"@every 1h\"\n", port, e.base)
	// Every test server is on 127.0.0.1, one host to the fetcher: no
	// spacing, or the test would wait a second per source.
	b.WriteString("fetch:\n  min_gap: 0s\nsources:\n")
	for i := 0; i+1 < len(sources); i += 2 {
		fmt.Fprintf(&b, "  - name: %s\n    url: %s\n", sources[i], sources[i+1])
	}
	b.WriteString("feeds:\n  - name: all\n    sources: [\"*\"]\n    limit: 50\n")
	if err := os.WriteFile(e.config, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestHotReload changes the config of a running daemon, by SIGHUP and by
// editing the file: added sources are fetched at once, removed ones leave
// the published feeds, an invalid file is rejected with its lines and the
// running config kept, and the listener never stops answering.
func TestHotReload(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	port := freePort(t)
	e := &reloadEnv{env: &env{dir: dir, config: filepath.Join(dir, "feeds.yaml"), base: fmt.Sprintf("http://127.0.0.1:%d", port)}, port: port}
	alpha := newOrigin(t, "atom.xml", "application/atom+xml")
	beta := newOrigin(t, "feed.json", "application/feed+json")
	gamma := newOrigin(t, "rss10.xml", "application/rdf+xml")
	e.write(t, port, "alpha", alpha.URL+"/atom.xml", "beta", beta.URL+"/feed.json")
	d := startDaemon(t, e.env)
	testkit.WaitFor(t, "alpha and beta published", func() bool {
		n := publishedBySource(t, e.base)
		return n["alpha"] == 2 && n["beta"] == 2
	})
	alphaRequests := alpha.requests.Load()

	t.Run("SIGHUP adds and removes sources", func(t *testing.T) {
		// Readers keep reading during the reload: every request answered.
		stop := make(chan struct{})
		var served, failed atomic.Int64
		var readers sync.WaitGroup
		for range 2 {
			readers.Go(func() {
				client := &http.Client{Timeout: time.Minute} // a safety net: answered is what counts, not how fast
				for {
					select {
					case <-stop:
						return
					default:
					}
					resp, err := client.Get(e.base + "/feeds/all.atom")
					if err != nil || resp.StatusCode != http.StatusOK {
						failed.Add(1)
					} else {
						served.Add(1)
					}
					if err == nil {
						resp.Body.Close()
					}
				}
			})
		}
		e.write(t, port, "alpha", alpha.URL+"/atom.xml", "gamma", gamma.URL+"/rss10.xml")
		if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		testkit.WaitFor(t, "gamma published and beta gone", func() bool {
			n := publishedBySource(t, e.base)
			return n["alpha"] == 2 && n["gamma"] == 2 && n["beta"] == 0
		})
		close(stop)
		readers.Wait()
		if failed.Load() > 0 || served.Load() == 0 {
			t.Errorf("during the reload %d requests failed, %d were answered", failed.Load(), served.Load())
		}
		// The line is logged after the new sources start, and reaches the
		// test through the daemon's stderr pipe: waited for, not assumed.
		testkit.WaitFor(t, "the log reports the reload and its changes", func() bool {
			log := d.stderr.String()
			return strings.Contains(log, `msg="config reloaded"`) && strings.Contains(log, "added=gamma removed=beta")
		})
		_, page := get(t, e.base+"/")
		if !strings.Contains(string(page), gamma.URL) || strings.Contains(string(page), beta.URL) {
			t.Errorf("the status page does not list exactly the new sources:\n%s", page)
		}
		if n := alpha.requests.Load(); n != alphaRequests {
			t.Errorf("alpha was fetched %d times by the reload although it was not due", n-alphaRequests)
		}
	})

	t.Run("an invalid config is rejected", func(t *testing.T) {
		text := e.write(t, port, "alpha", alpha.URL+"/atom.xml", "broken", "ftp://example.com/feed")
		line := 1 + strings.Count(text[:strings.Index(text, "ftp://")], "\n")
		if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("%s:%d: ", e.config, line)
		testkit.WaitFor(t, "the log names the bad line", func() bool { return strings.Contains(d.stderr.String(), want) })
		if n := publishedBySource(t, e.base); n["alpha"] != 2 || n["gamma"] != 2 {
			t.Errorf("after a rejected config the feeds are %v; want the running config's alpha and gamma", n)
		}
		_, page := get(t, e.base+"/")
		if !strings.Contains(string(page), "the new version is invalid") || !strings.Contains(string(page), want) {
			t.Errorf("the status page does not show the rejected config's problems:\n%s", page)
		}
		_, health := get(t, e.base+"/healthz")
		if !strings.Contains(string(health), `"config_problems"`) {
			t.Errorf("/healthz does not show the rejected config's problems:\n%s", health)
		}
	})

	t.Run("editing the file reloads it", func(t *testing.T) {
		// A listen address cannot change without a restart: it is kept,
		// and the rest of the config applies.
		e.write(t, freePort(t), "alpha", alpha.URL+"/atom.xml")
		testkit.WaitFor(t, "gamma gone after the edit", func() bool {
			n := publishedBySource(t, e.base)
			return n["alpha"] == 2 && n["gamma"] == 0
		})
		// The new feeds are served before the reload is logged (the old
		// generation first finishes its work): wait for the line.
		testkit.WaitFor(t, "the log says the edit was picked up and the listen address needs a restart", func() bool {
			log := d.stderr.String()
			return strings.Contains(log, `trigger="file changed"`) && strings.Contains(log, "server.listen changed")
		})
		_, page := get(t, e.base+"/")
		if strings.Contains(string(page), "the new version is invalid") {
			t.Error("the status page still shows the problems of a config that was replaced")
		}
	})
	d.stop(t)
}

// publishedTitles returns the titles of the daemon's /feeds/all.json items
// from source.
func publishedTitles(t *testing.T, base, source string) []string {
	t.Helper()
	var out []string
	for _, it := range publishedAll(t, base) {
		if it.Feedmill.Source.Name == source {
			out = append(out, it.Title)
		}
	}
	return out
}

// TestReloadSaysWhatChanged edits the config of a running daemon: the log
// names the sources and feeds added, removed and changed, and a source
// whose rules changed is fetched again at once, hours before its
// schedule, while one whose title changed is not fetched.
func TestReloadSaysWhatChanged(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	port := freePort(t)
	e := &env{dir: dir, config: filepath.Join(dir, "feeds.yaml"), base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	alpha := newOrigin(t, "atom.xml", "application/atom+xml")
	beta := newOrigin(t, "feed.json", "application/feed+json")
	gamma := newOrigin(t, "rss10.xml", "application/rdf+xml")
	head := fmt.Sprintf("server:\n  listen: 127.0.0.1:%d\n  base_url: %s\nstorage:\n  dsn: feedmill.db\nschedule: \"@every 1h\"\nfetch:\n  min_gap: 0s\n", port, e.base)
	write := func(text string) {
		t.Helper()
		if err := os.WriteFile(e.config, []byte(head+text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(fmt.Sprintf(`sources:
  - name: alpha
    url: %s/atom.xml
  - name: beta
    url: %s/feed.json
  - name: gamma
    url: %s/rss10.xml
feeds:
  - name: all
    sources: ["*"]
  - name: old
    sources: [gamma]
`, alpha.URL, beta.URL, gamma.URL))
	d := startDaemon(t, e)
	testkit.WaitFor(t, "alpha, beta and gamma published", func() bool {
		n := publishedBySource(t, e.base)
		return n["alpha"] == 2 && n["beta"] == 2 && n["gamma"] == 2
	})
	alphaBefore, betaBefore := alpha.requests.Load(), beta.requests.Load()

	// alpha's items get a rewrite (how they are made), beta a title of its
	// own (how it is shown), gamma goes; feeds: one changed, one removed,
	// one added.
	write(fmt.Sprintf(`sources:
  - name: alpha
    url: %s/atom.xml
    rewrite:
      - field: title
        pattern: "^"
        replace: "[reloaded] "
  - name: beta
    url: %s/feed.json
    title: Beta, renamed
feeds:
  - name: all
    sources: ["*"]
    limit: 20
  - name: new
    sources: [alpha]
`, alpha.URL, beta.URL))
	testkit.WaitFor(t, "the log names every change", func() bool {
		log := d.stderr.String()
		return strings.Contains(log, `msg="config reloaded"`) &&
			strings.Contains(log, "removed=gamma changed=alpha,beta fetch_now=alpha feeds_added=new feeds_removed=old feeds_changed=all")
	})
	testkit.WaitFor(t, "alpha fetched again and published with its rewrite", func() bool {
		titles := publishedTitles(t, e.base, "alpha")
		return alpha.requests.Load() > alphaBefore && len(titles) == 2 &&
			strings.HasPrefix(titles[0], "[reloaded] ") && strings.HasPrefix(titles[1], "[reloaded] ")
	})
	// The pass that fetched alpha decided about beta before it started.
	if n := beta.requests.Load(); n != betaBefore {
		t.Errorf("beta was fetched %d times by the reload, though only its title changed", n-betaBefore)
	}
	if n := alpha.notModified.Load(); n != 0 {
		t.Errorf("alpha answered %d times 304: with new rules the feed must be read in full", n)
	}
	d.stop(t)
}

// bulkFeed is the RSS document of a bulk source: n items, each with text
// that names it, so a half-written item would show.
func bulkFeed(name string, n int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0"?><rss version="2.0"><channel><title>%s</title><link>https://%s.example/</link><description>bulk</description>`, name, name)
	for i := range n {
		fmt.Fprintf(&b, `<item><title>%s story %d</title><link>https://%s.example/%d</link><guid>https://%s.example/%d</guid><pubDate>%s</pubDate><description>&lt;p&gt;%s story %d, the whole text.&lt;/p&gt;</description></item>`,
			name, i, name, i, name, i, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i)*time.Hour).Format(time.RFC1123Z), name, i)
	}
	b.WriteString(`</channel></rss>`)
	return []byte(b.String())
}

// TestCrashSafety kills a real `feedmill serve` with SIGKILL while it
// refreshes many sources (one of them trickling its body, so a refresh is
// surely in flight), then checks that the store is intact with no
// half-written source, and that a restart continues where it stopped.
func TestCrashSafety(t *testing.T) {
	t.Parallel()
	const bulk, perSource = 8, 250
	dir := t.TempDir()
	port := freePort(t)
	e := &env{dir: dir, config: filepath.Join(dir, "feeds.yaml"), base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "server:\n  listen: 127.0.0.1:%d\n  base_url: %s\nstorage:\n  dsn: feedmill.db\nschedule: \"@every 1h\"\nfetch:\n  min_gap: 0s\n  per_host: 4\n  concurrency: 4\nsources:\n", port, e.base)
	var names []string
	for i := range bulk {
		name := fmt.Sprintf("bulk%d", i)
		names = append(names, name)
		body := bulkFeed(name, perSource)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/rss+xml")
			w.Write(body)
		}))
		t.Cleanup(srv.Close)
		fmt.Fprintf(&cfg, "  - name: %s\n    url: %s/feed.xml\n", name, srv.URL)
	}
	var trickle atomic.Bool
	trickle.Store(true)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		body := bulkFeed("slow", 3)
		if !trickle.Load() {
			w.Write(body)
			return
		}
		w.Write(body[:100])
		w.(http.Flusher).Flush()
		for i := 100; i < len(body); i++ {
			select {
			case <-r.Context().Done():
				return
			case <-time.After(200 * time.Millisecond):
			}
			w.Write(body[i : i+1])
			w.(http.Flusher).Flush()
		}
	}))
	t.Cleanup(slow.Close)
	names = append(names, "slow")
	fmt.Fprintf(&cfg, "  - name: slow\n    url: %s/feed.xml\nfeeds:\n  - name: all\n    sources: [\"*\"]\n", slow.URL)
	if err := os.WriteFile(e.config, []byte(cfg.String()), 0o644); err != nil {
		t.Fatal(err)
	}

	d := startDaemon(t, e)
	// Kill as soon as the first source is committed: the others are being
	// fetched, normalized or written at that moment.
	deadline := time.Now().Add(time.Minute) // a safety net
	for {
		var h struct{ Items int }
		_, body := get(t, e.base+"/healthz")
		if json.Unmarshal(body, &h) == nil && h.Items > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no source stored after a minute; log:\n%s", d.stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := d.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	err := <-d.done
	d.done <- err

	dbPath := filepath.Join(dir, "feedmill.db")
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	var check string
	if err := db.QueryRowContext(t.Context(), "PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check after kill -9: %q %v", check, err)
	}
	db.Close()
	before := storedItems(t, dbPath, names, perSource)
	complete := 0
	for _, items := range before {
		if len(items) > 0 {
			complete++
		}
	}
	t.Logf("at the kill: %d of %d sources stored", complete, len(names))
	if complete == 0 || complete == len(names) {
		t.Errorf("the kill did not land in the middle of the refresh: %d of %d sources stored", complete, len(names))
	}

	trickle.Store(false)
	d = startDaemon(t, e)
	testkit.WaitFor(t, "every source stored after the restart", func() bool {
		var h struct {
			Never int `json:"never_fetched"`
			Items int
		}
		_, body := get(t, e.base+"/healthz")
		return json.Unmarshal(body, &h) == nil && h.Never == 0 && h.Items == bulk*perSource+3
	})
	d.stop(t)
	after := storedItems(t, dbPath, names, perSource)
	for src, items := range before {
		for key, it := range items {
			if got := after[src][key]; !got.FirstSeen.Equal(it.FirstSeen) {
				t.Errorf("%s %s: first seen %v before the restart, %v after: stored items must not change", src, key.ID, it.FirstSeen, got.FirstSeen)
				break
			}
		}
	}

	code, _, errOut := run(t, "fetch", "-config", e.config)
	if code != 0 || !strings.Contains(errOut, fmt.Sprintf("%d sources: 0 with new or updated items, %d unchanged, 0 failed", len(names), len(names))) {
		t.Errorf("the next refresh after the restart: exit %d\n%s", code, errOut)
	}
}

// storedItems reads the store at path as the next start would, checking
// that each source holds all of its items, each whole, or none.
func storedItems(t *testing.T, path string, names []string, perSource int) map[string]map[feed.Key]feed.Item {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	st, err := store.OpenSQLite(ctx, path, nil)
	if err != nil {
		t.Fatalf("open the store after a crash: %v", err)
	}
	defer st.Close()
	items, err := st.Items(ctx, feed.Query{Sources: names})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[feed.Key]feed.Item{}
	for _, name := range names {
		out[name] = map[feed.Key]feed.Item{}
	}
	for _, it := range items {
		var i int
		if _, err := fmt.Sscanf(strings.TrimPrefix(it.ID, "https://"+it.Source+".example/"), "%d", &i); err != nil {
			t.Errorf("%s: stored item with id %q", it.Source, it.ID)
			continue
		}
		wantTitle, wantText := fmt.Sprintf("%s story %d", it.Source, i), fmt.Sprintf("%s story %d, the whole text.", it.Source, i)
		if it.Title != wantTitle || it.Link != it.ID || !strings.Contains(it.Summary+it.Content, wantText) || it.FirstSeen.IsZero() {
			t.Errorf("%s: half-written item %+v", it.Source, it)
		}
		out[it.Source][it.Key()] = it
	}
	for _, name := range names {
		want := perSource
		if name == "slow" {
			want = 3
		}
		if n := len(out[name]); n != 0 && n != want {
			t.Errorf("%s: %d items stored, want all %d or none", name, n, want)
		}
	}
	return out
}
