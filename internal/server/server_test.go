package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
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
		{Name: "blog", LastFetch: now.Add(-5 * time.Minute), LastSuccess: now.Add(-5 * time.Minute), NextFetch: now.Add(10 * time.Minute), LastStatus: 200, ItemCount: 3, FeedTitle: "The Blog", FeedLink: "https://blog.example/"},
		{Name: "broken", LastFetch: now, LastError: `fetch https://broken.example/feed: <script>alert(1)</script> connection refused`},
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
		{Name: "blog", LastFetch: now, LastSuccess: now, ItemCount: 3},
		{Name: "broken", LastFetch: now, LastError: "boom", ItemCount: 2},
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
	}
	for header, want := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept-Encoding", header)
		if got := acceptsGzip(r); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", header, got, want)
		}
	}
}
