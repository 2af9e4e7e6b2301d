// Package refresh keeps the store up to date: for each source it fetches the
// feed (conditionally), normalizes it and saves the items, on a cron schedule
// spread per source, recording each attempt's outcome in the source's state.
//
// It is also where feedmill's manners live. A failing source backs off
// exponentially (with jitter, capped, never for good) and comes back at its
// normal pace after a success; a server's Retry-After is honoured, and a
// 429 pauses every source of that host; Cache-Control, Expires and the
// feed's own <ttl>, skipHours, skipDays and sy:updatePeriod stretch the
// interval (unless the source says respect_cache: false); a feed that moved
// permanently is fetched where it moved to, one that is gone (410) is not
// polled any more, and a source URL that is a web page is resolved to the
// feed it advertises. Scheduled runs that fall before a source's next
// planned attempt are skipped, so all of this works with cron still ticking.
package refresh

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"sync"
	"time"

	"github.com/feedmill/feedmill/internal/batch"
	"github.com/feedmill/feedmill/internal/boilerplate"
	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/fetch"
	"github.com/feedmill/feedmill/internal/normalize"
	"github.com/feedmill/feedmill/internal/scrape"
)

// fetcher gets a feed body, conditionally, and pages that content links to,
// guarded against reaching private addresses other than trustedHost.
type fetcher interface {
	Fetch(ctx context.Context, url string, v feed.Validators) (*fetch.Response, error)
	FetchPage(ctx context.Context, url string, trustedHost string) (*fetch.Response, error)
}

// parser turns a feed body into items, and an article page into content.
type parser interface {
	Normalize(src feed.Source, body []byte, baseURL string, now time.Time) (*normalize.Feed, error)
	Extract(src feed.Source, page []byte, pageURL string) (*scrape.Article, error)
	Scrape(src feed.Source, page []byte, pageURL string, now time.Time) (*scrape.Scraped, error)
}

// itemStore keeps items, per-source state and extracted articles.
type itemStore interface {
	SaveItems(ctx context.Context, source string, items []feed.Item, keep int, now time.Time) (feed.SaveResult, error)
	Items(ctx context.Context, q feed.Query) ([]feed.Item, error)
	State(ctx context.Context, source string) (feed.SourceState, error)
	States(ctx context.Context) ([]feed.SourceState, error)
	SaveState(ctx context.Context, st feed.SourceState) error
	SaveStates(ctx context.Context, sts []feed.SourceState) error
	articleCache
}

// Workers is how many sources to refresh at once for a fetch client that
// allows fetchConcurrency requests in flight: twice as many. A source
// spends part of its refresh off the network (its lease and state, the
// parsing, the store), and with one worker per request slot the slots sat
// idle meanwhile; the client still bounds the requests in flight, in all
// and per host.
func Workers(fetchConcurrency int) int { return 2 * max(fetchConcurrency, 1) }

// Options tune a Refresher. The zero value works.
type Options struct {
	// Workers bounds how many sources are refreshed at once (default 4):
	// see Workers for a fetch client's concurrency.
	Workers int
	// OnChange is called after items were stored or pruned. Calls are
	// coalesced: while one runs, further changes make one more call, not
	// many. It is how the publisher learns to re-render.
	OnChange func(ctx context.Context)
	// FullTextLimit caps the article pages fetched per refresh of a
	// source; 0 fetches none, as fetch.full_text_limit: 0 does (the
	// config passes its default, feed.DefaultFullTextLimit, when the file
	// sets none). FullTextBudget caps the time they take (default
	// feed.DefaultFullTextBudget).
	FullTextLimit  int
	FullTextBudget time.Duration
	// OnHub is called after a successful full fetch of a source whose feed
	// advertises a WebSub hub, with the topic to subscribe to (the feed's
	// self URL, else the source URL). The app subscribes where the config
	// asks for it.
	OnHub func(ctx context.Context, source, hub, topic string)
	// BackoffMax caps the wait between two attempts of a failing source
	// (default feed.DefaultBackoffMax). The wait starts at a quarter of
	// the source's normal interval and doubles with every consecutive
	// failure.
	BackoffMax time.Duration
	// OnResult, when set, is told the outcome of every refresh of a
	// source (metrics). It must not block.
	OnResult func(Result)
	// Coordinator, when set, shares the sources with other instances on
	// the same store: a source is refreshed by the one instance holding
	// its lease, Owner names this instance (unique among them) and Lease
	// is how long a lease lasts (default feed.DefaultLease).
	Coordinator Coordinator
	Owner       string
	Lease       time.Duration
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
	// Redactor hides the secrets of URLs in logs, errors and the stored
	// last error; the zero value knows the default secret parameter
	// names. Config: fetch.secret_params.
	Redactor feed.Redactor
}

