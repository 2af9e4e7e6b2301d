package app

import (
	"os"
	"path/filepath"
	"slices"
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

func TestSourceChanges(t *testing.T) {
	cfg := func(names ...string) *config.Config {
		c := &config.Config{}
		for _, n := range names {
			c.Sources = append(c.Sources, config.Source{Name: n})
		}
		return c
	}
	tests := []struct {
		name                string
		old, next           *config.Config
		wantAdded, wantGone []string
	}{
		{"same", cfg("a", "b"), cfg("a", "b"), nil, nil},
		{"reordered", cfg("a", "b"), cfg("b", "a"), nil, nil},
		{"added and removed", cfg("a", "b", "c"), cfg("c", "d", "a"), []string{"d"}, []string{"b"}},
		{"all new", cfg("a"), cfg("x", "y"), []string{"x", "y"}, []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			added, removed := sourceChanges(tt.old, tt.next)
			if !slices.Equal(added, tt.wantAdded) || !slices.Equal(removed, tt.wantGone) {
				t.Errorf("added %q removed %q; want %q and %q", added, removed, tt.wantAdded, tt.wantGone)
			}
		})
	}
}
