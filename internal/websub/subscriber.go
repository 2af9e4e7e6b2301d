package websub

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
)

// Timings of the subscriber.
const (
	// requestRetry is how long a request the hub has not verified yet, or
	// failed to take, is left alone before Subscribe asks again.
	requestRetry = time.Hour
	// deniedRetry is how long a denial stands before Subscribe asks again.
	deniedRetry = 24 * time.Hour
	// minRenewMargin is the least time before the end of a lease at which
	// a renewal starts.
	minRenewMargin = time.Hour
	// renewCheck bounds the sleep of Run between renewal checks.
	renewCheck = 10 * time.Minute
	// pushWorkers is how many pushed documents are ingested at once.
	pushWorkers = 2
	// maxGrantedLease bounds the lease a hub says it granted, which is
	// used to compute times and must not overflow them.
	maxGrantedLease = 366 * 24 * time.Hour
)

// subscriberStore is the persistence the subscriber needs.
type subscriberStore interface {
	PutSourceSubscription(ctx context.Context, sub feed.SourceSubscription) error
	SourceSubscription(ctx context.Context, source string) (feed.SourceSubscription, bool, error)
	SourceSubscriptions(ctx context.Context) ([]feed.SourceSubscription, error)
}

// SubscriberOptions configure a Subscriber. Zero values mean the defaults
// given.
type SubscriberOptions struct {
	// CallbackBase is the public URL under which ServeHTTP is mounted,
	// base_url + "/websub/callback/": a source's callback is CallbackBase
	// followed by its path-escaped name.
	CallbackBase string
	// Client makes the requests to hubs; default: one with a 15 s timeout.
	Client    *http.Client
	Logger    *slog.Logger // nil discards
	Now       func() time.Time
	UserAgent string
	// Lease is the lease asked for (default 10 days). A subscription is
	// renewed when less than a tenth of its granted lease, and at least an
	// hour, is left.
	Lease time.Duration
	// MaxContent bounds a pushed document in bytes (default
	// DefaultMaxContent); a larger one is refused with 413.
	MaxContent int64
}

// Subscriber subscribes sources to their WebSub hubs and takes what the
// hubs send to its callbacks: verifications of intent, denials and pushed
// content. Pushed content is handed to the deliver function by Run, one
// document at a time per source, the newest when several arrive meanwhile.
// A Subscriber is safe for concurrent use.
type Subscriber struct {
	opts    SubscriberOptions
	st      subscriberStore
	deliver func(ctx context.Context, source string, body []byte, contentType string) error
	log     *slog.Logger

	// mu serializes the read-modify-write of stored subscriptions. It is
	// never held during a request to a hub: a hub may verify the intent
	// before it answers the subscription request.
	mu    sync.Mutex
	renew chan struct{} // one token: lease times changed

	// leaving holds, per source, the subscription given up at a hub it
	// replaced by another hub or topic, until that hub verifies the
	// unsubscription: the store holds only the new one. Lost on a
	// restart, which leaves the old hub's pushes to be answered 410 Gone.
	leaving map[string]feed.SourceSubscription

	inMu    sync.Mutex
	pending map[string]push // newest undelivered push per source
	busy    map[string]bool // sources being ingested
	inbox   chan struct{}   // one token: a push arrived
}

// push is a pushed document.
type push struct {
	body        []byte
	contentType string
}

