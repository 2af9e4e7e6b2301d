package app_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/atom"
	"github.com/mmcdole/gofeed/rss"

	"github.com/feedmill/feedmill/internal/testkit"
)

// binary is the feedmill executable built once for the end-to-end tests:
// they run the real program as a user would, in its own process.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "feedmill-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "feedmill")
	build := exec.Command("go", "build", "-o", binary, "../../cmd/feedmill")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build feedmill:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// origin is an httptest server standing for one source's web server. It
// serves a fixture with validators and counts what it was asked.
type origin struct {
	*httptest.Server
	requests    atomic.Int64
	conditional atomic.Int64 // requests that carried our validators
	notModified atomic.Int64
}

func newOrigin(t *testing.T, fixture, contentType string) *origin {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", "sources", fixture))
	if err != nil {
		t.Fatal(err)
	}
	etag := fmt.Sprintf(`"%x"`, len(body)*7919)
	lastMod := time.Date(2025, 3, 6, 12, 0, 0, 0, time.UTC).Format(http.TimeFormat)
	o := &origin{}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.requests.Add(1)
		if !strings.HasPrefix(r.UserAgent(), "feedmill/") {
			http.Error(w, "who are you?", http.StatusForbidden)
			return
		}
		inm, ims := r.Header.Get("If-None-Match"), r.Header.Get("If-Modified-Since")
		if inm != "" || ims != "" {
			o.conditional.Add(1)
		}
		if inm == etag || (inm == "" && ims == lastMod) {
			o.notModified.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("ETag", etag)
		w.Header().Set("Last-Modified", lastMod)
		w.Write(body)
	}))
	t.Cleanup(o.Close)
	return o
}

// fixtures are the test's sources: every input format feedmill reads.
var fixtures = []struct {
	name, file, contentType, categories string
}{
	{"oldschool", "rss091.xml", "application/rss+xml", "[news]"},
	{"rdf", "rss10.xml", "application/rdf+xml", "[science]"},
	{"podcast", "rss20.xml", "application/rss+xml; charset=utf-8", "[audio, news]"},
	{"atomblog", "atom.xml", "application/atom+xml", "[tech]"},
	{"kitchen", "feed.json", "application/feed+json", "[food]"},
}

type env struct {
	dir, config, base string
	origins           map[string]*origin
}

// newEnv writes a feeds.yaml with one source per fixture, plus one source
// whose server is down.
func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{dir: t.TempDir(), origins: map[string]*origin{}}
	port := freePort(t)
	e.base = fmt.Sprintf("http://127.0.0.1:%d", port)
	var cfg strings.Builder
	// Every test server is on 127.0.0.1, one host to the fetcher: no
	// spacing between requests, or each pass would wait a second a source.
	fmt.Fprintf(&cfg, "server:\n  listen: 127.0.0.1:%d\n  base_url: %s\nstorage:\n  dsn: data/feedmill.db\nschedule: \"@every 1h\"\nfetch:\n  min_gap: 0s\nsources:\n", port, e.base)
	for _, f := range fixtures {
		o := newOrigin(t, f.file, f.contentType)
		e.origins[f.name] = o
		fmt.Fprintf(&cfg, "  - name: %s\n    url: %s/%s\n    categories: %s\n", f.name, o.URL, f.file, f.categories)
	}
	fmt.Fprintf(&cfg, "  - name: down\n    url: http://%s/feed.xml\n", testkit.RefusedAddr(t))
	cfg.WriteString(`feeds:
  - name: all
    title: Everything
    description: All sources, newest first
    sources: ["*"]
    limit: 50
  - name: news
    title: News
    categories: [news]
    limit: 10
`)
	if err := os.MkdirAll(filepath.Join(e.dir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	e.config = filepath.Join(e.dir, "feeds.yaml")
	if err := os.WriteFile(e.config, []byte(cfg.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return e
}

func freePort(t *testing.T) int { return testkit.FreePort(t) }

// run runs feedmill to completion and returns its exit code and output.
func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.String(), errOut.String()
	} else if err != nil {
		t.Fatalf("run feedmill %v: %v", args, err)
	}
	return 0, out.String(), errOut.String()
}

// daemon is a running `feedmill serve`.
type daemon struct {
	cmd    *exec.Cmd
	stderr *testkit.SyncBuffer
	done   chan error
}

func startDaemon(t *testing.T, e *env) *daemon {
	t.Helper()
	return startDaemonArgs(t, e.base, "serve", "-config", e.config)
}

// startDaemonArgs starts feedmill with args and waits until base/healthz
// answers.
func startDaemonArgs(t *testing.T, base string, args ...string) *daemon {
	t.Helper()
	d := &daemon{cmd: exec.Command(binary, args...), stderr: &testkit.SyncBuffer{}, done: make(chan error, 1)}
	d.cmd.Stderr = d.stderr
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.done <- d.cmd.Wait() }()
	t.Cleanup(func() {
		d.cmd.Process.Kill()
		<-d.done
		if t.Failed() {
			t.Logf("daemon log:\n%s", d.stderr.String())
		}
	})
	testkit.WaitFor(t, "daemon answers /healthz", func() bool {
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return d
}

// stop sends SIGTERM and expects a clean exit with status 0.
func (d *daemon) stop(t *testing.T) {
	t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-d.done:
		d.done <- err // for the cleanup
		if err != nil {
			t.Fatalf("daemon exited with %v after SIGTERM; log:\n%s", err, d.stderr.String())
		}
	case <-time.After(time.Minute): // a safety net: a clean exit takes well under a second
		t.Fatalf("daemon still running a minute after SIGTERM; log:\n%s", d.stderr.String())
	}
}

func get(t *testing.T, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	// A bare transport: no transparent gzip, so the test sees the bytes.
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", url, err)
	}
	return resp, body
}

