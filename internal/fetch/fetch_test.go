package fetch

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/testkit"
	"github.com/mmcdole/gofeed"
)

const sampleRSS = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Sample</title><link>https://example.org/</link></channel></rss>`

// newServer starts a test server on 127.0.0.1 that is closed when the test
// ends.
func newServer(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// newClient returns a client with test-friendly defaults overridden by opts:
// a short timeout, no spacing between requests (every test server is the
// host 127.0.0.1), and no proxy, so that no environment variable can send a
// request off the machine.
func newClient(t *testing.T, opts Options) *Client {
	t.Helper()
	if opts.Timeout == 0 {
		opts.Timeout = time.Minute // a safety net, never what a test waits for
	}
	c := New(opts)
	c.proxy = nil
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func gzipBytes(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestFetchConditionalGET(t *testing.T) {
	const etag = `"v1"`
	const lastMod = "Mon, 02 Jan 2006 15:04:05 GMT"
	tests := []struct {
		name       string
		sent       feed.Validators
		extra      http.Header // headers the server adds to its answer
		wantStatus int
		wantVal    feed.Validators
	}{
		{
			name:       "first fetch captures validators",
			wantStatus: http.StatusOK,
			wantVal:    feed.Validators{ETag: etag, LastModified: lastMod},
		},
		{
			name:       "matching ETag gives 304",
			sent:       feed.Validators{ETag: etag},
			wantStatus: http.StatusNotModified,
			wantVal:    feed.Validators{ETag: etag},
		},
		{
			name:       "matching Last-Modified gives 304",
			sent:       feed.Validators{LastModified: lastMod},
			wantStatus: http.StatusNotModified,
			wantVal:    feed.Validators{LastModified: lastMod},
		},
		{
			name:       "304 keeps the sent validators",
			sent:       feed.Validators{ETag: etag, LastModified: lastMod},
			wantStatus: http.StatusNotModified,
			wantVal:    feed.Validators{ETag: etag, LastModified: lastMod},
		},
		{
			name:       "304 with a new ETag replaces only the ETag",
			sent:       feed.Validators{ETag: etag, LastModified: lastMod},
			extra:      http.Header{"Etag": {`"v2"`}},
			wantStatus: http.StatusNotModified,
			wantVal:    feed.Validators{ETag: `"v2"`, LastModified: lastMod},
		},
		{
			name:       "stale ETag gets the new body",
			sent:       feed.Validators{ETag: `"v0"`},
			wantStatus: http.StatusOK,
			wantVal:    feed.Validators{ETag: etag, LastModified: lastMod},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotINM, gotIMS string
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				gotINM, gotIMS = r.Header.Get("If-None-Match"), r.Header.Get("If-Modified-Since")
				for k, v := range tt.extra {
					w.Header()[k] = v
				}
				if gotINM == etag || (gotINM == "" && gotIMS == lastMod) {
					w.WriteHeader(http.StatusNotModified)
					return
				}
				w.Header().Set("ETag", etag)
				w.Header().Set("Last-Modified", lastMod)
				w.Header().Set("Content-Type", "application/rss+xml")
				io.WriteString(w, sampleRSS)
			})
			resp, err := newClient(t, Options{}).Fetch(t.Context(), srv.URL, tt.sent)
			if err != nil {
				t.Fatal(err)
			}
			if gotINM != tt.sent.ETag || gotIMS != tt.sent.LastModified {
				t.Errorf("server got If-None-Match %q, If-Modified-Since %q; want %q, %q",
					gotINM, gotIMS, tt.sent.ETag, tt.sent.LastModified)
			}
			if resp.Status != tt.wantStatus {
				t.Errorf("Status = %d, want %d", resp.Status, tt.wantStatus)
			}
			if resp.NotModified != (tt.wantStatus == http.StatusNotModified) {
				t.Errorf("NotModified = %v", resp.NotModified)
			}
			if resp.NotModified && resp.Body != nil {
				t.Errorf("Body = %q on a 304, want nil", resp.Body)
			}
			if !resp.NotModified && string(resp.Body) != sampleRSS {
				t.Errorf("Body = %q, want the feed", resp.Body)
			}
			if resp.Validators != tt.wantVal {
				t.Errorf("Validators = %+v, want %+v", resp.Validators, tt.wantVal)
			}
			if resp.URL != srv.URL {
				t.Errorf("URL = %q, want %q", resp.URL, srv.URL)
			}
		})
	}
}

