package fetch

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/feedmill/feedmill/internal/feed"
)

// These tests dial loopback addresses only: 127.0.0.1 is where the test
// servers listen and 127.0.0.2 stands for "another host". A refused
// address is refused before the connection is attempted, and were the
// guard broken, the packet would still stay on the machine.

// countingServer is a test server on 127.0.0.1 that counts the requests it
// gets and answers with a feed.
func countingServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		io.WriteString(w, sampleRSS)
	})
	return srv, &n
}

func TestFetchPageGuard(t *testing.T) {
	srv, hits := countingServer(t)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	at := func(host string) string { return "http://" + net.JoinHostPort(host, strconv.Itoa(port)) + "/feed" }
	mux := http.NewServeMux()
	mux.HandleFunc("/to/{host}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, at(r.PathValue("host")), http.StatusFound)
	})
	mux.HandleFunc("/feed", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, sampleRSS) })
	redirector := newServer(t, mux.ServeHTTP)

	resolver := fakeResolver(t, map[string][]string{
		"intranet.test":   {"127.0.0.1"},
		"dualstack.test":  {"127.0.0.1", "::1"},
		"other-lan.test":  {"127.0.0.2"},
		"rebinding.test.": {"127.0.0.1"},
	})
	tests := []struct {
		name     string
		url      string
		trusted  string
		allow    bool
		refused  string // the refused address and class in the error
		otherErr string // another error expected instead of success
		wantHits int32  // requests the counting server must have seen
	}{
		{name: "loopback literal, nothing trusted", url: srv.URL + "/feed", refused: "127.0.0.1 (loopback)"},
		{name: "another loopback host", url: at("127.0.0.2"), trusted: "127.0.0.1", refused: "127.0.0.2 (loopback)"},
		{name: "IPv6 loopback", url: at("::1"), trusted: "127.0.0.1", refused: "::1 (loopback)"},
		{name: "name that resolves to loopback", url: at("intranet.test"), refused: "127.0.0.1 (loopback)"},
		{name: "name with several addresses, all refused", url: at("dualstack.test"), refused: "(loopback)"},
		{name: "name of a trusted host's neighbour", url: at("other-lan.test"), trusted: "intranet.test", refused: "127.0.0.2 (loopback)"},
		{name: "trusted IP", url: srv.URL + "/feed", trusted: "127.0.0.1", wantHits: 1},
		{name: "trusted host given with a port", url: srv.URL + "/feed", trusted: "127.0.0.1:1", wantHits: 1},
		{name: "trusted host given as a URL", url: srv.URL + "/feed", trusted: "https://127.0.0.1/feed.xml", wantHits: 1},
		{name: "trusted name", url: at("intranet.test"), trusted: "intranet.test", wantHits: 1},
		{name: "trusted name, other case and a final dot", url: at("intranet.test"), trusted: "INTRANET.Test.", wantHits: 1},
		// No server listens on ::1: being refused by the kernel instead of
		// the guard shows that the guard let it through.
		{name: "trusted IPv6 in brackets", url: at("::1"), trusted: "[::1]", otherErr: "connect: "},
		{name: "allow_private", url: at("intranet.test"), allow: true, wantHits: 1},
		{name: "redirect from the trusted host to another", url: redirector.URL + "/to/127.0.0.2", trusted: "127.0.0.1", refused: "127.0.0.2 (loopback)"},
		{name: "redirect from the trusted host to a name", url: redirector.URL + "/to/intranet.test", trusted: "127.0.0.1", refused: "127.0.0.1 (loopback)"},
		{name: "redirect from the trusted host to itself", url: redirector.URL + "/to/127.0.0.1", trusted: "127.0.0.1", wantHits: 1},
		{name: "redirect to the trusted host from another", url: redirector.URL + "/to/intranet.test", trusted: "intranet.test", refused: "127.0.0.1 (loopback)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits.Store(0)
			c := newClient(t, Options{Resolver: resolver, AllowPrivate: tt.allow})
			resp, err := c.FetchPage(t.Context(), tt.url, tt.trusted)
			switch {
			case tt.otherErr != "":
				if err == nil || errors.Is(err, ErrNotPublic) || !strings.Contains(err.Error(), tt.otherErr) {
					t.Errorf("error = %v, want %q", err, tt.otherErr)
				}
			case tt.refused == "":
				if err != nil {
					t.Fatal(err)
				}
				if string(resp.Body) != sampleRSS {
					t.Errorf("Body = %q", resp.Body)
				}
			default:
				if !errors.Is(err, ErrNotPublic) {
					t.Fatalf("error %v is not ErrNotPublic", err)
				}
				if !strings.HasPrefix(err.Error(), "fetch "+tt.url+": ") || !strings.Contains(err.Error(), "refused to connect to a non-public address: ") || !strings.Contains(err.Error(), tt.refused) {
					t.Errorf("error = %q, want it to name the URL and %q", err, tt.refused)
				}
			}
			if got := hits.Load(); got != tt.wantHits {
				t.Errorf("server got %d requests, want %d", got, tt.wantHits)
			}
		})
	}
}