// ErrGone reports a source whose server answered 410 Gone. The source is
// not polled again until its URL changes in the config.
var ErrGone = errors.New("410 Gone: the feed was removed; update or delete the source")

// Result is the outcome of refreshing one source.
type Result struct {
	Source string
	// URL is where the feed was fetched from: the configured URL, or
	// where it moved, or the feed discovered on the configured page.
	URL         string
	Status      int // HTTP status, 0 when no response arrived
	NotModified bool
	feed.SaveResult
	Err error
	// TimedOut says that Err is the source's: it did not answer, or not
	// completely, within the fetch timeout. Err then reads "timed out
	// after" the timeout.
	TimedOut bool
	// Skipped says why the source was not fetched at all although it was
	// asked for: its host asked, by a 429 to another of its sources, to
	// be left alone for a while. That is not a failure of the source: Err
	// is nil and its state keeps its failure count.
	Skipped  string
	Duration time.Duration
	// Failures is the source's count of consecutive failed attempts
	// after this one (0 after a success).
	Failures int
	// Cause classes Err when it is a failure to reach the server (see
	// fetch.Cause); empty otherwise.
	Cause feed.Cause
}

// Refresher refreshes a fixed set of sources. It is safe for concurrent use.
type Refresher struct {
	sources   []feed.Source
	schedules map[string]*spreadSchedule
	// locks serialize the work on one source: a scheduled refresh and a
	// WebSub push must not interleave their reads and writes of its items.
	locks   map[string]*sync.Mutex
	fetch   fetcher
	parse   parser
	store   itemStore
	workers chan struct{}
	// cpu bounds the sources whose items are parsed and cleaned at once
	// to the CPUs Go runs on: more only queue up behind each other, and
	// every CPU-bound goroutine in the run queue delays the requests a
	// serving daemon answers meanwhile.
	cpu chan struct{}
	now func() time.Time
	log *slog.Logger
	// secrets hides the secrets of URLs (Options.Redactor).
	secrets feed.Redactor

	onChange func(ctx context.Context)

	fullTextLimit  int
	fullTextBudget time.Duration
	onHub          func(ctx context.Context, source, hub, topic string)
	backoffMax     time.Duration

	onResult func(Result)
	coord    Coordinator
	// claims and endings gather the leases taken and ended at the same
	// moment by the workers into one transaction each.
	claims   batch.Group[string, bool]
	endings  batch.Group[ending, struct{}]
	owner    string
	lease    time.Duration
	sweeping sync.WaitGroup // refreshes started by sweep

	// hosts are the hosts that answered 429, until when they asked to be
	// left alone; feedHints the last hints each source's feed gave, for
	// the 304s that do not repeat them. Both live in memory only: after a
	// restart a host's pause lives on in its sources' stored next times,
	// and a feed's hints come back with its next full fetch.
	mu        sync.Mutex
	hosts     map[string]time.Time
	feedHints map[string]normalize.Hints
	swept     map[string]bool // sources a sweep started and not finished
	// reconfigured are the sources whose fetching or processing the
	// config changed (see Reconfigured), and when that was noticed.
	reconfigured map[string]time.Time

	// outage tells, once, when every source fails the same way.
	outage outage
}

