package fetch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/testkit"
)

// TestCause classes errors built as Go's network stack builds them: the
// cause an operator reads must not depend on a network to provoke it.
func TestCause(t *testing.T) {
	dial := func(err error) error {
		return &url.Error{Op: "Get", URL: "https://feed.test/rss", Err: &net.OpError{Op: "dial", Net: "tcp", Err: err}}
	}
	read := func(err error) error {
		return &url.Error{Op: "Get", URL: "https://feed.test/rss", Err: &net.OpError{Op: "read", Net: "tcp", Err: &os.SyscallError{Syscall: "read", Err: err}}}
	}
	cert := &x509.Certificate{}
	tests := []struct {
		name string
		err  error
		want feed.Cause
	}{
		{"nil", nil, ""},
		{"no such host", dial(&net.DNSError{Err: "no such host", Name: "feed.test", IsNotFound: true}), feed.CauseNoHost},
		{"dns server failure", dial(&net.DNSError{Err: "server misbehaving", Name: "feed.test", Server: "127.0.0.53:53", IsTemporary: true}), feed.CauseDNS},
		{"dns timeout", dial(&net.DNSError{Err: "i/o timeout", Name: "feed.test", IsTimeout: true}), feed.CauseDNS},
		{"refused", dial(&os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}), feed.CauseRefused},
		{"network unreachable", dial(&os.SyscallError{Syscall: "connect", Err: syscall.ENETUNREACH}), feed.CauseUnreachable},
		{"host unreachable", dial(&os.SyscallError{Syscall: "connect", Err: syscall.EHOSTUNREACH}), feed.CauseUnreachable},
		{"reset", read(syscall.ECONNRESET), feed.CauseReset},
		{"broken pipe", read(syscall.EPIPE), feed.CauseReset},
		{"unknown authority", &url.Error{Op: "Get", URL: "https://feed.test/", Err: &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{Cert: cert}}}, feed.CauseTLSUnknown},
		{"expired", &url.Error{Op: "Get", URL: "https://feed.test/", Err: &tls.CertificateVerificationError{Err: x509.CertificateInvalidError{Cert: cert, Reason: x509.Expired}}}, feed.CauseTLSExpired},
		{"wrong host", &url.Error{Op: "Get", URL: "https://feed.test/", Err: &tls.CertificateVerificationError{Err: x509.HostnameError{Certificate: cert, Host: "feed.test"}}}, feed.CauseTLSHost},
		{"other certificate problem", &tls.CertificateVerificationError{Err: x509.CertificateInvalidError{Cert: cert, Reason: x509.NotAuthorizedToSign}}, feed.CauseTLS},
		{"tls alert", &net.OpError{Op: "remote error", Err: tls.AlertError(40)}, feed.CauseTLS},
		{"not tls", &url.Error{Op: "Get", URL: "https://feed.test/", Err: tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}}, feed.CauseTLS},
		{"deadline", fmt.Errorf("read body: %w", context.DeadlineExceeded), feed.CauseTimeout},
		{"i/o timeout", read(os.ErrDeadlineExceeded), feed.CauseTimeout},
		{"eof", &url.Error{Op: "Get", URL: "https://feed.test/", Err: io.EOF}, feed.CauseClosed},
		{"unexpected eof", fmt.Errorf("read body: %w", io.ErrUnexpectedEOF), feed.CauseClosed},
		{"redirects", &url.Error{Op: "Get", URL: "https://feed.test/", Err: &redirectError{"stopped after 10 redirects"}}, feed.CauseRedirects},
		{"status", fmt.Errorf("fetch x: %w", &StatusError{Code: 503}), feed.CauseHTTP},
		{"explained", fmt.Errorf("fetch x: %w", &NetError{Cause: feed.CauseRefused, Err: errors.New("boom")}), feed.CauseRefused},
		{"our own cancellation", fmt.Errorf("waiting for a request slot: %w", context.Canceled), ""},
		{"not a network failure", errors.New("not a feed"), ""},
		{"too large", ErrTooLarge, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Cause(tc.err); got != tc.want {
				t.Errorf("Cause(%v) = %q, want %q", tc.err, got, tc.want)
			}
		})
	}
}

