package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/publish"
)

// fixedSnapshots is the server's snapshots interface over fixed values: the
// publisher's rendering is tested in its own package, here only serving.
type fixedSnapshots map[string]*publish.Snapshot

func (f fixedSnapshots) Snapshot(name string, format publish.Format) (*publish.Snapshot, bool) {
	s, ok := f[name+"."+format.String()]
	return s, ok
}

func (f fixedSnapshots) SourceSnapshot(_ context.Context, name string, format publish.Format) (*publish.Snapshot, error) {
	s, ok := f["sources/"+name+"."+format.String()]
	if !ok {
		return nil, publish.ErrNotReady
	}
	return s, nil
}

func (f fixedSnapshots) OPML() *publish.Snapshot { return f["opml"] }

func (f fixedSnapshots) FeedOPML(name string) (*publish.Snapshot, bool) {
	s, ok := f[name+".opml"]
	return s, ok
}

func (f fixedSnapshots) Archive(_ context.Context, name string, format publish.Format, page int) (*publish.Snapshot, error) {
	if s, ok := f[fmt.Sprintf("%s/%d.%s", name, page, format)]; ok {
		return s, nil
	}
	return nil, publish.ErrNotFound
}

func (f fixedSnapshots) Feeds() []publish.FeedSpec {
	return []publish.FeedSpec{{Name: "all", Title: "Everything <&>", Description: "All of it"}}
}

type fixedStates struct {
	states []feed.SourceState
	err    error
}

func (f fixedStates) States(context.Context) ([]feed.SourceState, error) { return f.states, f.err }

func (f fixedStates) State(_ context.Context, name string) (feed.SourceState, error) {
	for _, st := range f.states {
		if st.Name == name {
			return st, f.err
		}
	}
	return feed.SourceState{Name: name}, f.err
}

func snapshot(body, contentType string) *publish.Snapshot {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(body))
	zw.Close()
	return &publish.Snapshot{
		Body: []byte(body), Gzip: gz.Bytes(), ETag: `"abc123"`, ContentType: contentType,
		LastModified: time.Date(2025, 3, 6, 12, 0, 0, 0, time.UTC), Items: 1,
		Entries: []feed.Item{{Source: "blog", ID: "1", Title: "Hello <world>", Link: "https://blog.example/1", Published: time.Date(2025, 3, 6, 12, 0, 0, 0, time.UTC)}},
	}
}

func newTestServer(t *testing.T, st fixedStates) *httptest.Server {
	t.Helper()
	snaps := fixedSnapshots{
		"all.atom":   snapshot("<feed/>", "application/atom+xml; charset=utf-8"),
		"all.rss":    snapshot("<rss/>", "application/rss+xml; charset=utf-8"),
		"all.json":   snapshot("{}", "application/feed+json; charset=utf-8"),
		"opml":       snapshot("<opml/>", "text/x-opml; charset=utf-8"),
		"all.opml":   snapshot("<opml>all</opml>", "text/x-opml; charset=utf-8"),
		"all/1.atom": snapshot("<feed>page 1</feed>", "application/atom+xml; charset=utf-8"),
	}
	srv := New(Options{
		BaseURL: "http://feeds.example/",
		Version: "test",
		Hub:     "http://feeds.example/websub/hub",
		Sources: []feed.Source{
			{Name: "blog", URL: "https://blog.example/feed", Categories: []string{"tech"}},
			{Name: "broken", URL: "https://broken.example/feed"},
			{Name: "new", URL: "https://new.example/feed"},
		},
	}, snaps, st)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts
}

