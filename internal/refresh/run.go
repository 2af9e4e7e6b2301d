package refresh

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/feedmill/feedmill/internal/feed"
)

// Run refreshes every due source at once, then each source on its own
// schedule, skipping the runs before its next planned attempt, until ctx
// is cancelled. It returns after in-flight refreshes have
// seen the cancellation and finished. It has no error to return: each
// source's failure is its own, recorded in its state, reported to
// OnResult and logged, and never stops the others.
func (r *Refresher) Run(ctx context.Context) {
	// Changes found by scheduled jobs are coalesced into OnChange calls by
	// one loop: a burst of sources finishing together costs one re-render.
	changed := make(chan struct{}, 1)
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		for {
			select {
			case <-ctx.Done():
				return
			case <-changed:
				if r.onChange != nil {
					r.onChange(ctx)
				}
			}
		}
	}()

	notify := func() {
		select {
		case changed <- struct{}{}:
		default: // one call is pending already
		}
	}
	c := cron.New(
		cron.WithLocation(time.UTC),
		cron.WithLogger(cronLogger{r.log}),
		// A source whose refresh outlasts its interval is skipped, not
		// stacked: the next run starts only when the previous one ended.
		cron.WithChain(cron.Recover(cronLogger{r.log}), cron.SkipIfStillRunning(cronLogger{r.log})),
	)
	for _, src := range r.sources {
		c.Schedule(r.schedules[src.Name], cron.FuncJob(func() {
			if res, ran := r.scheduled(ctx, src); ran && res.Changed() {
				notify()
			}
		}))
	}

	// Sources that are due now are refreshed before the scheduler starts,
	// so a cron tick cannot run one of them a second time in parallel.
	r.RefreshAll(ctx, true)
	if ctx.Err() == nil {
		c.Start()
		r.logNext()
		if r.coord != nil {
			r.sweepLoop(ctx, notify)
		}
		<-ctx.Done()
	}
	<-c.Stop().Done() // waits for running jobs, which see ctx cancelled
	r.sweeping.Wait()
	<-loopDone
}

// Pass is a refresh asked for off the schedule (`feedmill fetch`): which
// sources, and whether the waits they earned still hold.
type Pass struct {
	// Sources names the sources to refresh, in any order; none refreshes
	// every source. A name the refresher does not know gets a failed
	// Result.
	Sources []string
	// Force fetches the sources even while they wait for a backoff, a
	// server's Retry-After or their host's 429.
	Force bool
}

// RefreshNow refreshes the sources of req at once, whatever their
// schedule and their servers' cache hints say: whoever asks for a source
// by hand wants it now, and a conditional request costs the server little.
// What a source earned by failing or by its server asking for a pause
// still holds unless req.Force: a source whose backoff or Retry-After
// has not ended, and every source of a host that answered 429 while that
// pause lasts, is not fetched and gets a Result saying why (Skipped). With
// a Coordinator, a source another instance is refreshing is skipped too,
// so that two processes never fetch one source at once. It returns one
// Result per source in config order (unknown names last), and calls
// OnChange once before it returns if anything changed.
func (r *Refresher) RefreshNow(ctx context.Context, req Pass) []Result {
	var todo []feed.Source
	for _, src := range r.sources {
		if len(req.Sources) == 0 || slices.Contains(req.Sources, src.Name) {
			todo = append(todo, src)
		}
	}
	results := make([]Result, len(todo), len(todo)+len(req.Sources))
	for _, name := range req.Sources {
		if _, ok := r.source(name); !ok && !slices.ContainsFunc(results[len(todo):], func(res Result) bool { return res.Source == name }) {
			results = append(results, Result{Source: name, Err: fmt.Errorf("unknown source %q", name)})
		}
	}
	now := r.now().UTC()
	if !req.Force {
		r.pauseStoredHosts(ctx, now)
	}
	// As in a scheduled pass, every source failing the same way (no
	// network) is told in one line.
	p := new(pass)
	var wg sync.WaitGroup
	for i, src := range todo {
		wg.Go(func() {
			if !req.Force {
				if res, held := r.waiting(ctx, src, now); held {
					r.skipped(res)
					results[i] = res
					return
				}
			}
			results[i] = r.refreshOne(ctx, src, nil, false, p)
		})
	}
	wg.Wait()
	r.endPass(ctx, p)
	if r.onChange != nil && slices.ContainsFunc(results, Result.Changed) {
		r.onChange(ctx)
	}
	return results
}

