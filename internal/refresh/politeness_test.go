package refresh

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/fetch"
	"github.com/feedmill/feedmill/internal/normalize"
	"github.com/feedmill/feedmill/internal/scrape"
	"github.com/feedmill/feedmill/internal/testkit"
)

// origin is an httptest server whose routes the test sets and changes, and
// which counts the requests to each path.
type origin struct {
	*httptest.Server
	mu     sync.Mutex
	routes map[string]http.HandlerFunc
	hits   map[string]int
}

func newOrigin(t *testing.T) *origin {
	t.Helper()
	o := &origin{routes: map[string]http.HandlerFunc{}, hits: map[string]int{}}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		o.hits[r.URL.Path]++
		h := o.routes[r.URL.Path]
		o.mu.Unlock()
		if h == nil {
			http.NotFound(w, r)
			return
		}
		h(w, r)
	}))
	t.Cleanup(o.Close)
	return o
}

func (o *origin) handle(path string, h http.HandlerFunc) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.routes[path] = h
}

func (o *origin) count(path string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.hits[path]
}

// serveFeed answers body with an ETag (and a 304 to it) and the headers
// given as name, value pairs.
func serveFeed(body string, headers ...string) http.HandlerFunc {
	etag := fmt.Sprintf(`"%x"`, len(body))
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/rss+xml")
		}
		fmt.Fprint(w, body)
	}
}

func serveStatus(code int, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		http.Error(w, http.StatusText(code), code)
	}
}

func redirectTo(to string, code int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, to, code) }
}

// rssChannel is an RSS feed with one item and extra channel elements.
func rssChannel(channel string) string {
	return `<?xml version="1.0"?><rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"><channel><title>T</title><link>https://site.example/</link><description>d</description>` +
		channel + `<item><title>One</title><link>https://site.example/1</link><guid>https://site.example/1</guid></item></channel></rss>`
}

