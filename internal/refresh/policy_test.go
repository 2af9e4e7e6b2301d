package refresh

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/normalize"
)

func TestBackoff(t *testing.T) {
	const limit = 24 * time.Hour
	tests := []struct {
		name     string
		base     time.Duration
		failures int
		want     time.Duration // before jitter
	}{
		{"first failure waits a quarter interval", time.Hour, 1, 15 * time.Minute},
		{"second doubles", time.Hour, 2, 30 * time.Minute},
		{"fifth", time.Hour, 5, 4 * time.Hour},
		{"capped", time.Hour, 10, limit},
		{"capped for ever", time.Hour, math.MaxInt, limit},
		{"a tiny interval starts at a minute", time.Second, 1, time.Minute},
		{"zero interval", 0, 3, 4 * time.Minute},
		{"an interval over the cap", 192 * time.Hour, 1, limit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, source := range []string{"a", "b", "c", "long-source-name"} {
				got := backoff(tt.base, limit, tt.failures, source)
				lo, hi := time.Duration(float64(tt.want)*0.8), min(time.Duration(float64(tt.want)*1.2), limit)
				if got < lo || got > hi {
					t.Errorf("backoff(%v, %v, %d, %q) = %v, want within [%v, %v]", tt.base, limit, tt.failures, source, got, lo, hi)
				}
				if again := backoff(tt.base, limit, tt.failures, source); again != got {
					t.Errorf("backoff is not stable: %v then %v", got, again)
				}
			}
		})
	}
}

// TestBackoffGentle is the promise of the first failures: a source that
// fails once is tried again within its own interval (a DNS hiccup must
// not push a 6-hourly source past its next run), and the wait grows with
// every failure in a row up to the cap, never beyond it.
func TestBackoffGentle(t *testing.T) {
	const limit = 24 * time.Hour
	for _, interval := range []time.Duration{15 * time.Minute, time.Hour, 6 * time.Hour, 24 * time.Hour} {
		t.Run(interval.String(), func(t *testing.T) {
			for _, source := range []string{"a", "b", "news", "long-source-name"} {
				var prev time.Duration
				for failures := 1; failures <= 10; failures++ {
					got := backoff(interval, limit, failures, source)
					if failures == 1 && got >= interval {
						t.Errorf("%s: first failure waits %v, want less than the interval %v", source, got, interval)
					}
					if got > limit || got <= 0 {
						t.Errorf("%s: failure %d waits %v, want within (0, %v]", source, failures, got, limit)
					}
					// Each step doubles and the jitter is ±20%, so a wait
					// below the cap is always longer than the one before;
					// at the cap the jitter folds waits back below it.
					if failures > 1 && got < prev && prev < time.Duration(float64(limit)*0.8) {
						t.Errorf("%s: failure %d waits %v, less than failure %d's %v", source, failures, got, failures-1, prev)
					}
					prev = got
				}
				if got := backoff(interval, limit, 10, source); got < time.Duration(float64(limit)*0.8) && interval >= time.Hour {
					t.Errorf("%s: failure 10 waits %v, want about the cap %v", source, got, limit)
				}
			}
		})
	}
}

func TestBackoffSpreadsSources(t *testing.T) {
	for _, failures := range []int{1, 20} { // below the cap and at it
		t.Run(fmt.Sprint(failures), func(t *testing.T) {
			seen := map[time.Duration]bool{}
			var lo, hi time.Duration
			for i := range 200 {
				d := backoff(time.Hour, 24*time.Hour, failures, fmt.Sprintf("source-%d", i))
				seen[d.Truncate(time.Second)] = true
				if i == 0 || d < lo {
					lo = d
				}
				if d > hi {
					hi = d
				}
			}
			// 200 sources failing together must not come back together.
			if len(seen) < 150 || hi-lo < time.Duration(float64(hi)*0.1) {
				t.Errorf("200 sources back off to %d distinct seconds between %v and %v", len(seen), lo, hi)
			}
		})
	}
}

func TestJitterRange(t *testing.T) {
	for i := range 1000 {
		if j := jitter(fmt.Sprint("s", i), i); j < -1 || j >= 1 {
			t.Fatalf("jitter = %v, want within [-1, 1)", j)
		}
	}
}