func do(t *testing.T, method, url string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func TestFeedResponses(t *testing.T) {
	now := time.Now()
	ts := newTestServer(t, fixedStates{states: []feed.SourceState{
		{Name: "blog", LastFetch: now, LastSuccess: now, LastStatus: 200, ItemCount: 3, FeedTitle: "The Blog"},
	}})
	tests := []struct {
		name       string
		method     string
		path       string
		header     []string
		wantStatus int
		wantBody   string
		wantHeader map[string]string
	}{
		{"atom", "GET", "/feeds/all.atom", nil, 200, "<feed/>", map[string]string{"Content-Type": "application/atom+xml; charset=utf-8", "ETag": `"abc123"`, "Last-Modified": "Thu, 06 Mar 2025 12:00:00 GMT", "Vary": "Accept-Encoding"}},
		{"rss", "GET", "/feeds/all.rss", nil, 200, "<rss/>", map[string]string{"Content-Type": "application/rss+xml; charset=utf-8"}},
		{"json", "GET", "/feeds/all.json", nil, 200, "{}", map[string]string{"Content-Type": "application/feed+json; charset=utf-8"}},
		{"head", "HEAD", "/feeds/all.atom", nil, 200, "", map[string]string{"ETag": `"abc123"`, "Content-Length": "7"}},
		{"if-none-match", "GET", "/feeds/all.atom", []string{"If-None-Match", `"abc123"`}, 304, "", map[string]string{"ETag": `"abc123"`}},
		{"if-none-match list", "GET", "/feeds/all.atom", []string{"If-None-Match", `"zzz", W/"abc123"`}, 304, "", nil},
		{"if-none-match stale", "GET", "/feeds/all.atom", []string{"If-None-Match", `"old"`}, 200, "<feed/>", nil},
		{"if-modified-since", "GET", "/feeds/all.atom", []string{"If-Modified-Since", "Thu, 06 Mar 2025 12:00:00 GMT"}, 304, "", nil},
		{"if-modified-since older", "GET", "/feeds/all.atom", []string{"If-Modified-Since", "Wed, 05 Mar 2025 12:00:00 GMT"}, 200, "<feed/>", nil},
		{"gzip", "GET", "/feeds/all.atom", []string{"Accept-Encoding", "br, gzip"}, 200, "", map[string]string{"Content-Encoding": "gzip", "ETag": `"abc123-gzip"`}},
		{"gzip refused", "GET", "/feeds/all.atom", []string{"Accept-Encoding", "gzip;q=0"}, 200, "<feed/>", map[string]string{"Content-Encoding": ""}},
		{"gzip 304 with identity etag", "GET", "/feeds/all.atom", []string{"Accept-Encoding", "gzip", "If-None-Match", `"abc123"`}, 304, "", nil},
		{"gzip 304 with gzip etag", "GET", "/feeds/all.atom", []string{"Accept-Encoding", "gzip", "If-None-Match", `"abc123-gzip"`}, 304, "", nil},
		{"unknown feed", "GET", "/feeds/nope.atom", nil, 404, "no published feed named nope", nil},
		{"unknown format", "GET", "/feeds/all.xml", nil, 404, "unknown feed format", nil},
		{"opml", "GET", "/opml", nil, 200, "<opml/>", map[string]string{"Content-Type": "text/x-opml; charset=utf-8"}},
		{"feed opml", "GET", "/feeds/all.opml", nil, 200, "<opml>all</opml>", map[string]string{"Content-Type": "text/x-opml; charset=utf-8"}},
		{"unknown feed opml", "GET", "/feeds/nope.opml", nil, 404, "", nil},
		{"archive", "GET", "/feeds/all/archive/1.atom", nil, 200, "page 1", map[string]string{"ETag": `"abc123"`}},
		{"archive out of range", "GET", "/feeds/all/archive/2.atom", nil, 404, "no archive page 2", nil},
		{"archive bad page", "GET", "/feeds/all/archive/x.atom", nil, 404, "", nil},
		{"archive bad format", "GET", "/feeds/all/archive/1.xml", nil, 404, "", nil},
		{"post refused", "POST", "/feeds/all.atom", nil, 405, "", nil},
		{"unknown path", "GET", "/nope", nil, 404, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, tt.method, ts.URL+tt.path, tt.header...)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %q", resp.StatusCode, tt.wantStatus, body)
			}
			if tt.wantBody != "" && !strings.Contains(body, tt.wantBody) {
				t.Errorf("body %q, want it to contain %q", body, tt.wantBody)
			}
			if resp.StatusCode == 200 && strings.HasPrefix(tt.path, "/feeds/") && !strings.HasSuffix(tt.path, ".opml") {
				links := strings.Join(resp.Header.Values("Link"), ", ")
				self := "http://feeds.example" + tt.path
				if !strings.Contains(links, `<http://feeds.example/websub/hub>; rel="hub"`) || !strings.Contains(links, "<"+self+`>; rel="self"`) {
					t.Errorf("Link headers %q, want the hub and self %s", links, self)
				}
			}
			for k, v := range tt.wantHeader {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			if tt.name == "gzip" {
				zr, err := gzip.NewReader(strings.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				plain, _ := io.ReadAll(zr)
				if string(plain) != "<feed/>" {
					t.Errorf("gunzipped body %q", plain)
				}
			}
		})
	}
}

