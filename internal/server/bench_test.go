package server

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/metrics"
	"github.com/feedmill/feedmill/internal/publish"
)

// The serve benchmarks measure the handler alone: no listener, no
// connection, no net/http server loop. They answer issue 6's "no allocation
// on either path beyond net/http's own" by running the same requests through
// a bare handler that writes precomputed bytes and headers (the reference
// of bench/serve.sh) and reporting allocations per request for both.
// bench/serve.sh measures the whole stack over real connections.

// discardWriter is an http.ResponseWriter that keeps its header map across
// requests and throws the body away, so that the benchmark counts the
// handler's allocations and not a recorder's.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header { return w.h }

func (w *discardWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *discardWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.n += len(p)
	return len(p), nil
}

// reset readies the writer for the next request. net/http's own response
// writer starts each request with a fresh (pooled) header map; clearing
// keeps the map's buckets, as the pool would.
func (w *discardWriter) reset() {
	clear(w.h)
	w.status, w.n = 0, 0
}

// benchSnapshot is a published feed of the size bench/serve.sh serves: 100
// entries with about 2 KB of content each, gzipped.
func benchSnapshot(tb testing.TB) *publish.Snapshot {
	tb.Helper()
	var doc strings.Builder
	doc.WriteString(`<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">`)
	for i := range 100 {
		fmt.Fprintf(&doc, "<entry><id>urn:feedmill:bench:%d</id><title>Entry %d</title><content type=\"html\">", i, i)
		for j := range 30 {
			fmt.Fprintf(&doc, "&lt;p&gt;Paragraph %d of entry %d, with words %d.&lt;/p&gt;", j, i, i*j)
		}
		doc.WriteString("</content></entry>")
	}
	doc.WriteString("</feed>")
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := zw.Write([]byte(doc.String())); err != nil {
		tb.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return &publish.Snapshot{
		Body: []byte(doc.String()), Gzip: gz.Bytes(), ETag: `"b3nchf33d"`,
		LastModified: time.Date(2026, 3, 6, 12, 0, 0, 0, time.UTC),
		ContentType:  "application/atom+xml; charset=utf-8", Items: 100,
	}
}

// benchHub and benchBase are the production-like settings of the serve
// benchmarks: a WebSub hub (so every feed response carries its two Link
// lines) and a public base URL.
const (
	benchBase = "http://feeds.example"
	benchHub  = benchBase + "/websub/hub"
)

// benchServer is the production handler as `feedmill serve` builds it for
// the benchmarks: a hub, a base URL, and metrics on (every request for a
// feed or a source's feed counted and timed). It serves snap as the
// published feed all (/feeds/all.atom) and a copy of it as the source
// blog's own feed (/sources/blog.atom): the publisher renders every
// document into a snapshot of its own.
func benchServer(snap *publish.Snapshot, m *metrics.Metrics) *Server {
	src := &publish.Snapshot{Body: snap.Body, Gzip: snap.Gzip, ETag: snap.ETag, LastModified: snap.LastModified, ContentType: snap.ContentType, Items: snap.Items}
	return New(Options{
		BaseURL: benchBase, Version: "bench", Hub: benchHub,
		Sources:  []feed.Source{{Name: "blog", URL: "https://blog.example/feed"}},
		Metrics:  m.Handler(),
		Observer: m,
	}, fixedSnapshots{"all.atom": snap, "sources/blog.atom": src}, fixedStates{})
}

// bareHandler is the reference: every header field computed once, the
// 304 decided by one string comparison, the body written in one call. It
// is the least any handler serving these bytes with these headers can do.
// Like bench/serveref, it sends the very headers feedmill sends: it is
// built from them (see newBareHandler).
type bareHandler struct {
	plain, gz bareVariant
}

type bareVariant struct {
	header, notModified []field // assigned into each response
	etag                string
	body                []byte
}

// newBareHandler takes the headers feedmill answers GET path with, plain
// and gzipped, as bench/serve.sh takes them with curl for serveref: every
// field but the ones net/http makes itself, and for a 304 all but
// Content-Type, Content-Encoding, Content-Length and Last-Modified.
func newBareHandler(tb testing.TB, prod http.Handler, path string, snap *publish.Snapshot) *bareHandler {
	tb.Helper()
	variant := func(acceptEncoding string, body []byte) bareVariant {
		req, err := http.NewRequest(http.MethodGet, benchBase+path, nil)
		if err != nil {
			tb.Fatal(err)
		}
		if acceptEncoding != "" {
			req.Header.Set("Accept-Encoding", acceptEncoding)
		}
		w := &discardWriter{h: http.Header{}}
		prod.ServeHTTP(w, req)
		if w.status != http.StatusOK || w.n != len(body) {
			tb.Fatalf("feedmill answered %s with %d and %d bytes, want 200 and %d", path, w.status, w.n, len(body))
		}
		var v bareVariant
		for _, k := range slices.Sorted(maps.Keys(w.h)) {
			f := field{k, w.h[k]}
			v.header = append(v.header, f)
			switch k {
			case "Content-Type", "Content-Encoding", "Content-Length", "Last-Modified":
			default:
				v.notModified = append(v.notModified, f)
			}
		}
		v.etag, v.body = w.h.Get("Etag"), body
		return v
	}
	return &bareHandler{plain: variant("", snap.Body), gz: variant("gzip", snap.Gzip)}
}

func (h *bareHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	v := &h.plain
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		v = &h.gz
	}
	out := w.Header()
	if r.Header.Get("If-None-Match") == v.etag {
		for _, f := range v.notModified {
			out[f.key] = f.value
		}
		w.WriteHeader(http.StatusNotModified)
		return
	}
	for _, f := range v.header {
		out[f.key] = f.value
	}
	w.WriteHeader(http.StatusOK)
	w.Write(v.body) //nolint:errcheck // a discarded body cannot fail
}