func TestHintsEarliest(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	last := at("2026-03-04T10:00:00Z") // a Wednesday
	next := at("2026-03-04T10:15:00Z") // the schedule's next run
	tests := []struct {
		name  string
		h     hints
		sched time.Time
		want  time.Time
	}{
		{"none", hints{}, next, next},
		{"shorter than the schedule", hints{maxAge: 5 * time.Minute, feed: normalize.Hints{TTL: 10 * time.Minute}}, next, next},
		{"max-age", hints{maxAge: time.Hour}, next, at("2026-03-04T11:00:00Z")},
		{"ttl", hints{feed: normalize.Hints{TTL: 2 * time.Hour}}, next, at("2026-03-04T12:00:00Z")},
		{"update period", hints{feed: normalize.Hints{UpdatePeriod: 6 * time.Hour}}, next, at("2026-03-04T16:00:00Z")},
		{"the longest wins", hints{maxAge: time.Hour, feed: normalize.Hints{TTL: 3 * time.Hour, UpdatePeriod: 2 * time.Hour}}, next, at("2026-03-04T13:00:00Z")},
		{"a ttl of a year is a day", hints{feed: normalize.Hints{TTL: 365 * 24 * time.Hour}}, next, at("2026-03-05T10:00:00Z")},
		{"a max-age of a year is a day", hints{maxAge: 365 * 24 * time.Hour}, next, at("2026-03-05T10:00:00Z")},
		{"skip hours", hints{feed: normalize.Hints{SkipHours: []int{10, 11, 12}}}, next, at("2026-03-04T13:00:00Z")},
		{"skip hours past midnight", hints{feed: normalize.Hints{TTL: 13 * time.Hour, SkipHours: []int{23, 0, 1}}}, next, at("2026-03-05T02:00:00Z")},
		{"skip days, cut to a day", hints{feed: normalize.Hints{SkipDays: []time.Weekday{time.Wednesday, time.Thursday}}}, next, at("2026-03-05T10:15:00Z")},
		{"skip days and hours", hints{feed: normalize.Hints{SkipDays: []time.Weekday{time.Wednesday}, SkipHours: []int{0, 1}}}, next, at("2026-03-05T02:00:00Z")},
		{"a weekend off is cut to a day", hints{feed: normalize.Hints{SkipDays: []time.Weekday{time.Saturday, time.Sunday}}},
			at("2026-03-07T09:00:00Z"), at("2026-03-08T09:00:00Z")},
		{"every hour skipped is nonsense", hints{feed: normalize.Hints{SkipHours: allHours()}}, next, next},
		{"every day skipped is nonsense", hints{feed: normalize.Hints{SkipDays: []time.Weekday{0, 1, 2, 3, 4, 5, 6}}}, next, next},
		{"out of range values are ignored", hints{feed: normalize.Hints{SkipHours: []int{-1, 24, 99}, SkipDays: []time.Weekday{-1, 7}}}, next, next},
		{"a far schedule is not moved by a ttl", hints{feed: normalize.Hints{TTL: 2 * time.Hour}}, at("2026-03-11T10:00:00Z"), at("2026-03-11T10:00:00Z")},
		{"a far schedule still avoids skip hours", hints{feed: normalize.Hints{SkipHours: []int{10}}}, at("2026-03-11T10:00:00Z"), at("2026-03-11T11:00:00Z")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.h.earliest(last, tt.sched)
			if !got.Equal(tt.want) {
				t.Errorf("earliest = %v, want %v", got, tt.want)
			}
			if got.Before(tt.sched) || got.After(tt.sched.Add(maxServerWait)) {
				t.Errorf("earliest = %v, outside [%v, +%v]", got, tt.sched, maxServerWait)
			}
			if got.Location() != time.UTC {
				t.Errorf("earliest in %v, want UTC", got.Location())
			}
		})
	}
}

func allHours() []int {
	h := make([]int, 24)
	for i := range h {
		h[i] = i
	}
	return h
}

func TestHostKey(t *testing.T) {
	tests := []struct{ url, want string }{
		{"https://Feeds.Example.com/a", "feeds.example.com"},
		{"https://feeds.example.com:443/b", "feeds.example.com"},
		{"http://feeds.example.com:80/b", "feeds.example.com"},
		{"http://feeds.example.com.:8080/b", "feeds.example.com:8080"},
		{"https://feeds.example.com:80/b", "feeds.example.com:80"},
		{"http://127.0.0.1:4000/feed", "127.0.0.1:4000"},
		{"http://[::1]:4000/feed", "[::1]:4000"},
		{"http://user:pw@feeds.example.com/x", "feeds.example.com"},
		{"not a url", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := hostKey(tt.url); got != tt.want {
			t.Errorf("hostKey(%q) = %q, want %q", tt.url, got, tt.want)
		}
	}
}

func TestScheduleAt(t *testing.T) {
	for _, spec := range []string{"*/15 * * * *", "@every 10m", "0 9 * * *"} {
		t.Run(spec, func(t *testing.T) {
			s, err := parseSchedule(spec, "some-source")
			if err != nil {
				t.Fatal(err)
			}
			from := time.Date(2026, 3, 1, 10, 7, 0, 0, time.UTC)
			run := s.Next(from)
			if got := s.At(run); !got.Equal(run) {
				t.Errorf("At(a run) = %v, want the run %v", got, run)
			}
			if got := s.At(run.Add(-time.Millisecond)); !got.Equal(run) {
				t.Errorf("At(just before a run) = %v, want %v", got, run)
			}
			if got, want := s.At(run.Add(time.Millisecond)), s.Next(run); !got.Equal(want) {
				t.Errorf("At(just after a run) = %v, want the next %v", got, want)
			}
		})
	}
	t.Run("period", func(t *testing.T) {
		for spec, want := range map[string]time.Duration{"*/15 * * * *": 15 * time.Minute, "@every 10m": 10 * time.Minute, "@daily": 24 * time.Hour} {
			s, err := parseSchedule(spec, "x")
			if err != nil {
				t.Fatal(err)
			}
			if s.period != want {
				t.Errorf("%s: period %v, want %v", spec, s.period, want)
			}
		}
	})
}