// NewSubscriber returns a subscriber keeping its subscriptions in st and
// handing each pushed document to deliver, which is to ingest it exactly
// like a fetched body of the source; its error is logged.
func NewSubscriber(opts SubscriberOptions, st subscriberStore, deliver func(ctx context.Context, source string, body []byte, contentType string) error) *Subscriber {
	if opts.CallbackBase != "" && !strings.HasSuffix(opts.CallbackBase, "/") {
		opts.CallbackBase += "/"
	}
	opts.Client = defaultClient(opts.Client)
	opts.Now = defaultNow(opts.Now)
	if opts.UserAgent == "" {
		opts.UserAgent = defaultUserAgent
	}
	if opts.Lease <= 0 {
		opts.Lease = DefaultLease
	}
	if opts.MaxContent <= 0 {
		opts.MaxContent = DefaultMaxContent
	}
	return &Subscriber{
		opts:    opts,
		st:      st,
		deliver: deliver,
		log:     defaultLogger(opts.Logger),
		renew:   make(chan struct{}, 1),
		leaving: make(map[string]feed.SourceSubscription),
		pending: make(map[string]push),
		busy:    make(map[string]bool),
		inbox:   make(chan struct{}, 1),
	}
}

// paramToken is the query parameter of a callback URL carrying its token.
const paramToken = "token"

// Callback returns the callback URL of sub: CallbackBase, the source's
// path-escaped name, and the subscription's token, which only the hub it
// was sent to knows. Requests to a callback without the token of the
// source's current subscription are refused, so that nobody can confirm
// a subscription, record a denial or push content in its name.
func (s *Subscriber) Callback(sub feed.SourceSubscription) string {
	return s.opts.CallbackBase + url.PathEscape(sub.Source) + "?" + paramToken + "=" + callbackToken(sub)
}

// callbackToken is the token of sub's callback: an HMAC of the source's
// name keyed by the subscription's secret (32 random bytes), so that each
// subscription has its own, a renewal keeps it, and nothing more needs
// storing. The hub, which holds the secret, learns nothing new from it.
// A subscription without a secret (stored by an older feedmill) has none.
func callbackToken(sub feed.SourceSubscription) string {
	if sub.Secret == "" {
		return ""
	}
	m := hmac.New(sha256.New, []byte(sub.Secret))
	m.Write([]byte("websub callback " + sub.Source))
	return hex.EncodeToString(m.Sum(nil))[:32]
}

// tokenOK reports whether r carries the callback token of sub.
func tokenOK(r *http.Request, sub feed.SourceSubscription) bool {
	want := callbackToken(sub)
	return want != "" && hmac.Equal([]byte(r.URL.Query().Get(paramToken)), []byte(want))
}

// renewMargin is how long before the end of a lease a renewal starts: a
// tenth of the lease, at least an hour, but never more than half of it, so
// that a short lease is not renewed as soon as it is granted.
func renewMargin(lease time.Duration) time.Duration {
	return min(max(lease/10, minRenewMargin), lease/2)
}

// renewAt is when an active subscription is due for renewal: when its
// margin begins, or, once a renewal was requested inside the margin, a
// quarter of the margin (at most an hour) after that request, so that a hub
// that is down or slow to verify is asked a few times before the lease
// ends, not at every check.
func renewAt(sub feed.SourceSubscription) time.Time {
	margin := renewMargin(sub.Lease)
	due := sub.Expires.Add(-margin)
	if !sub.Updated.Before(due) {
		return sub.Updated.Add(min(margin/4, time.Hour))
	}
	return due
}

