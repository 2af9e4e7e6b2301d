package refresh

import (
	"context"
	"time"
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
	// Release ends owner's lease on a source.
	Release(ctx context.Context, owner, name string) error
	// ClaimKey and ReleaseKey do the same for any other piece of work.
	ClaimKey(ctx context.Context, owner, key string, now time.Time, lease time.Duration) (bool, error)
	ReleaseKey(ctx context.Context, owner, key string) error
}

// otherInstance is the Skipped reason of a source another instance holds.
const otherInstance = "refreshed by another instance"

// claim leases src to this instance when instances are coordinated; it
// reports whether this instance may refresh it. Without a coordinator every
// source is this instance's.
func (r *Refresher) claim(ctx context.Context, name string) (bool, error) {
	if r.coord == nil {
		return true, nil
	}
	return r.coord.Claim(ctx, r.owner, name, r.now().UTC(), r.lease)
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