func TestFetchRequestHeaders(t *testing.T) {
	tests := []struct {
		name   string
		opts   Options
		wantUA string
	}{
		{name: "default", wantUA: "feedmill/dev (+https://github.com/feedmill/feedmill)"},
		{name: "version", opts: Options{Version: "1.2.3"}, wantUA: "feedmill/1.2.3 (+https://github.com/feedmill/feedmill)"},
		{name: "custom", opts: Options{UserAgent: "my-reader/1", Version: "1.2.3"}, wantUA: "my-reader/1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got http.Header
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				got = r.Header.Clone()
				io.WriteString(w, sampleRSS)
			})
			if _, err := newClient(t, tt.opts).Fetch(t.Context(), srv.URL, feed.Validators{}); err != nil {
				t.Fatal(err)
			}
			want := map[string]string{
				"User-Agent":        tt.wantUA,
				"Accept":            acceptHeader,
				"Accept-Encoding":   "gzip",
				"If-None-Match":     "",
				"If-Modified-Since": "",
			}
			for k, v := range want {
				if got.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, got.Get(k), v)
				}
			}
		})
	}
}

func TestFetchSendsURLCredentials(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if user, pass, ok := r.BasicAuth(); !ok || user != "reader" || pass != "s3cret" {
			http.Error(w, "who are you", http.StatusUnauthorized)
			return
		}
		io.WriteString(w, sampleRSS)
	})
	u := strings.Replace(srv.URL, "http://", "http://reader:s3cret@", 1)
	if _, err := newClient(t, Options{}).Fetch(t.Context(), u, feed.Validators{}); err != nil {
		t.Fatal(err)
	}
}

func TestFetchResponseFields(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "Application/RSS+XML ; Charset=UTF-8")
		w.WriteHeader(http.StatusNonAuthoritativeInfo)
		io.WriteString(w, sampleRSS)
	})
	resp, err := newClient(t, Options{}).Fetch(t.Context(), srv.URL+"/feed.xml", feed.Validators{})
	if err != nil {
		t.Fatal(err)
	}
	if resp.ContentType != "application/rss+xml" {
		t.Errorf("ContentType = %q, want application/rss+xml", resp.ContentType)
	}
	if resp.Status != http.StatusNonAuthoritativeInfo {
		t.Errorf("Status = %d, want 203", resp.Status)
	}
	if resp.URL != srv.URL+"/feed.xml" {
		t.Errorf("URL = %q", resp.URL)
	}
	if resp.Duration <= 0 {
		t.Errorf("Duration = %v, want > 0", resp.Duration)
	}
}

