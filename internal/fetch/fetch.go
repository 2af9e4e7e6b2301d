// Package fetch is the HTTP client feedmill uses to download feeds and
// pages. It sends the validators of the previous fetch (conditional GET),
// caps the decompressed body, follows a bounded number of redirects, limits
// how many requests run at once overall and per host and spaces the
// requests to one host, reports what the server says about freshness and
// permanent moves, and hands the body back as UTF-8 so that the parser
// never has to guess an encoding.
//
// Requests for URLs that came from content rather than from the
// configuration (FetchPage, GuardedTransport) are guarded: they never
// connect to loopback, private, link-local or cloud metadata addresses
// (see Classify), checked when dialing. Discover finds the feeds a web page
// advertises.
package fetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
)

// DefaultMaxRedirects is how many redirects a Fetch follows when
// Options.MaxRedirects is zero. The other zero fields of Options take
// feed's defaults (feed.DefaultFetchTimeout and the rest), those of
// feeds.yaml.
const DefaultMaxRedirects = 5

// Transport-level bounds. They are not options because the overall Timeout
// already bounds every request; these only make a dead server fail early and
// keep the idle pool small.
const (
	connectTimeout        = 10 * time.Second
	tlsHandshakeTimeout   = 10 * time.Second
	responseHeaderTimeout = 20 * time.Second
	idleConnTimeout       = 90 * time.Second
	maxIdleConns          = 64
	maxHeaderBytes        = 1 << 20
)

// acceptHeader asks for feed formats first, then generic XML and JSON (many
// servers label feeds that way), then HTML (so that a site's home page can
// still be used for autodiscovery), then anything.
const acceptHeader = "application/atom+xml, application/rss+xml, application/feed+json, " +
	"application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, text/html;q=0.7, */*;q=0.5"

// ErrTooLarge reports a response body over Options.MaxBody bytes once
// decompressed. Fetch wraps it with the URL; test for it with errors.Is.
var ErrTooLarge = errors.New("response body too large")

// errEmptyBody reports a successful response without content: there is
// nothing a parser could make of it, and storing "no items" would be wrong.
var errEmptyBody = errors.New("empty response body")

// Options configures a Client. Zero fields take the defaults of feeds.yaml
// (feed.DefaultFetchTimeout and the rest), except MinGap.
type Options struct {
	// UserAgent is sent with every request; by default
	// "feedmill/<Version> (+https://github.com/feedmill/feedmill)".
	UserAgent string
	// Version goes into the default User-Agent; "dev" when empty.
	Version string
	// Timeout bounds one Fetch from the moment it holds its concurrency
	// slots: connecting, redirects, headers and reading the whole body.
	// Time spent queueing for a slot is bounded only by the caller's context,
	// so that a long queue for one host does not make its fetches time out
	// before they start.
	Timeout time.Duration
	// MaxBody caps the body in bytes after decompression (and, as a guard
	// against endless streams, on the wire). A larger body fails with
	// ErrTooLarge; it is never truncated.
	MaxBody int64
	// MaxRedirects is how many redirects one Fetch follows. A negative
	// value follows none.
	MaxRedirects int
	// Concurrency caps the requests in flight across all hosts.
	Concurrency int
	// PerHost caps the requests in flight to one host name (ports are
	// ignored: they are usually the same machine).
	PerHost int
	// MinGap is the least time between the starts of two requests to one
	// host name, whichever method sends them; the redirects one fetch
	// follows are part of it and are not spaced. Zero (or less) means no
	// spacing, as fetch.min_gap: 0 does; the config passes its default,
	// feed.DefaultMinGap, when the file sets none. Like the
	// concurrency slots, the wait is queueing time, bounded by the
	// caller's context and not by Timeout.
	MinGap time.Duration
	// AllowPrivate lets the requests that content asks for (FetchPage,
	// GuardedTransport) reach any address, as Fetch always may. Config:
	// fetch.allow_private.
	AllowPrivate bool
	// Resolver looks host names up; nil means net.DefaultResolver. Tests
	// pass one whose Dial fails, or that answers from memory.
	Resolver *net.Resolver
	// Logger receives one debug line per request; nil discards.
	Logger *slog.Logger
	// Redactor hides the secrets of URLs (user information, API keys
	// and tokens in the query) in the log and in errors; the zero value
	// knows the default secret parameter names. Config:
	// fetch.secret_params.
	Redactor feed.Redactor
}

