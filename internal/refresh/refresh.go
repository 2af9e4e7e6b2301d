// Package refresh keeps the store up to date: for each source it fetches the
// feed (conditionally), normalizes it and saves the items, on a cron schedule
// spread per source, recording each attempt's outcome in the source's state.
package refresh

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/feedmill/feedmill/internal/boilerplate"
	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/fetch"
	"github.com/feedmill/feedmill/internal/normalize"
)

// fetcher gets a feed body, conditionally.
type fetcher interface {
	Fetch(ctx context.Context, url string, v feed.Validators) (*fetch.Response, error)
}

// parser turns a feed body into items, and an article page into content.
type parser interface {
	Normalize(src feed.Source, body []byte, baseURL string, now time.Time) (*normalize.Feed, error)
	Extract(src feed.Source, page []byte, pageURL string) (*normalize.Article, error)
}

// itemStore keeps items, per-source state and extracted articles.
type itemStore interface {
	SaveItems(ctx context.Context, source string, items []feed.Item, keep int, now time.Time) (feed.SaveResult, error)
	Items(ctx context.Context, q feed.Query) ([]feed.Item, error)
	State(ctx context.Context, source string) (feed.SourceState, error)
	SaveState(ctx context.Context, st feed.SourceState) error
	articleCache
}

// Options tune a Refresher. The zero value works.
type Options struct {
	// Workers bounds how many sources are refreshed at once (default 4).
	Workers int
	// OnChange is called after items were stored or pruned. Calls are
	// coalesced: while one runs, further changes make one more call, not
	// many. It is how the publisher learns to re-render.
	OnChange func(ctx context.Context)
	// FullTextLimit caps the article pages fetched per refresh of a
	// source (default DefaultFullTextLimit); FullTextBudget caps the time
	// they take (default DefaultFullTextBudget).
	FullTextLimit  int
	FullTextBudget time.Duration
	// OnHub is called after a successful full fetch of a source whose feed
	// advertises a WebSub hub, with the topic to subscribe to (the feed's
	// self URL, else the source URL). The app subscribes where the config
	// asks for it.
	OnHub func(ctx context.Context, source, hub, topic string)
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Result is the outcome of refreshing one source.
type Result struct {
	Source      string
	URL         string
	Status      int // HTTP status, 0 when no response arrived
	NotModified bool
	feed.SaveResult
	Err      error
	Duration time.Duration
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
	now     func() time.Time
	log     *slog.Logger

	onChange func(ctx context.Context)

	fullTextLimit  int
	fullTextBudget time.Duration
	onHub          func(ctx context.Context, source, hub, topic string)
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
		onChange:  opts.OnChange,

		fullTextLimit:  opts.FullTextLimit,
		fullTextBudget: opts.FullTextBudget,
		onHub:          opts.OnHub,
	}
	if r.fullTextLimit <= 0 {
		r.fullTextLimit = DefaultFullTextLimit
	}
	if r.fullTextBudget <= 0 {
		r.fullTextBudget = DefaultFullTextBudget
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
	for _, src := range r.sources {
		if onlyDue {
			due, err := r.due(ctx, src)
			if err != nil {
				r.log.Error("read source state", "source", src.Name, "err", err)
			}
			if !due && err == nil {
				continue
			}
		}
		todo = append(todo, src)
	}
	results := make([]Result, len(todo))
	var wg sync.WaitGroup
	for i, src := range todo {
		wg.Go(func() { results[i] = r.RefreshOne(ctx, src) })
	}
	wg.Wait()
	for _, res := range results {
		if res.Changed() && r.onChange != nil {
			r.onChange(ctx)
			break
		}
	}
	return results
}

// due reports whether src should be fetched now: it never was, its stored
// next time has passed, or its schedule changed so that the stored time is
// later than the schedule now says.
func (r *Refresher) due(ctx context.Context, src feed.Source) (bool, error) {
	st, err := r.store.State(ctx, src.Name)
	if err != nil {
		return true, err
	}
	now := r.now().UTC()
	if st.LastFetch.IsZero() || st.NextFetch.IsZero() || !st.NextFetch.After(now) {
		return true, nil
	}
	return st.NextFetch.After(r.schedules[src.Name].Next(now)), nil
}

// RefreshOne fetches, normalizes and stores one source and records the
// outcome in its state. Errors are returned in the Result (and logged), never
// raised: one failing source must not stop the others.
func (r *Refresher) RefreshOne(ctx context.Context, src feed.Source) Result {
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
	start := r.now()
	res := r.refresh(ctx, src, start.UTC())
	res.Duration = r.now().Sub(start)
	attrs := []any{"source", src.Name, "url", src.URL, "status", res.Status, "duration", res.Duration.Round(time.Millisecond)}
	switch {
	case res.Err != nil:
		r.log.Warn("refresh failed", append(attrs, "err", res.Err)...)
	case res.NotModified:
		r.log.Info("refresh not modified", attrs...)
	default:
		r.log.Info("refreshed", append(attrs, "new", res.New, "updated", res.Updated, "pruned", res.Pruned)...)
	}
	return res
}

func (r *Refresher) refresh(ctx context.Context, src feed.Source, now time.Time) Result {
	res := Result{Source: src.Name, URL: src.URL}
	st, err := r.store.State(ctx, src.Name)
	if err != nil {
		res.Err = err
		return res
	}
	st.Name = src.Name
	if st.URL != src.URL {
		// The config points the source elsewhere: validators of the old
		// URL mean nothing to the new one (and could earn a wrong 304).
		st.URL, st.Validators = src.URL, feed.Validators{}
	}
	if st.Rules != processingKey(src) {
		// The way items are made changed (full text, selectors,
		// rewrites): fetch the feed in full, so its items are made again
		// even if the feed itself did not change.
		st.Validators = feed.Validators{}
	}
	st.LastFetch = now
	if sched := r.schedules[src.Name]; sched != nil {
		st.NextFetch = sched.Next(now)
	}

	res.Err = r.pull(ctx, src, &st, &res, now)
	if res.Err != nil {
		st.LastError = res.Err.Error()
	} else {
		st.LastError = ""
		st.LastSuccess = now
		if st.FirstSuccess.IsZero() {
			st.FirstSuccess = now
		}
	}
	st.LastStatus = res.Status
	// The state is saved on a context of its own: a shutdown that cancels
	// the refresh must still record what happened to it.
	saveCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := r.store.SaveState(saveCtx, st); err != nil {
		res.Err = errors.Join(res.Err, fmt.Errorf("save state of %s: %w", src.Name, err))
	}
	return res
}

// pull does the fetch -> normalize -> full text -> clean -> store part,
// updating st's validators and feed metadata only once the items are safely
// stored.
func (r *Refresher) pull(ctx context.Context, src feed.Source, st *feed.SourceState, res *Result, now time.Time) error {
	resp, err := r.fetch.Fetch(ctx, src.URL, st.Validators)
	if err != nil {
		if se, ok := errors.AsType[*fetch.StatusError](err); ok {
			res.Status = se.Code
		}
		return err
	}
	res.Status = resp.Status
	if resp.NotModified {
		res.NotModified = true
		st.Validators = resp.Validators
		return nil
	}
	parsed, model, err := r.prepare(ctx, src, resp, now, true)
	if err != nil {
		// Validators are not kept: the next attempt must get the whole body
		// again, not a 304 for a body we could not read.
		return err
	}
	if res.SaveResult, err = r.save(ctx, src, st, parsed, model, now); err != nil {
		return err
	}
	st.Validators = resp.Validators
	st.Rules = processingKey(src)
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
			topic = src.URL
		}
		if hub != "" {
			r.onHub(ctx, src.Name, hub, topic)
		}
	}
	return nil
}

