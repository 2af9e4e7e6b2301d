package refresh

import (
	"context"
	"slices"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
)

// Coordinator lets several feedmill instances share one store and its
// sources: an instance works on a source, or fetches an article page, only
// while it holds that thing's lease in the store. A lease ends when its
// holder releases it or, if the holder died, when it expires, after which
// another instance takes the work over. The store implements it (with
// SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL).
type Coordinator interface {
	// ClaimDue leases to owner up to limit of the named sources that are
	// due by their stored next time and not leased by another owner, and
	// returns them.
	ClaimDue(ctx context.Context, owner string, names []string, now time.Time, lease time.Duration, limit int) ([]string, error)
	// Claim leases one source to owner unless another owner holds it.
	Claim(ctx context.Context, owner, name string, now time.Time, lease time.Duration) (bool, error)
	// ClaimAll does what Claim does for several sources, in one
	// transaction, and returns those it leased.
	ClaimAll(ctx context.Context, owner string, names []string, now time.Time, lease time.Duration) ([]string, error)
	// Release ends owner's lease on a source.
	Release(ctx context.Context, owner, name string) error
	// SaveStatesAndRelease saves states and then ends owner's leases on
	// the named sources, in one transaction.
	SaveStatesAndRelease(ctx context.Context, owner string, sts []feed.SourceState, release []string) error
	// ClaimKey and ReleaseKey do the same for any other piece of work.
	ClaimKey(ctx context.Context, owner, key string, now time.Time, lease time.Duration) (bool, error)
	ReleaseKey(ctx context.Context, owner, key string) error
}

// otherInstance is the Skipped reason of a source another instance holds.
const otherInstance = "refreshed by another instance"

// claim leases src to this instance when instances are coordinated; it
// reports whether this instance may refresh it. Without a coordinator every
// source is this instance's. The sources claimed at the same moment by
// the workers are claimed together, in one transaction (see group).
func (r *Refresher) claim(ctx context.Context, name string) (bool, error) {
	if r.coord == nil {
		return true, nil
	}
	return r.claims.Do(name, func(names []string) ([]bool, error) {
		got, err := r.coord.ClaimAll(ctx, r.owner, names, r.now().UTC(), r.lease)
		if err != nil {
			return nil, err
		}
		oks := make([]bool, len(names))
		for i, name := range names {
			_, oks[i] = slices.BinarySearch(got, name)
		}
		return oks, nil
	})
}

// ending is a source whose lease ends, with the state to save first (nil
// for none).
type ending struct {
	name string
	st   *feed.SourceState
}

// settle saves st, when not nil, and ends this instance's lease on the
// source name, in one transaction with the other sources whose refreshes
// end at the same moment; the lease is never ended before the state is
// stored. Like saveState it runs on a context a shutdown does not cancel.
// When the save fails, the leases are still ended, one by one.
func (r *Refresher) settle(ctx context.Context, name string, st *feed.SourceState) error {
	_, err := r.endings.Do(ending{name, st}, func(es []ending) ([]struct{}, error) {
		sts := make([]feed.SourceState, 0, len(es))
		names := make([]string, len(es))
		for i, e := range es {
			names[i] = e.name
			if e.st != nil {
				sts = append(sts, *e.st)
			}
		}
		sctx, cancel := saveContext(ctx)
		defer cancel()
		err := r.coord.SaveStatesAndRelease(sctx, r.owner, sts, names)
		if err != nil {
			for _, name := range names {
				r.release(ctx, name)
			}
			return nil, err
		}
		return make([]struct{}, len(es)), nil
	})
	return err
}

// release ends this instance's lease on a source, on a context of its own:
// a shutdown must still hand the source back rather than leave it to
// expire.
func (r *Refresher) release(ctx context.Context, name string) {
	if r.coord != nil {
		r.endLease(ctx, "source", name, r.coord.Release)
	}
}

// endLease ends this instance's lease on the source or key name with end,
// on a context of its own that a shutdown does not cancel. A failure is
// logged: the lease expires by itself, and until then other instances
// leave the work alone.
func (r *Refresher) endLease(ctx context.Context, what, name string, end func(ctx context.Context, owner, name string) error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := end(ctx, r.owner, name); err != nil {
		r.log.Warn("release lease", what, name, "err", err)
	}
}

// claimKey leases another piece of work (an article page) to this
// instance when instances are coordinated.
func (r *Refresher) claimKey(ctx context.Context, key string) (bool, error) {
	if r.coord == nil {
		return true, nil
	}
	return r.coord.ClaimKey(ctx, r.owner, key, r.now().UTC(), r.lease)
}

// releaseKey ends this instance's lease on key.
func (r *Refresher) releaseKey(ctx context.Context, key string) {
	if r.coord != nil {
		r.endLease(ctx, "key", key, r.coord.ReleaseKey)
	}
}

// sweepInterval is how often a coordinated instance looks for due sources
// nobody holds: those whose scheduled tick fell to an instance that died.
func (r *Refresher) sweepInterval() time.Duration {
	return min(max(r.lease/8, time.Second), 15*time.Second)
}

// sweep claims the due sources no instance holds, up to the free workers,
// and refreshes them; changed is told when one of them changed. The
// sources an earlier sweep took and has not finished are left out of the
// claim: this instance's own leases on them would count towards the limit
// and take the places of others.
func (r *Refresher) sweep(ctx context.Context, changed func()) {
	names := make([]string, 0, len(r.sources))
	r.mu.Lock()
	for _, src := range r.sources {
		if !r.swept[src.Name] {
			names = append(names, src.Name)
		}
	}
	r.mu.Unlock()
	claimed, err := r.coord.ClaimDue(ctx, r.owner, names, r.now().UTC(), r.lease, cap(r.workers))
	if err != nil {
		if ctx.Err() == nil {
			r.log.Error("claim due sources", "err", err)
		}
		return
	}
	for _, name := range claimed {
		src, ok := r.source(name)
		if !ok {
			continue
		}
		// Only this loop adds to swept, and it left out what was there.
		r.mu.Lock()
		r.swept[name] = true
		r.mu.Unlock()
		r.sweeping.Go(func() {
			defer func() {
				r.mu.Lock()
				delete(r.swept, name)
				r.mu.Unlock()
			}()
			if res := r.refreshOne(ctx, src, nil, true, nil); res.Changed() {
				changed()
			}
		})
	}
}
