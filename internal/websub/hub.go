package websub

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
)

// Lease bounds of the hub, when HubOptions leave them zero.
const (
	DefaultLease = 10 * 24 * time.Hour
	MinLease     = time.Hour
	MaxLease     = 30 * 24 * time.Hour
)

// Delivery retries, when HubOptions leave them zero: with the first try,
// six attempts spread over about 16 minutes (30 s, 1, 2, 4 and 8 min).
const (
	DefaultRetries   = 5
	DefaultRetryBase = 30 * time.Second
)

// maxRetryDelay caps the backoff, whatever the options say.
const maxRetryDelay = 6 * time.Hour

// verifyWorkers is how many verifications of intent run at once, and
// deliverWorkers how many deliveries: each has its own queue and workers,
// so that callbacks hanging on verification (anyone can ask for one) never
// hold up the deliveries to verified subscribers, and a slow or dead
// callback holds up only one worker.
const (
	verifyWorkers  = 4
	deliverWorkers = 4
)

// Retry-After of the answers past a limit, in seconds: a pending
// verification ends within a client timeout or so, a subscription at the
// end of its lease or on unsubscription.
const (
	retryPending = "60"
	retryActive  = "3600"
)

// maxURLLength bounds hub.callback and hub.topic: both are stored, and
// logged, for as long as a subscription lasts.
const maxURLLength = 2048

// expireEvery is how often the hub deletes expired subscriptions. Lookups
// ignore expired ones anyway; this only keeps the table small.
const expireEvery = time.Hour

// hubStore is the persistence the hub needs.
type hubStore interface {
	PutHubSubscription(ctx context.Context, sub feed.HubSubscription) error
	DeleteHubSubscription(ctx context.Context, topic, callback string) error
	HubSubscriptions(ctx context.Context, topic string, now time.Time) ([]feed.HubSubscription, error)
	ExpireHubSubscriptions(ctx context.Context, now time.Time) (int, error)
	HubSubscriptionCounts(ctx context.Context, client, host string, now time.Time) (feed.HubCounts, error)
}

// hubCounter is what a store needs for Subscribers and OnSubscribers: the
// number of subscriptions, to every topic, that have not expired at now.
// It is optional, so that a store without it still serves a hub.
type hubCounter interface {
	CountHubSubscriptions(ctx context.Context, now time.Time) (int, error)
}

// hubTopicLister is what a store needs for SubscribedTopics. It is
// optional, so that a store without it still serves a hub.
type hubTopicLister interface {
	HubTopics(ctx context.Context, now time.Time) ([]string, error)
}

// ErrNoTopics is returned by SubscribedTopics when the hub's store cannot
// list topics (it has no HubTopics method).
var ErrNoTopics = errors.New("websub hub: the store cannot list subscribed topics")

// ErrNoCount is returned by Subscribers when the hub's store cannot count
// subscriptions (it has no CountHubSubscriptions method).
var ErrNoCount = errors.New("websub hub: the store cannot count subscriptions")

// Outcomes of a delivery attempt, as given to HubOptions.OnDelivery.
const (
	DeliveryOK     = "ok"     // the subscriber took the content (2xx)
	DeliveryRetry  = "retry"  // the attempt failed; another one follows
	DeliveryFailed = "failed" // the attempt failed and nothing follows: retries used up, or 410 Gone
)

// HubLimits bound what anonymous clients can make the hub do. A client is
// the IPv4 address, or the IPv6 /64 network, a request comes from (the
// connection's, since feedmill knows no trusted proxy); a callback host is
// the host name of hub.callback. Pending counts the requests whose
// verification is queued or running, active the stored subscriptions
// whose lease has not ended; a renewal of a subscription that exists is
// never refused for being one too many. Zero values mean the defaults.
type HubLimits struct {
	ClientPending int // pending requests of one client (default 10)
	ClientActive  int // subscriptions one client asked for (default 100)
	HostPending   int // pending requests to one callback host (default 10)
	HostActive    int // subscriptions delivered to one callback host (default 100)
	Pending       int // pending requests in all (default 1000)
	Active        int // subscriptions in all (default 10000)
}

func (l HubLimits) withDefaults() HubLimits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.ClientPending, feed.DefaultHubClientPending)
	def(&l.ClientActive, feed.DefaultHubClientActive)
	def(&l.HostPending, feed.DefaultHubHostPending)
	def(&l.HostActive, feed.DefaultHubHostActive)
	def(&l.Pending, feed.DefaultHubPending)
	def(&l.Active, feed.DefaultHubActive)
	return l
}

