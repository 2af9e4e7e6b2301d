package refresh

import (
	"context"
	"fmt"
	"log/slog"
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