func TestIndexPage(t *testing.T) {
	now := time.Now()
	ts := newTestServer(t, fixedStates{states: []feed.SourceState{
		{Name: "blog", URL: "https://blog.example/feed", LastFetch: now.Add(-5 * time.Minute), LastSuccess: now.Add(-5 * time.Minute), NextFetch: now.Add(10 * time.Minute), LastStatus: 200, ItemCount: 3, FeedTitle: "The Blog", FeedLink: "https://blog.example/"},
		{Name: "broken", URL: "https://broken.example/feed", LastFetch: now, LastError: `fetch https://broken.example/feed: <script>alert(1)</script> connection refused`},
	}})
	resp, body := do(t, "GET", ts.URL+"/")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		`<link rel="alternate" type="application/atom+xml" title="Everything &lt;&amp;&gt; (Atom)" href="http://feeds.example/feeds/all.atom">`,
		`<link rel="alternate" type="application/rss+xml" title="Everything &lt;&amp;&gt; (RSS)" href="http://feeds.example/feeds/all.rss">`,
		`<link rel="alternate" type="application/feed+json" title="Everything &lt;&amp;&gt; (JSON Feed)" href="http://feeds.example/feeds/all.json">`,
		`<a href="https://blog.example/">The Blog</a>`,
		"5m ago", "in 9m", "tech",
		"&lt;script&gt;alert(1)&lt;/script&gt; connection refused", // escaped, not injected
		"not fetched yet", // the source "new"
	} {
		if !strings.Contains(body, want) {
			t.Errorf("index lacks %q", want)
		}
	}
	if strings.Contains(body, "<script>") {
		t.Error("index page carries a script tag from an error message")
	}
}

func TestFeedPage(t *testing.T) {
	ts := newTestServer(t, fixedStates{})
	resp, body := do(t, "GET", ts.URL+"/feeds/all")
	if resp.StatusCode != 200 {
		t.Fatalf("status %s", resp.Status)
	}
	for _, want := range []string{`rel="alternate" type="application/atom+xml"`, `<a href="https://blog.example/1">Hello &lt;world&gt;</a>`, "6 Mar 2025"} {
		if !strings.Contains(body, want) {
			t.Errorf("feed page lacks %q:\n%s", want, body)
		}
	}
	if resp, _ := do(t, "GET", ts.URL+"/feeds/nope"); resp.StatusCode != 404 {
		t.Errorf("unknown feed page: %s, want 404", resp.Status)
	}
}

func TestHealthz(t *testing.T) {
	now := time.Now()
	ts := newTestServer(t, fixedStates{states: []feed.SourceState{
		{Name: "blog", URL: "https://blog.example/feed", LastFetch: now, LastSuccess: now, ItemCount: 3},
		{Name: "broken", URL: "https://broken.example/feed", LastFetch: now, LastError: "boom", ItemCount: 2},
	}})
	resp, body := do(t, "GET", ts.URL+"/healthz")
	if resp.StatusCode != 200 {
		t.Fatalf("status %s", resp.Status)
	}
	for _, want := range []string{`"status": "ok"`, `"sources": 3`, `"failing": 1`, `"never_fetched": 1`, `"items": 5`} {
		if !strings.Contains(body, want) {
			t.Errorf("healthz lacks %s:\n%s", want, body)
		}
	}

	down := newTestServer(t, fixedStates{err: errors.New("database is locked")})
	if resp, _ := do(t, "GET", down.URL+"/healthz"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("healthz with a failing store: %s, want 503", resp.Status)
	}
}