// New returns a Refresher for sources. Each source's Schedule must be a
// valid cron spec (the config fills in the default).
func New(sources []feed.Source, f fetcher, p parser, s itemStore, opts Options) (*Refresher, error) {
	r := &Refresher{
		sources:   sources,
		schedules: make(map[string]*spreadSchedule, len(sources)),
		locks:     make(map[string]*sync.Mutex, len(sources)),
		fetch:     f,
		parse:     p,
		store:     s,
		now:       opts.Now,
		log:       opts.Logger,
		secrets:   opts.Redactor,
		onChange:  opts.OnChange,

		fullTextLimit:  opts.FullTextLimit,
		fullTextBudget: opts.FullTextBudget,
		onHub:          opts.OnHub,
		backoffMax:     opts.BackoffMax,
		coord:          opts.Coordinator,
		onResult:       opts.OnResult,
		owner:          opts.Owner,
		lease:          opts.Lease,
		hosts:          make(map[string]time.Time),
		feedHints:      make(map[string]normalize.Hints),
		swept:          make(map[string]bool),
	}
	if r.lease <= 0 {
		r.lease = feed.DefaultLease
	}
	if r.coord != nil && r.owner == "" {
		return nil, errors.New("refresh: a coordinated refresher needs an owner name")
	}
	if r.backoffMax <= 0 {
		r.backoffMax = feed.DefaultBackoffMax
	}
	if r.fullTextBudget <= 0 {
		r.fullTextBudget = feed.DefaultFullTextBudget
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.log == nil {
		r.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = 4
	}
	r.workers = make(chan struct{}, workers)
	r.cpu = make(chan struct{}, runtime.GOMAXPROCS(0))
	for _, src := range sources {
		sched, err := parseSchedule(src.Schedule, src.Name)
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", src.Name, err)
		}
		r.schedules[src.Name] = sched
		r.locks[src.Name] = new(sync.Mutex)
	}
	return r, nil
}

// RefreshAll refreshes every source (or, with onlyDue, those never fetched
// or whose next time has passed) with bounded concurrency, and returns one
// Result per refreshed source in config order. OnChange runs once before it
// returns if anything changed.
func (r *Refresher) RefreshAll(ctx context.Context, onlyDue bool) []Result {
	var todo []feed.Source
	// Which sources are due is read from one query of every state, not
	// one per source; a refresh reads its source's state again anyway,
	// once it holds the source.
	var states map[string]feed.SourceState
	if onlyDue {
		all, err := r.store.States(ctx)
		if err != nil {
			r.log.Error("read source states", "err", err)
		}
		states = make(map[string]feed.SourceState, len(all))
		for _, st := range all {
			states[st.Name] = st
		}
	}
	for _, src := range r.sources {
		if onlyDue && !r.dueBy(src, states[src.Name]) {
			continue
		}
		todo = append(todo, src)
	}
	results := make([]Result, len(todo))
	// The states of the sources that answer 304 are saved together when
	// the pass ends (below), except when instances share the sources: a
	// state waiting for the end of the pass is one another instance
	// cannot see, and if this one dies before it is saved (or the pass
	// outlasts the lease), the source is taken over and fetched again.
	var batch *stateBatch
	if r.coord == nil {
		batch = new(stateBatch)
	}
	// The failures of a pass in which every source fails the same way
	// (no network) are told in one line, not one per source.
	p := new(pass)
	var wg sync.WaitGroup
	for i, src := range todo {
		wg.Go(func() { results[i] = r.refreshOne(ctx, src, batch, onlyDue, p) })
	}
	wg.Wait()
	r.endPass(ctx, p)
	// The sources that answered 304 are recorded together, in one
	// transaction: in a pass where most feeds did not change, that is one
	// commit instead of hundreds. (A WebSub push for one of them between
	// its 304 and this write would have its state fields overwritten with
	// the pass's; nothing of its items is lost, and the next refresh puts
	// the state right.)
	if sts := batch.take(); len(sts) > 0 {
		saveCtx, cancel := saveContext(ctx)
		err := r.store.SaveStates(saveCtx, sts)
		cancel()
		if err != nil {
			r.log.Error("save states", "sources", len(sts), "err", err)
			for i := range results {
				if results[i].NotModified && results[i].Err == nil {
					results[i].Err = err
				}
			}
		}
	}
	for _, res := range results {
		if res.Changed() && r.onChange != nil {
			r.onChange(ctx)
			break
		}
	}
	return results
}

