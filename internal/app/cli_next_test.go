package app

import (
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
)

// TestNextFetchSaysWhy: `feedmill sources` says what set a next fetch
// other than the schedule.
func TestNextFetchSaysWhy(t *testing.T) {
	now := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		reason, want string
	}{
		{"", "in 3h"},
		{feed.NextSchedule, "in 3h"},
		{feed.NextBackoff, "in 3h (backoff)"},
		{feed.NextRetryAfter, "in 3h (Retry-After)"},
		{feed.NextCache, "in 3h (cache hints)"},
		{feed.NextHostPaused, "in 3h (host paused)"},
	}
	for _, tc := range tests {
		t.Run(tc.reason, func(t *testing.T) {
			st := feed.SourceState{NextFetch: now.Add(3 * time.Hour), NextReason: tc.reason}
			if got := nextFetch(st, statusOK, now); got != tc.want {
				t.Errorf("nextFetch = %q, want %q", got, tc.want)
			}
		})
	}
}
