package config

import (
	"reflect"
	"testing"

	"github.com/feedmill/feedmill/internal/feed"
)

func TestDiff(t *testing.T) {
	src := func(name string, edit ...func(*Source)) Source {
		s := Source{Name: name, URL: "https://" + name + ".example/feed", Retention: 100}
		for _, e := range edit {
			e(&s)
		}
		return s
	}
	fd := func(name string, edit ...func(*Feed)) Feed {
		f := Feed{Name: name, Sources: []string{"*"}, Limit: 50}
		for _, e := range edit {
			e(&f)
		}
		return f
	}
	cfg := func(sources []Source, feeds ...Feed) *Config {
		return &Config{Schedule: "@hourly", Sources: sources, Feeds: feeds}
	}
	tests := []struct {
		name      string
		old, next *Config
		want      Changes
	}{
		{"same", cfg([]Source{src("a"), src("b")}, fd("all")), cfg([]Source{src("a"), src("b")}, fd("all")), Changes{}},
		{"moved in the file", cfg([]Source{src("a"), src("b")}, fd("all")),
			cfg([]Source{src("b", func(s *Source) { s.Line = 9 }), src("a")}, fd("all", func(f *Feed) { f.Line = 3 })), Changes{}},
		{"an empty list for none", cfg([]Source{src("a")}, fd("all")),
			cfg([]Source{src("a", func(s *Source) { s.Categories = []string{} })}, fd("all", func(f *Feed) { f.Include = []string{} })), Changes{}},
		{"added and removed", cfg([]Source{src("a"), src("b"), src("c")}, fd("all"), fd("old")),
			cfg([]Source{src("c"), src("d"), src("a")}, fd("new"), fd("all")),
			Changes{SourcesAdded: []string{"d"}, SourcesRemoved: []string{"b"}, FeedsAdded: []string{"new"}, FeedsRemoved: []string{"old"}}},
		{"settings changed", cfg([]Source{src("a"), src("b"), src("c"), src("d")}, fd("all"), fd("tech")),
			cfg([]Source{
				src("a", func(s *Source) { s.URL = "https://a.example/other" }),
				src("b", func(s *Source) { s.Items = &feed.ItemRules{Each: "article"} }),
				src("c"),
				src("d", func(s *Source) { s.Title = "Dee" }),
			}, fd("all"), fd("tech", func(f *Feed) { f.Exclude = []string{"ads"} })),
			Changes{SourcesChanged: []string{"a", "b", "d"}, FeedsChanged: []string{"tech"}}},
		{"the default schedule of the sources without their own", cfg([]Source{src("a"), src("b", func(s *Source) { s.Schedule = "@daily" })}, fd("all")),
			func() *Config {
				c := cfg([]Source{src("a"), src("b", func(s *Source) { s.Schedule = "@daily" })}, fd("all"))
				c.Schedule = "@every 30m"
				return c
			}(),
			Changes{SourcesChanged: []string{"a"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Diff(tt.old, tt.next)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Diff = %+v\nwant   %+v", got, tt.want)
			}
		})
	}
}