// due reports whether src should be fetched now: it never was, or its URL
// changed in the config, or its stored next time has passed, or that time
// is later than anything the current schedule and the refresh policy could
// have planned after its last fetch (its schedule changed, say from weekly
// to hourly), or the config changed how it is fetched or its items are made
// since its last fetch (see Reconfigured). A gone source is never due, nor one whose host asked to be
// left alone (a 429).
func (r *Refresher) due(ctx context.Context, src feed.Source) (bool, error) {
	st, err := r.store.State(ctx, src.Name)
	if err != nil {
		return true, err
	}
	return r.dueBy(src, st), nil
}

// dueBy is due by the source's state st (the zero state for a source never
// fetched).
func (r *Refresher) dueBy(src feed.Source, st feed.SourceState) bool {
	now := r.now().UTC()
	// What is known about an old URL (validators, moves, gone) belongs
	// to it; the new one is fetched at once.
	st = st.For(src.URL)
	if _, _, paused := r.hostPause(st.FetchURL(src.URL), now); paused {
		return false
	}
	switch {
	case st.Gone:
		return false
	case st.LastFetch.IsZero() || st.NextFetch.IsZero() || !st.NextFetch.After(now):
		return true
	case r.reconfiguredSince(src.Name, st.LastFetch):
		return true
	}
	return st.NextFetch.After(r.latestPlan(src, st))
}

// latestPlan is the latest next time the refresh policy can give src after
// the last fetch recorded in st: the schedule's run after it, delayed by at most
// maxServerWait by hints (unless the source ignores them), or a backoff of
// at most BackoffMax (or a Retry-After of at most maxServerWait) when the
// source is failing.
func (r *Refresher) latestPlan(src feed.Source, st feed.SourceState) time.Time {
	sched := r.schedules[src.Name]
	latest := sched.After(st.LastFetch)
	if !src.IgnoreCache {
		latest = sched.At(latest.Add(maxServerWait))
	}
	if st.Failures > 0 {
		latest = later(latest, sched.At(st.LastFetch.Add(max(r.backoffMax, maxServerWait))))
	}
	return latest
}

// RefreshOne fetches, normalizes and stores one source and records the
// outcome in its state. Errors are returned in the Result (and logged), never
// raised: one failing source must not stop the others.
func (r *Refresher) RefreshOne(ctx context.Context, src feed.Source) Result {
	return r.refreshOne(ctx, src, nil, false, nil)
}

// stateBatch collects the states of the sources of a pass that answered
// 304, to be saved together when the pass ends.
type stateBatch struct {
	mu  sync.Mutex
	sts []feed.SourceState
}

func (b *stateBatch) add(st feed.SourceState) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sts = append(b.sts, st)
}

// take empties the batch and returns what it held; a nil batch holds
// nothing.
func (b *stateBatch) take() []feed.SourceState {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	sts := b.sts
	b.sts = nil
	return sts
}

