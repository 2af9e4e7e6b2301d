// Package fetch is the HTTP client feedmill uses to download feeds. It sends
// the validators of the previous fetch (conditional GET), caps the
// decompressed body, follows a bounded number of redirects, limits how many
// requests run at once overall and per host, and hands the body back as
// UTF-8 so that the parser never has to guess an encoding.
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
	"strconv"
	"strings"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
)

// Defaults applied by New to zero fields of Options.
const (
	DefaultTimeout      = 30 * time.Second
	DefaultMaxBody      = 10 << 20
	DefaultMaxRedirects = 5
	DefaultConcurrency  = 8
	DefaultPerHost      = 2
)

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

// Options configures a Client. Zero fields take the defaults above.
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
	// Logger receives one debug line per request; nil discards.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Version == "" {
		o.Version = "dev"
	}
	if o.UserAgent == "" {
		o.UserAgent = "feedmill/" + o.Version + " (+https://github.com/feedmill/feedmill)"
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	switch {
	case o.MaxRedirects == 0:
		o.MaxRedirects = DefaultMaxRedirects
	case o.MaxRedirects < 0:
		o.MaxRedirects = 0
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.PerHost <= 0 {
		o.PerHost = DefaultPerHost
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Client fetches feeds. It is safe for concurrent use; create one per
// process so that the concurrency limits and the connection pool are shared.
type Client struct {
	opts   Options
	log    *slog.Logger
	http   *http.Client
	global chan struct{} // one token per request in flight
	hosts  *hostLimiter
}

// New returns a Client configured by opts.
func New(opts Options) *Client {
	opts = opts.withDefaults()
	dialer := &net.Dialer{Timeout: connectTimeout, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		Proxy:                  http.ProxyFromEnvironment,
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    tlsHandshakeTimeout,
		ResponseHeaderTimeout:  headerTimeout(opts.Timeout),
		ExpectContinueTimeout:  time.Second,
		IdleConnTimeout:        idleConnTimeout,
		MaxIdleConns:           maxIdleConns,
		MaxIdleConnsPerHost:    opts.PerHost,
		MaxResponseHeaderBytes: maxHeaderBytes,
		// Compression is negotiated by hand so that MaxBody applies to the
		// decompressed bytes and a gzip bomb cannot exhaust memory.
		DisableCompression: true,
	}
	c := &Client{
		opts:   opts,
		log:    opts.Logger,
		global: make(chan struct{}, opts.Concurrency),
		hosts:  newHostLimiter(opts.PerHost),
	}
	c.http = &http.Client{Transport: transport, CheckRedirect: c.checkRedirect}
	return c
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
}

// StatusError reports a response that is neither 2xx nor 304.
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
func (c *Client) Fetch(ctx context.Context, rawURL string, v feed.Validators) (*Response, error) {
	resp, seen, err := c.fetch(ctx, rawURL, v)
	// Credentials in a URL's userinfo are sent (as basic auth) but never
	// logged or put in errors.
	shown := redact(rawURL)
	attrs := []slog.Attr{slog.String("url", shown), slog.Int("status", seen.status)}
	if seen.charset != "" {
		attrs = append(attrs, slog.String("charset", seen.charset))
	}
	if resp != nil {
		attrs = append(attrs, slog.Duration("duration", resp.Duration), slog.Int("bytes", len(resp.Body)))
		if resp.URL != rawURL {
			attrs = append(attrs, slog.String("final_url", redact(resp.URL)))
		}
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "fetch", attrs...)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", shown, err)
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
			return fmt.Errorf("timed out after %s: %w", c.opts.Timeout, err)
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
			return fmt.Errorf("redirected to %s: %w", redact(final), err)
		}
		return err
	}
	got := feed.Validators{
		ETag:         strings.TrimSpace(resp.Header.Get("ETag")),
		LastModified: strings.TrimSpace(resp.Header.Get("Last-Modified")),
	}

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
			slog.String("url", redact(rawURL)), slog.String("charset", label))
	}
	if enc.err != nil {
		c.log.LogAttrs(ctx, slog.LevelDebug, "charset conversion failed, body kept as is",
			slog.String("url", redact(rawURL)), slog.String("charset", enc.name), slog.String("error", enc.err.Error()))
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
	}, seen, nil
}

// newRequest builds the GET for u: identification, the formats feedmill
// reads, gzip, and the validators of the last fetch.
func (c *Client) newRequest(ctx context.Context, u *url.URL, v feed.Validators) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
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
func (c *Client) acquire(ctx context.Context, host string) (release func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	releaseHost, err := c.hosts.acquire(ctx, host)
	if err != nil {
		return nil, err
	}
	select {
	case c.global <- struct{}{}:
	case <-ctx.Done():
		releaseHost()
		return nil, ctx.Err()
	}
	return func() {
		<-c.global
		releaseHost()
	}, nil
}

// checkRedirect allows only http(s) targets, at most MaxRedirects hops, and
// no URL twice, so that a loop is reported as one instead of as "too many".
// Redirect hops run under the slots of the host the fetch started on.
func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	target := req.URL.Redacted()
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return fmt.Errorf("redirect to unsupported URL %s", target)
	}
	for _, prev := range via {
		if prev.URL.String() == req.URL.String() {
			return fmt.Errorf("redirect loop: %s redirects back to %s",
				via[len(via)-1].URL.Redacted(), target)
		}
	}
	if len(via) > c.opts.MaxRedirects {
		return fmt.Errorf("stopped after %d redirects (next was %s)", c.opts.MaxRedirects, target)
	}
	return nil
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

// redact hides the password of a URL's userinfo, for logs and errors.
func redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.User == nil {
		return rawURL
	}
	return u.Redacted()
}

// mediaType returns the media type of a Content-Type value in lower case,
// without parameters, also when the parameters are malformed.
func mediaType(contentType string) string {
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}
