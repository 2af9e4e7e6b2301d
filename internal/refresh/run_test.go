package refresh

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/normalize"
	"github.com/feedmill/feedmill/internal/scrape"
)

// TestRefreshNow is `feedmill fetch` beside a daemon: the daemon (one
// refresher) has fetched every source, so none is due; a new process (a
// refresher of its own on the same store, knowing nothing of the 429s the
// daemon got) asks for some of them by hand.
func TestRefreshNow(t *testing.T) {
	busy, other := newOrigin(t), newOrigin(t)
	other.handle("/ok", serveFeed(rssWith("ok")))
	other.handle("/broken", serveStatus(http.StatusInternalServerError))
	busy.handle("/sibling", serveFeed(rssWith("sibling")))
	busy.handle("/limited", serveStatus(http.StatusTooManyRequests, "Retry-After", "3600"))
	sources := []feed.Source{
		{Name: "ok", URL: other.URL + "/ok", Schedule: "@every 6h"},
		{Name: "broken", URL: other.URL + "/broken", Schedule: "@every 6h"},
		{Name: "sibling", URL: busy.URL + "/sibling", Schedule: "@every 6h"},
		{Name: "limited", URL: busy.URL + "/limited", Schedule: "@every 6h"},
	}
	daemon, fx := newRefresher(t, sources, Options{})
	for _, src := range sources { // sibling before the 429 of its host
		daemon.RefreshOne(t.Context(), src)
	}
	for _, src := range sources {
		if mustDue(t, daemon, src) {
			t.Fatalf("%s is due after the daemon's pass", src.Name)
		}
	}
	hits := func() map[string]int {
		return map[string]int{"ok": other.count("/ok"), "broken": other.count("/broken"), "sibling": busy.count("/sibling"), "limited": busy.count("/limited")}
	}

	tests := []struct {
		name    string
		pass    Pass
		fetched []string          // the sources requested
		skipped map[string]string // source: what its Skipped reason holds
		failed  map[string]string // source: what its error says
	}{
		{name: "a named source is fetched before its time", pass: Pass{Sources: []string{"ok"}}, fetched: []string{"ok"}},
		{name: "a failing source waits for its backoff", pass: Pass{Sources: []string{"broken"}},
			skipped: map[string]string{"broken": "waiting after a failed attempt until"}},
		{name: "a source that got a 429 waits", pass: Pass{Sources: []string{"limited"}},
			skipped: map[string]string{"limited": "waiting after a failed attempt"}},
		{name: "the other sources of a host that sent a 429 wait", pass: Pass{Sources: []string{"sibling"}},
			skipped: map[string]string{"sibling": "429 Too Many Requests"}},
		{name: "every source without names", pass: Pass{}, fetched: []string{"ok"},
			skipped: map[string]string{"broken": "waiting", "sibling": "429", "limited": "waiting"}},
		{name: "an unknown name fails", pass: Pass{Sources: []string{"nope", "ok"}}, fetched: []string{"ok"},
			failed: map[string]string{"nope": `unknown source "nope"`}},
		{name: "force fetches a backing-off source", pass: Pass{Sources: []string{"broken"}, Force: true}, fetched: []string{"broken"},
			failed: map[string]string{"broken": "500"}},
		{name: "force fetches a source of a paused host", pass: Pass{Sources: []string{"sibling"}, Force: true}, fetched: []string{"sibling"}},
		{name: "force fetches the source that got the 429", pass: Pass{Sources: []string{"limited"}, Force: true}, fetched: []string{"limited"},
			failed: map[string]string{"limited": "429"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cli, err := New(sources, testClient(5*time.Second), scrape.New(normalize.New(normalize.Options{}), nil), fx.store,
				Options{Now: fx.clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			before := hits()
			results := cli.RefreshNow(t.Context(), tt.pass)
			after := hits()
			for name := range before {
				want := 0
				for _, f := range tt.fetched {
					if f == name {
						want = 1
					}
				}
				if got := after[name] - before[name]; got != want {
					t.Errorf("%s requested %d times, want %d", name, got, want)
				}
			}
			if len(results) != len(tt.fetched)+len(tt.skipped)+len(tt.failed)-overlap(tt.fetched, tt.failed) {
				t.Errorf("%d results: %+v", len(results), results)
			}
			for _, res := range results {
				switch {
				case tt.skipped[res.Source] != "":
					if !strings.Contains(res.Skipped, tt.skipped[res.Source]) || res.Err != nil {
						t.Errorf("%s: skipped %q, err %v; want skipped for %q", res.Source, res.Skipped, res.Err, tt.skipped[res.Source])
					}
				case tt.failed[res.Source] != "":
					if res.Err == nil || !strings.Contains(res.Err.Error(), tt.failed[res.Source]) {
						t.Errorf("%s: err %v, want one saying %q", res.Source, res.Err, tt.failed[res.Source])
					}
				default:
					if res.Err != nil || res.Skipped != "" {
						t.Errorf("%s: %+v, want fetched", res.Source, res)
					}
				}
			}
		})
	}

	t.Run("a source another instance holds is left to it", func(t *testing.T) {
		ok, err := fx.store.Claim(t.Context(), "daemon", "ok", fx.clock.Now(), time.Minute)
		if err != nil || !ok {
			t.Fatalf("claim: %v %v", ok, err)
		}
		cli, err := New(sources, testClient(5*time.Second), scrape.New(normalize.New(normalize.Options{}), nil), fx.store,
			Options{Now: fx.clock.Now, Coordinator: fx.store, Owner: "cli"})
		if err != nil {
			t.Fatal(err)
		}
		before := other.count("/ok")
		res := cli.RefreshNow(t.Context(), Pass{Sources: []string{"ok"}, Force: true})
		if len(res) != 1 || res[0].Skipped != otherInstance || other.count("/ok") != before {
			t.Errorf("got %+v and %d requests, want it skipped without a request", res, other.count("/ok")-before)
		}
	})
}

// overlap counts the names in both a and the keys of b.
func overlap(a []string, b map[string]string) int {
	n := 0
	for _, s := range a {
		if _, ok := b[s]; ok {
			n++
		}
	}
	return n
}