// benchPaths are the requests the benchmarks and allocation tests make:
// the four answers to a published feed, and the two targeted ones (gzip
// 200 and 304) to a source's own feed.
func benchPaths(snap *publish.Snapshot) []struct {
	name, path string
	header     map[string]string
	wantStatus int
	wantBytes  int
} {
	gz := map[string]string{"Accept-Encoding": "gzip, deflate, br"}
	gz304 := map[string]string{"Accept-Encoding": "gzip, deflate, br", "If-None-Match": gzipETag(snap.ETag)}
	return []struct {
		name, path string
		header     map[string]string
		wantStatus int
		wantBytes  int
	}{
		{"200", "/feeds/all.atom", nil, http.StatusOK, len(snap.Body)},
		{"200-gzip", "/feeds/all.atom", gz, http.StatusOK, len(snap.Gzip)},
		{"304", "/feeds/all.atom", map[string]string{"If-None-Match": snap.ETag}, http.StatusNotModified, 0},
		{"304-gzip", "/feeds/all.atom", gz304, http.StatusNotModified, 0},
		{"source-200-gzip", "/sources/blog.atom", gz, http.StatusOK, len(snap.Gzip)},
		{"source-304-gzip", "/sources/blog.atom", gz304, http.StatusNotModified, 0},
	}
}

// BenchmarkServeFeed serves feed documents through the production handler
// (routing, the nosniff header, serveSnapshot, metrics on, a WebSub hub)
// and through the bare reference sending the same headers, for a plain
// 200, a gzip 200 and a 304 of each coding. Besides ns/op and B/op it
// reports allocs/req from testing.AllocsPerRun, the figure issue 6 sets a
// target on.
func BenchmarkServeFeed(b *testing.B) {
	snap := benchSnapshot(b)
	prod := benchServer(snap, metrics.New(metrics.Options{}))
	for _, p := range benchPaths(snap) {
		handlers := []struct {
			name string
			h    http.Handler
		}{
			{"feedmill", prod},
			{"bare", newBareHandler(b, prod, p.path, snap)},
		}
		for _, hd := range handlers {
			b.Run(hd.name+"/"+p.name, func(b *testing.B) {
				req, err := http.NewRequest(http.MethodGet, benchBase+p.path, nil)
				if err != nil {
					b.Fatal(err)
				}
				for k, v := range p.header {
					req.Header.Set(k, v)
				}
				w := &discardWriter{h: make(http.Header, 16)}
				serve := func() {
					w.reset()
					hd.h.ServeHTTP(w, req)
				}
				// Check the answer once, so a broken handler cannot post a
				// fast number.
				serve()
				if w.status != p.wantStatus || w.n != p.wantBytes {
					b.Fatalf("status %d with %d body bytes; want %d with %d", w.status, w.n, p.wantStatus, p.wantBytes)
				}
				if got, want := w.h.Get("ETag"), req.Header.Get("If-None-Match"); want != "" && got != want {
					b.Fatalf("ETag %s; want %s", got, want)
				}
				allocs := testing.AllocsPerRun(100, serve)
				b.SetBytes(int64(p.wantBytes))
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					serve()
				}
				b.ReportMetric(allocs, "allocs/req")
			})
		}
	}
}

// TestBenchHandlersAgree pins that the bare reference answers like the
// production handler (status, every header field, body length), so that
// the benchmarks compare equal work: the 304 rule of bench/serveref
// (a 200's fields without Content-Type, Content-Encoding, Content-Length
// and Last-Modified) is feedmill's too.
func TestBenchHandlersAgree(t *testing.T) {
	snap := benchSnapshot(t)
	prod := benchServer(snap, metrics.New(metrics.Options{}))
	for _, tt := range benchPaths(snap) {
		t.Run(tt.name, func(t *testing.T) {
			bare := newBareHandler(t, prod, tt.path, snap)
			var got [2]*discardWriter
			for i, h := range []http.Handler{prod, bare} {
				req, err := http.NewRequest(http.MethodGet, benchBase+tt.path, nil)
				if err != nil {
					t.Fatal(err)
				}
				for k, v := range tt.header {
					req.Header.Set(k, v)
				}
				got[i] = &discardWriter{h: make(http.Header)}
				h.ServeHTTP(got[i], req)
			}
			p, r := got[0], got[1]
			if p.status != tt.wantStatus || p.status != r.status || p.n != r.n {
				t.Errorf("feedmill: %d with %d bytes; bare: %d with %d; want %d", p.status, p.n, r.status, r.n, tt.wantStatus)
			}
			if !maps.EqualFunc(p.h, r.h, slices.Equal) {
				t.Errorf("headers differ:\nfeedmill %v\nbare     %v", p.h, r.h)
			}
			if len(p.h["Link"]) != 2 || p.h.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("feedmill's answer lacks the Link lines or nosniff: %v", p.h)
			}
		})
	}
}