// Subscribe subscribes source to topic at hub, with callback
// CallbackBase + source. It does nothing when the source's subscription to
// the same hub and topic is active and not yet due for renewal, is waiting
// for verification since less than an hour, or was denied less than a day
// ago; else it stores the request, then POSTs it to the hub with a lease
// and a secret (a fresh one, 32 random bytes in hex, unless it renews an
// active subscription). An answer outside 2xx is an error naming the hub
// and the status, also recorded as the subscription's Reason. A
// subscription of the source to another hub or topic is replaced, and
// given up at its hub.
func (s *Subscriber) Subscribe(ctx context.Context, source, hub, topic string) error {
	if err := s.checkSource(source); err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	if err := checkHTTPURL(hub); err != nil {
		return fmt.Errorf("subscribe source %q: hub: %w", source, err)
	}
	if err := checkHTTPURL(topic); err != nil {
		return fmt.Errorf("subscribe source %q: topic: %w", source, err)
	}

	s.mu.Lock()
	now := s.opts.Now()
	old, found, err := s.st.SourceSubscription(ctx, source)
	if err != nil {
		s.mu.Unlock()
		return fmt.Errorf("subscribe source %q: %w", source, err)
	}
	same := found && old.Hub == hub && old.Topic == topic
	if same && !dueAgain(old, now) {
		s.mu.Unlock()
		return nil
	}
	sub := feed.SourceSubscription{
		Source: source, Hub: hub, Topic: topic,
		State: feed.SubscriptionRequested, Lease: s.opts.Lease, Updated: now,
	}
	if same && old.State == feed.SubscriptionActive && now.Before(old.Expires) && old.Secret != "" {
		// A renewal: the subscription stays active, with its secret (and
		// so its callback), so that pushes signed before the hub learns
		// anything new still pass. One stored without a secret by an
		// older feedmill gets one, and a callback token, instead.
		sub = old
		sub.Updated = now
	} else {
		sub.Secret = newSecret()
	}
	err = s.st.PutSourceSubscription(ctx, sub)
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("subscribe source %q: %w", source, err)
	}

	if found && !same && (old.State == feed.SubscriptionActive || old.State == feed.SubscriptionRequested) {
		// Best effort: the hub would otherwise push the old topic until
		// its lease ends, only for its pushes to be refused.
		s.mu.Lock()
		s.leaving[source] = old
		s.mu.Unlock()
		if err := s.request(ctx, modeUnsubscribe, old); err != nil && ctx.Err() == nil {
			s.log.Info("websub: unsubscribe from replaced hub failed", "source", source, "hub", old.Hub, "topic", old.Topic, "err", err)
		}
	}

	err = s.request(ctx, modeSubscribe, sub)
	s.recordOutcome(ctx, sub, err)
	if err != nil {
		return fmt.Errorf("subscribe source %q to %s at hub %s: %w", source, topic, hub, err)
	}
	s.log.Info("websub: subscription requested", "source", source, "hub", hub, "topic", topic)
	return nil
}

// dueAgain reports whether a subscription to the same hub and topic as the
// one wanted should be requested again at now.
func dueAgain(old feed.SourceSubscription, now time.Time) bool {
	switch old.State {
	case feed.SubscriptionActive:
		return !now.Before(renewAt(old))
	case feed.SubscriptionRequested:
		return now.Sub(old.Updated) >= requestRetry
	case feed.SubscriptionDenied:
		return now.Sub(old.Updated) >= deniedRetry
	}
	return true // unsubscribed: wanted again
}

// recordOutcome stores the Reason of a request's outcome, unless the
// subscription changed meanwhile (the hub verified it, or another request
// replaced it).
func (s *Subscriber) recordOutcome(ctx context.Context, sent feed.SourceSubscription, err error) {
	reason := ""
	if err != nil {
		reason = err.Error()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok, gerr := s.st.SourceSubscription(ctx, sent.Source)
	if gerr != nil || !ok || cur.Reason == reason {
		return
	}
	if cur.Hub != sent.Hub || cur.Topic != sent.Topic || cur.Secret != sent.Secret ||
		cur.State != sent.State || !cur.Expires.Equal(sent.Expires) {
		return // verified or replaced meanwhile
	}
	cur.Reason = reason
	if perr := s.st.PutSourceSubscription(ctx, cur); perr != nil && ctx.Err() == nil {
		s.log.Error("websub: record request outcome", "source", sent.Source, "err", perr)
	}
}

// Unsubscribe gives up the subscription of source, telling its hub, for a
// source that is gone from the configuration or no longer uses WebSub. A
// source without a subscription, or already unsubscribed, is left alone.
func (s *Subscriber) Unsubscribe(ctx context.Context, source string) error {
	s.mu.Lock()
	old, found, err := s.st.SourceSubscription(ctx, source)
	if err != nil || !found || old.State == feed.SubscriptionUnsubscribed {
		s.mu.Unlock()
		if err != nil {
			return fmt.Errorf("unsubscribe source %q: %w", source, err)
		}
		return nil
	}
	sub := old
	sub.State, sub.Reason, sub.Updated = feed.SubscriptionUnsubscribed, "", s.opts.Now()
	err = s.st.PutSourceSubscription(ctx, sub)
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("unsubscribe source %q: %w", source, err)
	}
	if old.State == feed.SubscriptionDenied {
		return nil // the hub holds nothing to give up
	}
	err = s.request(ctx, modeUnsubscribe, sub)
	s.recordOutcome(ctx, sub, err)
	if err != nil {
		return fmt.Errorf("unsubscribe source %q from %s at hub %s: %w", source, sub.Topic, sub.Hub, err)
	}
	s.log.Info("websub: unsubscription requested", "source", source, "hub", sub.Hub, "topic", sub.Topic)
	return nil
}