func TestAcceptsGzip(t *testing.T) {
	tests := map[string]bool{
		"":                   false,
		"gzip":               true,
		"GZIP":               true,
		"deflate, gzip":      true,
		"gzip;q=0":           false,
		"gzip; q=0.5":        true,
		"br":                 false,
		"x-gzip":             false,
		"identity, gzip;q=1": true,
		"gzip, deflate, br":  true,
		"gzip,deflate":       true,
		"gzip;q=0, deflate":  false,
		"gzipx, deflate":     false,
	}
	for header, want := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept-Encoding", header)
		if got := acceptsGzip(r); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", header, got, want)
		}
	}
}

// TestSourceStatus pins what the status page says about a source in each
// state the refresher records: an operator must see what is wrong and what
// to do about it without reading the log.
func TestSourceStatus(t *testing.T) {
	now := time.Now()
	src := feed.Source{Name: "blog", URL: "https://blog.example/feed"}
	tests := []struct {
		name   string
		state  feed.SourceState
		want   []string
		reject []string
	}{
		{
			name:   "healthy",
			state:  feed.SourceState{Name: "blog", URL: src.URL, LastFetch: now.Add(-time.Minute), LastSuccess: now.Add(-time.Minute), NextFetch: now.Add(59 * time.Minute), LastStatus: 200},
			want:   []string{`<span class="ok">ok</span> <span class="muted">(200)</span>`, "in 58m", "1m ago"},
			reject: []string{"failing", "backing off", "gone", "Moved permanently", "autodiscovery"},
		},
		{
			name: "first failure",
			state: feed.SourceState{Name: "blog", URL: src.URL, LastFetch: now, NextFetch: now.Add(61 * time.Minute), LastStatus: 500, Failures: 1,
				LastError: "fetch https://blog.example/feed: 500 Internal Server Error"},
			want:   []string{`<span class="err">failing</span><br>`, "500 Internal Server Error", "in 1h00m", "backing off after 1 failure<"},
			reject: []string{"attempts in a row", `class="ok"`},
		},
		{
			name: "backing off",
			state: feed.SourceState{Name: "blog", URL: src.URL, LastFetch: now.Add(-2 * time.Hour), LastSuccess: now.Add(-72 * time.Hour), NextFetch: now.Add(6*time.Hour + 30*time.Second),
				Failures: 4, LastError: "fetch https://blog.example/feed: connection refused"},
			want: []string{"failing", "(4 attempts in a row)", "connection refused", "in 6h00m", "backing off after 4 failures", "last success 3d ago"},
		},
		{
			name: "gone",
			state: feed.SourceState{Name: "blog", URL: src.URL, LastFetch: now, NextFetch: now.Add(time.Hour), LastStatus: 410, Gone: true, Failures: 1,
				LastError: "410 Gone: the feed was removed; update or delete the source"},
			want:   []string{`<span class="err">gone</span> <span class="muted">(410)</span>`, "It is not polled any more: update its url in feeds.yaml, or delete the source.", "not polled"},
			reject: []string{"in 59m", "in 1h", "backing off", "failing"},
		},
		{
			name:  "moved",
			state: feed.SourceState{Name: "blog", URL: src.URL, LastFetch: now, LastSuccess: now, NextFetch: now.Add(time.Hour), LastStatus: 200, Moved: "https://new.example/feed.xml"},
			want: []string{`<span class="ok">ok</span>`,
				`Moved permanently to <a href="https://new.example/feed.xml"><code>https://new.example/feed.xml</code></a>, where it is fetched now: set this url in feeds.yaml.`},
		},
		{
			name:  "discovered",
			state: feed.SourceState{Name: "blog", URL: src.URL, LastFetch: now, LastSuccess: now, LastStatus: 200, Discovered: "https://blog.example/index.rss"},
			want:  []string{`its feed, found by autodiscovery, is <a href="https://blog.example/index.rss"><code>https://blog.example/index.rss</code></a>`},
		},
		{
			name:   "hostile moved url",
			state:  feed.SourceState{Name: "blog", URL: src.URL, LastFetch: now, Moved: `javascript:alert(1)//"><script>x</script>`},
			want:   []string{`href="#ZgotmplZ"`, "&lt;script&gt;"},
			reject: []string{"<script>", `href="javascript:`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(New(Options{BaseURL: "http://feeds.example", Sources: []feed.Source{src}},
				fixedSnapshots{}, fixedStates{states: []feed.SourceState{tt.state}}))
			defer srv.Close()
			resp, body := do(t, "GET", srv.URL+"/")
			if resp.StatusCode != 200 {
				t.Fatalf("GET /: %s", resp.Status)
			}
			// Only the sources table: the layout has words of its own.
			body = body[strings.Index(body, "<h2>Sources</h2>"):]
			for _, want := range tt.want {
				if !strings.Contains(body, want) {
					t.Errorf("status page lacks %q:\n%s", want, body)
				}
			}
			for _, bad := range tt.reject {
				if strings.Contains(body, bad) {
					t.Errorf("status page carries %q:\n%s", bad, body)
				}
			}
		})
	}
}

