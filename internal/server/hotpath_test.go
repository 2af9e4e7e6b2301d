package server

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/metrics"
	"github.com/feedmill/feedmill/internal/testkit"
)

// TestServeDoesNotAllocate: every answer to a feed document, through the
// production handler with metrics on and a WebSub hub, allocates nothing,
// like the bare reference sending the same headers. The source feed's
// cases failed before its requests skipped the router (one allocation for
// the wildcard match) and were counted.
func TestServeDoesNotAllocate(t *testing.T) {
	snap := benchSnapshot(t)
	prod := benchServer(snap, metrics.New(metrics.Options{}))
	prod.date.set(time.Now()) // as Run keeps it
	for _, p := range benchPaths(snap) {
		t.Run(p.name, func(t *testing.T) {
			bare := newBareHandler(t, prod, p.path, snap)
			req, err := http.NewRequest(http.MethodGet, benchBase+p.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range p.header {
				req.Header.Set(k, v)
			}
			allocs := func(h http.Handler) float64 {
				w := &discardWriter{h: make(http.Header, 16)}
				serve := func() {
					w.reset()
					h.ServeHTTP(w, req)
				}
				serve()
				if w.status != p.wantStatus || w.n != p.wantBytes {
					t.Fatalf("status %d with %d body bytes; want %d with %d", w.status, w.n, p.wantStatus, p.wantBytes)
				}
				return testing.AllocsPerRun(200, serve)
			}
			if got, ref := allocs(prod), allocs(bare); got != 0 || got > ref {
				t.Errorf("feedmill allocates %g times per request, the bare reference %g; want 0", got, ref)
			}
		})
	}
}

// TestServeAllocationsOverHTTP measures a whole request over a real
// connection (net/http's server reading the request, the handler, the
// response written), for feedmill and for the bare reference sending the
// same headers: net/http allocates per request whatever the handler does
// (the request and its header map, the response, the clone of the header
// map it takes at WriteHeader), and feedmill must add nothing to that.
// The client writes the request's bytes and reads the known length of
// the response into a fixed buffer, so that it adds nothing either.
func TestServeAllocationsOverHTTP(t *testing.T) {
	snap := benchSnapshot(t)
	prod := benchServer(snap, metrics.New(metrics.Options{}))
	for _, p := range benchPaths(snap) {
		if p.name != "200-gzip" && p.name != "304-gzip" && p.name != "source-304-gzip" {
			continue
		}
		t.Run(p.name, func(t *testing.T) {
			bare := newBareHandler(t, prod, p.path, snap)
			var req bytes.Buffer
			fmt.Fprintf(&req, "GET %s HTTP/1.1\r\nHost: feeds.example\r\nUser-Agent: reader\r\n", p.path)
			keys := make([]string, 0, len(p.header))
			for k := range p.header {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				fmt.Fprintf(&req, "%s: %s\r\n", k, p.header[k])
			}
			req.WriteString("\r\n")
			var got [2]float64
			for i, h := range []http.Handler{prod, bare} {
				got[i] = allocsOverHTTP(t, h, req.Bytes(), p.wantStatus)
			}
			t.Logf("allocations per request over HTTP: feedmill %g, bare %g", got[0], got[1])
			if got[0] > got[1] {
				t.Errorf("feedmill allocates %g times per request over HTTP, the bare reference %g: want no more", got[0], got[1])
			}
		})
	}
}

// allocsOverHTTP serves h on 127.0.0.1 and returns the allocations of the
// whole process per request (raw) answered with status.
func allocsOverHTTP(t *testing.T, h http.Handler, raw []byte, status int) float64 {
	t.Helper()
	ts := httptest.NewServer(h)
	defer ts.Close()
	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// The first answer, parsed, gives the status and the length of every
	// answer (the Date field has a fixed width).
	if _, err := conn.Write(raw); err != nil {
		t.Fatal(err)
	}
	cr := &countingReader{r: conn}
	resp, err := http.ReadResponse(bufio.NewReaderSize(cr, 1), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != status || resp.Header.Get("Transfer-Encoding") != "" || strings.Contains(strings.Join(resp.TransferEncoding, ","), "chunked") {
		t.Fatalf("status %d, transfer encoding %v; want %d with a length", resp.StatusCode, resp.TransferEncoding, status)
	}
	buf := make([]byte, cr.n)
	one := func() {
		if _, err := conn.Write(raw); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(conn, buf); err != nil {
			t.Fatal(err)
		}
	}
	one()
	return testing.AllocsPerRun(500, one)
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// TestFeedRequestsCounted: /metrics counts the requests for the current
// documents of published feeds and of sources' own feeds (these were not
// counted before), by status, each in its own series; archive pages and
// OPML lists are not counted. Every request is counted; one in
// TimedEvery is timed.
func TestFeedRequestsCounted(t *testing.T) {
	snap := benchSnapshot(t)
	srv := benchServer(snap, metrics.New(metrics.Options{}))
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	requests := []struct {
		path   string
		header []string
		status int
		times  int
	}{
		{"/feeds/all.atom", nil, 200, 1},
		{"/feeds/all.atom", []string{"Accept-Encoding", "gzip"}, 200, 1},
		{"/feeds/all.atom", []string{"If-None-Match", snap.ETag}, 304, 2*TimedEvery - 2},
		{"/sources/blog.atom", []string{"Accept-Encoding", "gzip"}, 200, 1},
		{"/sources/blog.atom", []string{"Accept-Encoding", "gzip", "If-None-Match", gzipETag(snap.ETag)}, 304, TimedEvery - 1},
		{"/sources/blog.rss", nil, 503, 1}, // not rendered: not a document served
	}
	for _, r := range requests {
		for range r.times {
			if resp, _ := do(t, "GET", ts.URL+r.path, r.header...); resp.StatusCode != r.status {
				t.Fatalf("%s: status %d, want %d", r.path, resp.StatusCode, r.status)
			}
		}
	}
	want := []string{
		`feedmill_http_feed_requests_total{code="200",feed="all",format="atom"} 2`,
		fmt.Sprintf(`feedmill_http_feed_requests_total{code="304",feed="all",format="atom"} %d`, 2*TimedEvery-2),
		`feedmill_http_feed_request_duration_seconds_count{feed="all",format="atom"} 2`,
		`feedmill_http_source_feed_requests_total{code="200",format="atom",source="blog"} 1`,
		fmt.Sprintf(`feedmill_http_source_feed_requests_total{code="304",format="atom",source="blog"} %d`, TimedEvery-1),
		`feedmill_http_source_feed_request_duration_seconds_count{format="atom",source="blog"} 1`,
	}
	// A request is counted once answered, so the client can see its
	// answer a moment before the count: wait for the counts.
	var body string
	testkit.WaitFor(t, "every request counted in /metrics", func() bool {
		_, body = do(t, "GET", ts.URL+"/metrics")
		for _, line := range want {
			if !strings.Contains(body, "\n"+line+"\n") {
				return false
			}
		}
		return true
	})
	for _, line := range strings.Split(body, "\n") {
		if strings.Contains(line, `format="rss"`) && strings.HasPrefix(line, "feedmill_http_") {
			t.Errorf("a request that served no document was counted: %s", line)
		}
	}
}

// TestDateHeader: while Run runs, feed responses carry the Date it keeps,
// the current time to the second; once it ends, net/http's own.
func TestDateHeader(t *testing.T) {
	snap := benchSnapshot(t)
	srv := benchServer(snap, metrics.New(metrics.Options{}))
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	// A kept field is the one sent, whatever net/http would write.
	fixed := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	srv.date.set(fixed)
	if resp, _ := do(t, "GET", ts.URL+"/feeds/all.atom"); resp.Header.Get("Date") != fixed.Format(http.TimeFormat) {
		t.Fatalf("Date %q, want the kept %q", resp.Header.Get("Date"), fixed.Format(http.TimeFormat))
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Run(ctx)
	}()
	testkit.WaitFor(t, "the date kept by Run", func() bool {
		d := srv.date.v.Load()
		return d != nil && (*d)[0] != fixed.Format(http.TimeFormat)
	})
	kept := func() time.Time {
		t.Helper()
		v := (*srv.date.v.Load())[0]
		d, err := http.ParseTime(v)
		if err != nil || d.Format(http.TimeFormat) != v {
			t.Fatalf("kept Date %q is not in HTTP's format", v)
		}
		return d
	}
	for _, header := range [][]string{nil, {"If-None-Match", snap.ETag}} {
		// The field sent is the one kept when the response was written:
		// no earlier than the one kept before the request, no later than
		// the one kept after it (the kept value, not the clock, is the
		// reference, so a slow machine changes nothing).
		before := kept()
		resp, _ := do(t, "GET", ts.URL+"/feeds/all.atom", header...)
		after := kept()
		date, err := http.ParseTime(resp.Header.Get("Date"))
		if err != nil {
			t.Fatalf("Date %q: %v", resp.Header.Get("Date"), err)
		}
		if date.Before(before) || date.After(after) {
			t.Errorf("status %d: Date %s, want one kept while it was answered (%s to %s)",
				resp.StatusCode, resp.Header.Get("Date"), before.Format(http.TimeFormat), after.Format(http.TimeFormat))
		}
	}
	cancel()
	<-done
	if srv.date.v.Load() != nil {
		t.Error("the date is still kept after Run ended")
	}
	if resp, _ := do(t, "GET", ts.URL+"/feeds/all.atom"); resp.Header.Get("Date") == "" {
		t.Error("no Date once Run ended: net/http's own is missing")
	}
}
