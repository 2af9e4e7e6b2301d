package feed

import "fmt"

// Cause is the kind of a failed fetch, as an operator can act on it: the
// class fetch sorts Go's network errors into, recorded with the state
// (SourceState.LastCause), and the key to the plain words that name it
// (Words). The values are stable: they are stored and appear in
// /status.json.
type Cause string

// The causes. A failure that fits none (a feed that does not parse, a
// body too large) has the empty cause: its error says what it is.
const (
	CauseNoHost      Cause = "no_such_host"  // DNS: the name does not exist
	CauseDNS         Cause = "dns"           // DNS: the lookup failed (no answer, server failure)
	CauseRefused     Cause = "refused"       // nothing listens at the address and port
	CauseUnreachable Cause = "unreachable"   // no route to the network or host
	CauseTimeout     Cause = "timeout"       // no complete answer within the fetch timeout
	CauseReset       Cause = "reset"         // the connection was reset
	CauseClosed      Cause = "closed"        // the connection closed before a complete answer
	CauseTLSUnknown  Cause = "tls_authority" // the certificate's issuer is not trusted
	CauseTLSExpired  Cause = "tls_expired"   // the certificate expired or is not valid yet
	CauseTLSHost     Cause = "tls_host"      // the certificate is for another name
	CauseTLS         Cause = "tls"           // any other TLS failure
	CauseRedirects   Cause = "redirects"     // too many redirects, or a loop
	CauseHTTP        Cause = "http"          // the server answered with an error status
)

// causeWords are the plain words of each cause: what happened, then what
// to check. Errors lead with them, the status page's banner shows them.
var causeWords = map[Cause]string{
	CauseNoHost:      "no such host: check the name, or this machine's network/DNS",
	CauseDNS:         "DNS lookup failed: check this machine's network/DNS",
	CauseRefused:     "connection refused: nothing answers at that address and port; check the URL's port, or whether the site is down",
	CauseUnreachable: "network unreachable: this machine has no route to the server; check its network connection",
	CauseTimeout:     "no answer in time: the server may be slow or down, or this machine's network is; fetch.timeout sets how long to wait",
	CauseReset:       "connection reset: the server (or a proxy or firewall on the way) cut the connection; usually temporary",
	CauseClosed:      "connection closed before the answer was complete: the server may be overloaded or restarting; usually temporary",
	CauseTLSUnknown:  "TLS certificate not trusted (unknown authority): the site's certificate is self-signed or its issuer is not in this machine's CA store",
	CauseTLSExpired:  "TLS certificate expired or not yet valid: the site must renew it; if many sites say so, check this machine's clock",
	CauseTLSHost:     "TLS certificate is for another name: check the URL's host name",
	CauseTLS:         "TLS handshake failed: the server's TLS setup does not work with this client",
	CauseRedirects:   "too many redirects: open the URL in a browser to see where it leads, and put the final address in feeds.yaml",
	CauseHTTP:        "the server answered with an error status",
}

// Words are the plain words of c: what happened and what to check; ""
// for the empty cause and for values this version does not know.
func (c Cause) Words() string { return causeWords[c] }

// Network reports whether c is about reaching the server at all (naming,
// connecting, TLS, the connection breaking), as opposed to what a server
// answered. Only such a cause can be every source's at once because of
// this machine: no network, no DNS, a proxy in the way.
func (c Cause) Network() bool { return c != "" && c != CauseHTTP && causeWords[c] != "" }

// CommonCause returns the network cause every one of causes shares, when
// there are at least two of them and all are that same cause: the sign
// that the trouble is this machine's (no network, no DNS), not any one
// source's.
func CommonCause(causes []Cause) (Cause, bool) {
	if len(causes) < 2 || !causes[0].Network() {
		return "", false
	}
	for _, c := range causes[1:] {
		if c != causes[0] {
			return "", false
		}
	}
	return causes[0], true
}

// The reasons a source's next attempt is when it is (SourceState.
// NextReason). The values are stable: they are stored and appear in
// /status.json.
const (
	NextSchedule   = "schedule"    // the source's schedule
	NextCache      = "cache"       // the server's or the feed's hints: Cache-Control, Expires, ttl, skipHours...
	NextBackoff    = "backoff"     // a backoff after consecutive failures
	NextRetryAfter = "retry_after" // the server's Retry-After
	NextHostPaused = "host_paused" // another source of its host got a 429
)

// NextWords says in words why the source is tried again when it is, as
// the status pages show it; "" when st records no reason (a state saved
// before reasons were recorded, a gone source).
func (st SourceState) NextWords() string {
	switch st.NextReason {
	case NextSchedule:
		return "on schedule"
	case NextCache:
		return "later than the schedule, as the server's cache hints ask (Cache-Control, Expires, or the feed's ttl)"
	case NextBackoff:
		return fmt.Sprintf("backing off after %d %s in a row", st.Failures, plural(st.Failures, "failure", "failures"))
	case NextRetryAfter:
		return "as the server asked (Retry-After)"
	case NextHostPaused:
		return "its host asked for a pause (429 Too Many Requests to one of its sources)"
	}
	return ""
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