// HubOptions configure a Hub. Zero values mean the defaults given.
type HubOptions struct {
	// BaseURL is feedmill's public URL, required.
	BaseURL string
	// Topics reports whether topic is the URL of a document this server
	// publishes; only those can be subscribed to, a request for any other
	// is answered 400. Default: any URL under BaseURL + "/feeds/" (an
	// exact string prefix); the daemon passes the publisher's list.
	Topics func(topic string) bool
	// Limits bound pending and active subscriptions per client, per
	// callback host and in all.
	Limits HubLimits
	// HubURL is this hub's own URL, sent as the Link rel="hub" of each
	// delivery; default BaseURL + "/websub/hub".
	HubURL string
	// Client makes verification and delivery requests; its timeout bounds
	// each. Default: a client with a 15 s timeout.
	Client    *http.Client
	Logger    *slog.Logger // nil discards
	Now       func() time.Time
	UserAgent string

	// DefaultLease is granted when a subscriber asks for none; requested
	// leases are brought within [MinLease, MaxLease]. Defaults: 10 days,
	// 1 hour, 30 days.
	DefaultLease, MinLease, MaxLease time.Duration

	// Retries is how many times a failed delivery is tried again (default
	// 5; negative means never), waiting RetryBase (default 30 s) before the
	// first retry and twice as long before each next one.
	Retries   int
	RetryBase time.Duration

	// Content, if set, returns the current document of a topic, which is
	// then delivered to each new subscriber right after its verification,
	// so that a reader has content at once instead of at the next change.
	// The Recommendation does not ask for this; it is a courtesy.
	// It is called from a verification worker with that worker's context.
	Content func(ctx context.Context, topic string) (body []byte, contentType string, ok bool)

	// OnDelivery, if set, is told the outcome of each delivery attempt:
	// DeliveryOK, DeliveryRetry or DeliveryFailed. An attempt cut short
	// because Run is ending is not reported (it does not count; the
	// content is kept for the next Run). It is called from Run's workers,
	// without any lock of the hub held, and must be quick.
	OnDelivery func(outcome string)
	// OnSubscribers, if set, is told the number of unexpired subscriptions
	// the hub holds, to every topic: once when Run starts, then whenever
	// it changes through the hub (a subscription, an unsubscription, a
	// gone subscriber, the hourly expiry). It needs a store with a
	// CountHubSubscriptions method; with another store it is never called
	// (Run logs why). Calls are serialized, and never hold a lock of the
	// hub's other work.
	OnSubscribers func(n int)
}

// Hub is a WebSub hub for feedmill's own published feeds. ServeHTTP takes
// subscription requests, Publish announces new content, and Run does the
// work: verifications of intent, denials, deliveries with retries, and the
// expiry of leases. Requests and publications made before Run starts wait
// for it. A Hub is safe for concurrent use.
type Hub struct {
	opts HubOptions
	st   hubStore
	log  *slog.Logger
	ours string // prefix of our topics

	jobs *queue[hubJob]

	verifies *queue[request] // verifications of intent, apart from jobs
	putMu    sync.Mutex      // serializes the last limit check and the store of a subscription

	mu             sync.Mutex
	verifications  int                     // queued or running verifications
	pendingClients map[string]int          // of those, per client
	pendingHosts   map[string]int          // of those, per callback host
	publications   map[string]*publication // published topics waiting to be expanded
	deliveries     map[subKey]*delivery    // pending delivery per subscription

	// countMu serializes recounts, so that OnSubscribers never hears an
	// older count after a newer one.
	countMu   sync.Mutex
	lastCount int // last count told to OnSubscribers; -1 before the first
}

