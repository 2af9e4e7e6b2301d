package refresh

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/normalize"
	"github.com/feedmill/feedmill/internal/scrape"
	"github.com/feedmill/feedmill/internal/store"
)

// countingStore counts the store calls whose number the refresher keeps
// down: reads of items, and write transactions for leases and states.
type countingStore struct {
	*store.SQLite
	items, claims, releases, saves, groups atomic.Int64
	state, states                          atomic.Int64
}

func (c *countingStore) State(ctx context.Context, source string) (feed.SourceState, error) {
	c.state.Add(1)
	return c.SQLite.State(ctx, source)
}

func (c *countingStore) States(ctx context.Context) ([]feed.SourceState, error) {
	c.states.Add(1)
	return c.SQLite.States(ctx)
}

func (c *countingStore) Items(ctx context.Context, q feed.Query) ([]feed.Item, error) {
	c.items.Add(1)
	return c.SQLite.Items(ctx, q)
}

func (c *countingStore) Claim(ctx context.Context, owner, name string, now time.Time, lease time.Duration) (bool, error) {
	c.claims.Add(1)
	return c.SQLite.Claim(ctx, owner, name, now, lease)
}

func (c *countingStore) ClaimAll(ctx context.Context, owner string, names []string, now time.Time, lease time.Duration) ([]string, error) {
	c.groups.Add(1)
	return c.SQLite.ClaimAll(ctx, owner, names, now, lease)
}

func (c *countingStore) Release(ctx context.Context, owner, name string) error {
	c.releases.Add(1)
	return c.SQLite.Release(ctx, owner, name)
}

func (c *countingStore) SaveStates(ctx context.Context, sts []feed.SourceState) error {
	c.saves.Add(1)
	return c.SQLite.SaveStates(ctx, sts)
}

func (c *countingStore) SaveState(ctx context.Context, st feed.SourceState) error {
	c.saves.Add(1)
	return c.SQLite.SaveState(ctx, st)
}

func (c *countingStore) SaveStatesAndRelease(ctx context.Context, owner string, sts []feed.SourceState, release []string) error {
	c.groups.Add(1)
	return c.SQLite.SaveStatesAndRelease(ctx, owner, sts, release)
}

// furnished is a feed of four articles that share a newsletter box, which
// the boilerplate model learns on the first refresh.
func furnished() string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Site</title><link>https://site.example/</link><description>d</description>`)
	for i := range 4 {
		fmt.Fprintf(&b, `<item><title>Story %d</title><link>https://site.example/%d</link><pubDate>Mon, 0%d Mar 2025 10:00:00 +0000</pubDate><description>Summary %d.</description><content:encoded><![CDATA[<p>Story %d tells of thing number %d and nothing else.</p><p>Sign up for our newsletter to get every story first.</p>]]></content:encoded></item>`, i, i, i+1, i, i, i)
	}
	b.WriteString(`</channel></rss>`)
	return b.String()
}