// TestExplain checks that every network failure leads with its plain
// words and keeps Go's text after them, and that other errors are left as
// they are.
func TestExplain(t *testing.T) {
	dnsErr := &net.DNSError{Err: "no such host", Name: "feed.test", IsNotFound: true}
	tests := []struct {
		name      string
		err       error
		wantLead  string // the text starts with it
		wantAlso  string // and contains Go's own text
		unchanged bool
	}{
		{"dns", &net.OpError{Op: "dial", Net: "tcp", Err: dnsErr}, "no such host: check the name, or this machine's network/DNS (", "lookup feed.test: no such host", false},
		{"refused", &net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}, "connection refused: ", "connect: connection refused", false},
		{"reset", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, "connection reset: ", "connection reset by peer", false},
		{"expired", x509.CertificateInvalidError{Cert: &x509.Certificate{}, Reason: x509.Expired}, "TLS certificate expired or not yet valid: ", "x509: certificate has expired", false},
		{"timeout", &NetError{Cause: feed.CauseTimeout, What: "timed out after 30s", Err: context.DeadlineExceeded}, "timed out after 30s: the server may be slow or down", "(context deadline exceeded)", false},
		{"eof", io.ErrUnexpectedEOF, "connection closed before the answer was complete: ", "unexpected EOF", false},
		{"status", &StatusError{Code: 404}, "HTTP 404 Not Found", "", true},
		{"parse", errors.New("not a feed"), "not a feed", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Explain(tc.err)
			if tc.unchanged && got != tc.err {
				t.Errorf("Explain(%v) = %v, want it unchanged", tc.err, got)
			}
			if !strings.HasPrefix(got.Error(), tc.wantLead) || !strings.Contains(got.Error(), tc.wantAlso) {
				t.Errorf("Explain: %q, want it to start with %q and contain %q", got, tc.wantLead, tc.wantAlso)
			}
			if !errors.Is(got, tc.err) && !tc.unchanged {
				if _, ok := tc.err.(*NetError); !ok {
					t.Errorf("Explain(%v) does not wrap it", tc.err)
				}
			}
		})
	}
	if Explain(nil) != nil {
		t.Error("Explain(nil) is not nil")
	}
}

// TestFetchCauses provokes real failures on the loopback and checks that
// Fetch names each in plain words before Go's text. The DNS case asks a
// resolver served in memory: no name is ever looked up on a network.
func TestFetchCauses(t *testing.T) {
	untrusted := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(untrusted.Close)
	closer := hangUp(t, false)
	resetter := hangUp(t, true)
	redirects := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Path+"x", http.StatusFound)
	}))
	t.Cleanup(redirects.Close)

	tests := []struct {
		name string
		url  string
		want feed.Cause
		lead string
	}{
		{"refused", "http://" + testkit.RefusedAddr(t) + "/feed", feed.CauseRefused, "connection refused: "},
		{"no such host", "http://missing.test/feed", feed.CauseNoHost, "no such host: check the name, or this machine's network/DNS ("},
		{"untrusted certificate", untrusted.URL + "/feed", feed.CauseTLSUnknown, "TLS certificate not trusted (unknown authority): "},
		{"closed", "http://" + closer + "/feed", feed.CauseClosed, "connection closed before the answer was complete: "},
		{"reset", "http://" + resetter + "/feed", feed.CauseReset, "connection reset: "},
		{"redirects", redirects.URL + "/a", feed.CauseRedirects, "too many redirects: "},
	}
	c := newClient(t, Options{Resolver: fakeResolver(t, nil)})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Fetch(t.Context(), tc.url, feed.Validators{})
			if err == nil {
				t.Fatal("fetch succeeded")
			}
			if got := Cause(err); got != tc.want {
				t.Errorf("Cause = %q, want %q (%v)", got, tc.want, err)
			}
			prefix := "fetch " + tc.url + ": " + tc.lead
			if !strings.HasPrefix(err.Error(), prefix) || !strings.HasSuffix(err.Error(), ")") {
				t.Errorf("error = %q, want it to start with %q and end with Go's text in parentheses", err, prefix)
			}
		})
	}
}

// hangUp starts a listener on 127.0.0.1 that reads each request and then
// closes the connection without answering: gracefully, or with a reset
// (SO_LINGER 0). It returns its address.
func hangUp(t *testing.T, reset bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				conn.SetReadDeadline(time.Now().Add(time.Minute)) // a safety net
				buf := make([]byte, 4096)
				for {
					n, err := conn.Read(buf)
					if err != nil || strings.Contains(string(buf[:n]), "\r\n\r\n") {
						break
					}
				}
				if reset {
					conn.(*net.TCPConn).SetLinger(0)
				}
			}()
		}
	}()
	return ln.Addr().String()
}