// NewHub returns a hub keeping its subscriptions in st.
func NewHub(opts HubOptions, st hubStore) *Hub {
	opts.BaseURL = strings.TrimRight(opts.BaseURL, "/")
	if opts.HubURL == "" && opts.BaseURL != "" {
		opts.HubURL = opts.BaseURL + "/websub/hub"
	}
	opts.Client = defaultClient(opts.Client)
	opts.Now = defaultNow(opts.Now)
	if opts.UserAgent == "" {
		opts.UserAgent = defaultUserAgent
	}
	if opts.MinLease <= 0 {
		opts.MinLease = MinLease
	}
	if opts.MaxLease <= 0 {
		opts.MaxLease = MaxLease
	}
	opts.MaxLease = max(opts.MaxLease, opts.MinLease)
	if opts.DefaultLease <= 0 {
		opts.DefaultLease = DefaultLease
	}
	opts.DefaultLease = min(max(opts.DefaultLease, opts.MinLease), opts.MaxLease)
	switch {
	case opts.Retries == 0:
		opts.Retries = DefaultRetries
	case opts.Retries < 0:
		opts.Retries = 0
	}
	if opts.RetryBase <= 0 {
		opts.RetryBase = DefaultRetryBase
	}
	h := &Hub{
		opts:           opts,
		st:             st,
		log:            defaultLogger(opts.Logger),
		jobs:           newQueue[hubJob](),
		verifies:       newQueue[request](),
		pendingClients: make(map[string]int),
		pendingHosts:   make(map[string]int),
		publications:   make(map[string]*publication),
		deliveries:     make(map[subKey]*delivery),
		lastCount:      -1,
	}
	h.opts.Limits = opts.Limits.withDefaults()
	if opts.BaseURL != "" {
		h.ours = opts.BaseURL + "/feeds/"
	}
	if h.opts.Topics == nil {
		h.opts.Topics = h.isOurs
	}
	return h
}

// subKey identifies a subscription.
type subKey struct{ topic, callback string }

// request is a subscription request waiting for verification.
type request struct {
	mode     string
	topic    string
	callback string
	secret   string
	lease    time.Duration
	client   string // who asked (see HubLimits)
	host     string // the callback's host
}

type jobKind int

const (
	jobPublish jobKind = iota // expand a publication into deliveries
	jobDeliver                // deliver content to one subscriber
)

// hubJob is a job of the delivery queue.
type hubJob struct {
	kind   jobKind
	topic  string // jobPublish
	key    subKey // jobDeliver
	ticket uint64 // jobDeliver: valid while equal to the delivery's ticket
}

// publication is new content of a topic.
type publication struct {
	body        []byte
	contentType string
}

// delivery is the pending delivery of a topic's newest content to one
// subscriber. There is at most one per subscription, and at most one
// request for it in flight, so a subscriber never gets an older version
// after a newer one, and new content replaces a retry of older content.
type delivery struct {
	publication
	secret  string
	attempt int    // failed attempts so far of this content
	version uint64 // bumped by each new content
	ticket  uint64 // the queued job allowed to run it; older ones are void
	running bool
}

// ServeHTTP takes a subscription request: a POST of a form with hub.mode
// (subscribe or unsubscribe), hub.callback and hub.topic (absolute http(s)
// URLs, the topic one this server publishes), and optionally
// hub.lease_seconds and hub.secret (under 200 bytes). An acceptable
// request is answered 202 Accepted and verified later by Run. Anything
// else is answered 400 with a plain-text reason (405 for another method,
// 413 for a form over 16 KiB, 415 for another body type); past a limit of
// the client or the callback host 429, past a global one 503, both with
// Retry-After.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "the hub takes POST requests", http.StatusMethodNotAllowed)
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != formType {
		http.Error(w, "the request body must be "+formType, http.StatusUnsupportedMediaType)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "malformed form: "+err.Error(), http.StatusBadRequest)
		return
	}
	req, err := h.parseRequest(r.PostForm)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if !h.opts.Topics(req.topic) {
		http.Error(w, fmt.Sprintf("hub.topic %q is not a feed this server publishes; this hub serves only those", req.topic), http.StatusBadRequest)
		return
	}
	req.client, req.host = clientOf(r), feed.URLHost(req.callback)
	if req.mode == modeSubscribe {
		if lim := h.overActive(r.Context(), req); lim != nil {
			h.refuse(w, lim, retryActive)
			return
		}
	}
	if lim := h.reservePending(req); lim != nil {
		h.refuse(w, lim, retryPending)
		return
	}
	h.verifies.push(req, time.Now())
	w.WriteHeader(http.StatusAccepted)
}

// limitError is a request refused by a limit: 429 when it is the client's
// or its callback host's, 503 when the hub as a whole is full.
type limitError struct {
	status int
	what   string
}

func (e *limitError) Error() string { return e.what }

