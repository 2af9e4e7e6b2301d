package refresh

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/normalize"
	"github.com/feedmill/feedmill/internal/scrape"
)

// TestHangingSourceIsRecorded: a source that hangs until the fetch timeout
// gets its failure recorded like any other, however long the refresh took:
// a failure count, the timeout in words, a backoff, and validators kept
// for a conditional request when the backoff is over. The timeout is 11 s
// because the state's save once had a 10 s deadline counted from the start
// of the refresh: every refresh longer than that lost its outcome (the
// status page said "never fetched", no backoff applied, and the next fetch
// came at once and unconditionally).
func TestHangingSourceIsRecorded(t *testing.T) {
	t.Parallel()
	const timeout = 11 * time.Second
	body := rssWith("one", "two")
	var hang atomic.Bool
	var requests, conditional atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if hang.Load() {
			<-r.Context().Done() // until the client gives up
			return
		}
		if r.Header.Get("If-None-Match") != "" {
			conditional.Add(1)
			if r.Header.Get("If-None-Match") == `"v1"` {
				w.WriteHeader(http.StatusNotModified)
				return
			}
		}
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)

	src := feed.Source{Name: "slow", URL: srv.URL + "/feed", Schedule: "*/15 * * * *"}
	_, fx := newRefresher(t, nil, Options{}) // for its store and clock
	var results []Result
	r, err := New([]feed.Source{src}, testClient(timeout), scrape.New(normalize.New(normalize.Options{}), nil), fx.store,
		Options{Now: fx.clock.Now, OnResult: func(res Result) { results = append(results, res) }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if res := r.RefreshOne(ctx, src); res.Err != nil || res.New != 2 {
		t.Fatalf("first refresh: %+v", res)
	}

	// Due again, and the source hangs.
	fx.clock.Advance(mustState(t, fx, "slow").NextFetch.Sub(fx.clock.Now()))
	hang.Store(true)
	at := fx.clock.Now()
	res := r.RefreshOne(ctx, src)
	if res.Err == nil || !res.TimedOut || res.Failures != 1 {
		t.Fatalf("refresh of a hanging source: %+v, want a timeout and 1 failure", res)
	}
	if want := "timed out after 11s"; !strings.Contains(res.Err.Error(), want) || strings.Contains(res.Err.Error(), "save state") {
		t.Errorf("error %q: want %q and nothing about saving", res.Err, want)
	}
	if n := len(results); n != 2 || !results[1].TimedOut {
		t.Errorf("OnResult told %d results (%+v), want the timeout last", n, results)
	}
	st := mustState(t, fx, "slow")
	sched := r.schedules["slow"]
	wantNext := sched.At(at.Add(backoff(sched.period, feed.DefaultBackoffMax, 1, "slow")))
	switch {
	case st.Failures != 1:
		t.Errorf("stored failures %d, want 1", st.Failures)
	case !strings.Contains(st.LastError, "timed out after 11s"):
		t.Errorf("stored error %q, want the timeout in words", st.LastError)
	case !st.LastFetch.Equal(at):
		t.Errorf("stored last fetch %v, want the attempt at %v", st.LastFetch, at)
	case !st.NextFetch.Equal(wantNext) || !st.NextFetch.After(at):
		t.Errorf("stored next fetch %v, want the backoff's %v", st.NextFetch, wantNext)
	case st.Validators.ETag != `"v1"`:
		t.Errorf("stored validators %+v, want those of the last good body", st.Validators)
	case st.Condition(st.URL, at) != feed.Failing:
		t.Errorf("condition %v, want failing", st.Condition(st.URL, at))
	}

	// Nothing is fetched before the backoff is over, then conditionally.
	hang.Store(false)
	before := requests.Load()
	r.RefreshAll(ctx, true)
	fx.clock.Advance(st.NextFetch.Sub(fx.clock.Now()) - time.Second)
	r.RefreshAll(ctx, true)
	if n := requests.Load() - before; n != 0 {
		t.Errorf("%d requests while backing off, want none", n)
	}
	fx.clock.Advance(time.Second)
	if all := r.RefreshAll(ctx, true); len(all) == 1 {
		res = all[0]
	} else {
		res = Result{Err: fmt.Errorf("%d sources refreshed, want 1", len(all))}
	}
	if !res.NotModified || res.Err != nil || requests.Load()-before != 1 || conditional.Load() != 1 {
		t.Errorf("after the backoff: %+v with %d requests, %d conditional; want one conditional request answered 304",
			res, requests.Load()-before, conditional.Load())
	}
	if st := mustState(t, fx, "slow"); st.Failures != 0 || st.LastError != "" {
		t.Errorf("state after recovery: %d failures, error %q", st.Failures, st.LastError)
	}
}