func TestHealthzAttention(t *testing.T) {
	now := time.Date(2025, 3, 6, 12, 0, 0, 0, time.UTC)
	srv := httptest.NewServer(New(Options{
		Sources: []feed.Source{{Name: "fine"}, {Name: "down"}, {Name: "gone"}, {Name: "moved"}, {Name: "page"}, {Name: "fresh"}},
	}, fixedSnapshots{}, fixedStates{states: []feed.SourceState{
		{Name: "fine", LastFetch: now, LastSuccess: now, ItemCount: 4},
		{Name: "down", LastFetch: now, NextFetch: now.Add(4 * time.Hour), Failures: 3, LastError: "connection refused"},
		{Name: "gone", LastFetch: now, NextFetch: now.Add(time.Hour), Gone: true, LastError: "410 Gone: the feed was removed; update or delete the source"},
		{Name: "moved", LastFetch: now, LastSuccess: now, Moved: "https://new.example/feed"},
		{Name: "page", LastFetch: now, LastSuccess: now, Discovered: "https://page.example/feed"},
	}}))
	defer srv.Close()
	resp, body := do(t, "GET", srv.URL+"/healthz")
	if resp.StatusCode != 200 {
		t.Fatalf("status %s", resp.Status)
	}
	var got health
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	if got.Sources != 6 || got.Failing != 1 || got.Gone != 1 || got.Never != 1 || got.Items != 4 {
		t.Errorf("counts: sources %d failing %d gone %d never %d items %d; want 6 1 1 1 4", got.Sources, got.Failing, got.Gone, got.Never, got.Items)
	}
	want := []sourceHealth{
		{Source: "down", Error: "connection refused", Failures: 3, NextAttempt: now.Add(4 * time.Hour)},
		{Source: "gone", Error: "410 Gone: the feed was removed; update or delete the source", Gone: true,
			Advice: "the feed was removed (410 Gone) and is not polled any more: update the url of source gone in the config, or delete the source"},
		{Source: "moved", Moved: "https://new.example/feed", Advice: "the feed moved permanently: set the url of source moved to https://new.example/feed in the config"},
		{Source: "page", Discovered: "https://page.example/feed"},
	}
	if len(got.Attention) != len(want) {
		t.Fatalf("attention: %+v\nwant %+v", got.Attention, want)
	}
	for i := range want {
		g := got.Attention[i]
		if g.Source != want[i].Source || g.Error != want[i].Error || g.Failures != want[i].Failures || !g.NextAttempt.Equal(want[i].NextAttempt) ||
			g.Gone != want[i].Gone || g.Moved != want[i].Moved || g.Discovered != want[i].Discovered || g.Advice != want[i].Advice {
			t.Errorf("attention[%d] = %+v\nwant %+v", i, g, want[i])
		}
	}
	if strings.Contains(body, "config_problems") {
		t.Errorf("healthz reports config problems without any:\n%s", body)
	}
}

// TestConfigProblems: a rejected config is visible on the status page and
// in /healthz, escaped, and the daemon still answers 200 (it runs fine on
// the previous config).
func TestConfigProblems(t *testing.T) {
	problems := []string{"feeds.yaml:7: sources[1].url: not an absolute http(s) URL", `feeds.yaml:9: unknown key "<colour>"`}
	srv := httptest.NewServer(New(Options{
		Sources:        []feed.Source{{Name: "blog"}},
		ConfigProblems: func() []string { return problems },
	}, fixedSnapshots{}, fixedStates{}))
	defer srv.Close()
	resp, body := do(t, "GET", srv.URL+"/")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /: %s", resp.Status)
	}
	for _, want := range []string{"the new version is invalid", "keeps running the previous config", problems[0], `unknown key &#34;&lt;colour&gt;&#34;`} {
		if !strings.Contains(body, want) {
			t.Errorf("status page lacks %q:\n%s", want, body)
		}
	}
	resp, body = do(t, "GET", srv.URL+"/healthz")
	var h health
	if err := json.Unmarshal([]byte(body), &h); err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %s %v\n%s", resp.Status, err, body)
	}
	if !slices.Equal(h.ConfigProblems, problems) {
		t.Errorf("healthz config_problems %q, want %q", h.ConfigProblems, problems)
	}
}