// refreshOne is RefreshOne; with a batch (never when instances are
// coordinated), the state of a source that answered 304 goes into it
// instead of being saved at once. With onlyDue, a coordinated instance
// refreshes the source only if it is still due once its lease is held:
// another instance may have refreshed it just before. The lease is
// released only after the state is stored.
func (r *Refresher) refreshOne(ctx context.Context, src feed.Source, batch *stateBatch, onlyDue bool, p *pass) Result {
	select {
	case r.workers <- struct{}{}:
		defer func() { <-r.workers }()
	case <-ctx.Done():
		return Result{Source: src.Name, URL: src.URL, Err: ctx.Err()}
	}
	if mu := r.locks[src.Name]; mu != nil {
		mu.Lock()
		defer mu.Unlock()
	}
	ok, err := r.claim(ctx, src.Name)
	switch {
	case err != nil:
		return Result{Source: src.Name, URL: src.URL, Err: fmt.Errorf("claim %s: %w", src.Name, err)}
	case !ok:
		r.log.Debug("refresh skipped", "source", src.Name, "reason", otherInstance)
		return Result{Source: src.Name, URL: src.URL, Skipped: otherInstance}
	}
	// The state as it is once the source is held: another instance may
	// have just fetched it.
	held, err := r.store.State(ctx, src.Name)
	if err != nil {
		if r.coord != nil {
			r.settle(ctx, src.Name, nil) // a release only: nothing to save
		}
		return Result{Source: src.Name, URL: src.URL, Err: fmt.Errorf("read state of %s: %w", src.Name, err)}
	}
	if r.coord != nil && onlyDue && !r.dueBy(src, held) {
		// In doubt, another instance may have just fetched it: the next
		// tick or sweep tries again.
		r.settle(ctx, src.Name, nil) // a release only: nothing to save
		return Result{Source: src.Name, URL: src.URL, Skipped: otherInstance}
	}
	start := r.now()
	res, st := r.refresh(ctx, src, held, start.UTC(), batch)
	if r.coord != nil {
		// The state left to save is saved with the lease's end, in one
		// transaction shared with the other sources finishing now.
		if err := r.settle(ctx, src.Name, st); err != nil {
			res.Err = errors.Join(res.Err, fmt.Errorf("save state of %s: %w", src.Name, err))
		}
	}
	res.Duration = r.now().Sub(start)
	// Parsing and discovery errors may name URLs too.
	res.Err = r.secrets.Error(res.Err)
	attrs := []any{"source", src.Name, "url", r.redact(res.URL), "status", res.Status, "duration", res.Duration.Round(time.Millisecond)}
	r.logResult(ctx, res, attrs, p)
	if r.onResult != nil {
		r.onResult(res)
	}
	return res
}

// refresh refreshes src from its state st, as read once the source is
// held. It saves the state itself, except when instances are
// coordinated: then it returns the state it leaves to refreshOne to save
// with the end of the lease (nil when there is none to save).
func (r *Refresher) refresh(ctx context.Context, src feed.Source, st feed.SourceState, now time.Time, batch *stateBatch) (Result, *feed.SourceState) {
	res := Result{Source: src.Name, URL: src.URL}
	st.Name = src.Name
	if st.URL != src.URL {
		// The config points the source elsewhere: validators of the old
		// URL mean nothing to the new one (and could earn a wrong 304),
		// and where the old one moved, which feed its page advertised,
		// whether it is gone and how often it failed say nothing about
		// the new one either.
		st.URL, st.Validators = src.URL, feed.Validators{}
		st.Moved, st.Discovered, st.Gone, st.Failures = "", "", false, 0
	}
	res.URL = st.FetchURL(src.URL)
	if st.Gone {
		// Not fetched: the server said the feed is gone for good. The
		// state already says so; only a new URL brings the source back.
		res.Status = http.StatusGone
		res.Err = fmt.Errorf("%s: %w", r.redact(res.URL), ErrGone)
		return res, nil
	}
	if st.Rules != processingKey(src) {
		// The way items are made changed (full text, selectors,
		// rewrites): fetch the feed in full, so its items are made again
		// even if the feed itself did not change.
		st.Validators = feed.Validators{}
	}
	if host, until, paused := r.hostPause(res.URL, now); paused {
		res.Skipped = fmt.Sprintf("host %s asked to be left alone until %s (429 Too Many Requests)", host, until.Format(time.RFC3339))
		// The stored next time shows the wait, and keeps it across a
		// restart.
		if next := r.schedules[src.Name].At(until); next.After(st.NextFetch) {
			st.NextFetch, st.NextReason = next, feed.NextHostPaused
			if err := r.saveState(ctx, st); err != nil {
				res.Err = fmt.Errorf("save state of %s: %w", src.Name, err)
			}
		}
		return res, nil
	}

	due := st.NextFetch
	st.LastFetch = now
	h, err := r.pull(ctx, src, &st, &res, now)
	res.Err = err
	res.Cause = fetch.Cause(err)
	st.LastCause = res.Cause
	switch {
	case err == nil:
		st.LastError = ""
		st.LastSuccess = now
		if st.FirstSuccess.IsZero() {
			st.FirstSuccess = now
		}
	case ctx.Err() != nil:
		// Our own shutdown or deadline, not the source's fault: no
		// failure is counted, and the source stays due, so a restarted
		// daemon takes it up again at once.
		st.LastError = r.secrets.Text(err.Error())
		st.NextFetch = due
	default:
		st.LastError = r.secrets.Text(err.Error())
		res.TimedOut = errors.Is(err, context.DeadlineExceeded)
	}
	if err == nil || ctx.Err() == nil {
		r.plan(src, &st, h, err, now)
	}
	st.LastStatus = res.Status
	res.Failures = st.Failures
	st.LastDuration = r.now().Sub(now)
	st.LastNew, st.LastUpdated = res.New, res.Updated
	if batch != nil && res.NotModified && res.Err == nil {
		batch.add(st)
		return res, nil
	}
	if r.coord != nil {
		return res, &st
	}
	if err := r.saveState(ctx, st); err != nil {
		res.Err = errors.Join(res.Err, fmt.Errorf("save state of %s: %w", src.Name, err))
	}
	return res, nil
}