// refuse answers a request past a limit.
func (h *Hub) refuse(w http.ResponseWriter, lim *limitError, retryAfter string) {
	w.Header().Set("Retry-After", retryAfter)
	http.Error(w, lim.what+"; try again later", lim.status)
}

// reservePending counts req among the pending verifications, unless that
// would pass a limit, which it returns.
func (h *Hub) reservePending(req request) *limitError {
	l := h.opts.Limits
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.pendingClients[req.client] >= l.ClientPending:
		return &limitError{http.StatusTooManyRequests, fmt.Sprintf("too many pending requests from your address (at most %d)", l.ClientPending)}
	case h.pendingHosts[req.host] >= l.HostPending:
		return &limitError{http.StatusTooManyRequests, fmt.Sprintf("too many pending requests for callbacks on %s (at most %d)", req.host, l.HostPending)}
	case h.verifications >= l.Pending:
		return &limitError{http.StatusServiceUnavailable, "too many pending requests"}
	}
	h.verifications++
	h.pendingClients[req.client]++
	h.pendingHosts[req.host]++
	return nil
}

// verified ends the pending verification of req.
func (h *Hub) verified(req request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.verifications--
	if h.pendingClients[req.client]--; h.pendingClients[req.client] <= 0 {
		delete(h.pendingClients, req.client)
	}
	if h.pendingHosts[req.host]--; h.pendingHosts[req.host] <= 0 {
		delete(h.pendingHosts, req.host)
	}
}

// overActive returns the limit on active subscriptions a new subscription
// for req would pass, or nil. A renewal of an existing subscription passes
// none. When the store cannot count, it is logged and the request goes on:
// the verification checks again.
func (h *Hub) overActive(ctx context.Context, req request) *limitError {
	c, err := h.st.HubSubscriptionCounts(ctx, req.client, req.host, h.opts.Now())
	if err != nil {
		if ctx.Err() == nil {
			h.log.Error("websub hub: count subscriptions", "err", err)
		}
		return nil
	}
	l := h.opts.Limits
	var lim *limitError
	switch {
	case c.Client >= l.ClientActive:
		lim = &limitError{http.StatusTooManyRequests, fmt.Sprintf("too many subscriptions from your address (at most %d)", l.ClientActive)}
	case c.CallbackHost >= l.HostActive:
		lim = &limitError{http.StatusTooManyRequests, fmt.Sprintf("too many subscriptions with callbacks on %s (at most %d)", req.host, l.HostActive)}
	case c.Total >= l.Active:
		lim = &limitError{http.StatusServiceUnavailable, "this hub holds as many subscriptions as it takes"}
	default:
		return nil
	}
	if _, ok, err := h.lookup(ctx, subKey{req.topic, req.callback}); err == nil && ok {
		return nil // a renewal
	}
	return lim
}

// clientOf names the client of r for the limits: the IPv4 address it came
// from, or the /64 network of an IPv6 one (a single host commonly holds a
// whole /64). RemoteAddr is the connection's: feedmill has no notion of a
// trusted proxy, so X-Forwarded-For, which anyone can write, is ignored.
func clientOf(r *http.Request) string {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	addr := ap.Addr().Unmap()
	if addr.Is4() {
		return addr.String()
	}
	p, _ := addr.WithZone("").Prefix(64)
	return p.String()
}

// parseRequest validates a subscription request form.
func (h *Hub) parseRequest(form url.Values) (request, error) {
	req := request{
		mode:     form.Get(paramMode),
		topic:    form.Get(paramTopic),
		callback: form.Get(paramCallback),
		secret:   form.Get(paramSecret),
	}
	switch req.mode {
	case modeSubscribe, modeUnsubscribe:
	case "":
		return request{}, errors.New("missing hub.mode")
	default:
		return request{}, fmt.Errorf("unsupported hub.mode %q: this hub takes subscribe and unsubscribe", req.mode)
	}
	if req.callback == "" {
		return request{}, errors.New("missing hub.callback")
	}
	if len(req.callback) > maxURLLength {
		return request{}, fmt.Errorf("hub.callback longer than %d bytes", maxURLLength)
	}
	if err := checkHTTPURL(req.callback); err != nil {
		return request{}, fmt.Errorf("invalid hub.callback: %w", err)
	}
	if req.topic == "" {
		return request{}, errors.New("missing hub.topic")
	}
	if len(req.topic) > maxURLLength {
		return request{}, fmt.Errorf("hub.topic longer than %d bytes", maxURLLength)
	}
	if err := checkHTTPURL(req.topic); err != nil {
		return request{}, fmt.Errorf("invalid hub.topic: %w", err)
	}
	if len(req.secret) >= maxSecret {
		return request{}, fmt.Errorf("hub.secret must be shorter than %d bytes", maxSecret)
	}
	var seconds int64
	if s := form.Get(paramLease); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return request{}, fmt.Errorf("invalid hub.lease_seconds %q", s)
		}
		seconds = n
	}
	req.lease = h.boundLease(seconds)
	return req, nil
}

