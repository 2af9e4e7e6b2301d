// Package websub implements the two sides of W3C WebSub that feedmill
// plays: a Hub, which lets feed readers subscribe to feedmill's published
// feeds and pushes each new version of a feed to them, and a Subscriber,
// which subscribes to the hubs of sources so that their updates arrive
// without polling. Ping tells an external hub that a feed changed.
//
// The protocol in brief (https://www.w3.org/TR/websub/): a subscriber POSTs
// a form (hub.mode, hub.topic, hub.callback, hub.lease_seconds, hub.secret)
// to the hub, which answers 202 Accepted and then verifies the intent of
// the subscriber with a GET to the callback carrying a hub.challenge that
// the callback must echo. From then on, until the lease ends, the hub POSTs
// every new version of the topic to the callback, signed with an HMAC of
// the body keyed by the secret in X-Hub-Signature.
//
// Both sides keep their subscriptions in a store, so they survive restarts.
package websub

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Form parameters and header names of the protocol.
const (
	paramMode      = "hub.mode"
	paramTopic     = "hub.topic"
	paramCallback  = "hub.callback"
	paramLease     = "hub.lease_seconds"
	paramSecret    = "hub.secret"
	paramChallenge = "hub.challenge"
	paramReason    = "hub.reason"
	paramURL       = "hub.url"

	modeSubscribe   = "subscribe"
	modeUnsubscribe = "unsubscribe"
	modeDenied      = "denied"
	modePublish     = "publish"

	headerSignature = "X-Hub-Signature"
	formType        = "application/x-www-form-urlencoded"
)

// maxSecret is the bound the spec puts on hub.secret: "MUST be less than
// 200 bytes".
const maxSecret = 200

// defaultTimeout bounds each request when the caller gives no client.
const defaultTimeout = 15 * time.Second

// defaultUserAgent is sent with every request unless an option replaces it.
const defaultUserAgent = "feedmill (+https://github.com/feedmill/feedmill)"

// maxFormBody bounds the form a hub accepts: a subscription request is a
// few hundred bytes.
const maxFormBody = 16 << 10

// maxAnswer bounds how much of an answer is read to compare a challenge or
// to drain a connection for reuse.
const maxAnswer = 4 << 10

// DefaultMaxContent bounds a pushed document a Subscriber accepts, like
// the fetcher's default body limit.
const DefaultMaxContent = 10 << 20

func defaultClient(c *http.Client) *http.Client {
	if c != nil {
		return c
	}
	return &http.Client{Timeout: defaultTimeout}
}

func defaultLogger(l *slog.Logger) *slog.Logger {
	if l != nil {
		return l
	}
	return slog.New(slog.DiscardHandler)
}

func defaultNow(now func() time.Time) func() time.Time {
	if now != nil {
		return now
	}
	return time.Now
}

// sign returns the X-Hub-Signature value of body under secret, with
// SHA-256, the strongest method every subscriber library knows.
func sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// signatureHashes are the methods the spec allows in X-Hub-Signature.
var signatureHashes = map[string]func() hash.Hash{
	"sha1":   sha1.New,
	"sha256": sha256.New,
	"sha384": sha512.New384,
	"sha512": sha512.New,
}

// checkSignature reports whether header, an X-Hub-Signature value
// ("method=hex"), is a valid signature of body under secret. An unknown
// method, a malformed value or a missing one are invalid.
func checkSignature(secret, header string, body []byte) error {
	if header == "" {
		return fmt.Errorf("no %s", headerSignature)
	}
	method, sig, ok := strings.Cut(strings.TrimSpace(header), "=")
	if !ok {
		return fmt.Errorf("malformed %s", headerSignature)
	}
	newHash := signatureHashes[strings.ToLower(method)]
	if newHash == nil {
		return fmt.Errorf("unsupported %s method %q", headerSignature, method)
	}
	got, err := hex.DecodeString(sig)
	if err != nil {
		return fmt.Errorf("malformed %s: %w", headerSignature, err)
	}
	m := hmac.New(newHash, []byte(secret))
	m.Write(body)
	if !hmac.Equal(got, m.Sum(nil)) {
		return fmt.Errorf("%s does not match the body", headerSignature)
	}
	return nil
}

// withParams returns rawURL with params appended to its query. The spec
// requires a hub to keep the callback's own query string and to add its
// parameters at the end with "&", so the existing query is not re-encoded.
func withParams(rawURL string, params url.Values) string {
	base, _, _ := strings.Cut(rawURL, "#")
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
		if strings.HasSuffix(base, "?") || strings.HasSuffix(base, "&") {
			sep = ""
		}
	}
	return base + sep + params.Encode()
}

// checkHTTPURL validates a callback, topic or hub URL: absolute http(s)
// with a host.
func checkHTTPURL(raw string) error {
	if raw == "" {
		return fmt.Errorf("empty URL")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("invalid URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("URL %q is not http(s)", raw)
	}
	if u.Host == "" {
		return fmt.Errorf("URL %q has no host", raw)
	}
	return nil
}

// drain reads a little of body so that the connection can be reused, and
// closes it.
func drain(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, maxAnswer))
	_ = body.Close()
}

// StatusError reports an answer outside 2xx from a hub or a callback; the
// error wrapping it names the request.
type StatusError struct {
	Status int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("answered %d %s", e.Status, http.StatusText(e.Status))
}

// postForm POSTs form to target and fails on an answer outside 2xx.
func postForm(ctx context.Context, client *http.Client, userAgent, target string, form url.Values) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", formType)
	req.Header.Set("User-Agent", userAgent)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer drain(resp.Body)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &StatusError{Status: resp.StatusCode}
	}
	return nil
}