// save stores prepared items, cleans the source's stored items again when
// the learned furniture changed, and records the feed's metadata in st.
func (r *Refresher) save(ctx context.Context, src feed.Source, st *feed.SourceState, parsed *normalize.Feed, model *boilerplate.Model, now time.Time) (feed.SaveResult, error) {
	saved, err := r.store.SaveItems(ctx, src.Name, parsed.Items, src.Keep(), now)
	if err != nil {
		return saved, fmt.Errorf("store %s: %w", src.Name, err)
	}
	if key := model.Key(); key != st.Furniture {
		n, err := r.reclean(ctx, src, model, now)
		if err != nil {
			return saved, err
		}
		saved.Updated += n
		st.Furniture = key
	}
	st.FeedTitle = parsed.Title
	st.FeedLink = parsed.Link
	return saved, nil
}

// prepare turns a fetched feed into the items to store: normalized, with
// full text where the source asks for it, and cleaned of the furniture the
// source's recent articles share. It returns the model it cleaned with.
func (r *Refresher) prepare(ctx context.Context, src feed.Source, resp *fetch.Response, now time.Time, useCache bool) (*normalize.Feed, *boilerplate.Model, error) {
	parsed, err := r.parse.Normalize(src, resp.Body, resp.URL, now)
	if err != nil {
		return nil, nil, err
	}
	derived := derivedSummaries(parsed.Items)
	r.fullText(ctx, src, parsed.Items, now, useCache)
	for i := range parsed.Items {
		setRaw(&parsed.Items[i], derived[i])
	}
	model, err := r.learn(ctx, src.Name, parsed.Items)
	if err != nil {
		return nil, nil, err
	}
	for i := range parsed.Items {
		clean(model, &parsed.Items[i])
	}
	return parsed, model, nil
}

// processingKey fingerprints every setting of a source that changes how its
// items are made from the feed: full text on or off, the extraction rules
// and all rewrites.
func processingKey(src feed.Source) string {
	h := sha256.New()
	fmt.Fprintf(h, "%t\x00%s\x00", src.FullText, src.RulesKey())
	for _, r := range src.Rewrites {
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00", r.Field, r.Pattern, r.Replace)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
