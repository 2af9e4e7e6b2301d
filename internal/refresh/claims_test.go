package refresh

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/normalize"
)

// coordinatedPair returns two refreshers of the same sources on one store,
// as two instances would be, with their own owner names and a shared clock.
func coordinatedPair(t *testing.T, sources []feed.Source, lease time.Duration) (a, b *Refresher, fx *fixture) {
	t.Helper()
	_, fx = newRefresher(t, sources, Options{}) // for its store and clock
	mk := func(owner string) *Refresher {
		r, err := New(sources, testClient(5*time.Second), normalize.New(normalize.Options{}), fx.store,
			Options{Coordinator: fx.store, Owner: owner, Lease: lease, Now: fx.clock.Now, Workers: 4})
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