// boundLease returns the lease granted for a request of seconds (0: none
// asked for).
func (h *Hub) boundLease(seconds int64) time.Duration {
	if seconds <= 0 {
		return h.opts.DefaultLease
	}
	if seconds > int64(h.opts.MaxLease/time.Second) {
		return h.opts.MaxLease // also keeps huge values from overflowing
	}
	return max(time.Duration(seconds)*time.Second, h.opts.MinLease)
}

// isOurs reports whether topic is under BaseURL + "/feeds/": the topic
// rule when HubOptions.Topics is not given.
func (h *Hub) isOurs(topic string) bool {
	return h.ours != "" && strings.HasPrefix(topic, h.ours) && len(topic) > len(h.ours)
}

// Publish announces that topic has new content, body with its Content-Type,
// to be delivered to every subscriber of topic whose lease has not ended.
// It does not block: Run delivers. A later Publish of the same topic
// replaces content not yet delivered, and a pending retry of older content
// to a subscriber. body must not be modified afterwards.
func (h *Hub) Publish(topic string, body []byte, contentType string) {
	h.mu.Lock()
	_, queued := h.publications[topic]
	h.publications[topic] = &publication{body: body, contentType: contentType}
	h.mu.Unlock()
	if !queued {
		h.jobs.push(hubJob{kind: jobPublish, topic: topic}, time.Now())
	}
}

// Run verifies subscription requests, delivers published content with
// retries, and deletes expired subscriptions, until ctx ends. It then
// returns after the requests in flight, which see ctx end, have finished.
// Verifications and deliveries have their own queues and workers. Run is
// called once. A failed verification, delivery or expiry is logged and
// retried or left to the next round: nothing stops Run but ctx, so it
// returns no error.
func (h *Hub) Run(ctx context.Context) {
	if h.opts.OnSubscribers != nil {
		if _, ok := h.st.(hubCounter); !ok {
			h.log.Warn("websub hub: the store cannot count subscriptions; the subscriber count is not reported")
		}
	}
	var wg sync.WaitGroup
	wg.Go(func() { h.expireLoop(ctx) })
	wg.Go(func() {
		work(ctx, h.verifies, verifyWorkers, func(ctx context.Context, req request) {
			defer h.verified(req)
			h.verify(ctx, req)
		})
	})
	work(ctx, h.jobs, deliverWorkers, h.do)
	wg.Wait()
}

// work runs the jobs of q as they come due, at most workers at once, until
// ctx ends; it then waits for those running. A job taken when ctx ended is
// put back, not lost, should Run be called again.
func work[T any](ctx context.Context, q *queue[T], workers int, do func(context.Context, T)) {
	var wg sync.WaitGroup
	slots := make(chan struct{}, workers)
	for {
		j, ok := q.next(ctx)
		if !ok {
			break
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			q.push(j, time.Now())
			break
		}
		wg.Go(func() {
			defer func() { <-slots }()
			do(ctx, j)
		})
	}
	wg.Wait()
}