func TestFetchBody(t *testing.T) {
	const max = 64 << 10
	feedBytes := []byte(sampleRSS)
	bomb := gzipBytes(t, make([]byte, 4<<20)) // 4 MiB of zeros
	if len(bomb) >= max {
		// Then the wire cap, not the decompressed one, would trip.
		t.Fatalf("bomb is %d bytes compressed, want under %d", len(bomb), max)
	}
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    string // expected body; "" when an error is expected
		wantErr error  // matched with errors.Is, if set
		errText string // substring of the error, if set
	}{
		{
			name: "gzip",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Encoding", "gzip")
				w.Write(gzipBytes(t, feedBytes))
			},
			want: sampleRSS,
		},
		{
			name: "x-gzip",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Encoding", "x-gzip")
				w.Write(gzipBytes(t, feedBytes))
			},
			want: sampleRSS,
		},
		{
			name: "gzip without Content-Encoding",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/x-gzip")
				w.Write(gzipBytes(t, feedBytes))
			},
			want: sampleRSS,
		},
		{
			name: "gzip compressed twice",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Encoding", "gzip")
				w.Write(gzipBytes(t, gzipBytes(t, feedBytes)))
			},
			want: sampleRSS,
		},
		{
			name: "gzip announced, plain sent",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Encoding", "gzip")
				w.Write(feedBytes)
			},
			want: sampleRSS,
		},
		{
			name: "exactly at the cap",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Write(append(feedBytes, bytes.Repeat([]byte(" "), max-len(feedBytes))...))
			},
			want: sampleRSS + strings.Repeat(" ", max-len(feedBytes)),
		},
		{
			name: "gzip bomb",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Encoding", "gzip")
				w.Write(bomb)
			},
			wantErr: ErrTooLarge,
			errText: "limit 65536 bytes",
		},
		{
			name: "unannounced gzip bomb",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Write(bomb)
			},
			wantErr: ErrTooLarge,
		},
		{
			name: "plain body over the cap with Content-Length",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", strconv.Itoa(max+1))
				w.Write(make([]byte, max+1))
			},
			wantErr: ErrTooLarge,
		},
		{
			name: "plain body over the cap, chunked",
			handler: func(w http.ResponseWriter, r *http.Request) {
				for range 5 {
					w.Write(bytes.Repeat([]byte("x"), max/4))
					w.(http.Flusher).Flush()
				}
			},
			wantErr: ErrTooLarge,
		},
		{
			name: "corrupt gzip",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Encoding", "gzip")
				z := gzipBytes(t, feedBytes)
				z[len(z)-5] ^= 0xff // break the CRC
				w.Write(z)
			},
			errText: "gzip: invalid checksum",
		},
		{
			name: "unsupported encoding",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Encoding", "br")
				w.Write([]byte{1, 2, 3})
			},
			errText: `unsupported content encoding "br"`,
		},
		{
			name:    "empty body",
			handler: func(w http.ResponseWriter, r *http.Request) {},
			errText: "empty response body",
		},
		{
			name:    "white space only",
			handler: func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, " \r\n\t") },
			errText: "empty response body",
		},
		{
			name:    "BOM only",
			handler: func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "\xEF\xBB\xBF") },
			errText: "empty response body",
		},
		{
			name:    "204 No Content",
			handler: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) },
			errText: "empty response body",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, tt.handler)
			resp, err := newClient(t, Options{MaxBody: max}).Fetch(t.Context(), srv.URL, feed.Validators{})
			if tt.want != "" {
				if err != nil {
					t.Fatal(err)
				}
				if string(resp.Body) != tt.want {
					t.Errorf("Body = %.80q..., want %.80q...", resp.Body, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("got body %.40q, want an error", resp.Body)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %q is not %q", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.errText) || !strings.HasPrefix(err.Error(), "fetch "+srv.URL+": ") {
				t.Errorf("error %q, want it to name the URL and contain %q", err, tt.errText)
			}
		})
	}
}