// request POSTs a subscription request for sub to its hub (spec §5.1).
func (s *Subscriber) request(ctx context.Context, mode string, sub feed.SourceSubscription) error {
	form := url.Values{
		paramMode:     {mode},
		paramTopic:    {sub.Topic},
		paramCallback: {s.Callback(sub)},
	}
	if mode == modeSubscribe {
		form.Set(paramLease, strconv.FormatInt(int64(s.opts.Lease/time.Second), 10))
		if sub.Secret != "" {
			form.Set(paramSecret, sub.Secret)
		}
	}
	return postForm(ctx, s.opts.Client, s.opts.UserAgent, sub.Hub, form)
}

func (s *Subscriber) checkSource(source string) error {
	if strings.TrimSpace(source) == "" {
		return errors.New("empty source name")
	}
	if s.opts.CallbackBase == "" {
		return errors.New("no callback base URL")
	}
	return nil
}

// newSecret returns 32 random bytes in hex.
func newSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails, says crypto/rand
	return hex.EncodeToString(b)
}

// ServeHTTP serves the callbacks of all sources; the source is the last
// segment of the path, so the handler may be mounted under any prefix.
// Every request must carry the token of the source's subscription (see
// Callback). GET answers the hub's verification of intent (spec §5.3):
// the challenge is echoed for a subscription the source wants to the
// topic asked about, the source being waiting for it or subscribed, and
// for an unsubscription it asked for, of that topic; anything else is 404
// and changes nothing. A denial (hub.mode=denied) of the wanted topic is
// recorded. POST takes pushed content (spec §7): answered 410 Gone for a
// source without a wanted subscription or with another token, which tells
// the hub to drop it; otherwise 202 Accepted, and the content is ingested
// only if its X-Hub-Signature matches the source's secret (a push failing
// the check is logged and ignored, but still answered 2xx as the spec
// allows, so that a forger learns nothing).
func (s *Subscriber) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.EscapedPath()
	source, err := url.PathUnescape(p[strings.LastIndex(p, "/")+1:])
	if err != nil || source == "" {
		http.NotFound(w, r)
		return
	}
	switch r.Method {
	case http.MethodGet:
		s.verify(w, r, source)
	case http.MethodPost:
		s.receive(w, r, source)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "the callback takes GET and POST requests", http.StatusMethodNotAllowed)
	}
}

// wanted reports whether sub is a subscription the source wants.
func wanted(sub feed.SourceSubscription) bool {
	return sub.State == feed.SubscriptionActive || sub.State == feed.SubscriptionRequested
}