func (h *Hub) expireLoop(ctx context.Context) {
	t := time.NewTicker(expireEvery)
	defer t.Stop()
	for {
		n, err := h.st.ExpireHubSubscriptions(ctx, h.opts.Now())
		switch {
		case err != nil && ctx.Err() == nil:
			h.log.Error("websub hub: expire subscriptions", "err", err)
		case n > 0:
			h.log.Info("websub hub: subscriptions expired", "count", n)
		}
		// Also the first count, as Run starts; leases ending without a
		// deletion yet are caught here too.
		h.recount(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (h *Hub) do(ctx context.Context, j hubJob) {
	switch j.kind {
	case jobPublish:
		h.expand(ctx, j.topic)
	case jobDeliver:
		h.deliver(ctx, j.key, j.ticket)
	}
}

// verify checks the intent of the subscriber (spec §5.3) and applies the
// request when it is confirmed: the callback must answer the GET with a
// 2xx and the challenge as its body. A failed verification changes
// nothing, so an existing subscription survives a failed renewal. A new
// subscription past a limit on active ones (others may have been verified
// since the request was taken) is dropped, before and after the request.
func (h *Hub) verify(ctx context.Context, req request) {
	log := h.log.With("mode", req.mode, "topic", req.topic, "callback", req.callback, "client", req.client)
	if req.mode == modeSubscribe {
		if lim := h.overActive(ctx, req); lim != nil {
			log.Info("websub hub: subscription refused", "reason", lim.what)
			return
		}
	}
	if req.mode == modeUnsubscribe {
		if _, ok, err := h.lookup(ctx, subKey{req.topic, req.callback}); err != nil {
			log.Error("websub hub: unsubscribe", "err", err)
			return
		} else if !ok {
			log.Debug("websub hub: unsubscribe of no subscription")
			return
		}
	}
	challenge := rand.Text()
	params := url.Values{paramMode: {req.mode}, paramTopic: {req.topic}, paramChallenge: {challenge}}
	if req.mode == modeSubscribe {
		params.Set(paramLease, strconv.FormatInt(int64(req.lease/time.Second), 10))
	}
	if err := h.confirm(ctx, withParams(req.callback, params), challenge); err != nil {
		if ctx.Err() == nil {
			log.Info("websub hub: verification failed", "err", err)
		}
		return
	}

	key := subKey{req.topic, req.callback}
	if req.mode == modeUnsubscribe {
		if err := h.st.DeleteHubSubscription(ctx, req.topic, req.callback); err != nil {
			log.Error("websub hub: unsubscribe", "err", err)
			return
		}
		h.mu.Lock()
		delete(h.deliveries, key)
		h.mu.Unlock()
		log.Info("websub hub: unsubscribed")
		h.recount(ctx)
		return
	}

	now := h.opts.Now()
	sub := feed.HubSubscription{
		Topic: req.topic, Callback: req.callback, Secret: req.secret,
		Lease: req.lease, Expires: now.Add(req.lease), Created: now,
		Client: req.client,
	}
	// Checked again, with the store, under putMu: requests verified at
	// the same time must not together pass a limit.
	h.putMu.Lock()
	lim := h.overActive(ctx, req)
	var err error
	if lim == nil {
		err = h.st.PutHubSubscription(ctx, sub)
	}
	h.putMu.Unlock()
	if lim != nil {
		log.Info("websub hub: subscription refused", "reason", lim.what)
		return
	}
	if err != nil {
		log.Error("websub hub: subscribe", "err", err)
		return
	}
	log.Info("websub hub: subscribed", "lease", req.lease, "signed", req.secret != "")
	h.recount(ctx)
	if h.opts.Content != nil {
		if body, ct, ok := h.opts.Content(ctx, req.topic); ok {
			h.enqueue(key, req.secret, publication{body: body, contentType: ct})
		}
	}
}

// confirm makes a verification GET to target and checks the echo.
func (h *Hub) confirm(ctx context.Context, target, challenge string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", h.opts.UserAgent)
	resp, err := h.opts.Client.Do(req)
	if err != nil {
		return err
	}
	defer drain(resp.Body)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &StatusError{Status: resp.StatusCode}
	}
	// Some subscribers end the echo with a newline; nothing else passes.
	got, err := io.ReadAll(io.LimitReader(resp.Body, int64(len(challenge))+maxAnswer))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if strings.TrimSpace(string(got)) != challenge {
		return errors.New("the answer does not echo hub.challenge")
	}
	return nil
}

// lookup returns the unexpired subscription key names.
func (h *Hub) lookup(ctx context.Context, key subKey) (feed.HubSubscription, bool, error) {
	subs, err := h.st.HubSubscriptions(ctx, key.topic, h.opts.Now())
	if err != nil {
		return feed.HubSubscription{}, false, err
	}
	for _, s := range subs {
		if s.Callback == key.callback {
			return s, true, nil
		}
	}
	return feed.HubSubscription{}, false, nil
}

// expand turns the newest publication of topic into one delivery per
// unexpired subscriber.
func (h *Hub) expand(ctx context.Context, topic string) {
	h.mu.Lock()
	p := h.publications[topic]
	delete(h.publications, topic)
	h.mu.Unlock()
	if p == nil {
		return
	}
	subs, err := h.st.HubSubscriptions(ctx, topic, h.opts.Now())
	if err != nil {
		if ctx.Err() == nil {
			h.log.Error("websub hub: list subscribers", "topic", topic, "err", err)
		}
		return
	}
	for _, s := range subs {
		h.enqueue(subKey{topic, s.Callback}, s.Secret, *p)
	}
	if len(subs) > 0 {
		h.log.Debug("websub hub: publishing", "topic", topic, "subscribers", len(subs))
	}
}

// enqueue makes p the content to deliver for key, replacing older content
// still waiting, and queues the delivery unless one is in flight (which
// queues it when it ends).
func (h *Hub) enqueue(key subKey, secret string, p publication) {
	h.mu.Lock()
	defer h.mu.Unlock()
	d := h.deliveries[key]
	if d == nil {
		d = &delivery{}
		h.deliveries[key] = d
	}
	d.publication, d.secret, d.attempt = p, secret, 0
	d.version++
	if !d.running {
		d.ticket++
		h.jobs.push(hubJob{kind: jobDeliver, key: key, ticket: d.ticket}, time.Now())
	}
}

// errGone is the answer of a subscriber that dropped the subscription.
var errGone = errors.New("410 Gone: the subscriber dropped the subscription")

// deliver makes one attempt to deliver the pending content of key and
// schedules what follows: nothing after a success, the newer content when
// some arrived meanwhile, else a retry with exponential backoff.
func (h *Hub) deliver(ctx context.Context, key subKey, ticket uint64) {
	h.mu.Lock()
	d := h.deliveries[key]
	if d == nil || d.ticket != ticket || d.running {
		h.mu.Unlock()
		return // superseded or dropped
	}
	d.running = true
	p, secret, attempt, version := d.publication, d.secret, d.attempt, d.version
	h.mu.Unlock()

	log := h.log.With("topic", key.topic, "callback", key.callback)
	var err error
	if attempt > 0 {
		// The subscription may have ended, or been renewed with another
		// secret, since the failed attempt.
		var sub feed.HubSubscription
		var ok bool
		if sub, ok, err = h.lookup(ctx, key); err == nil && !ok {
			h.forget(key, d)
			log.Info("websub hub: delivery dropped: subscription ended")
			return
		}
		secret = sub.Secret
	}
	if err == nil {
		err = h.post(ctx, key, secret, p)
	}

	outcome, gone := h.settle(key, d, version, err, ctx.Err() != nil, log)
	if outcome != "" && h.opts.OnDelivery != nil {
		h.opts.OnDelivery(outcome)
	}
	if gone {
		// The spec lets a hub end a subscription whose callback answers
		// 410 Gone.
		if err := h.st.DeleteHubSubscription(ctx, key.topic, key.callback); err != nil {
			log.Error("websub hub: remove gone subscriber", "err", err)
			return
		}
		log.Info("websub hub: subscriber gone; subscription removed")
		h.recount(ctx)
	}
}

// settle schedules what follows an attempt to deliver version of d's
// content, which ended with err (stopping: Run is ending). It reports the
// attempt's outcome for OnDelivery ("" for an attempt that does not count)
// and whether the subscriber said the subscription is gone.
func (h *Hub) settle(key subKey, d *delivery, version uint64, err error, stopping bool, log *slog.Logger) (outcome string, gone bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	d.running = false
	if err == nil {
		outcome = DeliveryOK
	}
	if h.deliveries[key] != d {
		// Unsubscribed meanwhile: nothing follows a failure.
		if err != nil && !stopping {
			outcome = DeliveryFailed
		}
		return outcome, false
	}
	switch {
	case stopping && err != nil:
		// The attempt was cut short: the content is kept for the next
		// Run, and the attempt does not count.
		d.ticket++
		h.jobs.push(hubJob{kind: jobDeliver, key: key, ticket: d.ticket}, time.Now())
	case d.version != version:
		// Newer content arrived meanwhile: it is delivered next, which
		// also stands for a retry when this attempt failed.
		if err != nil {
			outcome = DeliveryRetry
		}
		d.ticket++
		h.jobs.push(hubJob{kind: jobDeliver, key: key, ticket: d.ticket}, time.Now())
	case err == nil:
		delete(h.deliveries, key)
		log.Debug("websub hub: delivered", "attempt", d.attempt+1, "bytes", len(d.body))
	case errors.Is(err, errGone):
		delete(h.deliveries, key)
		return DeliveryFailed, true
	default:
		d.attempt++
		if d.attempt > h.opts.Retries {
			delete(h.deliveries, key)
			log.Warn("websub hub: delivery failed; giving up on this content", "attempts", d.attempt, "err", err)
			return DeliveryFailed, false
		}
		wait := h.backoff(d.attempt)
		d.ticket++
		h.jobs.push(hubJob{kind: jobDeliver, key: key, ticket: d.ticket}, time.Now().Add(wait))
		log.Info("websub hub: delivery failed; will retry", "attempt", d.attempt, "retry_in", wait, "err", err)
		return DeliveryRetry, false
	}
	return outcome, false
}

// forget drops the pending delivery d of key, if it still is.
func (h *Hub) forget(key subKey, d *delivery) {
	h.mu.Lock()
	if h.deliveries[key] == d {
		delete(h.deliveries, key)
	}
	h.mu.Unlock()
}

// backoff is the wait before retry n (1-based).
func (h *Hub) backoff(n int) time.Duration {
	d := h.opts.RetryBase
	for i := 1; i < n && d < maxRetryDelay; i++ {
		d *= 2
	}
	return min(d, maxRetryDelay)
}

// post sends content to a subscriber (spec §7): the body with its
// Content-Type, the Link headers naming the hub and the topic, and the
// signature when the subscriber gave a secret.
func (h *Hub) post(ctx context.Context, key subKey, secret string, p publication) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, key.callback, bytes.NewReader(p.body))
	if err != nil {
		return err
	}
	ct := p.contentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("User-Agent", h.opts.UserAgent)
	if h.opts.HubURL != "" {
		req.Header.Add("Link", "<"+h.opts.HubURL+`>; rel="hub"`)
	}
	req.Header.Add("Link", "<"+key.topic+`>; rel="self"`)
	if secret != "" {
		req.Header.Set(headerSignature, sign(secret, p.body))
	}
	resp, err := h.opts.Client.Do(req)
	if err != nil {
		return err
	}
	defer drain(resp.Body)
	switch {
	case resp.StatusCode == http.StatusGone:
		return errGone
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return &StatusError{Status: resp.StatusCode}
	}
	return nil
}