// expected is what the combined feed must hold after one refresh: every
// item of every source, the story that two sources carry only once.
var expected = []struct {
	title, link, source string
	date                string // RFC 3339; empty: undated in the source, so first-seen time
}{
	{"Caf\u00e9 opens on Main Street", "http://oldschool.example/cafe.html", "oldschool", ""},
	{"Town hall meeting moved", "http://oldschool.example/townhall.html", "oldschool", ""},
	{"Parsing everything", "https://atom.example/blog/posts/parsing", "atomblog", "2025-03-06T12:00:00Z"},
	{"Sourdough bread", "https://json.example/recipes/bread", "kitchen", "2025-03-05T18:00:00Z"},
	{"Episode 42: Feeds", "https://podcast.example/episodes/42", "podcast", "2025-03-05T09:00:00Z"},
	{"Comets, explained", "https://rdf.example/notes/comets", "rdf", "2025-03-04T10:00:00Z"},
	// "Episode 41: Shared story" (podcast) and "The shared story, our take"
	// (atomblog) are one story: exactly one of them is published.
	{"(shared)", "", "", ""},
	{"Episode 40: Beginnings", "https://podcast.example/episodes/40", "podcast", "2025-03-01T09:00:00Z"},
	{"Tomato soup", "https://json.example/recipes/soup", "kitchen", "2025-02-28T18:00:00Z"},
	{"Tides & the Moon", "https://rdf.example/notes/tides", "rdf", "2025-02-20T07:30:00Z"},
}

