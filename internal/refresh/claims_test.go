package refresh

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/normalize"
	"github.com/feedmill/feedmill/internal/scrape"
)

// coordinatedPair returns two refreshers of the same sources on one store,
// as two instances would be, with their own owner names and a shared clock.
func coordinatedPair(t *testing.T, sources []feed.Source, lease time.Duration) (a, b *Refresher, fx *fixture) {
	t.Helper()
	_, fx = newRefresher(t, sources, Options{}) // for its store and clock
	mk := func(owner string) *Refresher {
		r, err := New(sources, testClient(5*time.Second), scrape.New(normalize.New(normalize.Options{}), nil), fx.store,
			Options{Coordinator: fx.store, Owner: owner, Lease: lease, Now: fx.clock.Now, Workers: 4, FullTextLimit: feed.DefaultFullTextLimit})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	return mk("instance-a"), mk("instance-b"), fx
}

func TestCoordinatedPassesFetchEachSourceOnce(t *testing.T) {
	var sites []*site
	var sources []feed.Source
	for i := range 40 {
		s := newSite(t, rssWith(fmt.Sprintf("story %d", i)))
		sites = append(sites, s)
		sources = append(sources, feed.Source{Name: fmt.Sprintf("s%02d", i), URL: s.URL, Schedule: "@every 1h"})
	}
	a, b, _ := coordinatedPair(t, sources, time.Minute)
	var wg sync.WaitGroup
	var ra, rb []Result
	wg.Go(func() { ra = a.RefreshAll(t.Context(), true) })
	wg.Go(func() { rb = b.RefreshAll(t.Context(), true) })
	wg.Wait()
	fetched := 0
	for _, res := range append(ra, rb...) {
		if res.Err != nil {
			t.Errorf("%s: %v", res.Source, res.Err)
		}
		if res.Skipped == "" {
			fetched++
		} else if res.Skipped != otherInstance {
			t.Errorf("%s skipped: %s", res.Source, res.Skipped)
		}
	}
	for i, s := range sites {
		if n := s.requests.Load(); n != 1 {
			t.Errorf("source s%02d fetched %d times by the two instances, want once", i, n)
		}
	}
	if fetched != len(sources) {
		t.Errorf("%d refreshes reported, want %d", fetched, len(sources))
	}
}

func TestSweepTakesOverExpiredLeases(t *testing.T) {
	s := newSite(t, rssWith("one", "two"))
	sources := []feed.Source{{Name: "held", URL: s.URL, Schedule: "@every 1h"}}
	_, b, fx := coordinatedPair(t, sources, 30*time.Second)

	// Instance a claims the source and dies holding it.
	if ok, err := fx.store.Claim(t.Context(), "instance-a", "held", fx.clock.Now(), 30*time.Second); err != nil || !ok {
		t.Fatalf("claim: %v, %v", ok, err)
	}
	res := b.RefreshAll(t.Context(), true)
	if len(res) != 1 || res[0].Skipped != otherInstance {
		t.Fatalf("while a holds the lease, b's pass gave %+v, want the source skipped", res)
	}
	changed := 0
	b.sweep(t.Context(), func() { changed++ })
	b.sweeping.Wait()
	if n := s.requests.Load(); n != 0 {
		t.Fatalf("swept while the lease held: %d requests", n)
	}

	fx.clock.Advance(31 * time.Second)
	b.sweep(t.Context(), func() { changed++ })
	b.sweeping.Wait()
	if n := s.requests.Load(); n != 1 || changed != 1 {
		t.Fatalf("after the lease expired: %d requests, %d changes; want 1 and 1", n, changed)
	}
	items, err := fx.store.Items(t.Context(), feed.Query{Sources: []string{"held"}})
	if err != nil || len(items) != 2 {
		t.Fatalf("stored %d items (%v), want 2", len(items), err)
	}
	// Refreshed and released: not due, so another sweep leaves it alone.
	b.sweep(t.Context(), func() { changed++ })
	b.sweeping.Wait()
	if n := s.requests.Load(); n != 1 {
		t.Fatalf("a second sweep fetched again: %d requests", n)
	}
}

// TestCoordinatedArticleLeases: an article page another instance is
// fetching (its lease held) is left to it; once released, the next
// refresh fetches it from the page or finds it in the shared cache.
func TestCoordinatedArticleLeases(t *testing.T) {
	s := newNewsSite(t, 2, 1)
	src := feed.Source{Name: "news", URL: s.URL + "/feed", Schedule: "@hourly", FullText: true}
	_, b, fx := coordinatedPair(t, []feed.Source{src}, time.Minute)
	ctx := t.Context()

	// Instance a is fetching story 2's page.
	key := "article:" + s.URL + "/a/2"
	if ok, err := fx.store.ClaimKey(ctx, "instance-a", key, fx.clock.Now(), time.Minute); err != nil || !ok {
		t.Fatalf("claim %s: %v, %v", key, ok, err)
	}
	if res := b.RefreshOne(ctx, src); res.Err != nil || res.New != 2 {
		t.Fatalf("refresh by b: %+v", res)
	}
	if n := s.pages.Load(); n != 1 {
		t.Fatalf("b fetched %d pages, want 1: story 2's is a's to fetch", n)
	}
	if it := storedItem(t, fx, "news", "story-2"); strings.Contains(it.Content, "paragraph 2") {
		t.Errorf("story 2 has its page's text although b did not fetch it:\n%s", it.Content)
	}
	if it := storedItem(t, fx, "news", "story-1"); !strings.Contains(it.Content, "paragraph 2") {
		t.Errorf("story 1 lacks its page's text:\n%s", it.Content)
	}

	// a is done (or dead and its lease over): b fetches the page itself.
	if err := fx.store.ReleaseKey(ctx, "instance-a", key); err != nil {
		t.Fatal(err)
	}
	s.set(func(s *newsSite) { s.articles = []int{3, 2, 1} })
	if res := b.RefreshOne(ctx, src); res.Err != nil {
		t.Fatalf("second refresh by b: %+v", res)
	}
	if n := s.pages.Load(); n != 3 {
		t.Errorf("%d pages fetched in all, want 3 (story 1 from the cache)", n)
	}
	if it := storedItem(t, fx, "news", "story-2"); !strings.Contains(it.Content, "paragraph 2") {
		t.Errorf("story 2 still lacks its page's text:\n%s", it.Content)
	}
}

// TestNoSecondFetchAfterCatchUp: a pass at start fetches an overdue source
// a few seconds before one of its scheduled runs; that run, on another
// instance, must not fetch it again: the catch-up stood for it.
func TestNoSecondFetchAfterCatchUp(t *testing.T) {
	for _, spec := range []string{"@every 1h", "*/15 * * * *", "0 9 * * *"} {
		t.Run(spec, func(t *testing.T) {
			s := newSite(t, rssWith("one", "two"))
			src := feed.Source{Name: "s", URL: s.URL, Schedule: spec}
			a, b, fx := coordinatedPair(t, []feed.Source{src}, time.Minute)
			run := a.schedules["s"].Next(fx.clock.Now())
			fx.clock.Advance(run.Sub(fx.clock.Now()) - 2*time.Second)

			if res := a.RefreshAll(t.Context(), true); len(res) != 1 || res[0].Err != nil || res[0].Skipped != "" {
				t.Fatalf("pass at start: %+v", res)
			}
			fx.clock.Advance(2 * time.Second) // the scheduled run
			if res, ran := b.scheduled(t.Context(), src); ran && res.Skipped == "" {
				t.Errorf("the run 2 s after the pass refreshed the source again: %+v", res)
			}
			if n := s.requests.Load(); n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
			// The run after that is the source's next.
			next := mustState(t, fx, "s").NextFetch
			if want := a.schedules["s"].Next(run); !next.Equal(want) {
				t.Errorf("next fetch %v, want the run after the skipped one, %v", next, want)
			}
			fx.clock.Advance(next.Sub(fx.clock.Now()))
			if res, ran := b.scheduled(t.Context(), src); !ran || res.Err != nil || !res.NotModified {
				t.Errorf("the next run: %+v (ran %t), want a 304", res, ran)
			}
		})
	}
}

// TestTakeoverFindsStateStored: an instance dies right after a pass of
// its fetched a source that answered 304, before the pass ended. The
// instance that takes its sources over must find the source fetched, not
// fetch it a second time: the state is stored before the pass goes on, and
// before the lease ends.
func TestTakeoverFindsStateStored(t *testing.T) {
	s := newSite(t, rssWith("one", "two"))
	src := feed.Source{Name: "s", URL: s.URL, Schedule: "@every 1h"}
	const lease = time.Minute
	_, fx := newRefresher(t, nil, Options{})
	var b *Refresher
	var afterDeath []Result
	mk := func(owner string, onResult func(Result)) *Refresher {
		r, err := New([]feed.Source{src}, testClient(5*time.Second), scrape.New(normalize.New(normalize.Options{}), nil), fx.store,
			Options{Coordinator: fx.store, Owner: owner, Lease: lease, Now: fx.clock.Now, Workers: 4, OnResult: onResult, FullTextLimit: feed.DefaultFullTextLimit})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a := mk("instance-a", func(res Result) {
		if !res.NotModified {
			return
		}
		// a is done with the source and "dies" here: its leases run
		// out, and b sweeps.
		fx.clock.Advance(lease + time.Second)
		b.sweep(t.Context(), func() {})
		b.sweeping.Wait()
		afterDeath = append(afterDeath, b.RefreshAll(t.Context(), true)...)
	})
	b = mk("instance-b", nil)
	if res := a.RefreshOne(t.Context(), src); res.Err != nil || res.New != 2 {
		t.Fatalf("first refresh: %+v", res)
	}
	fx.clock.Advance(mustState(t, fx, "s").NextFetch.Sub(fx.clock.Now()))
	if res := a.RefreshAll(t.Context(), true); len(res) != 1 || !res[0].NotModified {
		t.Fatalf("a's pass: %+v, want one 304", res)
	}
	if n := s.requests.Load(); n != 2 {
		t.Errorf("%d requests, want 2: b fetched what a had fetched just before", n)
	}
	for _, res := range afterDeath {
		if res.Skipped == "" {
			t.Errorf("b refreshed the source again: %+v", res)
		}
	}
}

// TestCoordinatedCycles runs three instances' passes, scheduled runs and
// sweeps over many cycles of one schedule, in an order that changes from
// step to step, with the clock stepping in uneven strides: no source is
// fetched twice in one step, nor again sooner than half an interval after
// a fetch, and none waits longer than one and a half intervals (plus a
// stride) between two fetches.
func TestCoordinatedCycles(t *testing.T) {
	const n, cycles, every = 12, 8, 10 * time.Minute
	var sites []*site
	var sources []feed.Source
	for i := range n {
		s := newSite(t, rssWith(fmt.Sprintf("story %d", i)))
		sites = append(sites, s)
		sources = append(sources, feed.Source{Name: fmt.Sprintf("s%02d", i), URL: s.URL, Schedule: "@every 10m"})
	}
	_, fx := newRefresher(t, nil, Options{})
	var rs []*Refresher
	for i := range 3 {
		r, err := New(sources, testClient(5*time.Second), scrape.New(normalize.New(normalize.Options{}), nil), fx.store,
			Options{Coordinator: fx.store, Owner: fmt.Sprintf("instance-%d", i), Lease: time.Minute, Now: fx.clock.Now, Workers: 2, FullTextLimit: feed.DefaultFullTextLimit})
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	ctx := t.Context()
	fetched := make([][]time.Time, n) // fake times of each source's fetches
	seen := make([]int64, n)
	record := func() {
		t.Helper()
		for i, s := range sites {
			got := s.requests.Load()
			if got-seen[i] > 1 {
				t.Errorf("source s%02d fetched %d times at %v", i, got-seen[i], fx.clock.Now())
			}
			if got > seen[i] {
				fetched[i] = append(fetched[i], fx.clock.Now())
			}
			seen[i] = got
		}
	}
	// All three start together, 7 s before one of the sources' runs.
	fx.clock.Advance(rs[0].schedules["s00"].Next(fx.clock.Now()).Sub(fx.clock.Now()) - 7*time.Second)
	var wg sync.WaitGroup
	for _, r := range rs {
		wg.Go(func() { r.RefreshAll(ctx, true) })
	}
	wg.Wait()
	record()
	const maxStride = 53 * time.Second
	end := fx.clock.Now().Add(cycles * every)
	for step := 0; fx.clock.Now().Before(end); step++ {
		// At each step every instance runs the ticks that fell in it,
		// all at once, and one of them sweeps.
		from := fx.clock.Now()
		fx.clock.Advance(time.Duration(7+(step*13)%47) * time.Second)
		for k := range rs {
			r := rs[(k+step)%len(rs)]
			for _, src := range sources {
				if tick := r.schedules[src.Name].Next(from); !tick.After(fx.clock.Now()) {
					wg.Go(func() { r.scheduled(ctx, src) })
				}
			}
		}
		sweeper := rs[step%len(rs)]
		wg.Go(func() {
			sweeper.sweep(ctx, func() {})
			sweeper.sweeping.Wait()
		})
		wg.Wait()
		record()
	}
	for i, times := range fetched {
		if len(times) < cycles {
			t.Errorf("source s%02d fetched %d times in %d cycles", i, len(times), cycles)
		}
		for k := 1; k < len(times); k++ {
			if gap := times[k].Sub(times[k-1]); gap < every/2 || gap > every*3/2+maxStride {
				t.Errorf("source s%02d fetched at %v and again %v later", i, times[k-1].Format(time.TimeOnly), gap)
			}
		}
	}
}
