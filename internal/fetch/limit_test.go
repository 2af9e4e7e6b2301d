package fetch

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
)

// arrivalServer records when requests arrive, by the host name asked for.
type arrivalServer struct {
	mu       sync.Mutex
	arrivals map[string][]time.Time
}

func (a *arrivalServer) handler(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	if a.arrivals == nil {
		a.arrivals = make(map[string][]time.Time)
	}
	host := strings.Split(r.Host, ":")[0]
	a.arrivals[host] = append(a.arrivals[host], time.Now())
	a.mu.Unlock()
	io.WriteString(w, sampleRSS)
}

// times returns the arrival times of requests for host, in order.
func (a *arrivalServer) times(host string) []time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.arrivals[host])
}

func TestFetchMinGap(t *testing.T) {
	const gap = 150 * time.Millisecond
	arr := &arrivalServer{}
	srv := newServer(t, arr.handler)
	c := newClient(t, Options{MinGap: gap, PerHost: 2})

	// Four requests to one host at once, feeds and pages alike: the host
	// allows two in flight, but their starts must be a gap apart.
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := range 4 {
		wg.Go(func() {
			var err error
			if i%2 == 0 {
				_, err = c.Fetch(t.Context(), srv.URL, feed.Validators{})
			} else {
				_, err = c.FetchPage(t.Context(), srv.URL, "127.0.0.1")
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	same := arr.times("127.0.0.1")
	if len(same) != 4 {
		t.Fatalf("server saw %d requests for 127.0.0.1, want 4", len(same))
	}
	// The starts are claimed a gap apart, the first after start, and a
	// request arrives after its start: so the i-th arrival comes at least
	// i gaps after start, however late any of them was delayed. (The
	// distance between two arrivals has no lower bound: the earlier one
	// may be the one that was delayed.)
	for i, at := range same {
		if d := at.Sub(start); d < time.Duration(i)*gap {
			t.Errorf("request %d arrived %v after the first was sent, want at least %v", i, d, time.Duration(i)*gap)
		}
	}
}

// TestFetchMinGapIsPerHost: while one host's gap holds a request back,
// another host name is fetched at once. The gap is an hour, so a fetch
// that waited for it would not end before the test's safety net.
func TestFetchMinGapIsPerHost(t *testing.T) {
	arr := &arrivalServer{}
	srv := newServer(t, arr.handler)
	c := newClient(t, Options{MinGap: time.Hour})
	if _, err := c.Fetch(t.Context(), srv.URL, feed.Validators{}); err != nil {
		t.Fatal(err)
	}
	// The host's next request waits for the gap.
	waiting, cancelWaiting := context.WithCancel(t.Context())
	defer cancelWaiting()
	held := make(chan error, 1)
	go func() {
		_, err := c.Fetch(waiting, srv.URL, feed.Validators{})
		held <- err
	}()

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	other := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	if _, err := c.Fetch(ctx, other, feed.Validators{}); err != nil {
		t.Fatalf("a request to another host: %v, want it not to wait for the gap", err)
	}
	if n := len(arr.times("localhost")); n != 1 {
		t.Errorf("server saw %d requests for localhost, want 1", n)
	}
	cancelWaiting()
	if err := <-held; !errors.Is(err, context.Canceled) {
		t.Errorf("the held request: %v, want it cancelled while waiting", err)
	}
	if n := len(arr.times("127.0.0.1")); n != 1 {
		t.Errorf("server saw %d requests for 127.0.0.1, want 1 (the second waits for the gap)", n)
	}
}

// TestFetchMinGapZeroMeansNone stops the limiter's clock: any gap at all
// would then never pass, and the fetches would wait until the safety net
// ends them. Zero means no gap, as fetch.min_gap: 0 does in feeds.yaml;
// the default gap is the config's to pass.
func TestFetchMinGapZeroMeansNone(t *testing.T) {
	for _, gap := range []time.Duration{0, -1} {
		t.Run(gap.String(), func(t *testing.T) {
			arr := &arrivalServer{}
			srv := newServer(t, arr.handler)
			c := newClient(t, Options{MinGap: gap})
			frozen := time.Now()
			c.hosts.now = func() time.Time { return frozen }
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			for range 5 {
				if _, err := c.Fetch(ctx, srv.URL, feed.Validators{}); err != nil {
					t.Fatal(err)
				}
			}
			if n := len(arr.times("127.0.0.1")); n != 5 {
				t.Errorf("server saw %d requests, want 5", n)
			}
		})
	}
}

func TestFetchMinGapWaitEndsWithContext(t *testing.T) {
	arr := &arrivalServer{}
	srv := newServer(t, arr.handler)
	c := newClient(t, Options{MinGap: time.Hour})
	if _, err := c.Fetch(t.Context(), srv.URL, feed.Validators{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Fetch(ctx, srv.URL, feed.Validators{})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "waiting for a request slot") {
		t.Errorf("error = %v, want a deadline while waiting for a slot", err)
	}
	if n := len(arr.times("127.0.0.1")); n != 1 {
		t.Errorf("server saw %d requests, want 1", n)
	}
	// The slots the waiting request held are free again.
	if n := len(c.global); n != 0 {
		t.Errorf("%d global slots still held", n)
	}
}

func TestHostLimiterForgetsIdleHosts(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newHostLimiter(2, time.Second)
	l.now = func() time.Time { return now }
	use := func(host string) {
		t.Helper()
		slot, err := l.acquire(t.Context(), host)
		if err != nil {
			t.Fatal(err)
		}
		if err := slot.wait(t.Context()); err != nil {
			t.Fatal(err)
		}
		if !slot.claim() {
			t.Fatalf("%s: claim failed with the gap passed", host)
		}
		slot.release()
		slot.release() // a second release does nothing
	}
	for _, h := range []string{"a.example", "b.example", "c.example"} {
		use(h)
	}
	// Released within the gap: kept, so the next request still waits.
	if got := l.size(); got != 3 {
		t.Errorf("%d entries within the gap, want 3", got)
	}
	now = now.Add(2 * time.Second)
	use("d.example") // sweeps the others
	if got := l.size(); got != 1 {
		t.Errorf("%d entries after the gap, want 1 (the newest)", got)
	}

	// A request that ends after the gap since its start leaves no entry.
	slot, err := l.acquire(t.Context(), "e.example")
	if err != nil {
		t.Fatal(err)
	}
	slot.claim()
	now = now.Add(2 * time.Second)
	slot.release()
	if got := l.size(); got != 1 {
		t.Errorf("%d entries, want 1 (d.example, not yet swept)", got)
	}
}

func TestHostSlotClaimRespectsOtherStarts(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newHostLimiter(2, time.Second)
	l.now = func() time.Time { return now }
	a, err := l.acquire(t.Context(), "h")
	if err != nil {
		t.Fatal(err)
	}
	b, err := l.acquire(t.Context(), "h")
	if err != nil {
		t.Fatal(err)
	}
	if !a.claim() {
		t.Fatal("first claim failed")
	}
	if b.claim() {
		t.Error("second claim within the gap succeeded")
	}
	now = now.Add(time.Second)
	if !b.claim() {
		t.Error("claim after the gap failed")
	}
	a.release()
	b.release()
}
