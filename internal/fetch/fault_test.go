package fetch

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/testkit"
)

// TestFetchFaults runs one client against servers that misbehave in every
// way feedmill meets in the wild, and checks that each fetch ends with an
// error that says what went wrong, the ones that never finish with our
// timeout, and that nothing is left running afterwards.
func TestFetchFaults(t *testing.T) {
	const (
		// timeout is for the servers that never finish, which prove it;
		// every other case gets safetyNet, which only a hang would reach,
		// so that a busy machine cannot turn its error into a timeout.
		timeout   = 400 * time.Millisecond
		safetyNet = time.Minute
		maxBody   = 64 << 10
	)
	baseline := runtime.NumGoroutine()

	stop := make(chan struct{})
	hold := func(r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}
	bomb := gzipBytes(t, make([]byte, 8<<20))
	mux := http.NewServeMux()
	mux.HandleFunc("/never", func(w http.ResponseWriter, r *http.Request) { hold(r) })
	mux.HandleFunc("/trickle", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		w.WriteHeader(http.StatusOK)
		for _, b := range []byte(sampleRSS) {
			w.Write([]byte{b})
			w.(http.Flusher).Flush()
			select {
			case <-time.After(100 * time.Millisecond):
			case <-r.Context().Done():
				return
			case <-stop:
				return
			}
		}
	})
	mux.HandleFunc("/500", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "oops", http.StatusInternalServerError)
	})
	mux.HandleFunc("/429", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "120")
		http.Error(w, "slow down", http.StatusTooManyRequests)
	})
	mux.HandleFunc("/410", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "gone", http.StatusGone)
	})
	mux.HandleFunc("/loop/a", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop/b", http.StatusFound) })
	mux.HandleFunc("/loop/b", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop/a", http.StatusFound) })
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		chunk := strings.Repeat("x", 16<<10)
		for range 1 << 10 { // 16 MiB unless the client hangs up
			if _, err := io.WriteString(w, chunk); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/bomb", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(bomb)
	})
	mux.HandleFunc("/empty", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
	})
	srv := httptest.NewServer(mux)

	refusedURL := "http://" + testkit.RefusedAddr(t) + "/feed"

	// A resolver that knows no name, and one whose server cannot be
	// reached: neither sends a packet.
	nxdomain := fakeResolver(t, nil)
	dnsDown := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
		return nil, errors.New("no route to the DNS server")
	}}

	tests := []struct {
		name     string
		url      string
		resolver *net.Resolver
		want     string // in the error
		wantIs   error
		status   int  // StatusError code, if one is expected
		timesOut bool // the server never finishes: fetched with timeout
	}{
		{name: "connection refused", url: refusedURL, want: "connection refused"},
		{name: "unknown host", url: "http://feed.test/rss", resolver: nxdomain, want: "no such host"},
		{name: "DNS server unreachable", url: "http://feed.test/rss", resolver: dnsDown, want: "no route to the DNS server"},
		{name: "accepts and never answers", url: srv.URL + "/never", want: "timed out after 400ms", wantIs: context.DeadlineExceeded, timesOut: true},
		{name: "headers, then a trickle", url: srv.URL + "/trickle", want: "timed out after 400ms", wantIs: context.DeadlineExceeded, timesOut: true},
		{name: "500", url: srv.URL + "/500", want: "HTTP 500 Internal Server Error", status: 500},
		{name: "429 with Retry-After", url: srv.URL + "/429", want: "HTTP 429 Too Many Requests, retry after 2m0s", status: 429},
		{name: "410", url: srv.URL + "/410", want: "HTTP 410 Gone", status: 410},
		{name: "redirect loop", url: srv.URL + "/loop/a", want: "redirect loop"},
		{name: "body far over the cap", url: srv.URL + "/huge", want: "response body too large (limit 65536 bytes)", wantIs: ErrTooLarge},
		{name: "gzip bomb", url: srv.URL + "/bomb", want: "response body too large", wantIs: ErrTooLarge},
		{name: "empty 200", url: srv.URL + "/empty", want: "empty response body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			limit := safetyNet
			if tt.timesOut {
				limit = timeout
			}
			c := New(Options{Timeout: limit, MaxBody: maxBody, MinGap: -1, Resolver: tt.resolver})
			c.proxy = nil
			defer c.CloseIdleConnections()
			resp, err := c.Fetch(t.Context(), tt.url, feed.Validators{})
			if err == nil {
				t.Fatalf("got a %d response, want an error", resp.Status)
			}
			if !strings.HasPrefix(err.Error(), "fetch "+tt.url+": ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to name the URL and say %q", err, tt.want)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %q is not %v", err, tt.wantIs)
			}
			if se, ok := errors.AsType[*StatusError](err); ok != (tt.status != 0) || ok && se.Code != tt.status {
				t.Errorf("StatusError = %v, want code %d", se, tt.status)
			}
		})
	}

	close(stop)
	srv.Close()
	deadline := time.Now().Add(30 * time.Second) // a safety net: they end at once
	for runtime.NumGoroutine() > baseline {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines left, %d before:\n%s", runtime.NumGoroutine(), baseline,
				buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}