// saveTimeout bounds the saving of what a refresh found. It is counted from
// the moment the saving starts, never from the start of the refresh: the
// work before it may take as long as the fetch timeout plus the full-text
// budget, and its outcome (a timeout above all) must still be recorded.
const saveTimeout = 30 * time.Second

// saveContext is the context the outcome of work done on ctx is saved on:
// not cancelled with ctx (a shutdown that ends the refresh must still
// record what happened to it) and with a deadline of its own, from now.
func saveContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), saveTimeout)
}

// saveState stores st on a saveContext of ctx.
func (r *Refresher) saveState(ctx context.Context, st feed.SourceState) error {
	ctx, cancel := saveContext(ctx)
	defer cancel()
	return r.store.SaveState(ctx, st)
}

// pull does the fetch -> normalize -> full text -> clean -> store part,
// updating st's validators, location and feed metadata only once the items
// are safely stored. It returns what the server and the feed said about how
// often to fetch.
func (r *Refresher) pull(ctx context.Context, src feed.Source, st *feed.SourceState, res *Result, now time.Time) (hints, error) {
	got, err := r.fetchFeed(ctx, src, st, now)
	if got != nil {
		res.URL, res.Status = got.from, got.resp.Status
	}
	if err != nil {
		if se, ok := errors.AsType[*fetch.StatusError](err); ok {
			res.Status = se.Code
		}
		return hints{}, err
	}
	resp := got.resp
	h := hints{maxAge: resp.MaxAge}
	if resp.NotModified {
		res.NotModified = true
		st.Validators = resp.Validators
		r.noteMoved(src, st, got)
		h.feed = r.lastHints(src.Name)
		return h, nil
	}
	parsed := got.parsed
	h.feed = parsed.Hints
	prep, err := r.prepare(ctx, pageSource(src, got), parsed, now, true, st.ItemCount)
	if err != nil {
		// Validators are not kept: the next attempt must get the whole body
		// again, not a 304 for a body we could not read.
		return h, err
	}
	if res.SaveResult, err = r.save(ctx, src, st, parsed, prep, now); err != nil {
		return h, err
	}
	st.Validators = resp.Validators
	st.Rules = processingKey(src)
	r.noteMoved(src, st, got)
	r.setHints(src.Name, parsed.Hints)
	if r.onHub != nil {
		// WebSub discovery: HTTP Link headers first, then the document.
		hub, topic := resp.Link("hub"), resp.Link("self")
		if hub == "" {
			hub = parsed.Hub
		}
		if topic == "" {
			topic = parsed.Self
		}
		if topic == "" {
			topic = got.from
		}
		if hub != "" {
			r.onHub(ctx, src.Name, hub, topic)
		}
	}
	return h, nil
}

// save stores prepared items, cleans the source's stored items again when
// the learned furniture changed, and records the feed's metadata in st.
func (r *Refresher) save(ctx context.Context, src feed.Source, st *feed.SourceState, parsed *normalize.Feed, prep *prepared, now time.Time) (feed.SaveResult, error) {
	saved, err := r.store.SaveItems(ctx, src.Name, parsed.Items, src.Keep(), now)
	if err != nil {
		return saved, fmt.Errorf("store %s: %w", src.Name, err)
	}
	if key := prep.model.Key(); key != st.Furniture {
		// When nothing was stored before, every stored item is one just
		// cleaned with the model: there is nothing to read back.
		if !prep.first {
			n, err := r.reclean(ctx, src, prep.model, prep.trees, prep.cleaned, now)
			if err != nil {
				return saved, err
			}
			saved.Updated += n
		}
		st.Furniture = key
	}
	st.FeedTitle = parsed.Title
	st.FeedLink = parsed.Link
	return saved, nil
}

