package refresh

import (
	"fmt"
	"hash/fnv"
	"time"

	"github.com/robfig/cron/v3"
)

// maxSpread bounds how far a source's runs are shifted from the times its
// cron spec names. A spec like "*/15 * * * *" is spread over its whole
// interval, but "0 9 * * *" should still run at about nine, not at any time
// of the day.
const maxSpread = 15 * time.Minute

// spreadSchedule is a cron.Schedule shifted by a stable per-source offset, so
// that 500 sources on "*/15" do not all fire in the same second, and the
// same source fires at the same moments across restarts.
//
// robfig/cron has no jitter of its own and counts "@every" from the moment
// the scheduler starts; spreadSchedule instead lays "@every d" on a fixed
// grid (multiples of d since the zero time, plus the offset), so the next
// run after a stored last fetch is the same whether or not the process
// restarted in between.
type spreadSchedule struct {
	spec   cron.Schedule
	every  time.Duration // non-zero for "@every" specs
	offset time.Duration
	// period is the shortest gap between two runs (zero for a spec that
	// never fires twice): the normal interval a failing source's backoff
	// starts from.
	period time.Duration
}

// parseSchedule parses a cron spec (five fields or a descriptor such as
// "@every 10m" or "@hourly") and spreads it for the named source. Times are
// interpreted in UTC unless the spec says CRON_TZ=.
func parseSchedule(spec, source string) (*spreadSchedule, error) {
	parsed, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %w", spec, err)
	}
	s := &spreadSchedule{spec: parsed}
	window := maxSpread
	if cd, ok := parsed.(cron.ConstantDelaySchedule); ok {
		s.every, s.period = cd.Delay, cd.Delay
		window = cd.Delay // spreading over the whole period changes nothing a user can see
	} else {
		s.period = interval(parsed)
		window = min(window, s.period)
	}
	if window > 0 {
		s.offset = time.Duration(stableHash(source) % uint64(window))
		s.offset = s.offset.Truncate(time.Second)
	}
	return s, nil
}

// Next returns the first run time strictly after t, in UTC.
func (s *spreadSchedule) Next(t time.Time) time.Time {
	t = t.UTC()
	if s.every > 0 {
		// Grid points are offset + k*every; Truncate counts from the zero
		// time, which makes the grid independent of when we started.
		return t.Add(-s.offset).Truncate(s.every).Add(s.every + s.offset)
	}
	next := s.spec.Next(t.Add(-s.offset))
	if next.IsZero() { // a spec that never fires again, like Feb 30
		return next
	}
	return next.Add(s.offset).UTC()
}

// At returns the first run time at or after t, in UTC. A wait computed by
// the refresh policy (a backoff, a server's hint) is rounded up to a run
// with it, so the run it names is one the cron scheduler really makes. It
// returns t itself for a spec that never fires again.
func (s *spreadSchedule) At(t time.Time) time.Time {
	// Runs fall on whole seconds: the first run strictly after t-1ns is
	// the first at or after t.
	next := s.Next(t.Add(-time.Nanosecond))
	if next.IsZero() {
		return t.UTC()
	}
	return next
}

// After returns the run that follows an attempt at t: the first run at
// least half an interval after t. A run made on time is followed by the
// next one, as with Next; a run made off the schedule (the pass at start,
// a source taken over, a run delayed by a busy machine) stands for the
// run it was late for or early to, so the source is not fetched again
// seconds later because a run time falls just after it. A spec that never
// fires twice has no interval: After is Next.
func (s *spreadSchedule) After(t time.Time) time.Time {
	if s.period <= 0 {
		return s.Next(t)
	}
	return s.At(t.Add(s.period / 2))
}

// interval estimates the shortest gap between two runs of a schedule,
// sampled from a fixed reference week so the result does not depend on
// the current time.
func interval(s cron.Schedule) time.Duration {
	ref := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC) // a Monday
	shortest := time.Duration(0)
	t := s.Next(ref)
	for range 16 {
		if t.IsZero() {
			break
		}
		n := s.Next(t)
		if n.IsZero() {
			break
		}
		if d := n.Sub(t); shortest == 0 || d < shortest {
			shortest = d
		}
		t = n
	}
	return shortest
}

func stableHash(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}
