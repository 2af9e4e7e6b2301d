package refresh

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/fetch"
	"github.com/feedmill/feedmill/internal/normalize"
	"github.com/feedmill/feedmill/internal/scrape"
	"github.com/feedmill/feedmill/internal/store"
	"github.com/feedmill/feedmill/internal/testkit"
)

// site is an httptest origin whose feed body and status the test changes.
type site struct {
	*httptest.Server
	mu          sync.Mutex
	body        string
	status      int
	requests    atomic.Int64
	notModified atomic.Int64
}

func newSite(t *testing.T, body string) *site {
	t.Helper()
	s := &site{body: body, status: http.StatusOK}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		s.mu.Lock()
		body, status := s.body, s.status
		s.mu.Unlock()
		etag := fmt.Sprintf(`"%d"`, len(body))
		if status != http.StatusOK {
			http.Error(w, "broken", status)
			return
		}
		if r.Header.Get("If-None-Match") == etag {
			s.notModified.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *site) set(body string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.body, s.status = body, status
}

func rssWith(titles ...string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>Site</title><link>https://site.example/</link><description>d</description>`)
	for i, title := range titles {
		fmt.Fprintf(&b, `<item><title>%s</title><link>https://site.example/%d</link><guid>https://site.example/%d</guid><pubDate>Mon, 0%d Mar 2025 10:00:00 +0000</pubDate></item>`, title, i, i, i+1)
	}
	b.WriteString(`</channel></rss>`)
	return b.String()
}

// testClient is a fetch client for tests: every test server is on
// 127.0.0.1, one host to the client, so the polite gap between two
// requests to a host would only make the tests slow.
func testClient(timeout time.Duration) *fetch.Client {
	return fetch.New(fetch.Options{Version: "test", Timeout: timeout, MinGap: -1})
}

type fixture struct {
	store *store.SQLite
	clock *testkit.Clock
}

func newRefresher(t *testing.T, sources []feed.Source, opts Options) (*Refresher, *fixture) {
	t.Helper()
	st, err := store.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "feedmill.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	fx := &fixture{store: st, clock: testkit.NewClock(time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC))}
	if opts.Now == nil {
		opts.Now = fx.clock.Now
	}
	if opts.FullTextLimit == 0 {
		// The config's default, which it passes when the file sets none;
		// a test of 0 calls New itself.
		opts.FullTextLimit = feed.DefaultFullTextLimit
	}
	r, err := New(sources, testClient(5*time.Second), scrape.New(normalize.New(normalize.Options{}), nil), st, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r, fx
}

func TestRefreshOneStoresAndRecordsState(t *testing.T) {
	s := newSite(t, rssWith("one", "two"))
	src := feed.Source{Name: "site", URL: s.URL + "/feed", Schedule: "*/15 * * * *"}
	changes := atomic.Int64{}
	r, fx := newRefresher(t, []feed.Source{src}, Options{OnChange: func(context.Context) { changes.Add(1) }})
	ctx := t.Context()

	res := r.RefreshOne(ctx, src)
	if res.Err != nil || res.Status != 200 || res.New != 2 {
		t.Fatalf("first refresh: %+v", res)
	}
	st, err := fx.store.State(ctx, "site")
	if err != nil {
		t.Fatal(err)
	}
	if st.Validators.ETag == "" || st.FeedTitle != "Site" || st.FeedLink != "https://site.example/" || st.LastError != "" || st.LastStatus != 200 {
		t.Errorf("state after success: %+v", st)
	}
	if !st.LastFetch.Equal(fx.clock.Now()) || !st.NextFetch.Equal(r.schedules["site"].After(st.LastFetch)) {
		t.Errorf("times after success: last %v next %v", st.LastFetch, st.NextFetch)
	}

	t.Run("not modified", func(t *testing.T) {
		res := r.RefreshOne(ctx, src)
		if res.Err != nil || !res.NotModified || res.Status != 304 || res.Changed() {
			t.Fatalf("second refresh: %+v", res)
		}
		if s.notModified.Load() != 1 {
			t.Errorf("origin answered 304 %d times, want 1", s.notModified.Load())
		}
		items, _ := fx.store.Items(ctx, feed.Query{Sources: []string{"site"}})
		if len(items) != 2 {
			t.Errorf("store holds %d items, want 2", len(items))
		}
	})

	t.Run("new item", func(t *testing.T) {
		s.set(rssWith("one", "two", "three"), 200)
		res := r.RefreshOne(ctx, src)
		if res.Err != nil || res.New != 1 || res.Updated != 0 {
			t.Fatalf("refresh with one new item: %+v", res)
		}
	})

	t.Run("server error keeps items", func(t *testing.T) {
		s.set("", http.StatusInternalServerError)
		res := r.RefreshOne(ctx, src)
		if res.Err == nil || res.Status != 500 {
			t.Fatalf("refresh of a failing origin: %+v", res)
		}
		st, _ := fx.store.State(ctx, "site")
		if !strings.Contains(st.LastError, "500") || st.LastStatus != 500 || st.Validators.ETag == "" {
			t.Errorf("state after failure: %+v", st)
		}
		items, _ := fx.store.Items(ctx, feed.Query{Sources: []string{"site"}})
		if len(items) != 3 {
			t.Errorf("store holds %d items after a failure, want 3", len(items))
		}
	})

	t.Run("unparsable body keeps the last good validators", func(t *testing.T) {
		good := rssWith("one", "two", "three")
		goodETag := fmt.Sprintf(`"%d"`, len(good))
		s.set("<html><body>not a feed</body></html>", 200)
		res := r.RefreshOne(ctx, src)
		if res.Err == nil {
			t.Fatalf("refresh of an HTML page: %+v", res)
		}
		st, _ := fx.store.State(ctx, "site")
		if st.LastError == "" || st.Validators.ETag != goodETag {
			t.Errorf("state after a parse failure: %+v, want the error and ETag %s of the last good body", st, goodETag)
		}
		// The origin recovers with the body we already hold: a 304 is right,
		// and it clears the error.
		s.set(good, 200)
		if res := r.RefreshOne(ctx, src); res.Err != nil || !res.NotModified {
			t.Errorf("refresh after recovery: %+v, want 304", res)
		}
		st, _ = fx.store.State(ctx, "site")
		if st.LastError != "" {
			t.Errorf("error not cleared after recovery: %q", st.LastError)
		}
	})
}

func TestChangedURLDropsValidators(t *testing.T) {
	s := newSite(t, rssWith("one"))
	src := feed.Source{Name: "site", URL: s.URL + "/old", Schedule: "@hourly"}
	r, fx := newRefresher(t, []feed.Source{src}, Options{})
	if res := r.RefreshOne(t.Context(), src); res.Err != nil {
		t.Fatal(res.Err)
	}
	moved := src
	moved.URL = s.URL + "/new"
	r2, err := New([]feed.Source{moved}, testClient(0), scrape.New(normalize.New(normalize.Options{}), nil), fx.store, Options{Now: fx.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	// The same body is served at the new URL with the same ETag; sending
	// the old URL's validators would get a 304 for a feed never read.
	if res := r2.RefreshOne(t.Context(), moved); res.Err != nil || res.NotModified || res.Status != 200 {
		t.Errorf("first refresh at the new URL: %+v, want a full 200", res)
	}
	st, _ := fx.store.State(t.Context(), "site")
	if st.URL != moved.URL || st.Validators.ETag == "" {
		t.Errorf("state after the move: %+v", st)
	}
}

func TestRefreshAllIsolatesFailuresAndHonoursDue(t *testing.T) {
	good := newSite(t, rssWith("a", "b"))
	bad := newSite(t, "")
	bad.set("", http.StatusServiceUnavailable)
	sources := []feed.Source{
		{Name: "good", URL: good.URL, Schedule: "*/15 * * * *"},
		{Name: "bad", URL: bad.URL, Schedule: "*/15 * * * *"},
		{Name: "refused", URL: "http://127.0.0.1:1/feed", Schedule: "*/15 * * * *"},
	}
	changes := atomic.Int64{}
	r, fx := newRefresher(t, sources, Options{OnChange: func(context.Context) { changes.Add(1) }})
	ctx := t.Context()

	results := r.RefreshAll(ctx, true)
	if len(results) != 3 {
		t.Fatalf("%d results, want 3", len(results))
	}
	if results[0].Err != nil || results[0].New != 2 {
		t.Errorf("good source: %+v", results[0])
	}
	if results[1].Err == nil || results[1].Status != 503 || results[2].Err == nil {
		t.Errorf("failing sources: %+v / %+v", results[1], results[2])
	}
	if changes.Load() != 1 {
		t.Errorf("OnChange called %d times, want 1", changes.Load())
	}

	if again := r.RefreshAll(ctx, true); len(again) != 0 {
		t.Errorf("a second pass right away refreshed %d sources, want none due", len(again))
	}
	// The failing sources back off by their interval ±20% after a first
	// failure: two intervals later, every source is due again.
	fx.clock.Advance(31 * time.Minute)
	if again := r.RefreshAll(ctx, true); len(again) != 3 {
		t.Errorf("after two intervals %d sources were due, want 3", len(again))
	}
	if changes.Load() != 1 {
		t.Errorf("OnChange called after a pass without changes")
	}
}

func TestRunFiresOnScheduleAndStops(t *testing.T) {
	s := newSite(t, rssWith("a"))
	src := feed.Source{Name: "fast", URL: s.URL, Schedule: "@every 1s"}
	changed := make(chan struct{}, 10)
	r, _ := newRefresher(t, []feed.Source{src}, Options{
		Now:      time.Now,
		OnChange: func(context.Context) { changed <- struct{}{} },
	})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()

	select {
	case <-changed: // the first pass stored the item and told the publisher
	case <-time.After(time.Minute): // a safety net, as are the others
		t.Fatal("no OnChange after the first pass")
	}
	deadline := time.Now().Add(time.Minute)
	for s.requests.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d requests in a minute with @every 1s", s.requests.Load())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("Run did not return after cancel")
	}
}

func TestNewRejectsBadSchedule(t *testing.T) {
	_, err := New([]feed.Source{{Name: "x", URL: "http://127.0.0.1/", Schedule: "every tuesday"}}, nil, nil, nil, Options{})
	if err == nil || !strings.Contains(err.Error(), "source x") {
		t.Errorf("New with a bad schedule: %v", err)
	}
}

// TestPassRecordsNotModifiedTogether: the sources of a pass that answer 304
// are recorded (in one transaction) when the pass ends.
func TestPassRecordsNotModifiedTogether(t *testing.T) {
	var sources []feed.Source
	for i := range 5 {
		s := newSite(t, rssWith("a", "b"))
		sources = append(sources, feed.Source{Name: fmt.Sprintf("s%d", i), URL: s.URL, Schedule: "*/15 * * * *"})
	}
	r, fx := newRefresher(t, sources, Options{})
	ctx := t.Context()
	r.RefreshAll(ctx, false)
	fx.clock.Advance(20 * time.Minute)
	results := r.RefreshAll(ctx, false)
	for _, res := range results {
		if !res.NotModified || res.Err != nil {
			t.Fatalf("second pass: %+v, want 304", res)
		}
	}
	for _, src := range sources {
		st, err := fx.store.State(ctx, src.Name)
		if err != nil || st.LastStatus != 304 || !st.LastFetch.Equal(fx.clock.Now()) || !st.NextFetch.After(st.LastFetch) {
			t.Errorf("state of %s after a 304 pass: %+v, %v", src.Name, st, err)
		}
	}
}