func mustState(t *testing.T, fx *fixture, name string) feed.SourceState {
	t.Helper()
	st, err := fx.store.State(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func mustDue(t *testing.T, r *Refresher, src feed.Source) bool {
	t.Helper()
	due, err := r.due(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	return due
}

func TestBackoffGrowsCapsAndResets(t *testing.T) {
	o := newOrigin(t)
	o.handle("/feed", serveStatus(http.StatusInternalServerError))
	src := feed.Source{Name: "flaky", URL: o.URL + "/feed", Schedule: "*/15 * * * *"}
	const limit = 4 * time.Hour
	r, fx := newRefresher(t, []feed.Source{src}, Options{BackoffMax: limit})
	ctx := t.Context()

	// A quarter of the interval first: one failure is retried within the
	// source's own interval.
	want := []time.Duration{15 * time.Minute / 4, 15 * time.Minute / 2, 15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, limit, limit, limit, limit}
	for i, step := range want {
		res := r.RefreshOne(ctx, src)
		if res.Err == nil || res.Status != 500 {
			t.Fatalf("attempt %d: %+v, want a 500", i+1, res)
		}
		st := mustState(t, fx, src.Name)
		wait := st.NextFetch.Sub(st.LastFetch)
		// ±20% jitter, then rounded up to one of the schedule's runs.
		lo, hi := time.Duration(float64(step)*0.8), min(time.Duration(float64(step)*1.2), limit)+15*time.Minute
		if st.Failures != i+1 || wait < lo || wait > hi {
			t.Fatalf("after failure %d: failures %d, next attempt %v after the last, want %d and within [%v, %v]",
				i+1, st.Failures, wait, i+1, lo, hi)
		}
		if !strings.Contains(st.LastError, "500") {
			t.Errorf("last error %q does not say 500", st.LastError)
		}
		if st.NextReason != feed.NextBackoff || st.LastCause != feed.CauseHTTP {
			t.Errorf("after failure %d: next reason %q, cause %q; want %q, %q", i+1, st.NextReason, st.LastCause, feed.NextBackoff, feed.CauseHTTP)
		}
		// Not due (and skipped by cron) before the backed-off time; due
		// from it on.
		fx.clock.Advance(wait - time.Second)
		if mustDue(t, r, src) {
			t.Fatalf("after failure %d: due a second before the backed-off time", i+1)
		}
		fx.clock.Advance(time.Second)
		if !mustDue(t, r, src) {
			t.Fatalf("after failure %d: not due at the backed-off time", i+1)
		}
	}

	// The source recovers by itself: the next attempt succeeds, and the
	// interval is back to the schedule's.
	o.handle("/feed", serveFeed(rssWith("back")))
	if res := r.RefreshOne(ctx, src); res.Err != nil || res.New != 1 {
		t.Fatalf("refresh after recovery: %+v", res)
	}
	st := mustState(t, fx, src.Name)
	if st.Failures != 0 || st.LastError != "" || st.NextFetch.Sub(st.LastFetch) > 15*time.Minute {
		t.Errorf("after recovery: failures %d, error %q, next attempt %v later; want 0, none, within 15m",
			st.Failures, st.LastError, st.NextFetch.Sub(st.LastFetch))
	}
	if st.NextReason != feed.NextSchedule || st.LastCause != "" {
		t.Errorf("after recovery: next reason %q, cause %q; want %q and none", st.NextReason, st.LastCause, feed.NextSchedule)
	}
}

func TestBackoffDefaultCapIsADay(t *testing.T) {
	src := feed.Source{Name: "down", URL: "http://127.0.0.1:1/feed", Schedule: "@hourly"}
	r, fx := newRefresher(t, []feed.Source{src}, Options{})
	if err := fx.store.SaveState(t.Context(), feed.SourceState{Name: src.Name, URL: src.URL, Failures: 40, LastFetch: fx.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if res := r.RefreshOne(t.Context(), src); res.Err == nil || !strings.Contains(res.Err.Error(), "refused") {
		t.Fatalf("refresh of a closed port: %+v", res)
	}
	st := mustState(t, fx, src.Name)
	if wait := st.NextFetch.Sub(st.LastFetch); st.Failures != 41 || wait < 19*time.Hour || wait > 25*time.Hour {
		t.Errorf("after 41 failures: failures %d, next attempt in %v; want 41 and about a day", st.Failures, wait)
	}
}

func TestRetryAfter(t *testing.T) {
	tests := []struct {
		name       string
		code       int
		retryAfter string
		min, max   time.Duration // of the wait before the next attempt
		why        string        // the next attempt's reason
	}{
		{"503 with seconds", 503, "7200", 2 * time.Hour, 2*time.Hour + 15*time.Minute, feed.NextRetryAfter},
		// Fetch reads an HTTP date against the real clock.
		{"503 with a date", 503, time.Now().Add(3 * time.Hour).UTC().Format(http.TimeFormat), 2 * time.Hour, 3*time.Hour + 15*time.Minute, feed.NextRetryAfter},
		{"429 with seconds", 429, "3600", time.Hour, time.Hour + 15*time.Minute, feed.NextRetryAfter},
		// The first backoff step of a 15-minute source is a quarter of
		// it, rounded to one of its runs, and never past the interval.
		{"shorter than the backoff", 503, "5", time.Minute, 15 * time.Minute, feed.NextBackoff},
		{"ten days is a day", 503, "864000", 24 * time.Hour, 24*time.Hour + 15*time.Minute, feed.NextRetryAfter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrigin(t)
			o.handle("/feed", serveStatus(tt.code, "Retry-After", tt.retryAfter))
			src := feed.Source{Name: "busy", URL: o.URL + "/feed", Schedule: "*/15 * * * *"}
			r, fx := newRefresher(t, []feed.Source{src}, Options{})
			res := r.RefreshOne(t.Context(), src)
			if res.Err == nil || res.Status != tt.code {
				t.Fatalf("refresh: %+v", res)
			}
			st := mustState(t, fx, src.Name)
			if wait := st.NextFetch.Sub(st.LastFetch); wait < tt.min || wait > tt.max || st.Failures != 1 {
				t.Errorf("next attempt %v after the last (failures %d), want within [%v, %v]", wait, st.Failures, tt.min, tt.max)
			}
			if st.NextReason != tt.why {
				t.Errorf("next reason %q, want %q", st.NextReason, tt.why)
			}
		})
	}
}

func Test429PausesTheHost(t *testing.T) {
	busy, other := newOrigin(t), newOrigin(t)
	busy.handle("/one", serveStatus(http.StatusTooManyRequests, "Retry-After", "3600"))
	busy.handle("/two", serveFeed(rssWith("two")))
	other.handle("/three", serveFeed(rssWith("three")))
	one := feed.Source{Name: "one", URL: busy.URL + "/one", Schedule: "*/15 * * * *"}
	two := feed.Source{Name: "two", URL: busy.URL + "/two", Schedule: "*/15 * * * *"}
	three := feed.Source{Name: "three", URL: other.URL + "/three", Schedule: "*/15 * * * *"}
	r, fx := newRefresher(t, []feed.Source{one, two, three}, Options{})
	ctx := t.Context()

	if res := r.RefreshOne(ctx, one); res.Status != 429 {
		t.Fatalf("first source: %+v, want a 429", res)
	}
	res := r.RefreshOne(ctx, two)
	if res.Err != nil || res.Skipped == "" || !strings.Contains(res.Skipped, "429") || busy.count("/two") != 0 {
		t.Fatalf("a source of the same host: %+v, %d requests; want it skipped without a request", res, busy.count("/two"))
	}
	st := mustState(t, fx, "two")
	if st.Failures != 0 || st.NextFetch.Before(fx.clock.Now().Add(time.Hour)) || st.NextReason != feed.NextHostPaused {
		t.Errorf("skipped source: failures %d, next attempt %v (%q); want no failure and not before the host's hour is up, for its pause", st.Failures, st.NextFetch, st.NextReason)
	}
	if mustDue(t, r, two) {
		t.Error("a source of the paused host is due")
	}
	if res := r.RefreshOne(ctx, three); res.Err != nil || res.New != 1 {
		t.Errorf("a source of another server: %+v, want it fetched", res)
	}

	fx.clock.Advance(time.Hour + 15*time.Minute)
	if !mustDue(t, r, two) {
		t.Fatal("the host's source is not due after the pause")
	}
	if res := r.RefreshOne(ctx, two); res.Err != nil || res.Skipped != "" || res.New != 1 {
		t.Errorf("after the pause: %+v, want it fetched", res)
	}

	t.Run("without Retry-After the host waits one interval", func(t *testing.T) {
		busy.handle("/one", serveStatus(http.StatusTooManyRequests))
		r.RefreshOne(ctx, one)
		if res := r.RefreshOne(ctx, two); res.Skipped == "" {
			t.Errorf("right after the 429: %+v, want skipped", res)
		}
		fx.clock.Advance(16 * time.Minute)
		if res := r.RefreshOne(ctx, two); res.Skipped != "" || res.Err != nil {
			t.Errorf("an interval later: %+v, want fetched", res)
		}
	})
}

func TestHintsStretchTheInterval(t *testing.T) {
	tests := []struct {
		name     string
		channel  string
		headers  []string
		ignore   bool
		min, max time.Duration // of the wait before the next attempt
	}{
		// Without hints, the schedule's first run at least half an
		// interval away (the source's runs are shifted by up to one).
		{"no hints", "", nil, false, 7*time.Minute + 30*time.Second, 22*time.Minute + 30*time.Second},
		{"max-age", "", []string{"Cache-Control", "public, max-age=7200"}, false, 2 * time.Hour, 2*time.Hour + 15*time.Minute},
		{"expires", "", []string{"Date", "Thu, 01 Jan 2026 10:00:00 GMT", "Expires", "Thu, 01 Jan 2026 13:00:00 GMT"}, false, time.Hour, 3*time.Hour + 15*time.Minute},
		{"ttl", "<ttl>180</ttl>", nil, false, 3 * time.Hour, 3*time.Hour + 15*time.Minute},
		{"sy:updatePeriod", "<sy:updatePeriod>daily</sy:updatePeriod><sy:updateFrequency>2</sy:updateFrequency>", nil, false, 12 * time.Hour, 12*time.Hour + 15*time.Minute},
		{"a ttl of a year", "<ttl>525600</ttl>", nil, false, 24 * time.Hour, 24*time.Hour + 15*time.Minute},
		// The clock says 10:00 GMT.
		{"skipHours", "<skipHours><hour>10</hour><hour>11</hour><hour>12</hour></skipHours>", nil, false, 3 * time.Hour, 3*time.Hour + 15*time.Minute},
		{"skipDays", "<skipDays><day>Thursday</day></skipDays>", nil, false, 14 * time.Hour, 14*time.Hour + 15*time.Minute},
		{"respect_cache: false", "<ttl>180</ttl>", []string{"Cache-Control", "max-age=7200"}, true, 7*time.Minute + 30*time.Second, 22*time.Minute + 30*time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrigin(t)
			o.handle("/feed", serveFeed(rssChannel(tt.channel), tt.headers...))
			src := feed.Source{Name: "hinted", URL: o.URL + "/feed", Schedule: "*/15 * * * *", IgnoreCache: tt.ignore}
			r, fx := newRefresher(t, []feed.Source{src}, Options{})
			// 2026-01-01 is a Thursday.
			for _, attempt := range []string{"full", "304"} {
				res := r.RefreshOne(t.Context(), src)
				if res.Err != nil || (attempt == "304") != res.NotModified {
					t.Fatalf("%s refresh: %+v", attempt, res)
				}
				st := mustState(t, fx, src.Name)
				if wait := st.NextFetch.Sub(st.LastFetch); wait < tt.min || wait > tt.max {
					t.Errorf("%s refresh: next attempt %v after the last, want within [%v, %v]", attempt, wait, tt.min, tt.max)
				}
				// A wait beyond the schedule's (half an hour at most) is
				// the hints'.
				why := feed.NextSchedule
				if tt.min > 30*time.Minute {
					why = feed.NextCache
				}
				if st.NextReason != why {
					t.Errorf("%s refresh: next reason %q, want %q", attempt, st.NextReason, why)
				}
				if mustDue(t, r, src) {
					t.Errorf("%s refresh: due right after", attempt)
				}
			}
		})
	}
}

func TestPermanentRedirectMovesTheSource(t *testing.T) {
	o := newOrigin(t)
	o.handle("/old", redirectTo("/new", http.StatusMovedPermanently))
	o.handle("/temp", redirectTo("/new", http.StatusFound))
	o.handle("/new", serveFeed(rssWith("a", "b")))
	moved := feed.Source{Name: "moved", URL: o.URL + "/old", Schedule: "@hourly"}
	temp := feed.Source{Name: "temp", URL: o.URL + "/temp", Schedule: "@hourly"}
	var logs testkit.SyncBuffer
	r, fx := newRefresher(t, []feed.Source{moved, temp}, Options{Logger: logs.Logger(slog.LevelInfo)})
	ctx := t.Context()

	if res := r.RefreshOne(ctx, moved); res.Err != nil || res.New != 2 {
		t.Fatalf("first refresh: %+v", res)
	}
	st := mustState(t, fx, "moved")
	if st.Moved != o.URL+"/new" || st.FetchURL(moved.URL) != o.URL+"/new" {
		t.Errorf("Moved = %q, want %q", st.Moved, o.URL+"/new")
	}
	if l := logs.String(); !strings.Contains(l, "level=WARN") || !strings.Contains(l, "feeds.yaml") || !strings.Contains(l, "to="+o.URL+"/new") {
		t.Errorf("the move is not logged as a warning suggesting the config change:\n%s", l)
	}
	fx.clock.Advance(time.Hour)
	res := r.RefreshOne(ctx, moved)
	if res.Err != nil || !res.NotModified || res.URL != o.URL+"/new" || o.count("/old") != 1 {
		t.Errorf("second refresh: %+v, %d requests to the old URL; want a 304 from the new URL and no request to the old", res, o.count("/old"))
	}
	if strings.Count(logs.String(), "moved permanently") != 1 {
		t.Errorf("the move is logged more than once:\n%s", logs.String())
	}

	if res := r.RefreshOne(ctx, temp); res.Err != nil {
		t.Fatal(res.Err)
	}
	if st := mustState(t, fx, "temp"); st.Moved != "" {
		t.Errorf("a temporary redirect moved the source to %q", st.Moved)
	}

	t.Run("a new URL in the config forgets the move", func(t *testing.T) {
		o.handle("/newer", serveFeed(rssWith("a", "b", "c")))
		edited := moved
		edited.URL = o.URL + "/newer"
		r2, err := New([]feed.Source{edited}, testClient(0), scrape.New(normalize.New(normalize.Options{}), nil), fx.store, Options{Now: fx.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		if !mustDue(t, r2, edited) {
			t.Error("a source whose URL changed is not due")
		}
		if res := r2.RefreshOne(ctx, edited); res.Err != nil || res.URL != edited.URL {
			t.Fatalf("refresh at the new URL: %+v", res)
		}
		if st := mustState(t, fx, "moved"); st.Moved != "" || st.URL != edited.URL {
			t.Errorf("after the config change: Moved %q, URL %q", st.Moved, st.URL)
		}
	})
}

func TestGoneStopsPolling(t *testing.T) {
	o := newOrigin(t)
	o.handle("/feed", serveStatus(http.StatusGone))
	src := feed.Source{Name: "gone", URL: o.URL + "/feed", Schedule: "*/15 * * * *"}
	r, fx := newRefresher(t, []feed.Source{src}, Options{})
	ctx := t.Context()

	res := r.RefreshOne(ctx, src)
	if res.Status != 410 || !errors.Is(res.Err, ErrGone) {
		t.Fatalf("refresh: %+v, want a 410 matching ErrGone", res)
	}
	st := mustState(t, fx, src.Name)
	if !st.Gone || !st.NextFetch.IsZero() || st.LastError != o.URL+"/feed: 410 Gone: the feed was removed; update or delete the source" {
		t.Errorf("state: gone %v, next %v, error %q", st.Gone, st.NextFetch, st.LastError)
	}
	fx.clock.Advance(7 * 24 * time.Hour)
	if mustDue(t, r, src) {
		t.Error("a gone source is due a week later")
	}
	if res := r.RefreshOne(ctx, src); !errors.Is(res.Err, ErrGone) || o.count("/feed") != 1 {
		t.Errorf("refresh of a gone source: %+v, %d requests; want ErrGone without a request", res, o.count("/feed"))
	}

	o.handle("/new", serveFeed(rssWith("a")))
	edited := src
	edited.URL = o.URL + "/new"
	r2, err := New([]feed.Source{edited}, testClient(0), scrape.New(normalize.New(normalize.Options{}), nil), fx.store, Options{Now: fx.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if !mustDue(t, r2, edited) {
		t.Fatal("a gone source given a new URL is not due")
	}
	if res := r2.RefreshOne(ctx, edited); res.Err != nil || res.New != 1 {
		t.Fatalf("refresh at the new URL: %+v", res)
	}
	if st := mustState(t, fx, src.Name); st.Gone || st.Failures != 0 {
		t.Errorf("after the new URL: gone %v, failures %d", st.Gone, st.Failures)
	}
}

func TestAutodiscovery(t *testing.T) {
	page := func(links string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, `<!doctype html><html><head><title>Blog</title>%s</head><body><p>Hello</p></body></html>`, links)
		}
	}
	o := newOrigin(t)
	o.handle("/", page(`<link rel="stylesheet" href="/s.css"><link rel="alternate" type="application/rss+xml" title="Posts" href="/feed.xml">`))
	o.handle("/feed.xml", serveFeed(rssWith("a", "b")))
	src := feed.Source{Name: "blog", URL: o.URL + "/", Schedule: "@hourly"}
	var logs testkit.SyncBuffer
	r, fx := newRefresher(t, []feed.Source{src}, Options{Logger: logs.Logger(slog.LevelInfo)})
	ctx := t.Context()

	p, err := r.Preview(ctx, src.Name, 5)
	if err != nil || len(p.Items) != 2 {
		t.Fatalf("preview of a web page: %+v, %v; want the advertised feed's 2 items", p, err)
	}
	res := r.RefreshOne(ctx, src)
	if res.Err != nil || res.New != 2 || res.URL != o.URL+"/feed.xml" {
		t.Fatalf("refresh of a web page: %+v, want the advertised feed's 2 items", res)
	}
	st := mustState(t, fx, src.Name)
	if st.Discovered != o.URL+"/feed.xml" || st.Moved != "" || st.FeedTitle != "Site" {
		t.Errorf("state: discovered %q, moved %q, title %q", st.Discovered, st.Moved, st.FeedTitle)
	}
	if !strings.Contains(logs.String(), "feed discovered") {
		t.Errorf("the discovery is not logged:\n%s", logs.String())
	}
	fx.clock.Advance(time.Hour)
	if res := r.RefreshOne(ctx, src); res.Err != nil || !res.NotModified || o.count("/") != 2 {
		t.Errorf("second refresh: %+v, %d page requests; want a 304 of the feed and the page left alone", res, o.count("/"))
	}

	t.Run("the discovered feed vanishes", func(t *testing.T) {
		o.handle("/feed.xml", nil)
		fx.clock.Advance(time.Hour)
		if res := r.RefreshOne(ctx, src); res.Status != 404 || res.Err == nil {
			t.Fatalf("refresh: %+v, want the feed's 404", res)
		}
		if st := mustState(t, fx, src.Name); st.Discovered != "" || st.Gone {
			t.Errorf("after a 404 of the discovered feed: discovered %q, gone %v; want it forgotten", st.Discovered, st.Gone)
		}
		// The page now advertises another feed: the next attempt finds it.
		o.handle("/", page(`<link rel="alternate" type="application/atom+xml" href="/atom.xml">`))
		o.handle("/atom.xml", serveFeed(rssWith("a", "b", "c")))
		fx.clock.Advance(time.Hour)
		if res := r.RefreshOne(ctx, src); res.Err != nil || res.New != 1 {
			t.Fatalf("refresh after the page changed: %+v", res)
		}
		if st := mustState(t, fx, src.Name); st.Discovered != o.URL+"/atom.xml" {
			t.Errorf("discovered %q, want the new feed", st.Discovered)
		}
	})

	tests := []struct {
		name    string
		links   string
		wantErr []string
	}{
		{"no feed advertised", `<link rel="icon" href="/i.png">`, []string{"is a web page that advertises no feed", "not a feed"}},
		{"the advertised feed is broken", `<link rel="alternate" type="application/rss+xml" href="/missing.xml">`,
			[]string{"the feed it advertises cannot be read", "/missing.xml", "404"}},
		// Links in a page are content: they may not lead to another host's
		// private address (127.0.0.2 stands for one).
		{"the advertised feed is on a private address", `<link rel="alternate" type="application/rss+xml" href="http://127.0.0.2:1/feed">`,
			[]string{"cannot be read", "127.0.0.2", fetch.ErrNotPublic.Error()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrigin(t)
			o.handle("/", page(tt.links))
			src := feed.Source{Name: "page", URL: o.URL + "/", Schedule: "@hourly"}
			r, fx := newRefresher(t, []feed.Source{src}, Options{})
			res := r.RefreshOne(t.Context(), src)
			if res.Err == nil {
				t.Fatalf("refresh: %+v, want an error", res)
			}
			st := mustState(t, fx, src.Name)
			for _, w := range tt.wantErr {
				if !strings.Contains(st.LastError, w) {
					t.Errorf("last error %q does not say %q", st.LastError, w)
				}
			}
			if st.Discovered != "" || st.Failures != 1 {
				t.Errorf("state: discovered %q, failures %d", st.Discovered, st.Failures)
			}
		})
	}
}

func TestArticleFetchesAreGuarded(t *testing.T) {
	o := newOrigin(t)
	// One article on the source's own host (trusted even though it is
	// loopback), one on another host's private address.
	o.handle("/feed", serveFeed(fmt.Sprintf(`<rss version="2.0"><channel><title>T</title><link>%[1]s/</link><description>d</description>
<item><title>Here</title><link>%[1]s/a/1</link><guid>1</guid><description>short</description></item>
<item><title>Elsewhere</title><link>http://127.0.0.2:1/a/2</link><guid>2</guid><description>short</description></item>
</channel></rss>`, o.URL)))
	o.handle("/a/1", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, "<html><body><article><h1>Here</h1><p>%s</p></article></body></html>", strings.Join(storyParagraphs(1), "</p><p>"))
	})
	src := feed.Source{Name: "intranet", URL: o.URL + "/feed", Schedule: "@hourly", FullText: true}
	r, fx := newRefresher(t, []feed.Source{src}, Options{})
	if res := r.RefreshOne(t.Context(), src); res.Err != nil || res.New != 2 {
		t.Fatalf("refresh: %+v", res)
	}
	if it := storedItem(t, fx, src.Name, "1"); !strings.Contains(it.Content, storyParagraphs(1)[0]) {
		t.Errorf("the article on the source's own host was not extracted: %s", it.Content)
	}
	a, ok, err := fx.store.GetArticle(t.Context(), "http://127.0.0.2:1/a/2", src.RulesKey())
	if err != nil || !ok || !strings.Contains(a.Err, fetch.ErrNotPublic.Error()) {
		t.Errorf("article on another host's private address: %+v, %v, %v; want it refused", a, ok, err)
	}
}

func TestDueAfterScheduleChange(t *testing.T) {
	o := newOrigin(t)
	o.handle("/feed", serveFeed(rssWith("a")))
	o.handle("/down", serveStatus(http.StatusInternalServerError))
	weekly := feed.Source{Name: "weekly", URL: o.URL + "/feed", Schedule: "0 9 * * 1"}
	failing := feed.Source{Name: "failing", URL: o.URL + "/down", Schedule: "@hourly"}
	r, fx := newRefresher(t, []feed.Source{weekly, failing}, Options{})
	ctx := t.Context()
	r.RefreshOne(ctx, weekly)
	for range 4 {
		r.RefreshOne(ctx, failing)
	}
	fx.clock.Advance(time.Hour)

	hourly := weekly
	hourly.Schedule = "@hourly"
	r2, err := New([]feed.Source{hourly, failing}, testClient(0), scrape.New(normalize.New(normalize.Options{}), nil), fx.store, Options{Now: fx.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if !mustDue(t, r2, hourly) {
		t.Error("a weekly source made hourly waits for its weekly run")
	}
	if mustDue(t, r2, failing) {
		t.Error("a restart cut a failing source's backoff short")
	}
}

func TestRunSkipsRunsBeforeTheBackoff(t *testing.T) {
	o := newOrigin(t)
	o.handle("/feed", serveStatus(http.StatusInternalServerError))
	src := feed.Source{Name: "down", URL: o.URL + "/feed", Schedule: "@every 1s"}
	results := make(chan Result, 10)
	logs := &testkit.SyncBuffer{}
	r, fx := newRefresher(t, []feed.Source{src}, Options{Now: time.Now, Logger: logs.Logger(slog.LevelDebug), OnResult: func(res Result) { results <- res }})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	// The first attempt fails (waited for, not assumed to have happened
	// by some time); then the refresher judges two more cron ticks, which
	// must not fetch: counted by the ticks it reports not due, not by
	// time.
	select {
	case <-results:
	case <-time.After(time.Minute):
		t.Fatal("no refresh within a minute of the start")
	}
	testkit.WaitFor(t, "two scheduled runs judged after the failure", func() bool {
		return strings.Count(logs.String(), "scheduled run not due") >= 2
	})
	cancel()
	<-done
	// A failure backs off at least a minute, whatever the schedule.
	if n := o.count("/feed"); n != 1 {
		t.Errorf("%d requests over three ticks to a failing source scheduled every second, want 1", n)
	}
	if st := mustState(t, fx, src.Name); st.Failures != 1 {
		t.Errorf("failures %d, want 1", st.Failures)
	}
}

// TestOneFailureRetriedWithinInterval is the DNS hiccup of issue 16: a
// 6-hourly source that fails once is tried again no later than its next
// normal run, whatever its schedule's form (it was 9h38m).
func TestOneFailureRetriedWithinInterval(t *testing.T) {
	for _, spec := range []string{"@every 6h", "0 */6 * * *", "@hourly", "*/15 * * * *", "@daily"} {
		t.Run(spec, func(t *testing.T) {
			src := feed.Source{Name: "hiccup", URL: "http://" + testkit.RefusedAddr(t) + "/feed", Schedule: spec}
			r, fx := newRefresher(t, []feed.Source{src}, Options{})
			if res := r.RefreshOne(t.Context(), src); res.Err == nil || res.Cause != feed.CauseRefused {
				t.Fatalf("refresh of a refused port: %+v", res)
			}
			st := mustState(t, fx, src.Name)
			interval := r.schedules[src.Name].period
			if wait := st.NextFetch.Sub(st.LastFetch); wait <= 0 || wait > interval {
				t.Errorf("after one failure the next attempt is %v later, want within the interval %v", wait, interval)
			}
			if st.NextReason != feed.NextBackoff || st.LastCause != feed.CauseRefused {
				t.Errorf("next reason %q, cause %q; want %q, %q", st.NextReason, st.LastCause, feed.NextBackoff, feed.CauseRefused)
			}
		})
	}
}
