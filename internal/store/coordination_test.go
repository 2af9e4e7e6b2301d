package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
)

// The conformance tests of what several instances sharing a store rely
// on: leases, the change counter, and saves racing on one source. Two
// handles opened on one database stand for two processes.

// setArticleBounds lowers the bounds of the article cache, for tests.
func (e *engine) setArticleBounds(age time.Duration, rows int) {
	e.articleMaxAge, e.articleMaxRows = age, rows
}

func mustClaimDue(t *testing.T, s conformanceStore, owner string, names []string, now time.Time, lease time.Duration, limit int) []string {
	t.Helper()
	got, err := s.ClaimDue(context.Background(), owner, names, now, lease, limit)
	if err != nil {
		t.Fatalf("ClaimDue(%s, %q): %v", owner, names, err)
	}
	return got
}

func mustClaim(t *testing.T, s conformanceStore, owner, name string, now time.Time, lease time.Duration) bool {
	t.Helper()
	ok, err := s.Claim(context.Background(), owner, name, now, lease)
	if err != nil {
		t.Fatalf("Claim(%s, %q): %v", owner, name, err)
	}
	return ok
}

func checkClaimed(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: claimed %q, want %q", what, got, want)
	}
}

// testClaimDue: which sources are due, in which order, and who may take
// them.
func testClaimDue(t *testing.T, open opener) {
	s := mustOpen(t, open)
	ctx := context.Background()
	// At at(3): a (due at 1) and e (due at 2) are overdue, b (due at 5)
	// is not, c has a state without a next fetch and d none at all:
	// both never fetched.
	for _, st := range []feed.SourceState{
		{Name: "a", NextFetch: at(1), LastStatus: 200},
		{Name: "b", NextFetch: at(5)},
		{Name: "c", LastStatus: 500},
		{Name: "e", NextFetch: at(2)},
	} {
		if err := s.SaveState(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	names := []string{"e", "d", "c", "b", "a", "a"} // any order; repeats count once
	const lease = time.Hour
	now := at(3)

	checkClaimed(t, "first claim", mustClaimDue(t, s, "x", names, now, lease, 10), "c", "d", "a", "e")
	checkClaimed(t, "another owner", mustClaimDue(t, s, "y", names, now.Add(time.Minute), lease, 10))
	checkClaimed(t, "the same owner again", mustClaimDue(t, s, "x", names, now.Add(time.Minute), lease, 10), "c", "d", "a", "e")
	// x's leases now end at now+1m+1h; at that instant they are over,
	// and b is not due yet at at(5) - 1m.
	later := now.Add(time.Minute + lease)
	checkClaimed(t, "just before the end of the leases", mustClaimDue(t, s, "y", names, later.Add(-time.Microsecond), lease, 10))
	checkClaimed(t, "at the end of the leases", mustClaimDue(t, s, "y", names, later, lease, 2), "c", "d")
	checkClaimed(t, "the rest, with a limit", mustClaimDue(t, s, "z", names, later, lease, 1), "a")
	// At at(5) b is due, e free again, and a held by z itself; c and d
	// are y's until at(5)+1m.
	checkClaimed(t, "b when due", mustClaimDue(t, s, "z", names, at(5), lease, 10), "a", "e", "b")
	checkClaimed(t, "a zero limit", mustClaimDue(t, s, "w", names, at(9), lease, 0))
	checkClaimed(t, "no names", mustClaimDue(t, s, "w", nil, at(9), lease, 10))
	checkClaimed(t, "an unknown name only", mustClaimDue(t, s, "w", []string{"f"}, at(9), lease, 10), "f")

	// Claimed sources never fetched list with an empty state; the
	// others keep theirs.
	states, err := s.States(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []feed.SourceState{
		{Name: "a", NextFetch: at(1), LastStatus: 200},
		{Name: "b", NextFetch: at(5)},
		{Name: "c", LastStatus: 500},
		{Name: "d"},
		{Name: "e", NextFetch: at(2)},
		{Name: "f"},
	}
	if !reflect.DeepEqual(states, want) {
		t.Errorf("States after claims =\n %+v\nwant\n %+v", states, want)
	}
	if st, err := s.State(ctx, "d"); err != nil || st != (feed.SourceState{Name: "d"}) {
		t.Errorf("State(d) = %+v, %v; want an empty state", st, err)
	}
}

// testClaimRelease: Claim ignores due times, Release ends only one's own
// lease, and leases pass from handle to handle.
func testClaimRelease(t *testing.T, open opener) {
	h1, h2 := mustOpen(t, open), mustOpen(t, open)
	ctx := context.Background()
	if err := h1.SaveState(ctx, feed.SourceState{Name: "src", NextFetch: at(100)}); err != nil {
		t.Fatal(err)
	}
	const lease = 10 * time.Minute
	steps := []struct {
		name  string
		s     conformanceStore
		owner string
		now   time.Time
		want  bool
	}{
		{"not due, but free", h1, "x", at(1), true},
		{"held by another owner", h2, "y", at(1).Add(time.Minute), false},
		{"renewed by its owner", h2, "x", at(1).Add(time.Minute), true},
		{"still held at the first end", h2, "y", at(1).Add(lease), false},
		{"over at the renewed end", h2, "y", at(1).Add(time.Minute + lease), true},
	}
	for _, st := range steps {
		if got := mustClaim(t, st.s, st.owner, "src", st.now, lease); got != st.want {
			t.Errorf("%s: Claim(%s) = %v, want %v", st.name, st.owner, got, st.want)
		}
	}
	// y holds src until at(1)+1m+2*lease.
	now := at(1).Add(20 * time.Minute)
	if err := h1.Release(ctx, "x", "src"); err != nil {
		t.Fatalf("Release by a former holder: %v", err)
	}
	if mustClaim(t, h1, "z", "src", now, lease) {
		t.Error("a release by a former holder ended the current lease")
	}
	if err := h1.Release(ctx, "y", "src"); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if err := h1.Release(ctx, "y", "src"); err != nil {
		t.Errorf("Release again: %v, want nil", err)
	}
	if err := h1.Release(ctx, "y", "never-seen"); err != nil {
		t.Errorf("Release of an unknown source: %v, want nil", err)
	}
	if !mustClaim(t, h2, "z", "src", now, lease) {
		t.Error("after Release: Claim by another owner failed")
	}
	// A released source is due again by its state alone: src is not.
	if err := h2.Release(ctx, "z", "src"); err != nil {
		t.Fatal(err)
	}
	checkClaimed(t, "released, not due", mustClaimDue(t, h1, "x", []string{"src"}, now, lease, 5))
	checkClaimed(t, "released, due", mustClaimDue(t, h1, "x", []string{"src"}, at(100), lease, 5), "src")
	// Claim of a source never seen creates its state.
	if !mustClaim(t, h1, "x", "new", now, lease) {
		t.Error("Claim of a new source failed")
	}
	if st, err := h2.State(ctx, "new"); err != nil || st != (feed.SourceState{Name: "new"}) {
		t.Errorf("State(new) = %+v, %v", st, err)
	}
}

// testClaimAllRelease: ClaimAll takes what Claim would take, source by
// source, in one transaction; SaveStatesAndRelease stores states and ends
// only the owner's own leases, together.
func testClaimAllRelease(t *testing.T, open opener) {
	h1, h2 := mustOpen(t, open), mustOpen(t, open)
	ctx := context.Background()
	const lease = 24 * time.Hour // outlasts every step
	claimAll := func(s conformanceStore, owner string, now time.Time, names ...string) []string {
		t.Helper()
		got, err := s.ClaimAll(ctx, owner, names, now, lease)
		if err != nil {
			t.Fatalf("ClaimAll(%s, %q): %v", owner, names, err)
		}
		return got
	}
	if !mustClaim(t, h2, "y", "b", at(1), lease) {
		t.Fatal("Claim(b) failed")
	}
	checkClaimed(t, "free, new and held by another", claimAll(h1, "x", at(1), "c", "b", "a", "a"), "a", "c")
	checkClaimed(t, "own leases renewed", claimAll(h1, "x", at(2), "a", "c"), "a", "c")
	checkClaimed(t, "held by the other", claimAll(h2, "y", at(2), "a", "b", "c"), "b")
	checkClaimed(t, "nothing asked", claimAll(h2, "y", at(2)))

	sts := []feed.SourceState{
		{Name: "c", LastFetch: at(3), NextFetch: at(100), LastStatus: 304},
		{Name: "a", LastFetch: at(3), NextFetch: at(100), LastStatus: 200},
	}
	// y's release of a and c (x's) ends nothing; x's of b (y's) neither.
	if err := h1.SaveStatesAndRelease(ctx, "y", nil, []string{"a", "c"}); err != nil {
		t.Fatal(err)
	}
	if err := h1.SaveStatesAndRelease(ctx, "x", sts, []string{"c", "a", "b", "unknown"}); err != nil {
		t.Fatalf("SaveStatesAndRelease: %v", err)
	}
	for _, want := range sts {
		got, err := h2.State(ctx, want.Name)
		if err != nil || got.LastStatus != want.LastStatus || !got.NextFetch.Equal(want.NextFetch) {
			t.Errorf("State(%s) = %+v, %v; want it saved", want.Name, got, err)
		}
	}
	if fs, err := h2.Fetches(ctx, "a", 10); err != nil || len(fs) != 1 {
		t.Errorf("Fetches(a) = %+v, %v; want the attempt appended", fs, err)
	}
	checkClaimed(t, "after the release", claimAll(h2, "z", at(4), "a", "b", "c"), "a", "c")
	for _, tc := range []struct {
		name    string
		owner   string
		release []string
		want    string
	}{
		{"release without owner", " ", []string{"a"}, "empty owner"},
		{"release of an empty name", "x", []string{""}, "empty source name"},
	} {
		if err := h1.SaveStatesAndRelease(ctx, tc.owner, nil, tc.release); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := h1.ClaimAll(ctx, "", []string{"a"}, at(5), lease); err == nil || !strings.Contains(err.Error(), "empty owner") {
		t.Errorf("ClaimAll without owner: err = %v", err)
	}
}

// testClaimAndState: saving a state keeps the lease, and the lease does
// not show in the state.
func testClaimAndState(t *testing.T, open opener) {
	s := mustOpen(t, open)
	ctx := context.Background()
	const lease = 2 * time.Hour
	checkClaimed(t, "claim", mustClaimDue(t, s, "x", []string{"src"}, at(1), lease, 1), "src")
	saved := feed.SourceState{Name: "src", LastFetch: at(1), NextFetch: at(2), LastStatus: 200, FeedTitle: "T"}
	if err := s.SaveState(ctx, saved); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveStates(ctx, []feed.SourceState{saved}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.State(ctx, "src"); err != nil || got != saved {
		t.Errorf("State = %+v, %v; want %+v", got, err, saved)
	}
	// Due at at(2), but leased to x until at(3).
	checkClaimed(t, "due but leased", mustClaimDue(t, s, "y", []string{"src"}, at(2), lease, 1))
	if mustClaim(t, s, "y", "src", at(2).Add(30*time.Minute), lease) {
		t.Error("SaveState cleared the lease")
	}
	checkClaimed(t, "due and free", mustClaimDue(t, s, "y", []string{"src"}, at(3), lease, 1), "src")
}

// testClaimDueConcurrent: owners racing on two handles claim every due
// source exactly once.
func testClaimDueConcurrent(t *testing.T, open opener) {
	h1, h2 := mustOpen(t, open), mustOpen(t, open)
	const sources, limit = 200, 7
	names := make([]string, sources)
	for i := range names {
		names[i] = fmt.Sprintf("src%03d", i)
	}
	// Half of them have a state, due at various times.
	var sts []feed.SourceState
	for i := 0; i < sources; i += 2 {
		sts = append(sts, feed.SourceState{Name: names[i], NextFetch: at(-i)})
	}
	if err := h1.SaveStates(context.Background(), sts); err != nil {
		t.Fatal(err)
	}
	var (
		mu      sync.Mutex
		claimed = map[string][]string{} // source -> owners
		wg      sync.WaitGroup
	)
	for w := range 4 {
		s := []conformanceStore{h1, h2}[w%2]
		owner := fmt.Sprintf("worker%d", w)
		wg.Go(func() {
			// As a scheduler does, each asks only for the sources it is
			// not working on already: its own leases would come back.
			mine := map[string]bool{}
			for range sources {
				var ask []string
				for _, name := range names {
					if !mine[name] {
						ask = append(ask, name)
					}
				}
				got, err := s.ClaimDue(context.Background(), owner, ask, at(1), time.Hour, limit)
				if err != nil {
					t.Errorf("%s: ClaimDue: %v", owner, err)
					return
				}
				if len(got) == 0 {
					return
				}
				if len(got) > limit {
					t.Errorf("%s: claimed %d sources, limit %d", owner, len(got), limit)
				}
				mu.Lock()
				for _, name := range got {
					mine[name] = true
					claimed[name] = append(claimed[name], owner)
				}
				mu.Unlock()
			}
			t.Errorf("%s: still claiming after %d rounds", owner, sources)
		})
	}
	wg.Wait()
	for _, name := range names {
		if owners := claimed[name]; len(owners) != 1 {
			t.Errorf("%s claimed by %q, want exactly one owner", name, owners)
		}
	}
	if len(claimed) != sources {
		t.Errorf("%d sources claimed, want %d", len(claimed), sources)
	}
}

// testClaimKey: leases on keys, apart from those on sources.
func testClaimKey(t *testing.T, open opener) {
	h1, h2 := mustOpen(t, open), mustOpen(t, open)
	ctx := context.Background()
	const key, lease = "article:https://example.com/a", time.Minute
	claimKey := func(s conformanceStore, owner string, now time.Time) bool {
		t.Helper()
		ok, err := s.ClaimKey(ctx, owner, key, now, lease)
		if err != nil {
			t.Fatalf("ClaimKey(%s): %v", owner, err)
		}
		return ok
	}
	steps := []struct {
		name  string
		s     conformanceStore
		owner string
		now   time.Time
		want  bool
	}{
		{"free", h1, "x", at(1), true},
		{"held", h2, "y", at(1), false},
		{"renewed by its owner", h2, "x", at(1).Add(30 * time.Second), true},
		{"held until the renewed end", h1, "y", at(1).Add(lease), false},
		{"expired", h1, "y", at(1).Add(30*time.Second + lease), true},
	}
	for _, st := range steps {
		if got := claimKey(st.s, st.owner, st.now); got != st.want {
			t.Errorf("%s: ClaimKey(%s) = %v, want %v", st.name, st.owner, got, st.want)
		}
	}
	now := at(1).Add(2 * lease)
	if err := h1.ReleaseKey(ctx, "x", key); err != nil {
		t.Fatalf("ReleaseKey by a former holder: %v", err)
	}
	if claimKey(h2, "z", now) {
		t.Error("a release by a former holder ended the current lease")
	}
	if err := h2.ReleaseKey(ctx, "y", key); err != nil {
		t.Fatalf("ReleaseKey: %v", err)
	}
	if !claimKey(h1, "z", now) {
		t.Error("after ReleaseKey: ClaimKey by another owner failed")
	}
	if err := h1.ReleaseKey(ctx, "z", "article:never-claimed"); err != nil {
		t.Errorf("ReleaseKey of an unknown key: %v", err)
	}
	// A key named like a source is another lease.
	if ok, err := h1.ClaimKey(ctx, "x", "src", now, lease); err != nil || !ok {
		t.Fatalf("ClaimKey(src) = %v, %v", ok, err)
	}
	if !mustClaim(t, h2, "y", "src", now, lease) {
		t.Error("a key lease blocked the source of the same name")
	}
}

func testClaimBadInput(t *testing.T, open opener) {
	s := mustOpen(t, open)
	ctx := context.Background()
	names := []string{"a"}
	tests := []struct {
		name    string
		call    func() error
		wantErr string
	}{
		{"ClaimDue without owner", func() error { _, err := s.ClaimDue(ctx, " ", names, at(1), time.Hour, 1); return err }, "empty owner"},
		{"ClaimDue without time", func() error { _, err := s.ClaimDue(ctx, "x", names, time.Time{}, time.Hour, 1); return err }, "zero time"},
		{"ClaimDue with a zero lease", func() error { _, err := s.ClaimDue(ctx, "x", names, at(1), 0, 1); return err }, "lease 0s is not positive"},
		{"ClaimDue with a negative limit", func() error { _, err := s.ClaimDue(ctx, "x", names, at(1), time.Hour, -1); return err }, "negative limit -1"},
		{"ClaimDue with an empty name", func() error {
			_, err := s.ClaimDue(ctx, "x", []string{"a", ""}, at(1), time.Hour, 1)
			return err
		}, "source 1: empty name"},
		{"ClaimDue with a lease past 9999", func() error {
			_, err := s.ClaimDue(ctx, "x", names, time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), 48*time.Hour, 1)
			return err
		}, "end of lease"},
		{"Claim without name", func() error { _, err := s.Claim(ctx, "x", "", at(1), time.Hour); return err }, "empty source name"},
		{"Claim without owner", func() error { _, err := s.Claim(ctx, "", "a", at(1), time.Hour); return err }, "empty owner"},
		{"Claim with a negative lease", func() error { _, err := s.Claim(ctx, "x", "a", at(1), -time.Hour); return err }, "not positive"},
		{"Release without name", func() error { return s.Release(ctx, "x", " ") }, "empty source name"},
		{"Release without owner", func() error { return s.Release(ctx, "", "a") }, "empty owner"},
		{"ClaimKey without key", func() error { _, err := s.ClaimKey(ctx, "x", "", at(1), time.Hour); return err }, "empty key"},
		{"ClaimKey without owner", func() error { _, err := s.ClaimKey(ctx, "", "k", at(1), time.Hour); return err }, "empty owner"},
		{"ReleaseKey without key", func() error { return s.ReleaseKey(ctx, "x", "") }, "empty key"},
		{"ReleaseKey without owner", func() error { return s.ReleaseKey(ctx, "", "k") }, "empty owner"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
	if states, err := s.States(ctx); err != nil || len(states) != 0 {
		t.Errorf("after refused claims: States = %+v, %v; want none", states, err)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	calls := []struct {
		name string
		call func() error
	}{
		{"ClaimDue", func() error { _, err := s.ClaimDue(cancelled, "x", names, at(1), time.Hour, 1); return err }},
		{"Claim", func() error { _, err := s.Claim(cancelled, "x", "a", at(1), time.Hour); return err }},
		{"Release", func() error { return s.Release(cancelled, "x", "a") }},
		{"ClaimKey", func() error { _, err := s.ClaimKey(cancelled, "x", "k", at(1), time.Hour); return err }},
		{"ReleaseKey", func() error { return s.ReleaseKey(cancelled, "x", "k") }},
		{"Version", func() error { _, err := s.Version(cancelled); return err }},
	}
	for _, c := range calls {
		t.Run("cancelled "+c.name, func(t *testing.T) {
			if err := c.call(); !errors.Is(err, context.Canceled) {
				t.Errorf("error = %v, want context.Canceled", err)
			}
		})
	}
}

// testVersion: the change counter moves with every write of items, and
// only then, and all handles see it.
func testVersion(t *testing.T, open opener) {
	h1, h2 := mustOpen(t, open), mustOpen(t, open)
	ctx := context.Background()
	version := func(s conformanceStore) int64 {
		t.Helper()
		v, err := s.Version(ctx)
		if err != nil {
			t.Fatalf("Version: %v", err)
		}
		return v
	}
	save := func(s conformanceStore, source string, items []feed.Item, keep int, now time.Time) func() {
		return func() { mustSave(t, s, source, items, keep, now) }
	}
	hidden := dated(2, 1)
	hidden[0] = withHidden(hidden[0])
	changed := slices.Clone(hidden)
	changed[1].Title = "changed"
	steps := []struct {
		name    string
		do      func()
		changes bool
	}{
		{"new items", save(h1, "src", dated(2, 1), 10, at(5)), true},
		{"the same items again", save(h1, "src", dated(2, 1), 10, at(6)), false},
		{"hidden fields alone", save(h1, "src", hidden, 10, at(7)), true},
		{"an updated item", save(h2, "src", changed, 10, at(8)), true},
		{"pruning alone", save(h1, "src", nil, 1, at(9)), true},
		{"an empty batch of a new source", save(h1, "other", nil, 10, at(9)), false},
		{"a refused batch", func() {
			if _, err := h1.SaveItems(ctx, "src", []feed.Item{{Title: "no id"}}, 10, at(9)); err == nil {
				t.Error("a batch without ids was saved")
			}
		}, false},
		{"a saved state", func() {
			if err := h1.SaveState(ctx, feed.SourceState{Name: "src", LastStatus: 200}); err != nil {
				t.Fatal(err)
			}
		}, false},
		// What published feeds show of a source: its title and link
		// attribute items, its first success splits the backlog.
		{"a state with the feed's title", func() {
			if err := h2.SaveState(ctx, feed.SourceState{Name: "src", LastStatus: 200, FeedTitle: "Src", LastFetch: at(10)}); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"the same title, another attempt", func() {
			if err := h1.SaveState(ctx, feed.SourceState{Name: "src", LastStatus: 304, FeedTitle: "Src", LastFetch: at(11)}); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"a first success in a batch", func() {
			if err := h1.SaveStates(ctx, []feed.SourceState{
				{Name: "src", LastStatus: 304, FeedTitle: "Src", LastFetch: at(12)},
				{Name: "third", LastStatus: 200, FirstSuccess: at(12), LastSuccess: at(12), LastFetch: at(12)},
			}); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"a feed link", func() {
			if err := h1.SaveState(ctx, feed.SourceState{Name: "third", FeedLink: "https://third.example/", FirstSuccess: at(12), LastFetch: at(13)}); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"an article", func() {
			if err := h1.PutArticle(ctx, feed.Article{URL: "https://example.com/a", Fetched: at(9)}); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"a claim", func() { mustClaim(t, h1, "x", "src", at(9), time.Hour) }, false},
		{"new items on the other handle", save(h2, "other", dated(3), 10, at(10)), true},
	}
	for _, st := range steps {
		before := version(h1)
		st.do()
		after := version(h1)
		if st.changes && after <= before {
			t.Errorf("%s: version %d -> %d, want it increased", st.name, before, after)
		}
		if !st.changes && after != before {
			t.Errorf("%s: version %d -> %d, want it unchanged", st.name, before, after)
		}
		if other := version(h2); other != after {
			t.Errorf("%s: the other handle reads version %d, want %d", st.name, other, after)
		}
	}
}

// testConcurrentSaves: handles saving the same batch of one source at
// once store and count each item once.
func testConcurrentSaves(t *testing.T, open opener) {
	h1, h2 := mustOpen(t, open), mustOpen(t, open)
	const writers, rounds, perBatch = 4, 5, 10
	var (
		mu    sync.Mutex
		total feed.SaveResult
		wg    sync.WaitGroup
	)
	for w := range writers {
		s := []conformanceStore{h1, h2}[w%2]
		wg.Go(func() {
			for r := range rounds {
				// Every writer brings the same items of round r, and
				// keeps 2*perBatch: each round prunes the oldest but one.
				batch := make([]feed.Item, perBatch)
				for i := range batch {
					batch[i] = testItem(fmt.Sprintf("r%d-%d", r, i), at(r).Add(time.Duration(i)*time.Minute))
				}
				res, err := s.SaveItems(context.Background(), "shared", batch, 2*perBatch, at(100+r))
				if err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
				mu.Lock()
				total.New += res.New
				total.Updated += res.Updated
				total.Pruned += res.Pruned
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	n, err := h1.CountItems(context.Background(), []string{"shared"})
	if err != nil {
		t.Fatal(err)
	}
	got := mustItems(t, h2, feed.Query{Sources: []string{"shared"}})
	if n != len(got) || n > 2*perBatch {
		t.Errorf("CountItems = %d, %d items listed; want equal, at most %d", n, len(got), 2*perBatch)
	}
	// Each item was new once, and each item gone was pruned once.
	if total.Updated != 0 || total.New-total.Pruned != n || total.New > writers*rounds*perBatch {
		t.Errorf("results add up to %+v for %d items stored", total, n)
	}
	for _, it := range got {
		if !strings.HasPrefix(it.ID, "r") {
			t.Errorf("unexpected item %q", it.ID)
		}
	}
}

// testArticleBounds checks the bounds of the article cache with small
// ones: an age of 10 hours and 3 entries.
func testArticleBounds(t *testing.T, open opener) {
	s := mustOpen(t, open)
	s.(interface{ setArticleBounds(time.Duration, int) }).setArticleBounds(10*time.Hour, 3)
	ctx := context.Background()
	steps := []struct {
		name string
		url  string
		hour int // fetched at(hour)
		want []string
	}{
		{"first", "a", 0, []string{"a"}},
		{"second", "b", 1, []string{"a", "b"}},
		{"at the limit", "c", 2, []string{"a", "b", "c"}},
		{"over the limit: the oldest goes", "d", 3, []string{"b", "c", "d"}},
		{"an overwrite makes an entry new again", "b", 4, []string{"b", "c", "d"}},
		{"and the oldest then is another", "e", 5, []string{"b", "d", "e"}},
		{"an entry older than the rest is the one dropped", "old", -5, []string{"b", "d", "e"}},
		// b was put at hour 4, d at hour 3.
		{"exactly the maximum age is kept", "f", 14, []string{"b", "e", "f"}},
		{"older than the maximum age goes", "g", 16, []string{"f", "g"}},
		{"everything expired", "h", 100, []string{"h"}},
	}
	var all []string
	for _, st := range steps {
		u := "https://example.com/" + st.url
		if err := s.PutArticle(ctx, feed.Article{URL: u, RulesKey: "k", Title: st.name, Fetched: at(st.hour)}); err != nil {
			t.Fatalf("%s: PutArticle: %v", st.name, err)
		}
		if !slices.Contains(all, st.url) {
			all = append(all, st.url)
		}
		var got []string
		for _, name := range all {
			if _, ok, err := s.GetArticle(ctx, "https://example.com/"+name, "k"); err != nil {
				t.Fatal(err)
			} else if ok {
				got = append(got, name)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, st.want) {
			t.Errorf("%s: cache holds %q, want %q", st.name, got, st.want)
		}
	}
}