func (o Options) withDefaults() Options {
	if o.Version == "" {
		o.Version = "dev"
	}
	if o.UserAgent == "" {
		o.UserAgent = "feedmill/" + o.Version + " (+https://github.com/feedmill/feedmill)"
	}
	if o.Timeout <= 0 {
		o.Timeout = feed.DefaultFetchTimeout
	}
	if o.MaxBody <= 0 {
		o.MaxBody = feed.DefaultMaxBody
	}
	switch {
	case o.MaxRedirects == 0:
		o.MaxRedirects = DefaultMaxRedirects
	case o.MaxRedirects < 0:
		o.MaxRedirects = 0
	}
	if o.Concurrency <= 0 {
		o.Concurrency = feed.DefaultConcurrency
	}
	if o.PerHost <= 0 {
		o.PerHost = feed.DefaultPerHost
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Client fetches feeds and pages. It is safe for concurrent use; create one
// per process so that the concurrency limits, the spacing of requests to
// each host and the connection pools are shared by everything it fetches.
type Client struct {
	opts   Options
	log    *slog.Logger
	http   *http.Client
	global chan struct{} // one token per request in flight
	hosts  *hostLimiter

	// open dials anything; strict refuses non-public addresses at dial
	// time (see guard.go). Two transports, not one with a per-request
	// switch, because pooled connections are reused without dialing: a
	// connection opened for a trusted request must never serve an
	// untrusted one.
	open, strict *http.Transport
	// proxy picks the proxy of a request; nil means none. Tests set it
	// to nil so that no environment variable can send a request off the
	// machine.
	proxy func(*http.Request) (*url.URL, error)
}

// New returns a Client configured by opts.
func New(opts Options) *Client {
	opts = opts.withDefaults()
	c := &Client{
		opts:   opts,
		log:    opts.Logger,
		global: make(chan struct{}, opts.Concurrency),
		hosts:  newHostLimiter(opts.PerHost, opts.MinGap),
		proxy:  http.ProxyFromEnvironment,
	}
	c.open = c.newTransport(nil)
	c.open.Proxy = c.proxyFor
	// The strict transport never sees proxied requests: the router checks
	// those before handing them to the open one (see router.RoundTrip).
	c.strict = c.newTransport(refuseNonPublic)
	c.http = &http.Client{Transport: &router{c: c}, CheckRedirect: c.checkRedirect}
	return c
}

// newTransport returns a transport whose dialer runs control on every
// address it is about to connect to (nil: none).
func (c *Client) newTransport(control func(network, address string, conn syscall.RawConn) error) *http.Transport {
	dialer := &net.Dialer{
		Timeout:   connectTimeout,
		KeepAlive: 30 * time.Second,
		Resolver:  c.opts.Resolver,
		Control:   control,
	}
	return &http.Transport{
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    tlsHandshakeTimeout,
		ResponseHeaderTimeout:  headerTimeout(c.opts.Timeout),
		ExpectContinueTimeout:  time.Second,
		IdleConnTimeout:        idleConnTimeout,
		MaxIdleConns:           maxIdleConns,
		MaxIdleConnsPerHost:    c.opts.PerHost,
		MaxResponseHeaderBytes: maxHeaderBytes,
		// Compression is negotiated by hand so that MaxBody applies to the
		// decompressed bytes and a gzip bomb cannot exhaust memory.
		DisableCompression: true,
	}
}

// proxyFor is the proxy of req, nil for none.
func (c *Client) proxyFor(req *http.Request) (*url.URL, error) {
	if c.proxy == nil {
		return nil, nil
	}
	return c.proxy(req)
}

// headerTimeout is the transport's wait for response headers: a server that
// accepts a connection and then says nothing for this long is stuck, even if
// the overall Timeout would allow more. It is zero (off) when the overall
// Timeout is not longer, because that deadline then fires first and says so.
func headerTimeout(overall time.Duration) time.Duration {
	if overall > responseHeaderTimeout {
		return responseHeaderTimeout
	}
	return 0
}

// CloseIdleConnections closes the pooled keep-alive connections; call it on
// shutdown. The Client stays usable.
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }

// Response is the outcome of a successful Fetch: a 2xx with a body, or a 304.
type Response struct {
	// URL is the final URL after redirects; relative links in the body
	// resolve against it.
	URL string
	// Status is the HTTP status: 2xx, or 304.
	Status int
	// NotModified is true on a 304; Body is nil then.
	NotModified bool
	// Body is the decompressed body converted to UTF-8 (see toUTF8). An XML
	// declaration in it names UTF-8, so a parser does not convert again.
	Body []byte
	// ContentType is the media type without parameters, in lower case.
	ContentType string
	// Validators come from this response's ETag and Last-Modified. On a 304
	// each one the server did not resend is the one that was sent.
	Validators feed.Validators
	// Links are the links of the response's Link headers (RFC 8288), one
	// per relation type, in header order, with URLs resolved against URL;
	// see parseLinks for what is skipped. A WebSub hub may be advertised
	// only here. Set on a 304 too.
	Links []Link
	// Duration is the time from sending the request to the end of the body.
	Duration time.Duration
	// MaxAge is how long from now the server says the response stays
	// fresh: Cache-Control s-maxage, else max-age (feedmill is a shared
	// cache: it serves what it fetched to many readers), else Expires
	// minus Date (or minus now without a usable Date), less the Age a
	// cache in between has already held it. It is zero when the response
	// gives no lifetime, is already stale, or says no-store or no-cache.
	// It is the server's wish, not bounded here: a caller that uses it to
	// space fetches caps it. Set on a 304 too.
	MaxAge time.Duration
	// Moved is the final URL when the request was redirected and every
	// redirect was permanent (301, 308): the resource says it lives there
	// now. It is "" when there was no redirect or any was temporary. When
	// the credentials of the requested URL's userinfo went along to the
	// final URL (same domain, no downgrade to http), Moved carries them
	// too, so fetching it later still authenticates: redact it (see
	// feed.Redactor) before showing it.
	Moved string
}

// StatusError reports a response that is neither 2xx nor 304. Callers
// branch on Code: 410 Gone says the feed was removed for good, 429 and 503
// come with the server's RetryAfter.
type StatusError struct {
	URL        string        // the URL that answered, after redirects
	Code       int           // the HTTP status code
	RetryAfter time.Duration // from Retry-After (seconds or HTTP-date); zero if absent or past
}

func (e *StatusError) Error() string {
	msg := "HTTP " + strconv.Itoa(e.Code)
	if text := http.StatusText(e.Code); text != "" {
		msg += " " + text
	}
	if e.RetryAfter > 0 {
		msg += ", retry after " + e.RetryAfter.String()
	}
	return msg
}

// Fetch downloads rawURL with a conditional GET built from v. It returns a
// Response for a 2xx with a non-empty body or for a 304; every other outcome
// is an error naming rawURL: a *StatusError for other statuses, ErrTooLarge,
// too many redirects or a redirect loop, an empty body, a timeout (which
// matches context.DeadlineExceeded), or the caller's ctx ending.
//
// Fetch is for the URLs the configuration names, and where they redirect:
// it reaches any address, since self-hosted feeds on an intranet are
// legitimate. URLs that came from content go through FetchPage.
func (c *Client) Fetch(ctx context.Context, rawURL string, v feed.Validators) (*Response, error) {
	return c.do(ctx, "fetch", rawURL, v)
}

// FetchPage downloads rawURL, a URL that came from content (an article
// page a feed links to, a feed a web page advertises), as Fetch does
// without validators, but guarded: neither it nor any redirect it follows
// connects to an address that is not public (see Classify), unless the
// request's host name is trustedHost or Options.AllowPrivate is set. The
// check runs on every address the dialer is about to connect to, after
// name resolution, so a name that resolves to a public address once and
// to a private one later (DNS rebinding) is refused too. trustedHost is
// the host of the configured source URL the content came from (a source on
// an intranet may link to its own pages); it may be given as a host name,
// host:port or a URL, and its port is ignored, as for the per-host limits.
// An empty trustedHost trusts no host. A refusal is an error matching
// ErrNotPublic.
func (c *Client) FetchPage(ctx context.Context, rawURL string, trustedHost string) (*Response, error) {
	ctx = context.WithValue(ctx, guardKey{}, guardPolicy{trusted: normalizeHost(trustedHost)})
	return c.do(ctx, "fetch page", rawURL, feed.Validators{})
}

// do runs one fetch and logs it under msg.
func (c *Client) do(ctx context.Context, msg, rawURL string, v feed.Validators) (*Response, error) {
	resp, seen, err := c.fetch(ctx, rawURL, v)
	// Credentials in a URL's userinfo are sent (as basic auth), and keys
	// in its query too, but never logged or put in errors.
	shown := c.redact(rawURL)
	attrs := []slog.Attr{slog.String("url", shown), slog.Int("status", seen.status)}
	if seen.charset != "" {
		attrs = append(attrs, slog.String("charset", seen.charset))
	}
	if resp != nil {
		attrs = append(attrs, slog.Duration("duration", resp.Duration), slog.Int("bytes", len(resp.Body)))
		if resp.URL != rawURL {
			attrs = append(attrs, slog.String("final_url", c.redact(resp.URL)))
		}
		if resp.Moved != "" {
			attrs = append(attrs, slog.Bool("moved", true))
		}
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, msg, attrs...)
	if err != nil {
		// The causes may name URLs in full: Go's *url.Error quotes them,
		// query and all, and redirects lead to URLs of their own. A
		// network failure leads with its plain words (see Explain).
		return nil, c.opts.Redactor.Error(fmt.Errorf("fetch %s: %w", shown, Explain(err)))
	}
	return resp, nil
}

// observed is what fetch reports for the request log besides its result.
type observed struct {
	status  int    // HTTP status; 0 when there was no response
	charset string // encoding the body was converted from; "" when none
}

// fetch does the work of Fetch.
func (c *Client) fetch(ctx context.Context, rawURL string, v feed.Validators) (*Response, observed, error) {
	var seen observed
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, seen, err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, seen, errors.New("not an absolute http(s) URL")
	}

	release, err := c.acquire(ctx, strings.ToLower(u.Hostname()))
	if err != nil {
		return nil, seen, fmt.Errorf("waiting for a request slot: %w", err)
	}
	defer release()

	start := time.Now()
	reqCtx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	// explain turns a failure into what the operator needs to read: our own
	// timeout is named as such, the caller's cancellation stays as it is.
	explain := func(err error) error {
		var ue *url.Error
		if errors.As(err, &ue) {
			// The URL is already in Fetch's prefix; keep only the cause.
			err = ue.Err
		}
		if ctx.Err() == nil && errors.Is(reqCtx.Err(), context.DeadlineExceeded) {
			if !errors.Is(err, context.DeadlineExceeded) {
				err = fmt.Errorf("%w (%v)", context.DeadlineExceeded, err)
			}
			return &NetError{Cause: feed.CauseTimeout, What: fmt.Sprintf("timed out after %s", c.opts.Timeout), Err: err}
		}
		return err
	}

	req, err := c.newRequest(reqCtx, u, v)
	if err != nil {
		return nil, seen, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, seen, explain(err)
	}
	defer resp.Body.Close()
	seen.status = resp.StatusCode

	final := resp.Request.URL.String()
	// Links are resolved without the final URL's credentials: they are for
	// the feed's host, not for wherever a link points.
	linkBase := *resp.Request.URL
	linkBase.User = nil
	links := parseLinks(resp.Header.Values("Link"), &linkBase)
	// atFinal names the final URL in errors that happen after a redirect,
	// since Fetch's prefix names only the URL that was asked for.
	atFinal := func(err error) error {
		if final != u.String() {
			return fmt.Errorf("redirected to %s: %w", c.redact(final), err)
		}
		return err
	}
	got := feed.Validators{
		ETag:         strings.TrimSpace(resp.Header.Get("ETag")),
		LastModified: strings.TrimSpace(resp.Header.Get("Last-Modified")),
	}
	maxAge := freshness(resp.Header, time.Now())
	moved := movedTo(u, resp.Request)

	switch {
	case resp.StatusCode == http.StatusNotModified:
		if got.ETag == "" {
			got.ETag = v.ETag
		}
		if got.LastModified == "" {
			got.LastModified = v.LastModified
		}
		return &Response{
			URL:         final,
			Status:      resp.StatusCode,
			NotModified: true,
			ContentType: mediaType(resp.Header.Get("Content-Type")),
			Validators:  got,
			Links:       links,
			Duration:    time.Since(start),
			MaxAge:      maxAge,
			Moved:       moved,
		}, seen, nil
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		drain(resp.Body)
		return nil, seen, atFinal(&StatusError{
			URL:        final,
			Code:       resp.StatusCode,
			RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
		})
	}

	raw, err := readBody(resp, c.opts.MaxBody)
	if err != nil {
		return nil, seen, atFinal(explain(err))
	}
	contentType := resp.Header.Get("Content-Type")
	body, enc := toUTF8(raw, contentType)
	if enc.enc != nil {
		seen.charset = enc.name
	}
	for _, label := range enc.unknown {
		c.log.LogAttrs(ctx, slog.LevelDebug, "unknown charset",
			slog.String("url", c.redact(rawURL)), slog.String("charset", label))
	}
	if enc.err != nil {
		c.log.LogAttrs(ctx, slog.LevelDebug, "charset conversion failed, body kept as is",
			slog.String("url", c.redact(rawURL)), slog.String("charset", enc.name), slog.String("error", enc.err.Error()))
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, seen, atFinal(errEmptyBody)
	}
	return &Response{
		URL:         final,
		Status:      resp.StatusCode,
		Body:        body,
		ContentType: mediaType(contentType),
		Validators:  got,
		Links:       links,
		Duration:    time.Since(start),
		MaxAge:      maxAge,
		Moved:       moved,
	}, seen, nil
}

