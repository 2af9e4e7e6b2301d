package refresh

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
)

func TestRefetch(t *testing.T) {
	base := feed.Source{Name: "s", URL: "https://s.example/feed", Title: "S", Schedule: "@hourly", Retention: 100}
	tests := []struct {
		name string
		edit func(*feed.Source)
		want bool
	}{
		{"nothing", func(*feed.Source) {}, false},
		{"url", func(s *feed.Source) { s.URL = "https://s.example/other" }, true},
		{"type", func(s *feed.Source) { s.Type = feed.TypeHTML }, true},
		{"items added", func(s *feed.Source) { s.Items = &feed.ItemRules{Each: "article"} }, true},
		{"content selector", func(s *feed.Source) { s.Content.Select = "main" }, true},
		{"content removal", func(s *feed.Source) { s.Content.Remove = []string{".ad"} }, true},
		{"rewrite", func(s *feed.Source) {
			s.Rewrites = []feed.Rewrite{{Field: feed.FieldTitle, Pattern: "x", Replace: "y"}}
		}, true},
		{"full text", func(s *feed.Source) { s.FullText = true }, true},
		{"title", func(s *feed.Source) { s.Title = "Other" }, false},
		{"categories", func(s *feed.Source) { s.Categories = []string{"tech"} }, false},
		{"schedule", func(s *feed.Source) { s.Schedule = "@daily" }, false},
		{"retention", func(s *feed.Source) { s.Retention = 5 }, false},
		{"priority", func(s *feed.Source) { s.Priority = 3 }, false},
		{"cache hints", func(s *feed.Source) { s.IgnoreCache = true }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := base
			tt.edit(&next)
			if got := Refetch(base, next); got != tt.want {
				t.Errorf("Refetch = %t, want %t", got, tt.want)
			}
		})
	}
	withItems := base
	withItems.Items = &feed.ItemRules{Each: "article", Title: "h2"}
	other := withItems
	other.Items = &feed.ItemRules{Each: "article", Title: "h3"}
	if !Refetch(withItems, other) {
		t.Error("a changed item rule does not ask for a refetch")
	}
	// A plain feed source keeps the key older versions stored, or every
	// source would be fetched in full once after an upgrade.
	if got, want := processingKey(base), "8cab7406bc26b8c7"; got != want {
		t.Errorf("processingKey of a plain source = %s, want %s as before", got, want)
	}
}

// TestReconfiguredMakesDue: the sources whose fetching or processing a new
// config changed are due at once, in full (no 304 for the old rules), and
// only once: a failure then backs off as usual.
func TestReconfiguredMakesDue(t *testing.T) {
	sites := map[string]*site{}
	var old []feed.Source
	for _, name := range []string{"rules", "title", "failing"} {
		sites[name] = newSite(t, rssWith("one", "two"))
		old = append(old, feed.Source{Name: name, URL: sites[name].URL, Schedule: "@every 1h"})
	}
	r, fx := newRefresher(t, old, Options{})
	ctx := t.Context()
	if got := r.RefreshAll(ctx, true); len(got) != 3 {
		t.Fatalf("first pass refreshed %d sources, want 3", len(got))
	}

	next := slices.Clone(old)
	next[0].Rewrites = []feed.Rewrite{{Field: feed.FieldTitle, Pattern: "one", Replace: "uno"}}
	next[1].Title = "A title of its own"
	next[2].Content.Remove = []string{".ad"}
	sites["failing"].set("", http.StatusServiceUnavailable)
	fx.clock.Advance(time.Minute)
	r2, err := New(next, testClient(5*time.Second), r.parse, fx.store, Options{Now: fx.clock.Now, FullTextLimit: feed.DefaultFullTextLimit})
	if err != nil {
		t.Fatal(err)
	}
	if got := r2.Reconfigured(old); !slices.Equal(got, []string{"rules", "failing"}) {
		t.Errorf("Reconfigured = %q, want [rules failing]", got)
	}
	results := r2.RefreshAll(ctx, true)
	var names []string
	for _, res := range results {
		names = append(names, res.Source)
		if res.Source == "rules" && (res.Err != nil || res.NotModified || res.Updated == 0) {
			t.Errorf("the rewritten source was not read again in full: %+v", res)
		}
	}
	if !slices.Equal(names, []string{"rules", "failing"}) {
		t.Errorf("the pass after the reload refreshed %q, want [rules failing]", names)
	}
	fx.clock.Advance(time.Minute)
	if again := r2.RefreshAll(ctx, true); len(again) != 0 {
		t.Errorf("a second pass refreshed %d sources; a reconfigured source is due once, and a failing one backs off", len(again))
	}
}
