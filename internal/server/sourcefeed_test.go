package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/publish"
)

// sourceFeedServer serves sources with dotted names: "v1.2", and "paper"
// beside "paper.atom" (whose name ends like a feed file).
func sourceFeedServer(t *testing.T) *httptest.Server {
	t.Helper()
	snaps := fixedSnapshots{}
	for _, name := range []string{"v1.2", "paper", "paper.atom"} {
		for _, f := range []publish.Format{publish.RSS, publish.Atom, publish.JSON} {
			snaps["sources/"+name+"."+f.String()] = snapshot("<"+name+" "+f.String()+">", f.ContentType())
		}
	}
	// "late" is configured but not rendered yet.
	srv := New(Options{
		BaseURL: "http://feeds.example",
		Hub:     "http://feeds.example/websub/hub",
		Sources: []feed.Source{
			{Name: "v1.2", URL: "https://v.example/feed"},
			{Name: "paper", URL: "https://paper.example/", Type: feed.TypeHTML},
			{Name: "paper.atom", URL: "https://atom.example/"},
			{Name: "late", URL: "https://late.example/feed"},
		},
	}, snaps, fixedStates{})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts
}

func TestSourceFeedRoutes(t *testing.T) {
	ts := sourceFeedServer(t)
	tests := []struct {
		path, wantType, wantBody string
		code                     int
	}{
		{"/sources/paper.atom", "application/atom+xml", "<paper atom>", 200},
		{"/sources/paper.rss", "application/rss+xml", "<paper rss>", 200},
		{"/sources/paper.json", "application/feed+json", "<paper json>", 200},
		{"/sources/v1.2.json", "application/feed+json", "<v1.2 json>", 200},
		// A dotted name without a feed extension is the page.
		{"/sources/v1.2", "text/html", "v1.2", 200},
		{"/sources/paper", "text/html", "paper", 200},
		// "paper.atom" ends in .atom and "paper" is a source: the feed
		// wins; the source paper.atom's own feed is still reachable.
		{"/sources/paper.atom.rss", "application/rss+xml", "<paper.atom rss>", 200},
		{"/sources/nope.atom", "text/plain", "no source named nope.atom", 404},
		{"/sources/paper.xml", "text/plain", "no source named paper.xml", 404},
		{"/sources/PAPER.atom", "text/plain", "no source named PAPER.atom", 404},
		{"/sources/late.atom", "text/plain", "not rendered yet", 503},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, body := do(t, "GET", ts.URL+tt.path)
			if resp.StatusCode != tt.code || !strings.HasPrefix(resp.Header.Get("Content-Type"), tt.wantType) || !strings.Contains(body, tt.wantBody) {
				t.Errorf("%d %q %q, want %d %s containing %q", resp.StatusCode, resp.Header.Get("Content-Type"), body, tt.code, tt.wantType, tt.wantBody)
			}
		})
	}
}

// TestSourceFeedHeaders: a source's own feed is served like a combined
// feed: validators, 304, gzip, WebSub links naming its own URL.
func TestSourceFeedHeaders(t *testing.T) {
	ts := sourceFeedServer(t)
	url := ts.URL + "/sources/v1.2.atom"
	resp, _ := do(t, "GET", url)
	etag := resp.Header.Get("ETag")
	if resp.StatusCode != 200 || etag == "" || resp.Header.Get("Last-Modified") == "" {
		t.Fatalf("status %d, ETag %q, Last-Modified %q", resp.StatusCode, etag, resp.Header.Get("Last-Modified"))
	}
	links := strings.Join(resp.Header.Values("Link"), ", ")
	for _, want := range []string{`<http://feeds.example/websub/hub>; rel="hub"`, `<http://feeds.example/sources/v1.2.atom>; rel="self"`} {
		if !strings.Contains(links, want) {
			t.Errorf("Link %q lacks %s", links, want)
		}
	}
	if resp, _ := do(t, "GET", url, "If-None-Match", etag); resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: status %d, want 304", resp.StatusCode)
	}
	if resp, _ := do(t, "GET", url, "If-Modified-Since", resp.Header.Get("Last-Modified")); resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-Modified-Since: status %d, want 304", resp.StatusCode)
	}
	resp, body := do(t, "GET", url, "Accept-Encoding", "gzip")
	if resp.Header.Get("Content-Encoding") != "gzip" || strings.Contains(body, "v1.2") {
		t.Errorf("gzip: Content-Encoding %q", resp.Header.Get("Content-Encoding"))
	}
	if resp, _ := do(t, "HEAD", url); resp.StatusCode != 200 {
		t.Errorf("HEAD: status %d", resp.StatusCode)
	}
}

