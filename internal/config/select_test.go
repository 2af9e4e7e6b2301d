package config

import (
	"slices"
	"testing"
)

func TestSelectSources(t *testing.T) {
	cfg, err := Parse([]byte(`sources:
  - name: tech-news
    url: https://tech.example/feed.xml
  - name: tech-blog
    url: https://blog.example/feed.xml
  - name: weather
    url: https://weather.example/feed.xml
feeds:
  - name: all
    sources: ["*"]
`), "feeds.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		patterns []string
		want     []string
		err      string
	}{
		{"none is every source", nil, []string{"tech-news", "tech-blog", "weather"}, ""},
		{"a name", []string{"weather"}, []string{"weather"}, ""},
		{"a glob, in config order", []string{"tech-*"}, []string{"tech-news", "tech-blog"}, ""},
		{"names and globs without repeats", []string{"weather", "tech-b*", "tech-blog"}, []string{"tech-blog", "weather"}, ""},
		{"every source", []string{"*"}, []string{"tech-news", "tech-blog", "weather"}, ""},
		{"a typo with a suggestion", []string{"tech-new"}, nil, `unknown source "tech-new": did you mean "tech-news"?`},
		{"case is not ignored but suggested", []string{"Weather"}, nil, `unknown source "Weather": did you mean "weather"?`},
		{"nothing close", []string{"sports"}, nil, `unknown source "sports"`},
		{"a glob matching nothing", []string{"sport-*"}, nil, `no source matches "sport-*"`},
		{"a malformed glob", []string{"tech-["}, nil, `no source matches "tech-["`},
		{"every bad one is named", []string{"weather", "wether", "x*"}, nil, "unknown source \"wether\": did you mean \"weather\"?\nno source matches \"x*\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := cfg.SelectSources(tt.patterns)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
