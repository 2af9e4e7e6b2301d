// Package heapfloor lets a program's heap grow to a floor before the
// garbage collector runs, however little of it is live.
//
// With GOGC's default, a collection starts once the heap has doubled
// what the last one found live (and at 4 MB at the least). feedmill keeps
// little live between requests and refreshes (a few MB: the published
// snapshots, and what its libraries build when the program starts), but
// allocates fast while it serves or parses, so it collected many times a
// second and walked the same few megabytes each time: a tenth of a cold
// refresh's CPU, and most of what serving a feed cost beyond Go's HTTP
// stack. Go has a ceiling for the heap (GOMEMLIMIT) and no floor; Set
// makes one by raising GOGC's percentage after each collection as far as
// the floor needs, and no lower than it was. A heap whose live part
// outgrows half the floor is collected as before.
package heapfloor

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// Default is the floor feedmill runs with (see cmd/feedmill; the
// benchmarks of a refresh run with it too, as the daemon does): 64 MiB,
// a few times what a daemon serving a few hundred sources keeps live, and
// what a single refresh pass of a thousand feeds does not outgrow.
const Default = 64 << 20

// runtimeMinimum is the Go runtime's smallest heap goal at GOGC=100 (4
// MiB); it scales with the percentage, which must therefore stay at or
// below floor*100/runtimeMinimum for a small heap's goal to be the floor
// and not more.
const runtimeMinimum = 4 << 20

// liveMetric is the heap the last collection found live.
const liveMetric = "/gc/heap/live:bytes"

// Set keeps the collector's heap goal at floor bytes or more, until
// restore puts GOGC's percentage back as it found it. It does nothing
// (nor does restore) when the GOGC environment variable is set, which is
// the operator's choice, or when collection is off. GOMEMLIMIT, when set,
// still caps the heap. Call it once, from main: the collector's settings
// belong to the whole process.
func Set(floor uint64) (restore func()) {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	base := debug.SetGCPercent(100)
	debug.SetGCPercent(base)
	if base < 0 {
		return func() {}
	}
	t := &tuner{floor: floor, base: base, sample: []metrics.Sample{{Name: liveMetric}}}
	t.adjust()
	t.arm()
	return t.stop
}

// tuner adjusts GOGC's percentage after each collection.
type tuner struct {
	floor   uint64
	base    int
	mu      sync.Mutex
	stopped bool
	sample  []metrics.Sample // guarded by mu
}

// sentinel is an object made only to be collected: its cleanup runs once
// per collection. It holds a pointer so that the allocator never batches
// it with other small objects (whose cleanups may then never run).
type sentinel struct{ _ *byte }

// arm asks to adjust after the next collection, and to arm again then.
func (t *tuner) arm() {
	runtime.AddCleanup(new(sentinel), func(t *tuner) {
		if t.adjust() {
			t.arm()
		}
	}, t)
}

// adjust sets GOGC's percentage for the heap found live, and reports
// whether the tuner still runs.
func (t *tuner) adjust() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return false
	}
	metrics.Read(t.sample)
	var live uint64
	if s := t.sample[0]; s.Value.Kind() == metrics.KindUint64 {
		live = s.Value.Uint64()
	}
	debug.SetGCPercent(percent(t.floor, live, t.base))
	return true
}

func (t *tuner) stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.stopped {
		t.stopped = true
		debug.SetGCPercent(t.base)
	}
}

// percent is the GOGC percentage that puts the heap goal of live bytes at
// floor or more, never below base. A heap so small (or not measured yet)
// that the runtime's minimum would make the goal more than the floor gets
// the percentage whose minimum is the floor.
func percent(floor, live uint64, base int) int {
	if live >= floor {
		return base
	}
	p := (floor - live) * 100 / max(live, 1)
	return max(base, int(min(p, floor*100/runtimeMinimum)))
}
