package publish

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/testkit"
)

// renderCounter counts the renderings of sources' own feeds, by document.
type renderCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func countRenders(p *Publisher) *renderCounter {
	c := &renderCounter{n: map[string]int{}}
	p.onSourceRender = func(name string, f Format) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.n[name+"."+f.String()]++
	}
	return c
}

func (c *renderCounter) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.n {
		n += v
	}
	return n
}

func (c *renderCounter) of(doc string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[doc]
}

// manySources is a store of n sources with two items each.
func manySources(n int) ([]feed.Source, *memStore) {
	var sources []feed.Source
	st := &memStore{}
	for i := range n {
		name := fmt.Sprintf("s%04d", i)
		sources = append(sources, feed.Source{Name: name, URL: "https://" + name + ".example/feed"})
		for j := range 2 {
			st.items = append(st.items, feed.Item{
				Source: name, ID: fmt.Sprintf("%s-%d", name, j), Link: fmt.Sprintf("https://%s.example/%d", name, j),
				Title: fmt.Sprintf("Item %d of %s", j, name), Published: t0.Add(time.Duration(i*2+j) * time.Minute), FirstSeen: t0,
			})
		}
	}
	return sources, st
}

// TestSourceFeedsNotRenderedByRebuild: a Rebuild of many sources renders
// and reads none of their own feeds; only the combined feed.
func TestSourceFeedsNotRenderedByRebuild(t *testing.T) {
	sources, st := manySources(300)
	p := New(Options{BaseURL: testBase}, []FeedSpec{{Name: "all", Sources: []string{"s0000", "s0299"}}}, sources, st)
	renders := countRenders(p)
	for range 3 {
		if err := p.Rebuild(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if n := renders.total(); n != 0 {
		t.Errorf("Rebuilds rendered %d documents of sources' own feeds, want 0", n)
	}
	if len(st.queries) != 3 {
		t.Errorf("Rebuilds made %d item queries, want 3 (one per Rebuild, the combined feed's)", len(st.queries))
	}
	if !p.IsTopic(SourceFeedURL(testBase, "s0123", JSON)) {
		t.Error("a source's feed never rendered is not a topic")
	}
}

// TestSourceFeedOnDemand: a request renders one document and keeps it; a
// Rebuild makes it stale, and the next request renders it again into the
// same snapshot (same ETag, Last-Modified) when nothing of the source
// changed, into a new one when it did.
func TestSourceFeedOnDemand(t *testing.T) {
	st := &memStore{items: testItems(), states: testStates()}
	p := newTestPublisher(t, st)
	renders := countRenders(p)
	if _, err := p.SourceSnapshot(t.Context(), "alpha", Atom); err == nil {
		t.Fatal("a source's feed before the first Rebuild")
	}
	if err := p.Rebuild(t.Context()); err != nil {
		t.Fatal(err)
	}
	first := mustSourceSnapshot(t, p, "alpha", Atom)
	if again := mustSourceSnapshot(t, p, "alpha", Atom); again != first {
		t.Error("the second request got another snapshot")
	}
	if n := renders.of("alpha.atom"); n != 1 {
		t.Errorf("two requests rendered %d times, want 1", n)
	}
	if n := renders.total(); n != 1 {
		t.Errorf("one document requested, %d rendered", n)
	}

	// A change elsewhere: a new generation, the same bytes.
	items := testItems()
	for i := range items {
		if items[i].Source == "beta" {
			items[i].Title = "Beta, edited"
		}
	}
	st.set(items)
	if err := p.Rebuild(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := renders.of("alpha.atom"); n != 1 {
		t.Errorf("a Rebuild rendered alpha.atom (%d renderings)", n)
	}
	same := mustSourceSnapshot(t, p, "alpha", Atom)
	if n := renders.of("alpha.atom"); n != 2 {
		t.Errorf("the stale document was rendered %d times in all, want 2", n)
	}
	if same != first || same.ETag != first.ETag || !same.LastModified.Equal(first.LastModified) {
		t.Errorf("unchanged document: ETag %s → %s, want the same snapshot", first.ETag, same.ETag)
	}

	// A change of alpha's own items: new bytes, new ETag.
	items[0].Title = "Hello, edited"
	st.set(items)
	if err := p.Rebuild(t.Context()); err != nil {
		t.Fatal(err)
	}
	changed := mustSourceSnapshot(t, p, "alpha", Atom)
	if changed.ETag == first.ETag || !bytes.Contains(changed.Body, []byte("Hello, edited")) {
		t.Errorf("changed document kept ETag %s or lacks the edit", changed.ETag)
	}
}

// TestSourceCacheBounds: the cache holds at most its count of documents
// and its bytes, dropping the least recently read.
func TestSourceCacheBounds(t *testing.T) {
	sources, st := manySources(20)
	p := New(Options{BaseURL: testBase}, nil, sources, st)
	if err := p.Rebuild(t.Context()); err != nil {
		t.Fatal(err)
	}
	renders := countRenders(p)

	t.Run("entries", func(t *testing.T) {
		p.sourceDocs = newSourceCache(5, 1<<30, sourceRenders)
		for _, s := range sources {
			for _, f := range formats {
				mustSourceSnapshot(t, p, s.Name, f)
				if n, _ := p.sourceDocs.stats(); n > 5 {
					t.Fatalf("%d documents cached, bound 5", n)
				}
			}
		}
		// The last read is still there, the first is gone.
		before := renders.total()
		mustSourceSnapshot(t, p, "s0019", JSON)
		if renders.total() != before {
			t.Error("the most recently read document was evicted")
		}
		mustSourceSnapshot(t, p, "s0000", RSS)
		if renders.total() != before+1 {
			t.Error("the least recently read document was kept")
		}
	})
	t.Run("bytes", func(t *testing.T) {
		one := snapshotSize(mustSourceSnapshot(t, p, "s0000", Atom))
		limit := 3*one + one/2
		p.sourceDocs = newSourceCache(1000, limit, sourceRenders)
		for _, s := range sources {
			mustSourceSnapshot(t, p, s.Name, Atom)
			if n, b := p.sourceDocs.stats(); b > limit || n > 3 {
				t.Fatalf("%d documents of %d bytes cached, bound %d bytes", n, b, limit)
			}
		}
		if n, _ := p.sourceDocs.stats(); n != 3 {
			t.Errorf("%d documents cached, want the 3 that fit", n)
		}
	})
}

// TestSourceFeedRenderedOnce: concurrent requests for one stale document
// render it once and all get its snapshot.
func TestSourceFeedRenderedOnce(t *testing.T) {
	st := &memStore{items: testItems(), states: testStates()}
	p := rebuilt(t, st)
	var renders atomic.Int32
	entered, release := make(chan struct{}), make(chan struct{})
	p.onSourceRender = func(string, Format) {
		if renders.Add(1) == 1 {
			close(entered)
			<-release
		}
	}
	const callers = 8
	got := make([]*Snapshot, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	wg.Go(func() { got[0], errs[0] = p.SourceSnapshot(t.Context(), "beta", RSS) })
	<-entered
	for i := 1; i < callers; i++ {
		wg.Go(func() { got[i], errs[i] = p.SourceSnapshot(t.Context(), "beta", RSS) })
	}
	gen := p.cur.Load().gen
	testkit.WaitFor(t, "every caller waits for the first one's rendering", func() bool {
		return p.sourceDocs.waiting(sourceKey{"beta", RSS}, gen) == callers-1
	})
	close(release)
	wg.Wait()
	if n := renders.Load(); n != 1 {
		t.Errorf("%d renderings, want 1", n)
	}
	for i := range callers {
		if errs[i] != nil || got[i] != got[0] || got[i] == nil {
			t.Errorf("caller %d: %p, %v; want the one snapshot %p", i, got[i], errs[i], got[0])
		}
	}
}

// TestSourceFeedSubscribed: a Rebuild renders the sources' own documents
// that have WebSub subscribers, and only those, and reports them when
// their bytes changed since they were last delivered.
func TestSourceFeedSubscribed(t *testing.T) {
	st := &memStore{items: testItems(), states: testStates()}
	topic := SourceFeedURL(testBase, "alpha", JSON)
	var changed []string
	p := New(Options{
		BaseURL: testBase,
		Subscribed: func(ctx context.Context) ([]string, error) {
			return []string{topic, FeedURL(testBase, "all", Atom), "https://elsewhere.example/x"}, nil
		},
		OnPublish: func(c []Change) {
			for _, c := range c {
				if c.Source {
					changed = append(changed, changeName(c))
				}
			}
		},
	}, testSpecs(), testSources(), st)
	renders := countRenders(p)
	rebuild := func() {
		t.Helper()
		if err := p.Rebuild(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	rebuild()
	rebuild()
	if n, all := renders.of("alpha.json"), renders.total(); n != 2 || all != 2 {
		t.Errorf("two Rebuilds rendered alpha.json %d times and %d documents in all, want 2 and 2", n, all)
	}
	if len(changed) != 0 {
		t.Errorf("no change, reported %q", changed)
	}
	items := testItems()
	items[0].Title = "Hello, edited" // alpha's
	st.set(items)
	rebuild()
	rebuild()
	if want := []string{"sources/alpha.json"}; !slices.Equal(changed, want) {
		t.Errorf("changed = %q, want %q (once)", changed, want)
	}
}
