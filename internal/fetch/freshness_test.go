package fetch

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
)

func TestFreshness(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	date := func(d time.Duration) string { return now.Add(d).Format(http.TimeFormat) }
	tests := []struct {
		name   string
		header http.Header
		want   time.Duration
	}{
		{name: "nothing", header: http.Header{}, want: 0},
		{name: "max-age", header: http.Header{"Cache-Control": {"public, max-age=600"}}, want: 10 * time.Minute},
		{name: "directive names are case-insensitive", header: http.Header{"Cache-Control": {"Max-Age=600"}}, want: 10 * time.Minute},
		{name: "quoted value", header: http.Header{"Cache-Control": {`max-age="600"`}}, want: 10 * time.Minute},
		{name: "s-maxage wins over max-age", header: http.Header{"Cache-Control": {"max-age=60, s-maxage=3600"}}, want: time.Hour},
		{name: "s-maxage wins over a shorter max-age in another field", header: http.Header{"Cache-Control": {"s-maxage=30", "max-age=600"}}, want: 30 * time.Second},
		{name: "first max-age of duplicates", header: http.Header{"Cache-Control": {"max-age=60, max-age=6000"}}, want: time.Minute},
		{name: "max-age=0", header: http.Header{"Cache-Control": {"max-age=0"}}, want: 0},
		{name: "negative max-age is invalid", header: http.Header{"Cache-Control": {"max-age=-5"}}, want: 0},
		{name: "fractional max-age is invalid", header: http.Header{"Cache-Control": {"max-age=1.5"}}, want: 0},
		{name: "empty max-age is invalid", header: http.Header{"Cache-Control": {"max-age="}}, want: 0},
		{name: "invalid max-age does not fall back to Expires", header: http.Header{"Cache-Control": {"max-age=soon"}, "Expires": {date(time.Hour)}}, want: 0},
		{name: "huge max-age is capped", header: http.Header{"Cache-Control": {"max-age=99999999999999999999"}}, want: maxDeltaSeconds * time.Second},
		{name: "no-store", header: http.Header{"Cache-Control": {"max-age=600, no-store"}}, want: 0},
		{name: "no-cache", header: http.Header{"Cache-Control": {"no-cache, max-age=600"}}, want: 0},
		{name: "no-cache with a field name keeps freshness", header: http.Header{"Cache-Control": {`no-cache="Set-Cookie", max-age=600`}}, want: 10 * time.Minute},
		{name: "private does not matter", header: http.Header{"Cache-Control": {"private, max-age=600"}}, want: 10 * time.Minute},
		{name: "max-age wins over Expires", header: http.Header{"Cache-Control": {"max-age=60"}, "Expires": {date(time.Hour)}}, want: time.Minute},
		{name: "Expires minus Date", header: http.Header{"Expires": {date(2 * time.Hour)}, "Date": {date(time.Hour)}}, want: time.Hour},
		{name: "Expires minus now without Date", header: http.Header{"Expires": {date(30 * time.Minute)}}, want: 30 * time.Minute},
		{name: "Expires minus now with a bad Date", header: http.Header{"Expires": {date(30 * time.Minute)}, "Date": {"yesterday"}}, want: 30 * time.Minute},
		{name: "Expires in the past", header: http.Header{"Expires": {date(-time.Hour)}}, want: 0},
		{name: "Expires: 0", header: http.Header{"Expires": {"0"}}, want: 0},
		{name: "Expires with other Cache-Control directives", header: http.Header{"Cache-Control": {"public"}, "Expires": {date(time.Hour)}}, want: time.Hour},
		{name: "Age is subtracted", header: http.Header{"Cache-Control": {"max-age=600"}, "Age": {"100"}}, want: 500 * time.Second},
		{name: "Age beyond the lifetime", header: http.Header{"Cache-Control": {"max-age=600"}, "Age": {"900"}}, want: 0},
		{name: "invalid Age is ignored", header: http.Header{"Cache-Control": {"max-age=600"}, "Age": {"-100"}}, want: 10 * time.Minute},
		{name: "Age alone", header: http.Header{"Age": {"100"}}, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := freshness(tt.header, now); got != tt.want {
				t.Errorf("freshness(%v) = %v, want %v", tt.header, got, tt.want)
			}
		})
	}
}

func TestFetchMaxAge(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=900")
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		io.WriteString(w, sampleRSS)
	})
	c := newClient(t, Options{})
	for _, v := range []feed.Validators{{}, {ETag: `"v1"`}} {
		resp, err := c.Fetch(t.Context(), srv.URL, v)
		if err != nil {
			t.Fatal(err)
		}
		if resp.MaxAge != 15*time.Minute {
			t.Errorf("status %d: MaxAge = %v, want 15m", resp.Status, resp.MaxAge)
		}
	}
}
