package feed

import (
	"testing"
	"time"
)

func TestSaneDate(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	cest := time.FixedZone("CEST", 2*3600)
	tests := []struct {
		name string
		in   time.Time
		want time.Time
	}{
		{"zero", time.Time{}, time.Time{}},
		{"unix epoch placeholder", time.Unix(0, 0), time.Time{}},
		{"last instant before 1995", time.Date(1994, 12, 31, 23, 59, 59, 0, time.UTC), time.Time{}},
		{"first instant of 1995", time.Date(1995, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1995, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"now", now, now},
		{"in a zone: made UTC", time.Date(2025, 6, 1, 9, 0, 0, 0, cest), time.Date(2025, 6, 1, 7, 0, 0, 0, time.UTC)},
		{"exactly a day ahead", now.Add(FutureSlack), now.Add(FutureSlack)},
		{"a second over a day ahead", now.Add(FutureSlack + time.Second), time.Time{}},
		{"a year ahead", now.AddDate(1, 0, 0), time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := SaneDate(tt.in, now)
			if !got.Equal(tt.want) || got.Location() != time.UTC {
				t.Errorf("SaneDate(%v) = %v, want %v in UTC", tt.in, got, tt.want)
			}
			if early := DateTooEarly(tt.in); early != tt.in.Before(time.Date(1995, 1, 1, 0, 0, 0, 0, time.UTC)) {
				t.Errorf("DateTooEarly(%v) = %v", tt.in, early)
			}
			if ahead := DateTooFarAhead(tt.in, now); ahead != tt.in.After(now.Add(24*time.Hour)) {
				t.Errorf("DateTooFarAhead(%v) = %v", tt.in, ahead)
			}
		})
	}
}
