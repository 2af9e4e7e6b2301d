package config

import (
	"github.com/feedmill/feedmill/internal/feed"
	"reflect"
	"testing"
)

// TestCategoriesIgnoreCase checks that a feed's categories select sources
// without regard to case, and the warnings `feedmill check` prints.
func TestCategoriesIgnoreCase(t *testing.T) {
	tests := []struct {
		name     string
		yaml     string
		selects  map[string][]string
		warnings []string
	}{
		{
			name: "lower case selects imported Title case",
			yaml: `
sources:
  - {name: a, url: "http://127.0.0.1/a", categories: [Tech]}
  - {name: b, url: "http://127.0.0.1/b", categories: [News]}
feeds:
  - {name: tech, categories: [tech]}
  - {name: news, categories: [NEWS]}
`,
			selects: map[string][]string{"tech": {"a"}, "news": {"b"}},
		},
		{
			name: "unselected source and case-only differences warn",
			yaml: `
sources:
  - {name: a, url: "http://127.0.0.1/a", categories: [Tech]}
  - {name: b, url: "http://127.0.0.1/b", categories: [tech]}
  - {name: c, url: "http://127.0.0.1/c", categories: [Other]}
feeds:
  - {name: tech, categories: [TECH]}
`,
			selects: map[string][]string{"tech": {"a", "b"}},
			warnings: []string{
				"source c is in no published feed",
				`categories "Tech", "tech" differ only by case; they are one category`,
			},
		},
		{
			name: "the default feed selects every source",
			yaml: `
sources:
  - {name: a, url: "http://127.0.0.1/a", categories: [x]}
`,
			selects: map[string][]string{"all": {"a"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.yaml), "feeds.yaml")
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			for _, f := range c.Feeds {
				if got := c.FeedSources(f); !reflect.DeepEqual(got, tt.selects[f.Name]) {
					t.Errorf("FeedSources(%s) = %q, want %q", f.Name, got, tt.selects[f.Name])
				}
			}
			if got := c.Warnings(); !reflect.DeepEqual(got, tt.warnings) {
				t.Errorf("Warnings() = %q, want %q", got, tt.warnings)
			}
		})
	}
}

// TestItemsEachAlone checks that a source's items may give only each:
// the other fields are guessed when scraping.
func TestItemsEachAlone(t *testing.T) {
	for _, typ := range []string{"html", "json"} {
		c, err := Parse([]byte("sources:\n  - name: paper\n    url: https://a.example/news/\n    type: "+typ+"\n    items: {each: \"div.teaser\"}\n"), "feeds.yaml")
		if err != nil {
			t.Fatalf("type %s: Parse: %v", typ, err)
		}
		if got := c.Sources[0].Items; got == nil || *got != (feed.ItemRules{Each: "div.teaser"}) {
			t.Errorf("type %s: items = %+v, want only each", typ, got)
		}
	}
}