func TestFetchRedirects(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/feed", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == `"x"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		io.WriteString(w, sampleRSS)
	})
	redirect := func(to string, code int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, to, code) }
	}
	mux.HandleFunc("/a", redirect("/b", http.StatusMovedPermanently))
	mux.HandleFunc("/b", redirect("c", http.StatusFound)) // relative to /b
	mux.HandleFunc("/c", redirect("/feed", http.StatusPermanentRedirect))
	mux.HandleFunc("/loop1", redirect("/loop2", http.StatusFound))
	mux.HandleFunc("/loop2", redirect("/loop1", http.StatusTemporaryRedirect))
	mux.HandleFunc("/self", redirect("/self", http.StatusFound))
	mux.HandleFunc("/ftp", redirect("ftp://127.0.0.1/feed", http.StatusFound))
	mux.HandleFunc("/gone", redirect("/missing", http.StatusSeeOther))
	mux.HandleFunc("/missing", http.NotFound)
	mux.HandleFunc("/hop/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		http.Redirect(w, r, fmt.Sprintf("/hop/%d", n+1), http.StatusFound)
	})
	srv := newServer(t, mux.ServeHTTP)

	tests := []struct {
		name         string
		path         string
		maxRedirects int
		sent         feed.Validators
		wantURL      string
		wantNotMod   bool
		errText      string
	}{
		{name: "chain of three", path: "/a", wantURL: srv.URL + "/feed"},
		{name: "chain at the limit", path: "/a", maxRedirects: 3, wantURL: srv.URL + "/feed"},
		{name: "validators follow redirects", path: "/a", sent: feed.Validators{ETag: `"x"`}, wantURL: srv.URL + "/feed", wantNotMod: true},
		{name: "chain over the limit", path: "/a", maxRedirects: 2, errText: "stopped after 2 redirects (next was " + srv.URL + "/feed)"},
		{name: "redirects disabled", path: "/a", maxRedirects: -1, errText: "stopped after 0 redirects"},
		{name: "endless", path: "/hop/0", errText: "stopped after 5 redirects (next was " + srv.URL + "/hop/6)"},
		{name: "loop", path: "/loop1", errText: "redirect loop: " + srv.URL + "/loop2 redirects back to " + srv.URL + "/loop1"},
		{name: "self loop", path: "/self", errText: "redirect loop"},
		{name: "non-http target", path: "/ftp", errText: "redirect to unsupported URL ftp://127.0.0.1/feed"},
		{name: "error after redirect names both URLs", path: "/gone", errText: "redirected to " + srv.URL + "/missing: HTTP 404 Not Found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, Options{MaxRedirects: tt.maxRedirects})
			resp, err := c.Fetch(t.Context(), srv.URL+tt.path, tt.sent)
			if tt.errText != "" {
				if err == nil {
					t.Fatalf("got %s, want an error", resp.URL)
				}
				want := "fetch " + srv.URL + tt.path + ": "
				if !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), tt.errText) {
					t.Errorf("error = %q, want prefix %q and %q", err, want, tt.errText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if resp.URL != tt.wantURL || resp.NotModified != tt.wantNotMod {
				t.Errorf("URL, NotModified = %q, %v; want %q, %v", resp.URL, resp.NotModified, tt.wantURL, tt.wantNotMod)
			}
		})
	}
}

func TestFetchStatusErrors(t *testing.T) {
	future := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	tests := []struct {
		name       string
		code       int
		retryAfter string
		wantMin    time.Duration
		wantMax    time.Duration
		wantText   string
	}{
		{name: "429 with seconds", code: 429, retryAfter: "120", wantMin: 2 * time.Minute, wantMax: 2 * time.Minute, wantText: "HTTP 429 Too Many Requests, retry after 2m0s"},
		{name: "503 with HTTP-date", code: 503, retryAfter: future, wantMin: 58 * time.Minute, wantMax: time.Hour, wantText: "HTTP 503 Service Unavailable, retry after"},
		{name: "503 without Retry-After", code: 503, wantText: "HTTP 503 Service Unavailable"},
		{name: "500", code: 500, wantText: "HTTP 500 Internal Server Error"},
		{name: "404", code: 404, wantText: "HTTP 404 Not Found"},
		{name: "410 says the feed is gone", code: 410, wantText: "HTTP 410 Gone"},
		{name: "unknown code", code: 599, wantText: "HTTP 599"},
		{name: "3xx without Location", code: 300, wantText: "HTTP 300 Multiple Choices"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				w.WriteHeader(tt.code)
				io.WriteString(w, "<html>error page</html>")
			})
			_, err := newClient(t, Options{}).Fetch(t.Context(), srv.URL, feed.Validators{})
			var se *StatusError
			if !errors.As(err, &se) {
				t.Fatalf("error %v is not a *StatusError", err)
			}
			if se.Code != tt.code || se.URL != srv.URL {
				t.Errorf("StatusError = %+v, want code %d at %s", se, tt.code, srv.URL)
			}
			if se.RetryAfter < tt.wantMin || se.RetryAfter > tt.wantMax {
				t.Errorf("RetryAfter = %v, want in [%v, %v]", se.RetryAfter, tt.wantMin, tt.wantMax)
			}
			if want := "fetch " + srv.URL + ": " + tt.wantText; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error = %q, want prefix %q", err, want)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name, value string
		want        time.Duration
	}{
		{name: "empty", value: "", want: 0},
		{name: "seconds", value: "30", want: 30 * time.Second},
		{name: "seconds with spaces", value: " 30 ", want: 30 * time.Second},
		{name: "zero", value: "0", want: 0},
		{name: "negative", value: "-5", want: 0},
		{name: "huge does not overflow", value: "99999999999999999", want: time.Duration(1<<63 - 1)},
		{name: "IMF-fixdate", value: "Sat, 01 Mar 2025 12:05:00 GMT", want: 5 * time.Minute},
		{name: "RFC 850 date", value: "Saturday, 01-Mar-25 13:00:00 GMT", want: time.Hour},
		{name: "asctime date", value: "Sat Mar  1 12:00:30 2025", want: 30 * time.Second},
		{name: "past date", value: "Sat, 01 Mar 2025 11:00:00 GMT", want: 0},
		{name: "garbage", value: "soon", want: 0},
		{name: "fraction", value: "1.5", want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseRetryAfter(tt.value, now); got != tt.want {
				t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.value, got, tt.want)
			}
		})
	}
}