// newRequest builds the GET for u: identification, the formats feedmill
// reads, gzip, and the validators of the last fetch.
func (c *Client) newRequest(ctx context.Context, u *url.URL, v feed.Validators) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	if u.User != nil {
		// Set here rather than left to http.Client, which adds it to each
		// request it sends but not to the header it copies to redirects:
		// a feed behind basic auth that moved from http to https on its
		// host would then fail. The client still drops it on redirects
		// to another domain, and checkRedirect on a downgrade to http.
		pass, _ := u.User.Password()
		req.SetBasicAuth(u.User.Username(), pass)
	}
	req.Header.Set("User-Agent", c.opts.UserAgent)
	req.Header.Set("Accept", acceptHeader)
	req.Header.Set("Accept-Encoding", "gzip")
	if v.ETag != "" {
		req.Header.Set("If-None-Match", v.ETag)
	}
	if v.LastModified != "" {
		req.Header.Set("If-Modified-Since", v.LastModified)
	}
	return req, nil
}

// acquire waits for a slot for host and then for a global slot. The host
// comes first so that requests queued behind one busy host do not sit on
// global slots that requests to other hosts could use.
//
// Then the host's MinGap must have passed since its latest request start.
// The gap is waited for without a global slot, and checked again once one
// is held: another request to the host may have started meanwhile (the
// host allows PerHost at once), and then the wait starts over.
func (c *Client) acquire(ctx context.Context, host string) (release func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	slot, err := c.hosts.acquire(ctx, host)
	if err != nil {
		return nil, err
	}
	for {
		if err := slot.wait(ctx); err != nil {
			slot.release()
			return nil, err
		}
		select {
		case c.global <- struct{}{}:
		case <-ctx.Done():
			slot.release()
			return nil, ctx.Err()
		}
		if slot.claim() {
			break
		}
		<-c.global
	}
	return func() {
		<-c.global
		slot.release()
	}, nil
}