// TestStarted: a server built anew on a reload reports the daemon's uptime.
func TestStarted(t *testing.T) {
	srv := httptest.NewServer(New(Options{Started: time.Now().Add(-90 * time.Minute)}, fixedSnapshots{}, fixedStates{}))
	defer srv.Close()
	_, body := do(t, "GET", srv.URL+"/healthz")
	if !strings.Contains(body, `"uptime": "1h30m0s"`) {
		t.Errorf("healthz uptime is not the daemon's:\n%s", body)
	}
}

// TestStateUnderOldURL: what the store recorded under the URL a source had
// before its config changed (or under none, by a feedmill that did not
// record it) is not the source's condition now, on every view: the status
// page, status.json and /healthz all show it as never fetched at its new
// URL, as the refresher treats it, and /healthz gives no advice about it.
// Its stored items still count.
func TestStateUnderOldURL(t *testing.T) {
	now := time.Now()
	sources := []feed.Source{
		{Name: "fixed", URL: "https://fixed.example/new.xml"},
		{Name: "relinked", URL: "https://relinked.example/feed"},
		{Name: "unrecorded", URL: "https://unrecorded.example/feed"},
		{Name: "fine", URL: "https://fine.example/feed"},
	}
	srv := httptest.NewServer(New(Options{BaseURL: "http://feeds.example", Sources: sources}, fixedSnapshots{}, fixedStates{states: []feed.SourceState{
		{Name: "fixed", URL: "https://fixed.example/old.xml", LastFetch: now, NextFetch: now.Add(time.Hour), LastStatus: 410, Gone: true,
			LastError: "410 Gone: the feed was removed; update or delete the source", ItemCount: 9},
		{Name: "relinked", URL: "https://relinked.example/old", LastFetch: now, NextFetch: now.Add(time.Hour), LastStatus: 500, Failures: 3, LastError: "HTTP 500"},
		{Name: "unrecorded", LastFetch: now, LastSuccess: now, LastStatus: 200, Moved: "https://elsewhere.example/feed"},
		{Name: "fine", URL: "https://fine.example/feed", LastFetch: now, LastSuccess: now, LastStatus: 200, ItemCount: 1},
	}}))
	defer srv.Close()

	_, body := do(t, "GET", srv.URL+"/healthz")
	var h health
	if err := json.Unmarshal([]byte(body), &h); err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	if h.Never != 3 || h.Gone != 0 || h.Failing != 0 || h.Items != 10 || len(h.Attention) != 0 {
		t.Errorf("healthz: never %d gone %d failing %d items %d attention %+v; want 3 0 0 10 none", h.Never, h.Gone, h.Failing, h.Items, h.Attention)
	}

	_, body = do(t, "GET", srv.URL+"/status.json")
	var doc statusDoc
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	want := map[string]string{"fixed": statusNever, "relinked": statusNever, "unrecorded": statusNever, "fine": statusOK}
	for _, row := range doc.Sources {
		if row.Status != want[row.Name] || (row.Name != "fine" && (row.Error != "" || row.Failures != 0 || row.Gone || row.Moved != "")) {
			t.Errorf("status.json %s: status %q error %q failures %d gone %v moved %q; want %s and nothing of the old URL",
				row.Name, row.Status, row.Error, row.Failures, row.Gone, row.Moved, want[row.Name])
		}
	}

	_, body = do(t, "GET", srv.URL+"/sources/fixed")
	for _, bad := range []string{"410", "not polled", "update its url"} {
		if strings.Contains(body, bad) {
			t.Errorf("the page of a source whose url was changed still says %q of the old one", bad)
		}
	}
}