func TestEndToEnd(t *testing.T) {
	e := newEnv(t)
	start := time.Now().UTC().Add(-time.Second)

	t.Run("check", func(t *testing.T) {
		code, out, errOut := run(t, "check", "-config", e.config)
		if code != 0 || !strings.Contains(out, "ok (6 sources, 2 published feeds)") {
			t.Fatalf("check: exit %d, stdout %q, stderr %q", code, out, errOut)
		}
	})

	t.Run("first fetch", func(t *testing.T) {
		code, _, errOut := run(t, "fetch", "-config", e.config)
		if code != 1 {
			t.Fatalf("fetch with a source down: exit %d, want 1; stderr:\n%s", code, errOut)
		}
		for _, f := range fixtures {
			if !regexpLine(errOut, f.name, "200") {
				t.Errorf("summary has no 200 line for %s:\n%s", f.name, errOut)
			}
		}
		if !regexpLine(errOut, "down", "error: ") || !strings.Contains(errOut, "1 failed") {
			t.Errorf("summary does not report the down source:\n%s", errOut)
		}
	})

	t.Run("second fetch is conditional", func(t *testing.T) {
		code, _, errOut := run(t, "fetch", "-config", e.config)
		if code != 1 {
			t.Fatalf("exit %d, want 1; stderr:\n%s", code, errOut)
		}
		for _, f := range fixtures {
			o := e.origins[f.name]
			if o.conditional.Load() != 1 || o.notModified.Load() != 1 {
				t.Errorf("%s: %d conditional requests, %d answered 304; want 1 and 1", f.name, o.conditional.Load(), o.notModified.Load())
			}
			if !regexpLine(errOut, f.name, "304") || !regexpLine(errOut, f.name, "not modified") {
				t.Errorf("summary does not say %s was not modified:\n%s", f.name, errOut)
			}
		}
	})

	d := startDaemon(t, e)
	requestsBefore := totalRequests(e)
	var etags = map[string]string{}

	for _, format := range []string{"atom", "rss", "json"} {
		t.Run("read back "+format, func(t *testing.T) {
			url := e.base + "/feeds/all." + format
			resp, body := get(t, url)
			if resp.StatusCode != 200 {
				t.Fatalf("GET %s: %s", url, resp.Status)
			}
			wantType := map[string]string{"atom": "application/atom+xml", "rss": "application/rss+xml", "json": "application/feed+json"}[format]
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, wantType) {
				t.Errorf("Content-Type %q, want %s", ct, wantType)
			}
			etags[format] = resp.Header.Get("ETag")
			if etags[format] == "" || resp.Header.Get("Last-Modified") == "" {
				t.Errorf("missing validators: ETag %q, Last-Modified %q", etags[format], resp.Header.Get("Last-Modified"))
			}
			parsed, err := gofeed.NewParser().ParseString(string(body))
			if err != nil {
				t.Fatalf("gofeed cannot read our %s: %v\n%s", format, err, body)
			}
			checkItems(t, format, parsed, attribution(t, e, format, body), start)
		})
	}

	t.Run("conditional requests to our feeds", func(t *testing.T) {
		for _, format := range []string{"atom", "rss", "json"} {
			url := e.base + "/feeds/all." + format
			resp, _ := get(t, url, "If-None-Match", etags[format])
			if resp.StatusCode != http.StatusNotModified {
				t.Errorf("%s with If-None-Match: %s, want 304", format, resp.Status)
			}
			first, _ := get(t, url)
			resp, _ = get(t, url, "If-Modified-Since", first.Header.Get("Last-Modified"))
			if resp.StatusCode != http.StatusNotModified {
				t.Errorf("%s with If-Modified-Since: %s, want 304", format, resp.Status)
			}
			resp, gz := get(t, url, "Accept-Encoding", "gzip")
			if resp.Header.Get("Content-Encoding") != "gzip" {
				t.Fatalf("%s: no gzip for a client that accepts it", format)
			}
			zr, err := gzip.NewReader(bytes.NewReader(gz))
			if err != nil {
				t.Fatal(err)
			}
			plain, err := io.ReadAll(zr)
			if err != nil {
				t.Fatal(err)
			}
			_, identity := get(t, url)
			if !bytes.Equal(plain, identity) {
				t.Errorf("%s: gzip body differs from identity body", format)
			}
			resp, _ = get(t, url, "Accept-Encoding", "gzip", "If-None-Match", resp.Header.Get("ETag"))
			if resp.StatusCode != http.StatusNotModified {
				t.Errorf("%s gzip with its ETag: %s, want 304", format, resp.Status)
			}
		}
	})

	t.Run("category feed", func(t *testing.T) {
		_, body := get(t, e.base+"/feeds/news.json")
		parsed, err := gofeed.NewParser().ParseString(string(body))
		if err != nil {
			t.Fatal(err)
		}
		sources := attribution(t, e, "json", body)
		for _, it := range parsed.Items {
			if src := sources[it.GUID]; src != "oldschool" && src != "podcast" {
				t.Errorf("news feed carries %q from %s", it.Title, src)
			}
		}
		if len(parsed.Items) != 5 {
			t.Errorf("news feed has %d items, want 5 (2 oldschool + 3 podcast)", len(parsed.Items))
		}
	})

	t.Run("pages", func(t *testing.T) {
		resp, body := get(t, e.base+"/")
		page := string(body)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("GET /: %s %s", resp.Status, resp.Header.Get("Content-Type"))
		}
		for _, want := range []string{
			`<link rel="alternate" type="application/atom+xml" title="Everything (Atom)" href="` + e.base + `/feeds/all.atom">`,
			`<link rel="alternate" type="application/rss+xml"`,
			`<link rel="alternate" type="application/feed+json"`,
			`href="` + e.base + `/feeds/news.rss"`,
			"connection refused", // the down source's error
			"The Daily Podcast",
		} {
			if !strings.Contains(page, want) {
				t.Errorf("index page lacks %q", want)
			}
		}
		resp, body = get(t, e.base+"/feeds/all")
		if resp.StatusCode != 200 || !strings.Contains(string(body), `rel="alternate" type="application/atom+xml"`) || !strings.Contains(string(body), "Sourdough bread") {
			t.Errorf("feed page: %s\n%s", resp.Status, body)
		}
		resp, body = get(t, e.base+"/opml")
		if resp.StatusCode != 200 || !strings.Contains(string(body), `<opml version="2.0"`) || strings.Count(string(body), "xmlUrl=") != 6 {
			t.Errorf("opml: %s\n%s", resp.Status, body)
		}
		resp, body = get(t, e.base+"/healthz")
		if resp.StatusCode != 200 || !strings.Contains(string(body), `"status": "ok"`) || !strings.Contains(string(body), `"failing": 1`) {
			t.Errorf("healthz: %s\n%s", resp.Status, body)
		}
		for _, path := range []string{"/feeds/nope.atom", "/feeds/all.xml", "/nope"} {
			if resp, _ := get(t, e.base+path); resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s: %s, want 404", path, resp.Status)
			}
		}
		req, _ := http.NewRequest(http.MethodHead, e.base+"/feeds/all.rss", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 || resp.Header.Get("ETag") == "" {
			t.Errorf("HEAD /feeds/all.rss: %v %v", resp, err)
		}
	})

	t.Run("feedcheck", func(t *testing.T) {
		tool := testkit.Feedcheck(t)
		for _, format := range []string{"atom", "rss", "json"} {
			out, err := exec.CommandContext(t.Context(), tool, e.base+"/feeds/all."+format, "--format", format, "--min-entries", "9").CombinedOutput()
			if err != nil || !strings.Contains(string(out), "feedcheck: OK") {
				t.Errorf("feedcheck %s: %v\n%s", format, err, out)
			}
			// Each source is a feed of its own too.
			for _, f := range fixtures {
				u := e.base + "/sources/" + f.name + "." + format
				out, err := exec.CommandContext(t.Context(), tool, u, "--format", format, "--min-entries", "1").CombinedOutput()
				if err != nil || !strings.Contains(string(out), "feedcheck: OK") {
					t.Errorf("feedcheck %s: %v\n%s", u, err, out)
				}
			}
		}
	})

	if n := totalRequests(e); n != requestsBefore {
		t.Errorf("serve fetched %d times at start although nothing was due", n-requestsBefore)
	}
	d.stop(t)

	sameFeeds := func(t *testing.T, after string) {
		t.Helper()
		for _, format := range []string{"atom", "rss", "json"} {
			resp, _ := get(t, e.base+"/feeds/all."+format)
			if got := resp.Header.Get("ETag"); got != etags[format] {
				t.Errorf("%s after %s: ETag %s, want %s (same bytes, same ids)", format, after, got, etags[format])
			}
		}
	}
	t.Run("restart serves the same items", func(t *testing.T) {
		d := startDaemon(t, e)
		sameFeeds(t, "a restart")
		d.cmd.Process.Kill() // SIGKILL: no chance to close the store
		err := <-d.done
		d.done <- err
		startDaemon(t, e)
		sameFeeds(t, "kill -9 and a restart")
	})
}