// checkRedirect allows only http(s) targets, at most MaxRedirects hops, and
// no URL twice, so that a loop is reported as one instead of as "too many".
// Redirect hops run under the slots of the host the fetch started on.
func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	target := c.redact(req.URL.String())
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return fmt.Errorf("redirect to unsupported URL %s", target)
	}
	for _, prev := range via {
		if prev.URL.String() == req.URL.String() {
			return &redirectError{fmt.Sprintf("redirect loop: %s redirects back to %s",
				c.redact(via[len(via)-1].URL.String()), target)}
		}
	}
	if len(via) > c.opts.MaxRedirects {
		return &redirectError{fmt.Sprintf("stopped after %d redirects (next was %s)", c.opts.MaxRedirects, target)}
	}
	if via[0].URL.Scheme == "https" && (req.URL.Scheme == "http" || slices.ContainsFunc(via[1:], isPlainHTTP)) {
		// Credentials that were sent encrypted are not sent in clear,
		// nor after having left TLS once: each hop gets the first
		// request's headers again, so the check looks at the whole chain.
		req.Header.Del("Authorization")
	}
	return nil
}

func isPlainHTTP(r *http.Request) bool { return r.URL.Scheme == "http" }

// movedTo returns the final URL of a fetch of requested whose last request
// was final, when it got there by permanent redirects only (see
// Response.Moved), else "".
func movedTo(requested *url.URL, final *http.Request) string {
	if final.Response == nil {
		return ""
	}
	// Each redirected request links to the response that caused it, and
	// that response to the request it answered.
	for r := final; r != nil && r.Response != nil; r = r.Response.Request {
		switch r.Response.StatusCode {
		case http.StatusMovedPermanently, http.StatusPermanentRedirect:
		default:
			return ""
		}
	}
	moved := *final.URL
	if requested.User != nil && moved.User == nil && final.Header.Get("Authorization") != "" {
		moved.User = requested.User
	}
	return moved.String()
}

// parseRetryAfter reads a Retry-After value, either delay-seconds or an
// HTTP-date, as a duration from now. Absent, malformed and past values give
// zero; the caller decides how long it is willing to wait.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		switch {
		case secs <= 0:
			return 0
		case secs > math.MaxInt64/int64(time.Second):
			return time.Duration(math.MaxInt64)
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// redact hides the secrets of a URL, for logs and errors.
func (c *Client) redact(rawURL string) string { return c.opts.Redactor.URL(rawURL) }

// mediaType returns the media type of a Content-Type value in lower case,
// without parameters, also when the parameters are malformed.
func mediaType(contentType string) string {
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}
