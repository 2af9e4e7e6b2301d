package app

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/config"
)

// TestConfigWatch walks the watcher through what editors and operators do
// to a config file: it must report a change of content once, and nothing
// for a touch or a save of the same bytes.
func TestConfigWatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "feeds.yaml")
	w := configWatch{path: path}
	mtime := time.Date(2025, 3, 6, 12, 0, 0, 0, time.UTC)
	steps := []struct {
		name        string
		do          func(t *testing.T)
		force       bool
		wantData    string // "" when the file must not have been read
		wantChanged bool
		wantErr     bool
	}{
		{name: "missing file", wantErr: true},
		{name: "created", do: write(path, "a: 1\n", mtime), wantData: "a: 1\n", wantChanged: true},
		{name: "nothing happened", wantData: ""},
		{name: "touched", do: touch(path, mtime.Add(time.Second)), wantData: "a: 1\n", wantChanged: false},
		{name: "same bytes saved again", do: write(path, "a: 1\n", mtime.Add(2*time.Second)), wantData: "a: 1\n", wantChanged: false},
		{name: "edited", do: write(path, "a: 2\n", mtime.Add(3*time.Second)), wantData: "a: 2\n", wantChanged: true},
		{name: "edited within the same second, new size", do: write(path, "a: 22\n", mtime.Add(3*time.Second)), wantData: "a: 22\n", wantChanged: true},
		{name: "forced without a change", force: true, wantData: "a: 22\n", wantChanged: false},
		{name: "replaced by rename", do: func(t *testing.T) {
			tmp := path + ".swp"
			write(tmp, "a: 3\n", mtime.Add(4*time.Second))(t)
			if err := os.Rename(tmp, path); err != nil {
				t.Fatal(err)
			}
		}, wantData: "a: 3\n", wantChanged: true},
		{name: "removed for a moment", do: func(t *testing.T) { os.Remove(path) }, wantErr: true},
		{name: "back with the same content", do: write(path, "a: 3\n", mtime.Add(5*time.Second)), wantData: "a: 3\n", wantChanged: false},
	}
	for _, s := range steps {
		if s.do != nil {
			s.do(t)
		}
		data, changed, err := w.poll(s.force)
		if (err != nil) != s.wantErr {
			t.Fatalf("%s: err %v, want error %v", s.name, err, s.wantErr)
		}
		if string(data) != s.wantData || changed != s.wantChanged {
			t.Errorf("%s: poll = %q, changed %v; want %q, %v", s.name, data, changed, s.wantData, s.wantChanged)
		}
	}
}

func write(path, content string, mtime time.Time) func(t *testing.T) {
	return func(t *testing.T) {
		t.Helper()
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		touch(path, mtime)(t)
	}
}

func touch(path string, mtime time.Time) func(t *testing.T) {
	return func(t *testing.T) {
		t.Helper()
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
}

func TestReloadAttrs(t *testing.T) {
	cfg := &config.Config{Sources: make([]config.Source, 3), Feeds: make([]config.Feed, 2)}
	tests := []struct {
		name    string
		changes config.Changes
		refetch []string
		want    string
	}{
		{"nothing", config.Changes{}, nil, "config=feeds.yaml trigger=SIGHUP sources=3 feeds=2"},
		{"sources", config.Changes{SourcesAdded: []string{"gamma"}, SourcesRemoved: []string{"beta"}, SourcesChanged: []string{"alpha", "delta"}}, []string{"alpha"},
			"config=feeds.yaml trigger=SIGHUP sources=3 feeds=2 added=gamma removed=beta changed=alpha,delta fetch_now=alpha"},
		{"feeds", config.Changes{FeedsAdded: []string{"tech"}, FeedsRemoved: []string{"old"}, FeedsChanged: []string{"all"}}, nil,
			"config=feeds.yaml trigger=SIGHUP sources=3 feeds=2 feeds_added=tech feeds_removed=old feeds_changed=all"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			logger := slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{
				ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
					if a.Key == slog.TimeKey || a.Key == slog.LevelKey || a.Key == slog.MessageKey {
						return slog.Attr{}
					}
					return a
				},
			}))
			logger.Info("config reloaded", reloadAttrs("feeds.yaml", "SIGHUP", cfg, tt.changes, tt.refetch)...)
			if got := strings.TrimSpace(b.String()); got != tt.want {
				t.Errorf("logged\n  %s\nwant\n  %s", got, tt.want)
			}
		})
	}
}