// stallingServer answers requests on /headers with headers and part of a
// body, and never finishes; on any other path it never answers at all. It
// lets go when the client gives up or the test ends.
func stallingServer(t *testing.T) (srv *httptest.Server, started <-chan struct{}) {
	t.Helper()
	stop := make(chan struct{})
	ch := make(chan struct{}, 16)
	srv = newServer(t, func(w http.ResponseWriter, r *http.Request) {
		ch <- struct{}{}
		if r.URL.Path == "/headers" {
			io.WriteString(w, "<rss>")
			w.(http.Flusher).Flush()
		}
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	})
	t.Cleanup(func() { close(stop) }) // runs before srv.Close
	return srv, ch
}

func TestFetchTimeout(t *testing.T) {
	srv, _ := stallingServer(t)
	c := newClient(t, Options{Timeout: 200 * time.Millisecond})
	for _, path := range []string{"/never", "/headers"} {
		t.Run(path, func(t *testing.T) {
			_, err := c.Fetch(t.Context(), srv.URL+path, feed.Validators{})
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error %v is not context.DeadlineExceeded", err)
			}
			if want := "fetch " + srv.URL + path + ": timed out after 200ms"; err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error = %v, want prefix %q", err, want)
			}
		})
	}
}

func TestFetchCallerCancel(t *testing.T) {
	srv, started := stallingServer(t)
	c := newClient(t, Options{})
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-started
		cancel()
	}()
	_, err := c.Fetch(ctx, srv.URL, feed.Validators{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v is not context.Canceled", err)
	}
	if strings.Contains(err.Error(), "timed out") {
		t.Errorf("error %q blames a timeout for a cancellation", err)
	}

	_, err = c.Fetch(ctx, srv.URL, feed.Validators{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("fetch with a cancelled context: %v, want context.Canceled", err)
	}
}

func TestFetchConnectionRefused(t *testing.T) {
	url := "http://" + testkit.RefusedAddr(t) + "/feed"
	_, err := newClient(t, Options{}).Fetch(t.Context(), url, feed.Validators{})
	if err == nil || !strings.HasPrefix(err.Error(), "fetch "+url+": ") || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("error = %v, want it to name %s and say connection refused", err, url)
	}
}

func TestFetchBadURL(t *testing.T) {
	c := newClient(t, Options{})
	for _, u := range []string{"", "feed.xml", "ftp://127.0.0.1/feed", "http://", "http://[::1", "http://127.0.0.1/\x7f"} {
		t.Run(u, func(t *testing.T) {
			_, err := c.Fetch(t.Context(), u, feed.Validators{})
			if err == nil || !strings.HasPrefix(err.Error(), "fetch "+u+": ") {
				t.Errorf("error = %v, want one naming %q", err, u)
			}
		})
	}
	t.Run("password is not shown", func(t *testing.T) {
		_, err := c.Fetch(t.Context(), "ftp://reader:s3cret@127.0.0.1/feed", feed.Validators{})
		if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "xxxxx@127.0.0.1") {
			t.Errorf("error = %v, want the URL with its password redacted", err)
		}
	})
	t.Run("validator with a line break", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, sampleRSS) })
		_, err := c.Fetch(t.Context(), srv.URL, feed.Validators{ETag: "\"a\"\r\nX-Evil: 1"})
		if err == nil {
			t.Error("a header injection was sent")
		}
	})
}