// Subscribers returns the number of subscriptions the hub holds, to every
// topic, whose lease has not ended. It needs a store with a
// CountHubSubscriptions method, and returns ErrNoCount otherwise.
func (h *Hub) Subscribers(ctx context.Context) (int, error) {
	c, ok := h.st.(hubCounter)
	if !ok {
		return 0, ErrNoCount
	}
	n, err := c.CountHubSubscriptions(ctx, h.opts.Now())
	if err != nil {
		return 0, fmt.Errorf("websub hub: count subscriptions: %w", err)
	}
	return n, nil
}

// recount tells OnSubscribers the number of subscriptions, if it changed
// since the last time. A failed count is logged and tells nothing: the
// next change tries again.
func (h *Hub) recount(ctx context.Context) {
	if h.opts.OnSubscribers == nil {
		return
	}
	if _, ok := h.st.(hubCounter); !ok {
		return // Run said so once
	}
	h.countMu.Lock()
	defer h.countMu.Unlock()
	n, err := h.Subscribers(ctx)
	if err != nil {
		if ctx.Err() == nil {
			h.log.Error("websub hub: count subscribers", "err", err)
		}
		return
	}
	if n != h.lastCount {
		h.lastCount = n
		h.opts.OnSubscribers(n)
	}
}

// SubscribedTopics returns the topics that have subscriptions whose lease
// has not ended, each once: the documents a publisher must render at a
// change to deliver them. It needs a store with a HubTopics method, else
// it returns ErrNoTopics.
func (h *Hub) SubscribedTopics(ctx context.Context) ([]string, error) {
	st, ok := h.st.(hubTopicLister)
	if !ok {
		return nil, ErrNoTopics
	}
	topics, err := st.HubTopics(ctx, h.opts.Now())
	if err != nil {
		return nil, fmt.Errorf("websub hub: %w", err)
	}
	return topics, nil
}