// TestSourceFeedLinks: the status row (page and status.json) and the
// source's page link its own feed.
func TestSourceFeedLinks(t *testing.T) {
	ts := sourceFeedServer(t)
	_, index := do(t, "GET", ts.URL+"/")
	if !strings.Contains(index, `href="http://feeds.example/sources/v1.2.atom"`) {
		t.Error("index row does not link the source's feed")
	}
	_, js := do(t, "GET", ts.URL+"/status.json")
	for _, want := range []string{`"atom": "http://feeds.example/sources/v1.2.atom"`, `"rss": "http://feeds.example/sources/v1.2.rss"`, `"json": "http://feeds.example/sources/v1.2.json"`} {
		if !strings.Contains(js, want) {
			t.Errorf("status.json lacks %s", want)
		}
	}
	_, page := do(t, "GET", ts.URL+"/sources/paper")
	for _, want := range []string{
		`<link rel="alternate" type="application/atom+xml" title="paper (Atom)" href="http://feeds.example/sources/paper.atom">`,
		`<a href="http://feeds.example/sources/paper.json">JSON</a>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("source page lacks %s", want)
		}
	}
}

// itemList is a publisher's store over a list of items the test changes.
type itemList struct {
	mu    sync.Mutex
	items []feed.Item
}

func (l *itemList) Items(_ context.Context, q feed.Query) ([]feed.Item, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []feed.Item
	for _, it := range l.items {
		if slices.Contains(q.Sources, it.Source) && (q.Limit <= 0 || len(out) < q.Limit) {
			out = append(out, it)
		}
	}
	return out, nil
}

func (l *itemList) CountItems(_ context.Context, sources []string) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, it := range l.items {
		if slices.Contains(sources, it.Source) {
			n++
		}
	}
	return n, nil
}

func (l *itemList) States(context.Context) ([]feed.SourceState, error) { return nil, nil }

// TestSourceFeedOnDemandRevalidates: a source's feed rendered on request
// keeps its ETag across a change of the store that does not touch it (its
// cached document is stale and rendered again into the same bytes), so a
// reader revalidating gets a 304; a change of its own items is a 200.
func TestSourceFeedOnDemandRevalidates(t *testing.T) {
	t0 := time.Date(2024, time.March, 1, 12, 0, 0, 0, time.UTC)
	st := &itemList{items: []feed.Item{
		{Source: "a", ID: "a1", Link: "https://a.example/1", Title: "A one", Published: t0, FirstSeen: t0},
		{Source: "b", ID: "b1", Link: "https://b.example/1", Title: "B one", Published: t0, FirstSeen: t0},
	}}
	sources := []feed.Source{{Name: "a", URL: "https://a.example/feed"}, {Name: "b", URL: "https://b.example/feed"}}
	pub := publish.New(publish.Options{BaseURL: "http://feeds.example"}, []publish.FeedSpec{{Name: "all", Sources: []string{"a", "b"}}}, sources, st)
	ts := httptest.NewServer(New(Options{BaseURL: "http://feeds.example", Sources: sources}, pub, fixedStates{}))
	t.Cleanup(ts.Close)
	if resp, _ := do(t, "GET", ts.URL+"/sources/a.atom"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("before the first Rebuild: %d, want 503", resp.StatusCode)
	}
	rebuild := func() {
		t.Helper()
		if err := pub.Rebuild(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	rebuild()
	resp, _ := do(t, "GET", ts.URL+"/sources/a.atom")
	etag := resp.Header.Get("ETag")
	if resp.StatusCode != http.StatusOK || etag == "" {
		t.Fatalf("GET: %d, ETag %q", resp.StatusCode, etag)
	}

	st.mu.Lock()
	st.items = append(st.items, feed.Item{Source: "b", ID: "b2", Link: "https://b.example/2", Title: "B two", Published: t0.Add(time.Hour), FirstSeen: t0})
	st.mu.Unlock()
	rebuild()
	if resp, _ := do(t, "GET", ts.URL+"/sources/a.atom", "If-None-Match", etag); resp.StatusCode != http.StatusNotModified {
		t.Errorf("after a change of another source: %d, want 304", resp.StatusCode)
	}

	st.mu.Lock()
	st.items = append([]feed.Item{{Source: "a", ID: "a2", Link: "https://a.example/2", Title: "A two", Published: t0.Add(2 * time.Hour), FirstSeen: t0}}, st.items...)
	st.mu.Unlock()
	rebuild()
	resp, body := do(t, "GET", ts.URL+"/sources/a.atom", "If-None-Match", etag)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") == etag || !strings.Contains(body, "A two") {
		t.Errorf("after a change of its own items: %d, ETag %q", resp.StatusCode, resp.Header.Get("ETag"))
	}
	if resp, _ := do(t, "GET", ts.URL+"/sources/nope.atom"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown source: %d, want 404", resp.StatusCode)
	}
}