// TestServeFetchesAtStart is the newcomer's path: a fresh store, `serve`,
// and the items appear without anything else to do.
func TestServeFetchesAtStart(t *testing.T) {
	e := newEnv(t)
	startDaemon(t, e)
	testkit.WaitFor(t, "all sources fetched and published", func() bool {
		_, body := get(t, e.base+"/feeds/all.json")
		parsed, err := gofeed.NewParser().ParseString(string(body))
		return err == nil && len(parsed.Items) == len(expected)
	})
	_, body := get(t, e.base+"/")
	if !strings.Contains(string(body), "connection refused") {
		t.Errorf("index page does not show the down source's error")
	}
}

func TestCheckReportsConfigErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "feeds.yaml")
	os.WriteFile(path, []byte("sources:\n  - name: a\n    url: ftp://example.com/feed\n  - name: a\n    url: https://example.com/feed\n    colour: blue\n"), 0o644)
	code, _, errOut := run(t, "check", "-config", path)
	if code != 2 {
		t.Fatalf("check of a bad config: exit %d, want 2; stderr:\n%s", code, errOut)
	}
	for _, line := range []string{path + ":3: ", path + ":4: ", path + ":6: "} {
		if !strings.Contains(errOut, line) {
			t.Errorf("stderr lacks a %q line:\n%s", line, errOut)
		}
	}
}