// A connection opened for a trusted request is pooled; it must not carry
// an untrusted request to the same host without the check.
func TestFetchPageGuardIgnoresPooledConnections(t *testing.T) {
	srv, hits := countingServer(t)
	c := newClient(t, Options{})
	steps := []struct {
		name    string
		fetch   func() (*Response, error)
		refused bool
	}{
		{name: "trusted", fetch: func() (*Response, error) { return c.FetchPage(t.Context(), srv.URL, "127.0.0.1") }},
		{name: "untrusted after trusted", fetch: func() (*Response, error) { return c.FetchPage(t.Context(), srv.URL, "") }, refused: true},
		{name: "unguarded Fetch", fetch: func() (*Response, error) { return c.Fetch(t.Context(), srv.URL, feed.Validators{}) }},
		{name: "untrusted after Fetch", fetch: func() (*Response, error) { return c.FetchPage(t.Context(), srv.URL, "") }, refused: true},
	}
	for _, s := range steps {
		_, err := s.fetch()
		if s.refused != errors.Is(err, ErrNotPublic) || (!s.refused && err != nil) {
			t.Errorf("%s: error %v, refused want %v", s.name, err, s.refused)
		}
	}
	if got := hits.Load(); got != 2 {
		t.Errorf("server got %d requests, want 2", got)
	}
}

// closeRecorder is a request body that records being closed.
type closeRecorder struct {
	io.Reader
	closed atomic.Bool
}

func (c *closeRecorder) Close() error { c.closed.Store(true); return nil }

func TestGuardedTransport(t *testing.T) {
	srv, hits := countingServer(t)
	tests := []struct {
		name    string
		allow   bool
		refused bool
	}{
		{name: "refuses loopback", refused: true},
		{name: "allow_private", allow: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits.Store(0)
			c := newClient(t, Options{AllowPrivate: tt.allow})
			hc := &http.Client{Transport: c.GuardedTransport()}
			body := &closeRecorder{Reader: strings.NewReader("hub.mode=subscribe")}
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/hub", body)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := hc.Do(req)
			if tt.refused {
				if !errors.Is(err, ErrNotPublic) {
					t.Fatalf("error %v is not ErrNotPublic", err)
				}
				if hits.Load() != 0 {
					t.Error("the refused request reached the server")
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if hits.Load() != 1 {
					t.Errorf("server got %d requests, want 1", hits.Load())
				}
			}
			if !body.closed.Load() {
				t.Error("request body not closed")
			}
		})
	}
}

// Behind a proxy the dialer only reaches the proxy, so guarded requests are
// checked before they are handed to it.
func TestGuardBehindProxy(t *testing.T) {
	var proxied atomic.Int32
	var lastHost atomic.Value
	proxy := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		proxied.Add(1)
		lastHost.Store(r.URL.Host)
		io.WriteString(w, sampleRSS)
	})
	proxyURL, _ := url.Parse(proxy.URL)
	resolver := fakeResolver(t, map[string][]string{"intranet.test": {"127.0.0.2"}})
	tests := []struct {
		name    string
		url     string
		trusted string
		allow   bool
		refused string
	}{
		{name: "loopback literal", url: "http://127.0.0.2:9/feed", refused: "127.0.0.2 (loopback)"},
		{name: "name resolving to loopback", url: "http://intranet.test:9/feed", refused: "intranet.test: refused to connect to a non-public address: 127.0.0.2 (loopback)"},
		{name: "unknown name", url: "http://missing.test:9/feed", refused: "no such host"},
		{name: "trusted host", url: "http://intranet.test:9/feed", trusted: "intranet.test"},
		{name: "allow_private", url: "http://127.0.0.2:9/feed", allow: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			proxied.Store(0)
			c := newClient(t, Options{Resolver: resolver, AllowPrivate: tt.allow})
			c.proxy = http.ProxyURL(proxyURL)
			_, err := c.FetchPage(t.Context(), tt.url, tt.trusted)
			if tt.refused != "" {
				if err == nil || !strings.Contains(err.Error(), tt.refused) {
					t.Errorf("error = %v, want %q", err, tt.refused)
				}
				if proxied.Load() != 0 {
					t.Error("the refused request reached the proxy")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// The proxy sees the absolute URL asked for, with the
			// target as its host.
			want, _ := url.Parse(tt.url)
			if proxied.Load() != 1 || lastHost.Load() != want.Host {
				t.Errorf("proxy got %d requests, last for %v; want 1 for %s", proxied.Load(), lastHost.Load(), want.Host)
			}
		})
	}
}

func TestNormalizeHost(t *testing.T) {
	tests := []struct{ in, want string }{
		{"example.org", "example.org"},
		{"Example.ORG.", "example.org"},
		{"example.org:8080", "example.org"},
		{"https://user:pw@Example.org:8443/feed?x=1", "example.org"},
		{"127.0.0.1", "127.0.0.1"},
		{"[::1]:80", "::1"},
		{"[::1]", "::1"},
		{"::1", "::1"},
		{"", ""},
		{"http://[::1", ""},
	}
	for _, tt := range tests {
		if got := normalizeHost(tt.in); got != tt.want {
			t.Errorf("normalizeHost(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