// prepare turns a normalized feed's items into the items to store: with
// full text where the source asks for it, and cleaned of the furniture the
// source's recent articles share. It returns the model it cleaned with.
// storedItems is how many items the source's state says are stored: none
// spares reading them (a source's first refresh).
func (r *Refresher) prepare(ctx context.Context, src feed.Source, parsed *normalize.Feed, now time.Time, useCache bool, storedItems int) (*prepared, error) {
	derived := derivedSummaries(parsed.Items)
	r.fullText(ctx, src, parsed.Items, now, useCache)
	for i := range parsed.Items {
		setRaw(&parsed.Items[i], derived[i])
	}
	var stored []feed.Item
	if storedItems > 0 {
		var err error
		if stored, err = r.recent(ctx, src.Name); err != nil {
			return nil, err
		}
	}
	var prep *prepared
	err := r.withCPU(ctx, func() {
		model, trees := boilerplate.LearnKeeping(window(parsed.Items, stored), parsed.Trees)
		prep = &prepared{model: model, trees: trees, cleaned: cleanFresh(model, trees, parsed.Items, stored), first: len(stored) == 0}
	})
	return prep, err
}

// withCPU runs fn, which is CPU-bound, once one of the CPU slots is free.
func (r *Refresher) withCPU(ctx context.Context, fn func()) error {
	select {
	case r.cpu <- struct{}{}:
		defer func() { <-r.cpu }()
	case <-ctx.Done():
		return ctx.Err()
	}
	fn()
	return nil
}

// normalize is the parser's Normalize run in a CPU slot.
func (r *Refresher) normalize(ctx context.Context, src feed.Source, body []byte, baseURL string, now time.Time) (parsed *normalize.Feed, err error) {
	if cerr := r.withCPU(ctx, func() { parsed, err = r.parse.Normalize(src, body, baseURL, now) }); cerr != nil {
		return nil, cerr
	}
	return parsed, err
}

// prepared is the outcome of prepare besides the items: the model they
// were cleaned with, and the ids of the items cleaned with it (not reusing
// a stored result), which reclean need not clean again.
type prepared struct {
	model   *boilerplate.Model
	trees   *boilerplate.Trees // the trees model was learned from, for cleaning
	cleaned map[string]bool
	// first says that the source had no stored items: every item it
	// will have is one of those cleaned.
	first bool
}

// pageSource is src as its items are made: the items of a web page's
// listing are completed from their article pages (their titles, dates,
// authors and text), as a full-text source's are. A page taken as the
// source because it advertises no feed is a web page source too (its
// type is html), so that its pages' dates and authors win as for one.
func pageSource(src feed.Source, got *fetched) feed.Source {
	if got.scraped != nil {
		src.Type = feed.TypeHTML
	}
	if got.scraped != nil && got.scraped.NeedPages {
		src.FullText = true
	}
	return src
}

// processingKey fingerprints every setting of a source that changes how its
// items are made from the feed: full text on or off, the extraction rules,
// all rewrites, and the type and item rules of a page or API source. (The
// last two enter only when set, so that the key of a plain feed source is
// the one older versions stored.)
func processingKey(src feed.Source) string {
	h := sha256.New()
	fmt.Fprintf(h, "%t\x00%s\x00", src.FullText, src.RulesKey())
	for _, r := range src.Rewrites {
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00", r.Field, r.Pattern, r.Replace)
	}
	if src.Type != "" {
		fmt.Fprintf(h, "type\x00%s\x00", src.Type)
	}
	if it := src.Items; it != nil {
		fmt.Fprintf(h, "items\x00%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00",
			it.Each, it.Title, it.Link, it.Date, it.DateFormat, it.Summary, it.Content, it.Image, it.Author)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