// gatedServer counts concurrent requests. Requests to /block wait for
// release; all others answer at once.
type gatedServer struct {
	*httptest.Server
	inflight, peak, total atomic.Int32
	gate                  chan struct{}
	once                  sync.Once
}

// release lets the blocked requests answer.
func (g *gatedServer) release() { g.once.Do(func() { close(g.gate) }) }

func newGatedServer(t *testing.T) *gatedServer {
	g := &gatedServer{gate: make(chan struct{})}
	g.Server = newServer(t, func(w http.ResponseWriter, r *http.Request) {
		g.total.Add(1)
		n := g.inflight.Add(1)
		defer g.inflight.Add(-1)
		for {
			p := g.peak.Load()
			if n <= p || g.peak.CompareAndSwap(p, n) {
				break
			}
		}
		if r.URL.Path == "/block" {
			select {
			case <-g.gate:
			case <-r.Context().Done():
			}
		}
		io.WriteString(w, sampleRSS)
	})
	t.Cleanup(g.release) // runs before the server's Close
	return g
}

func TestFetchConcurrencyLimits(t *testing.T) {
	tests := []struct {
		name        string
		concurrency int
		perHost     int
		want        int32
	}{
		{name: "per host", concurrency: 10, perHost: 2, want: 2},
		{name: "global", concurrency: 3, perHost: 10, want: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newGatedServer(t)
			c := newClient(t, Options{Concurrency: tt.concurrency, PerHost: tt.perHost})
			const n = 6
			errs := make(chan error, n)
			for range n {
				go func() {
					_, err := c.Fetch(t.Context(), srv.URL+"/block", feed.Validators{})
					errs <- err
				}()
			}
			testkit.WaitFor(t, "requests to arrive", func() bool { return srv.inflight.Load() == tt.want })
			time.Sleep(50 * time.Millisecond) // room for a limit breach to show
			srv.release()
			for range n {
				if err := <-errs; err != nil {
					t.Error(err)
				}
			}
			if got := srv.peak.Load(); got != tt.want {
				t.Errorf("peak concurrent requests = %d, want %d", got, tt.want)
			}
			if got := srv.total.Load(); got != n {
				t.Errorf("requests served = %d, want %d", got, n)
			}
			if got := c.hosts.size(); got != 0 {
				t.Errorf("host limiter keeps %d entries after all requests", got)
			}
		})
	}
}

func TestFetchPerHostLimitIsPerHost(t *testing.T) {
	srv := newGatedServer(t)
	c := newClient(t, Options{PerHost: 1})
	blocked := make(chan error, 1)
	go func() {
		_, err := c.Fetch(t.Context(), srv.URL+"/block", feed.Validators{})
		blocked <- err
	}()
	testkit.WaitFor(t, "the blocking request", func() bool { return srv.inflight.Load() == 1 })

	// Same server, another host name: not held up by the blocked request.
	other := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1) + "/fast"
	if _, err := c.Fetch(t.Context(), other, feed.Validators{}); err != nil {
		t.Fatalf("other host: %v", err)
	}

	// Same host: queued, and gives up when its context ends while waiting.
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err := c.Fetch(ctx, srv.URL+"/fast", feed.Validators{})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "waiting for a request slot") {
		t.Errorf("queued fetch: %v, want a deadline while waiting for a slot", err)
	}
	if got := srv.total.Load(); got != 2 {
		t.Errorf("server saw %d requests, want 2 (the queued one must not be sent)", got)
	}

	srv.release()
	if err := <-blocked; err != nil {
		t.Error(err)
	}
}