// TestFirstRefreshReadsNoItems: a source's first refresh learns its
// furniture from the fresh items alone and stores them cleaned; it reads
// no stored items, before (there are none) or after (they are the ones
// it just cleaned).
func TestFirstRefreshReadsNoItems(t *testing.T) {
	s := newSite(t, furnished())
	src := feed.Source{Name: "site", URL: s.URL + "/feed", Schedule: "@hourly"}
	_, fx := newRefresher(t, nil, Options{})
	cs := &countingStore{SQLite: fx.store}
	r, err := New([]feed.Source{src}, testClient(5*time.Second), newParserForTest(), cs, Options{Now: fx.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if res := r.RefreshOne(t.Context(), src); res.Err != nil || res.New != 4 {
		t.Fatalf("refresh: %+v", res)
	}
	if n := cs.items.Load(); n != 0 {
		t.Errorf("first refresh read stored items %d times, want 0", n)
	}
	st, err := fx.store.State(t.Context(), "site")
	if err != nil || st.Furniture == "" {
		t.Fatalf("state %+v, %v: want the furniture learned", st, err)
	}
	it := storedItem(t, fx, "site", "https://site.example/2")
	if strings.Contains(it.Content, "newsletter") || !strings.Contains(it.Content, "thing number 2") {
		t.Errorf("stored content not cleaned: %q", it.Content)
	}
}

// TestCoordinatedPassGroupsLeases: a coordinated pass takes and ends its
// leases, and saves its states, in transactions shared by the sources
// being refreshed at the same moment, never one lease at a time.
func TestCoordinatedPassGroupsLeases(t *testing.T) {
	r, cs, fx, sources := coordinatedSources(t, 12)
	for pass := range 2 { // all new, then all 304
		for _, res := range r.RefreshAll(t.Context(), false) {
			if res.Err != nil || res.Skipped != "" {
				t.Fatalf("pass %d: %+v", pass, res)
			}
		}
	}
	if c, rel, sv := cs.claims.Load(), cs.releases.Load(), cs.saves.Load(); c+rel+sv != 0 {
		t.Errorf("%d single claims, %d single releases, %d state saves apart from the leases; want none", c, rel, sv)
	}
	if g := cs.groups.Load(); g == 0 || g > 4*int64(len(sources)) {
		t.Errorf("%d grouped lease transactions for 2 passes of %d sources", g, len(sources))
	}
	for _, src := range sources {
		st, err := fx.store.State(t.Context(), src.Name)
		if err != nil || st.LastStatus != 304 || st.LastSuccess.IsZero() {
			t.Errorf("state of %s: %+v, %v", src.Name, st, err)
		}
	}
	// Every lease was ended: another owner takes them all at once.
	got, err := fx.store.ClaimAll(t.Context(), "other", []string{"s00", "s05", "s11"}, fx.clock.Now(), time.Minute)
	if err != nil || len(got) != 3 {
		t.Errorf("ClaimAll by another owner = %q, %v; want every lease ended", got, err)
	}
}

// coordinatedSources is a refresher of n sources of one site on a
// counting store, taking leases as owner "me" with 4 workers.
func coordinatedSources(t *testing.T, n int) (*Refresher, *countingStore, *fixture, []feed.Source) {
	t.Helper()
	s := newSite(t, rssWith("one", "two"))
	var sources []feed.Source
	for i := range n {
		sources = append(sources, feed.Source{Name: fmt.Sprintf("s%02d", i), URL: fmt.Sprintf("%s/feed?%d", s.URL, i), Schedule: "@hourly"})
	}
	_, fx := newRefresher(t, nil, Options{})
	cs := &countingStore{SQLite: fx.store}
	r, err := New(sources, testClient(5*time.Second), newParserForTest(), cs,
		Options{Now: fx.clock.Now, Coordinator: cs, Owner: "me", Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	return r, cs, fx, sources
}

func newParserForTest() *scrape.Scraper { return scrape.New(normalize.New(normalize.Options{}), nil) }

// TestPassReadsEachStateOnce: a pass over due sources learns which are due
// from one read of every state, and reads a source's own state once more,
// when it holds the source; a source that is not due is not read alone.
func TestPassReadsEachStateOnce(t *testing.T) {
	r, cs, _, sources := coordinatedSources(t, 6)
	for pass, want := range []int{len(sources), 0} { // all due, then none (fetched a moment ago)
		cs.state.Store(0)
		cs.states.Store(0)
		results := r.RefreshAll(t.Context(), true)
		if len(results) != want {
			t.Fatalf("pass %d refreshed %d sources, want %d", pass, len(results), want)
		}
		for _, res := range results {
			if res.Err != nil || res.Skipped != "" {
				t.Fatalf("pass %d: %+v", pass, res)
			}
		}
		if got := cs.states.Load(); got != 1 {
			t.Errorf("pass %d read every state %d times, want once", pass, got)
		}
		if got := cs.state.Load(); got != int64(want) {
			t.Errorf("pass %d read a single state %d times for %d sources refreshed, want one each", pass, got, want)
		}
	}
}