func (s *Subscriber) verify(w http.ResponseWriter, r *http.Request, source string) {
	q := r.URL.Query()
	mode, topic, challenge := q.Get(paramMode), q.Get(paramTopic), q.Get(paramChallenge)
	if mode != modeSubscribe && mode != modeUnsubscribe && mode != modeDenied {
		http.Error(w, "unsupported hub.mode", http.StatusBadRequest)
		return
	}
	if mode != modeDenied && challenge == "" {
		http.Error(w, "missing hub.challenge", http.StatusBadRequest)
		return
	}
	ctx := r.Context()
	log := s.log.With("source", source, "mode", mode, "topic", topic)

	s.mu.Lock()
	defer s.mu.Unlock()
	sub, found, err := s.st.SourceSubscription(ctx, source)
	if err != nil {
		log.Error("websub: verification", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	match := found && sub.Topic == topic && wanted(sub) && tokenOK(r, sub)
	switch mode {
	case modeSubscribe:
		if !match {
			log.Info("websub: verification refused: no such subscription wanted")
			http.NotFound(w, r)
			return
		}
		lease := s.opts.Lease // when the hub does not say, as asked
		if n, err := strconv.ParseInt(q.Get(paramLease), 10, 64); err == nil && n > 0 {
			lease = time.Duration(min(n, int64(maxGrantedLease/time.Second))) * time.Second
		}
		now := s.opts.Now()
		sub.State, sub.Reason, sub.Lease, sub.Expires, sub.Updated = feed.SubscriptionActive, "", lease, now.Add(lease), now
		if err := s.st.PutSourceSubscription(ctx, sub); err != nil {
			log.Error("websub: verification", "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		log.Info("websub: subscription active", "hub", sub.Hub, "lease", lease)
		select {
		case s.renew <- struct{}{}:
		default:
		}
	case modeUnsubscribe:
		asked := found && sub.State == feed.SubscriptionUnsubscribed && sub.Topic == topic && tokenOK(r, sub)
		if old, ok := s.leaving[source]; ok && !asked && old.Topic == topic && tokenOK(r, old) {
			asked = true
			delete(s.leaving, source)
		}
		if !asked {
			log.Info("websub: unsubscription refused: not asked for")
			http.NotFound(w, r)
			return
		}
		log.Info("websub: unsubscription confirmed")
	case modeDenied:
		if !match {
			http.NotFound(w, r)
			return
		}
		reason := q.Get(paramReason)
		sub.State, sub.Reason, sub.Updated = feed.SubscriptionDenied, reason, s.opts.Now()
		if sub.Reason == "" {
			sub.Reason = "denied by the hub"
		}
		if err := s.st.PutSourceSubscription(ctx, sub); err != nil {
			log.Error("websub: record denial", "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		log.Warn("websub: subscription denied", "hub", sub.Hub, "reason", reason)
		w.WriteHeader(http.StatusOK)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, challenge)
}

func (s *Subscriber) receive(w http.ResponseWriter, r *http.Request, source string) {
	ctx := r.Context()
	log := s.log.With("source", source)
	sub, found, err := s.st.SourceSubscription(ctx, source)
	if err != nil {
		log.Error("websub: push", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError) // the hub retries
		return
	}
	if !found || !wanted(sub) || !tokenOK(r, sub) {
		log.Info("websub: push for no wanted subscription; told the hub it is gone")
		http.Error(w, "no such subscription", http.StatusGone)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxContent))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			log.Warn("websub: push too large", "limit", s.opts.MaxContent)
			http.Error(w, "content too large", http.StatusRequestEntityTooLarge)
			return
		}
		log.Info("websub: push not read", "err", err)
		http.Error(w, "could not read the content", http.StatusBadRequest)
		return
	}
	// tokenOK needs a secret: every push is checked.
	if err := checkSignature(sub.Secret, r.Header.Get(headerSignature), body); err != nil {
		log.Warn("websub: push ignored", "reason", err)
		w.WriteHeader(http.StatusAccepted)
		return
	}
	s.inMu.Lock()
	s.pending[source] = push{body: body, contentType: r.Header.Get("Content-Type")}
	s.inMu.Unlock()
	select {
	case s.inbox <- struct{}{}:
	default:
	}
	log.Debug("websub: push received", "bytes", len(body))
	w.WriteHeader(http.StatusAccepted)
}

// Run ingests pushed content through the deliver function and renews
// subscriptions before their leases end (an expired one is requested
// anew), until ctx ends. It then returns after the ingestions in flight,
// which see ctx end, have finished. Run is called once. A push that is
// not ingested or a renewal that fails is logged and tried again with the
// next push or renewal: nothing stops Run but ctx, so it returns no
// error.
func (s *Subscriber) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { s.renewLoop(ctx) })
	slots := make(chan struct{}, pushWorkers)
	for {
		s.inMu.Lock()
		for source, p := range s.pending {
			if s.busy[source] {
				continue // its worker takes it next
			}
			delete(s.pending, source)
			s.busy[source] = true
			wg.Go(func() { s.ingest(ctx, slots, source, p) })
		}
		s.inMu.Unlock()
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case <-s.inbox:
		}
	}
}