func TestFetchCharsets(t *testing.T) {
	rss := func(prolog, title string) string {
		decl := `<?xml version="1.0"?>`
		if prolog != "" {
			decl = `<?xml version="1.0" encoding="` + prolog + `"?>`
		}
		return decl + `<rss version="2.0"><channel><title>` + title + `</title></channel></rss>`
	}
	charsets := []struct {
		name, other, encoded, want string
	}{
		{name: "windows-1251", other: "KOI8-R", encoded: cp1251Privet, want: "Привет"},
		{name: "KOI8-R", other: "windows-1251", encoded: koi8rPrivet, want: "Привет"},
		{name: "ISO-8859-1", other: "Shift_JIS", encoded: latin1Cafe, want: "Café Zürich"},
		{name: "Shift_JIS", other: "ISO-8859-1", encoded: sjisNihongo, want: "日本語"},
	}
	for _, cs := range charsets {
		declarations := []struct {
			where, contentType, prolog string
		}{
			{where: "header", contentType: "application/rss+xml; charset=" + cs.name},
			{where: "prolog", contentType: "application/rss+xml", prolog: cs.name},
			{where: "header over disagreeing prolog", contentType: "text/xml; charset=" + cs.name, prolog: cs.other},
		}
		for _, d := range declarations {
			t.Run(cs.name+" in "+d.where, func(t *testing.T) {
				srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", d.contentType)
					io.WriteString(w, rss(d.prolog, cs.encoded))
				})
				resp, err := newClient(t, Options{}).Fetch(t.Context(), srv.URL, feed.Validators{})
				if err != nil {
					t.Fatal(err)
				}
				wantProlog := ""
				if d.prolog != "" {
					wantProlog = "UTF-8"
				}
				if want := rss(wantProlog, cs.want); string(resp.Body) != want {
					t.Errorf("Body = %q, want %q", resp.Body, want)
				}
				f, err := gofeed.NewParser().Parse(bytes.NewReader(resp.Body))
				if err != nil {
					t.Fatal(err)
				}
				if f.Title != cs.want {
					t.Errorf("parsed title = %q, want %q", f.Title, cs.want)
				}
			})
		}
	}
}

func TestFetchLogs(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
		want        []map[string]any // expected records, by the keys they must have
	}{
		{
			name: "one line per request",
			body: sampleRSS,
			want: []map[string]any{
				{"level": "DEBUG", "msg": "fetch", "status": float64(200), "bytes": float64(len(sampleRSS))},
			},
		},
		{
			name:        "conversion is named",
			contentType: "text/xml; charset=koi8-r",
			body:        "<rss><title>" + koi8rPrivet + "</title></rss>",
			want: []map[string]any{
				{"msg": "fetch", "charset": "koi8-r", "bytes": float64(len("<rss><title>Привет</title></rss>"))},
			},
		},
		{
			name:        "unknown charset",
			contentType: "text/xml; charset=x-klingon",
			body:        "<rss/>",
			want: []map[string]any{
				{"level": "DEBUG", "msg": "unknown charset", "charset": "x-klingon"},
				{"msg": "fetch", "status": float64(200)},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.contentType)
				io.WriteString(w, tt.body)
			})
			if _, err := newClient(t, Options{Logger: log}).Fetch(t.Context(), srv.URL, feed.Validators{}); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("logged %d lines, want %d:\n%s", len(lines), len(tt.want), buf.String())
			}
			for i, line := range lines {
				var rec map[string]any
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Fatal(err)
				}
				if rec["url"] != srv.URL {
					t.Errorf("record %d: url = %v, want %s", i, rec["url"], srv.URL)
				}
				for k, v := range tt.want[i] {
					if rec[k] != v {
						t.Errorf("record %d: %s = %v, want %v", i, k, rec[k], v)
					}
				}
				if _, ok := rec["duration"]; !ok && rec["msg"] == "fetch" {
					t.Errorf("record %d has no duration: %v", i, rec)
				}
			}
		})
	}
}
