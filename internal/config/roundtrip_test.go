package config

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/publish"
)

// emptyStore is a store without items, enough for publish to render the
// OPML list of the sources.
type emptyStore struct{}

func (emptyStore) Items(context.Context, feed.Query) ([]feed.Item, error) { return nil, nil }
func (emptyStore) CountItems(context.Context, []string) (int, error)      { return 0, nil }
func (emptyStore) States(context.Context) ([]feed.SourceState, error)     { return nil, nil }

// TestOPMLRoundTrip: the OPML list feedmill publishes, imported into an
// empty config, gives back its sources: names (dots included), URLs,
// types (an html or json source is listed by its feed at feedmill, and
// comes back as the page or API it reads), titles and categories.
func TestOPMLRoundTrip(t *testing.T) {
	const original = `server:
  base_url: https://news.example.org
sources:
  - name: paper
    url: https://paper.example/front
    type: html
    title: The Paper
    categories: [news, Local]
  - name: api.v2
    url: https://api.example/v2/posts
    type: json
  - name: blog
    url: https://blog.example/feed.xml
    title: A Blog
feeds:
  - name: all
    sources: ["*"]
`
	cfg, err := Parse([]byte(original), "feeds.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := publish.New(publish.Options{BaseURL: cfg.Server.BaseURL}, nil, cfg.DomainSources(), emptyStore{})
	if err := p.Rebuild(t.Context()); err != nil {
		t.Fatal(err)
	}
	const empty = "server:\n  base_url: https://elsewhere.example\n"
	path := filepath.Join(t.TempDir(), "feeds.yaml")
	if err := os.WriteFile(path, []byte(empty), 0o644); err != nil {
		t.Fatal(err)
	}
	added, skipped, err := Import(path, p.OPML().Body)
	if err != nil || len(skipped) != 0 {
		t.Fatalf("Import: added %q, skipped %q, %v", added, skipped, err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseDraft(data, "feeds.yaml")
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if len(back.Sources) != len(cfg.Sources) {
		t.Fatalf("%d sources back, want %d:\n%s", len(back.Sources), len(cfg.Sources), data)
	}
	for i, want := range cfg.Sources {
		got := back.Sources[i]
		if got.Name != want.Name || got.URL != want.URL || got.Type != want.Type || got.Title != want.Title || !slices.Equal(got.Categories, want.Categories) {
			t.Errorf("source %d back as %+v, want %+v", i, got, want)
		}
	}
	// Imported again, every source is already there.
	if added, skipped, err := Import(path, p.OPML().Body); err != nil || len(added) != 0 || len(skipped) != 3 {
		t.Errorf("second Import: added %q, skipped %q, %v", added, skipped, err)
	}
}