// ingest delivers p, then each newer push of source that arrived
// meanwhile, holding one of slots for each.
func (s *Subscriber) ingest(ctx context.Context, slots chan struct{}, source string, p push) {
	for {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			s.inMu.Lock()
			if _, newer := s.pending[source]; !newer {
				s.pending[source] = p // kept for the next Run
			}
			delete(s.busy, source)
			s.inMu.Unlock()
			return
		}
		start := time.Now()
		err := s.deliver(ctx, source, p.body, p.contentType)
		<-slots
		if err != nil {
			s.log.Warn("websub: pushed content not ingested", "source", source, "err", err)
		} else {
			s.log.Info("websub: pushed content ingested", "source", source, "bytes", len(p.body), "duration", time.Since(start))
		}

		s.inMu.Lock()
		next, ok := s.pending[source]
		if !ok || ctx.Err() != nil {
			delete(s.busy, source)
			s.inMu.Unlock()
			return
		}
		delete(s.pending, source)
		s.inMu.Unlock()
		p = next
	}
}

// renewLoop renews due subscriptions, then sleeps until the next is due (at
// most renewCheck, less when a verification changes a lease).
func (s *Subscriber) renewLoop(ctx context.Context) {
	for {
		wait := s.renewDue(ctx)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-s.renew:
		case <-t.C:
		}
		t.Stop()
	}
}

// renewDue renews the active subscriptions due for renewal and returns how
// long until the next one is.
func (s *Subscriber) renewDue(ctx context.Context) time.Duration {
	subs, err := s.st.SourceSubscriptions(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("websub: list subscriptions to renew", "err", err)
		}
		return renewCheck
	}
	wait := renewCheck
	for _, sub := range subs {
		if sub.State != feed.SubscriptionActive {
			continue
		}
		now := s.opts.Now()
		if due := renewAt(sub); now.Before(due) {
			wait = min(wait, due.Sub(now))
			continue
		}
		if err := s.Subscribe(ctx, sub.Source, sub.Hub, sub.Topic); err != nil {
			if ctx.Err() != nil {
				return renewCheck
			}
			s.log.Warn("websub: renewal failed", "source", sub.Source, "err", err)
		}
	}
	return max(wait, time.Second)
}

// Active returns how many sources have an active subscription to their hub
// whose lease has not ended: the sources whose updates are pushed rather
// than only polled.
func (s *Subscriber) Active(ctx context.Context) (int, error) {
	subs, err := s.st.SourceSubscriptions(ctx)
	if err != nil {
		return 0, fmt.Errorf("count active source subscriptions: %w", err)
	}
	now := s.opts.Now()
	n := 0
	for _, sub := range subs {
		if sub.State == feed.SubscriptionActive && now.Before(sub.Expires) {
			n++
		}
	}
	return n, nil
}