// Waiting reports whether the source was skipped for a wait it or its
// host earned (a backoff, a Retry-After, a 429), which Pass.Force would
// have overridden, rather than because another instance was refreshing it.
func (res Result) Waiting() bool { return res.Skipped != "" && res.Skipped != otherInstance }

// pauseStoredHosts takes up the pauses that hosts asked for by a 429 as
// their sources' stored states record them: a process that starts (a
// `feedmill fetch` beside a daemon) knows nothing of the 429s the daemon
// got. A host is left alone until the source that got the 429 is tried
// again, the longest the pause can have been. A state that cannot be read
// pauses nothing: the fetch itself then reports the store's trouble.
func (r *Refresher) pauseStoredHosts(ctx context.Context, now time.Time) {
	for _, src := range r.sources {
		st, err := r.store.State(ctx, src.Name)
		if err != nil {
			continue
		}
		if st.Condition(src.URL, now) == feed.Paused {
			r.pauseHost(st.FetchURL(src.URL), st.NextFetch)
		}
	}
}

// waiting reports whether src must wait, by its stored state at now, for
// the end of a backoff or of a Retry-After, and the Result that says so.
// A state that cannot be read holds nothing back: the refresh reports it.
func (r *Refresher) waiting(ctx context.Context, src feed.Source, now time.Time) (Result, bool) {
	st, err := r.store.State(ctx, src.Name)
	if err != nil {
		return Result{}, false
	}
	st = st.For(src.URL)
	if st.Gone || st.Failures == 0 || !st.NextFetch.After(now) {
		return Result{}, false
	}
	res := Result{Source: src.Name, URL: st.FetchURL(src.URL), Status: st.LastStatus, Failures: st.Failures}
	res.Skipped = fmt.Sprintf("waiting after %d failed attempts until %s", st.Failures, st.NextFetch.UTC().Format(time.RFC3339))
	if st.Failures == 1 {
		res.Skipped = fmt.Sprintf("waiting after a failed attempt until %s", st.NextFetch.UTC().Format(time.RFC3339))
	}
	return res, true
}

// skipped logs and reports a source a pass left alone, as refreshOne does
// for those it tried.
func (r *Refresher) skipped(res Result) {
	r.log.Info("refresh skipped", "source", res.Source, "url", r.redact(res.URL), "reason", res.Skipped)
	if r.onResult != nil {
		r.onResult(res)
	}
}

// scheduled is the job of a cron tick of src: cron ticks on the plain
// schedule, and a source whose stored next time is later (just fetched, a
// backoff, a server's hints, a host's 429, a 410) sits the tick out. A
// state that cannot be read does not stop it. It reports whether src was
// refreshed (or found refreshed by another instance) and how.
func (r *Refresher) scheduled(ctx context.Context, src feed.Source) (Result, bool) {
	due, err := r.due(ctx, src)
	if err != nil {
		r.log.Error("read source state", "source", src.Name, "err", err)
	}
	if !due && err == nil {
		// A tick that a fetch off the schedule stood for (at start, or a
		// takeover), or one another instance already served.
		r.log.Debug("scheduled run not due", "source", src.Name)
		return Result{}, false
	}
	return r.refreshOne(ctx, src, nil, true, nil), true
}

// sweepLoop sweeps (see sweep) until ctx is cancelled. Each instance's
// cron ticks each source on time; the sweep is what takes over the sources
// of an instance that died holding them, once their leases expired.
func (r *Refresher) sweepLoop(ctx context.Context, changed func()) {
	t := time.NewTicker(r.sweepInterval())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.sweep(ctx, changed)
		}
	}
}

func (r *Refresher) logNext() {
	now := r.now().UTC()
	for _, src := range r.sources {
		r.log.Debug("scheduled", "source", src.Name, "schedule", src.Schedule, "next", r.schedules[src.Name].Next(now))
	}
}

// cronLogger adapts slog to robfig/cron's logger; cron's routine chatter goes
// to debug level.
type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) { l.log.Debug("cron: "+msg, kv...) }

func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error(fmt.Sprintf("cron: %s", msg), append(kv, "err", err)...)
}
