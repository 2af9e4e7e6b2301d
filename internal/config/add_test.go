package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/testkit"
)

func TestAddSource(t *testing.T) {
	commented, err := os.ReadFile("testdata/import/commented.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		config string
		src    NewSource
		want   string // the file after; "" to compare with golden
		golden string // testdata file the result must equal
		err    error  // errors.Is target; the file must then be unchanged
		errMsg string // part of the message when err is nil and it fails
	}{
		{
			name:   "into a commented file",
			config: string(commented),
			src:    NewSource{Name: "lobsters", URL: " https://lobste.rs/rss ", Title: "Lobsters:  the\tsite", Categories: []string{"tech", " news  today ", "tech"}},
			golden: "testdata/import/commented.add.want.yaml",
		},
		{
			name:   "empty file",
			config: "",
			src:    NewSource{Name: "go-blog", URL: "https://go.dev/blog/feed.atom"},
			want:   "sources:\n  - name: go-blog\n    url: https://go.dev/blog/feed.atom\n",
		},
		{
			name:   "settings and comments only",
			config: "# mine\nfetch:\n  min_gap: 0s # one host\n",
			src:    NewSource{Name: "go-blog", URL: "https://go.dev/blog/feed.atom", Categories: []string{"true"}},
			want:   "# mine\nfetch:\n  min_gap: 0s # one host\n\nsources:\n  - name: go-blog\n    url: https://go.dev/blog/feed.atom\n    categories: [\"true\"]\n",
		},
		{
			name:   "empty list with a comment",
			config: "sources: []   # none yet\n",
			src:    NewSource{Name: "go-blog", URL: "https://go.dev/blog/feed.atom"},
			want:   "sources: # none yet\n  - name: go-blog\n    url: https://go.dev/blog/feed.atom\n",
		},
		{
			name:   "web page with items and full text",
			config: "",
			src:    NewSource{Name: "gazette", URL: "https://gazette.example/", Type: "html", Items: &feed.ItemRules{Each: "div.card", Link: "h3 > a, h2 > a@href", Date: "time@datetime"}, FullText: true},
			want:   "sources:\n  - name: gazette\n    url: https://gazette.example/\n    type: html\n    full_text: true\n    items:\n      each: div.card\n      link: h3 > a, h2 > a@href\n      date: time@datetime\n",
		},
		{
			name:   "URL taken",
			config: string(commented),
			src:    NewSource{Name: "other", URL: "https://xkcd.com/atom.xml "},
			err:    ErrURLTaken,
		},
		{
			name:   "name taken, ignoring case",
			config: string(commented),
			src:    NewSource{Name: "XKCD", URL: "https://m.xkcd.com/atom.xml"},
			err:    ErrNameTaken,
		},
		{
			name:   "invalid name",
			config: string(commented),
			src:    NewSource{Name: "a b", URL: "https://m.xkcd.com/atom.xml"},
			errMsg: `the result would not be valid, so nothing was written:` + "\n",
		},
		{
			name:   "flow list",
			config: "sources: [{name: z, url: 'https://z.example/'}]\n",
			src:    NewSource{Name: "go-blog", URL: "https://go.dev/blog/feed.atom"},
			errMsg: "line 1: sources is a flow list",
		},
		{
			name:   "invalid file",
			config: "fetch:\n  timeot: 3s\n",
			src:    NewSource{Name: "go-blog", URL: "https://go.dev/blog/feed.atom"},
			errMsg: "fix the file first (nothing was written):\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "feeds.yaml")
			if err := os.WriteFile(path, []byte(tt.config), 0o640); err != nil {
				t.Fatal(err)
			}
			err := AddSource(path, tt.src)
			out, readErr := os.ReadFile(path)
			if readErr != nil {
				t.Fatal(readErr)
			}
			if tt.err != nil || tt.errMsg != "" {
				if tt.err != nil && !errors.Is(err, tt.err) || err == nil || !strings.Contains(err.Error(), tt.errMsg) {
					t.Fatalf("AddSource = %v, want %v %q", err, tt.err, tt.errMsg)
				}
				if string(out) != tt.config {
					t.Errorf("a refused AddSource changed the file:\n%s", out)
				}
				if entries, _ := os.ReadDir(dir); len(entries) != 1 {
					t.Errorf("a refused AddSource left files behind: %v", entries)
				}
				return
			}
			if err != nil {
				t.Fatalf("AddSource: %v", err)
			}
			if tt.golden != "" {
				inserted(t, []byte(tt.config), out)
				testkit.Golden(t, tt.golden, out)
			} else if string(out) != tt.want {
				t.Errorf("file:\n%q\nwant\n%q", out, tt.want)
			}
			if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o640 {
				t.Errorf("mode %v (%v), want 0640 kept", info.Mode().Perm(), err)
			}
			c, err := Load(path)
			if err != nil {
				t.Fatalf("the file does not load after AddSource: %v", err)
			}
			last := c.Sources[len(c.Sources)-1]
			if last.Name != tt.src.Name || last.URL != strings.TrimSpace(tt.src.URL) {
				t.Errorf("last source %s %s, want %s %s", last.Name, last.URL, tt.src.Name, tt.src.URL)
			}
		})
	}
}

func TestParseDraft(t *testing.T) {
	tests := []struct {
		name    string
		config  string
		sources int    // with ParseDraft
		err     string // of ParseDraft; "" for none
	}{
		{name: "empty file"},
		{name: "null document", config: "~\n"},
		{name: "settings only", config: "fetch:\n  timeout: 5s\n"},
		{name: "empty list", config: "sources: []\n"},
		{name: "sources key without a value", config: "schedule: '@hourly'\nsources:\n"},
		{name: "feeds of every source", config: "sources:\nfeeds:\n  - name: all\n    sources: ['*']\n"},
		{name: "with a source", config: "sources:\n  - name: a\n    url: https://a.example/feed\n", sources: 1},
		{name: "a bad setting", config: "fetch:\n  timeout: soon\n", err: "feeds.yaml:2: fetch.timeout"},
		{name: "a bad source", config: "sources:\n  - name: a\n", err: "feeds.yaml:2: sources[0].url: required"},
		{name: "a feed of an unknown source", config: "feeds:\n  - name: all\n    sources: [a]\n", err: `unknown source "a"`},
		{name: "not a mapping", config: "- a\n", err: "feeds.yaml:1:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseDraft([]byte(tt.config), "feeds.yaml")
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || strings.Contains(err.Error(), "no sources") {
					t.Fatalf("ParseDraft = %v, want an error with %q and without \"no sources\"", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseDraft: %v", err)
			}
			if len(c.Sources) != tt.sources {
				t.Errorf("%d sources, want %d", len(c.Sources), tt.sources)
			}
			// Parse differs only in refusing a config without sources.
			strict, err := Parse([]byte(tt.config), "feeds.yaml")
			if tt.sources == 0 {
				if err == nil || !strings.Contains(err.Error(), "sources: no sources") {
					t.Errorf("Parse = %v, want the no sources error", err)
				}
				return
			}
			if err != nil || !slices.EqualFunc(strict.Sources, c.Sources, func(a, b Source) bool { return a.Name == b.Name && a.URL == b.URL }) {
				t.Errorf("Parse = %v; sources differ from ParseDraft's", err)
			}
		})
	}
}
