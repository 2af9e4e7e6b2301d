package refresh

import (
	"fmt"
	"testing"
	"time"
)

func TestScheduleNext(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name string
		spec string
		from time.Time
	}{
		{"every 15 minutes", "*/15 * * * *", at("2026-03-01T10:07:00Z")},
		{"every 30m descriptor", "@every 30m", at("2026-03-01T10:07:00Z")},
		{"hourly", "@hourly", at("2026-03-01T10:59:59Z")},
		{"daily at nine", "0 9 * * *", at("2026-03-01T08:00:00Z")},
		{"weekdays", "0 9 * * 1-5", at("2026-03-06T10:00:00Z")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := parseSchedule(tt.spec, "some-source")
			if err != nil {
				t.Fatal(err)
			}
			next := s.Next(tt.from)
			if !next.After(tt.from) {
				t.Fatalf("Next(%v) = %v, not after it", tt.from, next)
			}
			if next.Location() != time.UTC {
				t.Errorf("Next returned %v, want UTC", next.Location())
			}
			// Stable: the same answer from a fresh parse (a restart).
			s2, _ := parseSchedule(tt.spec, "some-source")
			if got := s2.Next(tt.from); !got.Equal(next) {
				t.Errorf("after re-parse Next = %v, want %v", got, next)
			}
			// Restart-proof: asking from any moment before next gives next.
			if got := s.Next(next.Add(-time.Second)); !got.Equal(next) {
				t.Errorf("Next(next-1s) = %v, want %v", got, next)
			}
			if s.offset >= maxSpread && s.every == 0 {
				t.Errorf("offset %v exceeds the %v spread window", s.offset, maxSpread)
			}
		})
	}
}

func TestScheduleSpreadsSources(t *testing.T) {
	from := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	for _, spec := range []string{"*/15 * * * *", "@every 15m"} {
		t.Run(spec, func(t *testing.T) {
			seen := map[time.Time]int{}
			for i := range 500 {
				s, err := parseSchedule(spec, fmt.Sprintf("source-%d", i))
				if err != nil {
					t.Fatal(err)
				}
				next := s.Next(from)
				if d := next.Sub(from); d <= 0 || d > 15*time.Minute {
					t.Fatalf("source-%d: next %v is %v after %v, want within the interval", i, next, d, from)
				}
				seen[next]++
			}
			// 500 sources over 900 possible seconds: a handful may share a
			// second, but nothing like all of them.
			for when, n := range seen {
				if n > 10 {
					t.Errorf("%d sources fire at %v", n, when)
				}
			}
			if len(seen) < 200 {
				t.Errorf("500 sources share only %d distinct start times", len(seen))
			}
		})
	}
}

func TestScheduleKeepsIntervals(t *testing.T) {
	s, err := parseSchedule("*/15 * * * *", "go-blog")
	if err != nil {
		t.Fatal(err)
	}
	a := s.Next(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	b := s.Next(a)
	c := s.Next(b)
	if b.Sub(a) != 15*time.Minute || c.Sub(b) != 15*time.Minute {
		t.Errorf("runs at %v, %v, %v: want 15 minutes apart", a, b, c)
	}
}

func TestParseScheduleRejectsBadSpec(t *testing.T) {
	for _, spec := range []string{"", "* * *", "@every banana", "61 * * * *"} {
		if _, err := parseSchedule(spec, "x"); err == nil {
			t.Errorf("parseSchedule(%q) succeeded, want an error", spec)
		}
	}
}

func TestScheduleAfter(t *testing.T) {
	s, err := parseSchedule("@every 1h", "src")
	if err != nil {
		t.Fatal(err)
	}
	run := s.Next(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	for _, tt := range []struct {
		name string
		at   time.Time
		want time.Time
	}{
		{"on time", run, run.Add(time.Hour)},
		{"late", run.Add(29 * time.Minute), run.Add(time.Hour)},
		{"more than half an interval late", run.Add(31 * time.Minute), run.Add(2 * time.Hour)},
		{"seconds early", run.Add(-2 * time.Second), run.Add(time.Hour)},
		{"half an interval early", run.Add(-30 * time.Minute), run},
	} {
		if got := s.After(tt.at); !got.Equal(tt.want) {
			t.Errorf("%s: After(%v) = %v, want %v", tt.name, tt.at, got, tt.want)
		}
	}
	never, err := parseSchedule("0 0 30 2 *", "src") // February 30th
	if err != nil {
		t.Fatal(err)
	}
	if got := never.After(run); !got.IsZero() {
		t.Errorf("a spec that never fires: After = %v, want zero", got)
	}
}
