package fetch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// ErrNotPublic reports a guarded request (FetchPage, GuardedTransport)
// that would have connected to an address that is not public: the machine
// itself, its networks, or a cloud metadata service. Test for it with
// errors.Is.
var ErrNotPublic = errors.New("refused to connect to a non-public address")

// guardKey is the context key of a request's guardPolicy; a request whose
// context has none is not guarded (unless it goes through the transport
// GuardedTransport returns).
type guardKey struct{}

// guardPolicy is how one guarded request is judged.
type guardPolicy struct {
	trusted string // host name (normalized) that may be private; "" for none
}

// trusts reports whether u's host is the trusted one.
func (p guardPolicy) trusts(u *url.URL) bool {
	return p.trusted != "" && normalizeHost(u.Hostname()) == p.trusted
}

// normalizeHost returns the host name of s, which may be a host name, an
// IP address (IPv6 with or without brackets), host:port, or an absolute
// URL, in lower case without a trailing dot; "" when s names none.
func normalizeHost(s string) string {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil {
			return ""
		}
		s = u.Hostname()
	} else if h, _, err := net.SplitHostPort(s); err == nil {
		s = h
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	return strings.TrimSuffix(strings.ToLower(s), ".")
}

// refuseNonPublic is the strict dialer's Control: it runs on the address
// the dialer is about to connect to, after name resolution, before the
// connection is made, so no packet reaches a refused address.
func refuseNonPublic(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		// Not an IP and port: nothing can be judged, so nothing is allowed.
		return fmt.Errorf("%w: cannot judge %q", ErrNotPublic, address)
	}
	return checkAddr(ap.Addr())
}

func checkAddr(ip netip.Addr) error {
	if c := Classify(ip); !c.Public() {
		return fmt.Errorf("%w: %s (%s)", ErrNotPublic, ip.WithZone(""), c)
	}
	return nil
}

// router is the Client's transport. Unguarded requests go to the open
// transport; guarded ones to the strict transport, unless their host is
// trusted or private addresses are allowed.
type router struct {
	c *Client
	// guardAll guards every request, also those whose context carries no
	// guardPolicy: the transport of GuardedTransport.
	guardAll bool
}

// RoundTrip implements http.RoundTripper.
func (r *router) RoundTrip(req *http.Request) (*http.Response, error) {
	c := r.c
	pol, guarded := req.Context().Value(guardKey{}).(guardPolicy)
	if !(guarded || r.guardAll) || c.opts.AllowPrivate || pol.trusts(req.URL) {
		return c.open.RoundTrip(req)
	}
	proxy, err := c.proxyFor(req)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	if proxy == nil {
		return c.strict.RoundTrip(req)
	}
	// Through a proxy the dialer reaches the proxy, which the operator
	// chose, and the proxy resolves the name: the check can only run here,
	// before the request, on our own resolution. A proxy that resolves
	// differently (rebinding) is outside what feedmill can see.
	if err := c.checkHost(req.Context(), req.URL.Hostname()); err != nil {
		closeBody(req)
		return nil, err
	}
	return c.open.RoundTrip(req)
}

// CloseIdleConnections closes the idle connections of both transports.
func (r *router) CloseIdleConnections() {
	r.c.open.CloseIdleConnections()
	r.c.strict.CloseIdleConnections()
}

// checkHost resolves host and fails unless every address is public.
func (c *Client) checkHost(ctx context.Context, host string) error {
	if ip, err := netip.ParseAddr(host); err == nil {
		return checkAddr(ip)
	}
	res := c.opts.Resolver
	if res == nil {
		res = net.DefaultResolver
	}
	ips, err := res.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return err
	}
	for _, ip := range ips {
		if err := checkAddr(ip); err != nil {
			return fmt.Errorf("%s: %w", host, err)
		}
	}
	return nil
}

// closeBody closes the body of a request a RoundTrip refuses, as the
// http.RoundTripper contract asks.
func closeBody(req *http.Request) {
	if req.Body != nil {
		// The request is refused either way; a close error changes nothing.
		_ = req.Body.Close()
	}
}

// GuardedTransport returns a transport that connects only to public
// addresses (see Classify), checked at dial time as for FetchPage, unless
// Options.AllowPrivate is set. It trusts no host. It is for requests to
// URLs that strangers give feedmill, such as WebSub hub and callback URLs;
// wrap it in an http.Client with its own timeout and redirect policy
// (every redirect goes through the transport, so it is guarded too). It
// shares the Client's connection pools, not its concurrency limits, body
// cap or charset handling, which belong to Fetch.
func (c *Client) GuardedTransport() http.RoundTripper {
	return &router{c: c, guardAll: true}
}