func checkItems(t *testing.T, format string, parsed *gofeed.Feed, sources map[string]string, start time.Time) {
	t.Helper()
	if len(parsed.Items) != len(expected) {
		var titles []string
		for _, it := range parsed.Items {
			titles = append(titles, it.Title)
		}
		t.Fatalf("%s: %d items %q, want %d", format, len(parsed.Items), titles, len(expected))
	}
	ids := map[string]bool{}
	var prev time.Time
	for i, it := range parsed.Items {
		if it.GUID == "" || ids[it.GUID] {
			t.Errorf("%s item %d %q: id %q empty or repeated", format, i, it.Title, it.GUID)
		}
		ids[it.GUID] = true
		date := it.PublishedParsed
		if date == nil {
			t.Errorf("%s item %q has no date", format, it.Title)
			continue
		}
		if i > 0 && date.After(prev) {
			t.Errorf("%s item %d %q (%v) is newer than the one before it (%v)", format, i, it.Title, date, prev)
		}
		prev = *date
	}
	// Undated items take their first-seen time and so come first; the rest
	// follow in the order of their own dates.
	for i, want := range expected {
		it := parsed.Items[i]
		if want.title == "(shared)" {
			if !sharedStory(it, sources[it.GUID]) {
				t.Errorf("%s item %d: %q <%s> from %s, want the shared story", format, i, it.Title, it.Link, sources[it.GUID])
			}
			continue
		}
		if want.source == "oldschool" { // same first-seen time: either order
			j := slices.IndexFunc(expected[:2], func(e struct{ title, link, source, date string }) bool { return e.title == it.Title })
			if j < 0 {
				t.Errorf("%s item %d: %q, want one of the undated items", format, i, it.Title)
				continue
			}
			want = expected[j]
		}
		if it.Title != want.title || it.Link != want.link {
			t.Errorf("%s item %d: %q <%s>, want %q <%s>", format, i, it.Title, it.Link, want.title, want.link)
		}
		if got := sources[it.GUID]; got != want.source {
			t.Errorf("%s item %q: source %q, want %q", format, it.Title, got, want.source)
		}
		if want.date == "" {
			if it.PublishedParsed.Before(start.Truncate(time.Second)) || it.PublishedParsed.After(time.Now()) {
				t.Errorf("%s item %q: date %v, want its first-seen time (after %v)", format, it.Title, it.PublishedParsed, start)
			}
		} else if got := it.PublishedParsed.UTC().Format(time.RFC3339); got != want.date {
			t.Errorf("%s item %q: date %s, want %s", format, it.Title, got, want.date)
		}
	}
	podcast := findItem(parsed, "Episode 42: Feeds")
	if podcast == nil || len(podcast.Enclosures) != 1 || podcast.Enclosures[0].URL != "https://podcast.example/audio/42.mp3" || podcast.Enclosures[0].Length != "12345678" {
		t.Errorf("%s: the podcast episode lost its enclosure: %+v", format, podcast)
	}
	if podcast != nil && (strings.Contains(podcast.Content, "<script") || !strings.Contains(podcast.Content+podcast.Description, `https://podcast.example/links`)) {
		t.Errorf("%s: podcast content not sanitized or links not absolute: %q", format, podcast.Content)
	}
}

