package refresh

import (
	"slices"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
)

// Reconfigured compares r's sources with how the previous config had them
// (old) and makes due at once those whose fetching or processing changed
// (see Refetch): a user who fixes a source's URL or selectors wants to see
// the result now, not at its next scheduled time, which may be hours away.
// It returns their names in r's order. Sources old lacks are left out: never
// fetched, they are due anyway.
//
// Each is due until a refresh of it starts after this call, whatever its
// outcome: a fetch that fails then backs off as usual, and instances
// sharing the store that reloaded the same file fetch it once between them
// (unless one noticed the change only after another's refresh started).
// Call it before Run.
func (r *Refresher) Reconfigured(old []feed.Source) []string {
	now := r.now()
	var names []string
	for _, src := range r.sources {
		i := slices.IndexFunc(old, func(o feed.Source) bool { return o.Name == src.Name })
		if i >= 0 && Refetch(old[i], src) {
			names = append(names, src.Name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.reconfigured == nil {
		r.reconfigured = make(map[string]time.Time, len(names))
	}
	for _, n := range names {
		r.reconfigured[n] = now
	}
	return names
}

// Refetch reports whether a source configured as old and now as next must
// be fetched again at once: its URL or type changed, or anything of how
// its items are made (item rules, content selectors, rewrites, full text).
// Its title, categories, schedule, retention and priority take effect
// without a fetch.
func Refetch(old, next feed.Source) bool {
	return old.URL != next.URL || old.Type != next.Type || processingKey(old) != processingKey(next)
}

// reconfiguredSince reports whether Reconfigured named source after
// lastFetch, the start of its last refresh.
func (r *Refresher) reconfiguredSince(source string, lastFetch time.Time) bool {
	r.mu.Lock()
	at, ok := r.reconfigured[source]
	r.mu.Unlock()
	return ok && lastFetch.Before(at.Truncate(time.Microsecond))
}