// sharedStory reports whether it is one of the two copies of the story
// that two sources carry, each with its own date and attribution.
func sharedStory(it *gofeed.Item, source string) bool {
	date := it.PublishedParsed.UTC().Format(time.RFC3339)
	switch source {
	case "podcast":
		return it.Title == "Episode 41: Shared story" && it.Link == "https://shared.example/story?id=7" && date == "2025-03-03T09:00:00Z"
	case "atomblog":
		return it.Title == "The shared story, our take" && strings.HasPrefix(strings.ToLower(it.Link), "https://shared.example") && date == "2025-03-02T12:00:00Z"
	}
	return false
}

func findItem(f *gofeed.Feed, title string) *gofeed.Item {
	for _, it := range f.Items {
		if it.Title == title {
			return it
		}
	}
	return nil
}

// attribution maps each item's id to the source it names, read from the
// attribution each format carries: RSS <source url>, Atom <source><id>, and
// the JSON Feed "_feedmill" extension.
func attribution(t *testing.T, e *env, format string, body []byte) map[string]string {
	t.Helper()
	byURL := map[string]string{}
	for name, o := range e.origins {
		byURL[o.URL+"/"+fixtureFile(name)] = name
	}
	out := map[string]string{}
	switch format {
	case "rss":
		f, err := (&rss.Parser{}).Parse(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range f.Items {
			if it.GUID != nil && it.Source != nil {
				out[it.GUID.Value] = byURL[it.Source.URL]
			}
		}
	case "atom":
		f, err := (&atom.Parser{}).Parse(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range f.Entries {
			if it.Source != nil {
				out[it.ID] = byURL[it.Source.ID]
			}
		}
	case "json":
		var doc struct {
			Items []struct {
				ID       string `json:"id"`
				Feedmill struct {
					Source struct {
						Name string `json:"name"`
					} `json:"source"`
				} `json:"_feedmill"`
			} `json:"items"`
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatal(err)
		}
		for _, it := range doc.Items {
			out[it.ID] = it.Feedmill.Source.Name
		}
	}
	return out
}

func fixtureFile(name string) string {
	for _, f := range fixtures {
		if f.name == name {
			return f.file
		}
	}
	return ""
}

func regexpLine(out, source, want string) bool {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) > 0 && f[0] == source && strings.Contains(sc.Text(), want) {
			return true
		}
	}
	return false
}

func totalRequests(e *env) int64 {
	var n int64
	for _, o := range e.origins {
		n += o.requests.Load()
	}
	return n
}

// TestCheckWarns checks that `feedmill check` accepts a config whose
// categories differ in case from its feeds' (they match), and warns on
// stderr, exit 0, about a source no feed selects and about categories that
// differ only by case.
func TestCheckWarns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "feeds.yaml")
	cfg := `sources:
  - {name: a, url: "http://127.0.0.1:1/a", categories: [Tech]}
  - {name: b, url: "http://127.0.0.1:1/b", categories: [tech]}
  - {name: c, url: "http://127.0.0.1:1/c"}
feeds:
  - {name: tech, categories: [TECH]}
`
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "check", "-config", path)
	if code != 0 {
		t.Fatalf("check: exit %d, want 0; stderr:\n%s", code, errOut)
	}
	if !strings.Contains(out, "ok (3 sources, 1 published feeds)") {
		t.Errorf("stdout lacks the ok line:\n%s", out)
	}
	for _, want := range []string{
		path + `: warning: source c is in no published feed`,
		path + `: warning: categories "Tech", "tech" differ only by case`,
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if strings.Contains(errOut, "source a") || strings.Contains(errOut, "source b") {
		t.Errorf("stderr warns about a selected source:\n%s", errOut)
	}
}
