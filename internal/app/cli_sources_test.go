package app

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/config"
	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/store"
)

// sourcesConfig names one source for every status `feedmill sources`
// tells apart.
const sourcesConfig = `storage:
  dsn: feedmill.db
sources:
  - name: fine
    url: https://fine.example/feed.xml
  - name: broken
    url: https://broken.example/feed.xml
  - name: removed
    url: https://removed.example/feed.xml
  - name: relocated
    url: https://relocated.example/old.xml
  - name: fresh
    url: https://fresh.example/feed.xml
  - name: throttled
    url: https://throttled.example/feed.xml
  - name: renamed
    url: https://renamed.example/new.xml
  - name: legacy
    url: https://legacy.example/feed.xml
`

// sourceStates are stored states for sourcesConfig's sources, relative to
// now.
func sourceStates(now time.Time) []feed.SourceState {
	return []feed.SourceState{
		{Name: "fine", URL: "https://fine.example/feed.xml", LastFetch: now.Add(-3 * time.Minute), LastSuccess: now.Add(-3 * time.Minute),
			NextFetch: now.Add(12*time.Minute + 30*time.Second), LastStatus: 200},
		{Name: "broken", URL: "https://broken.example/feed.xml", LastFetch: now.Add(-10 * time.Minute), LastSuccess: now.Add(-50 * time.Hour),
			NextFetch: now.Add(2*time.Hour + time.Minute), LastStatus: 500, Failures: 4,
			LastError: "fetch https://broken.example/feed.xml: 500 Internal Server Error:\n  the server is having a very bad day, and says so at great length, again and again"},
		{Name: "removed", URL: "https://removed.example/feed.xml", LastFetch: now.Add(-time.Hour), LastSuccess: now.Add(-9 * 24 * time.Hour),
			NextFetch: now.Add(time.Hour), LastStatus: 410, Failures: 1, Gone: true, LastError: "https://removed.example/feed.xml: 410 Gone: the feed was removed; update or delete the source"},
		{Name: "relocated", URL: "https://relocated.example/old.xml", LastFetch: now.Add(-90 * time.Second), LastSuccess: now.Add(-90 * time.Second),
			NextFetch: now.Add(-5 * time.Second), LastStatus: 200, Moved: "https://relocated.example/new.xml"},
		{Name: "throttled", URL: "https://throttled.example/feed.xml", LastFetch: now.Add(-2 * time.Minute), LastSuccess: now.Add(-26 * time.Hour),
			NextFetch: now.Add(58*time.Minute + 30*time.Second), LastStatus: 429, Failures: 1, LastError: "fetch https://throttled.example/feed.xml: 429 Too Many Requests, retry after 1h0m0s"},
		{Name: "renamed", URL: "https://renamed.example/old.xml", LastFetch: now.Add(-time.Hour), LastSuccess: now.Add(-time.Hour),
			NextFetch: now.Add(time.Hour), LastStatus: 200},
		// Stored by a feedmill that did not record the URL: the
		// refresher fetches it at once as never fetched, and so it is.
		{Name: "legacy", LastFetch: now.Add(-30 * time.Minute), LastSuccess: now.Add(-30 * time.Minute),
			NextFetch: now.Add(30 * time.Minute), LastStatus: 200},
	}
}

func TestSourceTable(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	cfg, err := config.Parse([]byte(sourcesConfig), "feeds.yaml")
	if err != nil {
		t.Fatal(err)
	}
	states := sourceStates(now)
	states[0].ItemCount = 42
	states[5].ItemCount = 7 // renamed: its items stay with it
	tests := []struct {
		name  string
		width int
		want  string
	}{
		{"not cut", 0, `NAME       STATUS         LAST SUCCESS  FAILURES  NEXT FETCH  ITEMS  LAST ERROR
fine       ok             3m ago        -         in 12m      42     -
broken     failing        2d ago        4         in 2h       0      fetch https://broken.example/feed.xml: 500 Internal Server Error: the server is having a very bad day, and says so at great length, again and again
removed    gone           22 Apr 2026   1         never       0      https://removed.example/feed.xml: 410 Gone: the feed was removed; update or delete the source
relocated  moved          1m ago        -         due         0      -
fresh      never fetched  -             -         now         0      -
throttled  paused         26h ago       1         in 58m      0      fetch https://throttled.example/feed.xml: 429 Too Many Requests, retry after 1h0m0s
renamed    never fetched  -             -         now         7      -
legacy     never fetched  -             -         now         0      -
`},
		{"cut to 100 columns", 100, `NAME       STATUS         LAST SUCCESS  FAILURES  NEXT FETCH  ITEMS  LAST ERROR
fine       ok             3m ago        -         in 12m      42     -
broken     failing        2d ago        4         in 2h       0      fetch https://broken.example/…
removed    gone           22 Apr 2026   1         never       0      https://removed.example/feed.…
relocated  moved          1m ago        -         due         0      -
fresh      never fetched  -             -         now         0      -
throttled  paused         26h ago       1         in 58m      0      fetch https://throttled.examp…
renamed    never fetched  -             -         now         7      -
legacy     never fetched  -             -         now         0      -
`},
		{"too narrow: errors keep 20 characters", 40, `NAME       STATUS         LAST SUCCESS  FAILURES  NEXT FETCH  ITEMS  LAST ERROR
fine       ok             3m ago        -         in 12m      42     -
broken     failing        2d ago        4         in 2h       0      fetch https://broke…
removed    gone           22 Apr 2026   1         never       0      https://removed.exa…
relocated  moved          1m ago        -         due         0      -
fresh      never fetched  -             -         now         0      -
throttled  paused         26h ago       1         in 58m      0      fetch https://throt…
renamed    never fetched  -             -         now         7      -
legacy     never fetched  -             -         now         0      -
`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := writeSourceTable(&out, cfg, states, now, tc.width); err != nil {
				t.Fatal(err)
			}
			if got := out.String(); got != tc.want {
				t.Errorf("table:\n%s\nwant:\n%s", got, tc.want)
			}
			if tc.width > 0 {
				// The columns before the error take 69; the error gets
				// the rest but the last column, and never less than 20.
				longest := max(tc.width-1, 69+20)
				for line := range strings.SplitSeq(strings.TrimSuffix(out.String(), "\n"), "\n") {
					if n := len([]rune(line)); n > longest {
						t.Errorf("line of %d characters, more than %d: %q", n, longest, line)
					}
				}
			}
		})
	}
}

// TestSourcesCommand runs `feedmill sources` on a store holding the
// states, as an operator would.
func TestSourcesCommand(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "feeds.yaml")
	if err := os.WriteFile(path, []byte(sourcesConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	st, err := store.OpenSQLite(ctx, filepath.Join(dir, "feedmill.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	for _, s := range sourceStates(now) {
		if err := st.SaveState(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	var items []feed.Item
	for i := range 3 {
		items = append(items, feed.Item{Source: "fine", ID: fmt.Sprint("item-", i), Title: fmt.Sprint("Item ", i), Link: fmt.Sprintf("https://fine.example/%d", i)})
	}
	if _, err := st.SaveItems(context.WithoutCancel(ctx), "fine", items, 500, now); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	var stdout, stderr bytes.Buffer
	if err := Run(ctx, []string{"sources", "-config", path}, &stdout, &stderr); err != nil {
		t.Fatalf("sources: %v\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	if len(lines) != 9 || !strings.HasPrefix(lines[0], "NAME ") {
		t.Fatalf("want a header and 8 rows:\n%s", stdout.String())
	}
	cells := regexp.MustCompile(`\s{2,}`)
	want := map[string][]string{
		"fine":      {"fine", "ok", "3m ago", "-", "in 12m", "3", "-"},
		"broken":    {"broken", "failing", "2d ago", "4", "in 2h", "0"},
		"removed":   {"removed", "gone", now.Add(-9 * 24 * time.Hour).Format("2 Jan 2006"), "1", "never", "0"},
		"relocated": {"relocated", "moved", "1m ago", "-", "due", "0", "-"},
		"fresh":     {"fresh", "never fetched", "-", "-", "now", "0", "-"},
		"throttled": {"throttled", "paused", "26h ago", "1", "in 58m", "0"},
		"renamed":   {"renamed", "never fetched", "-", "-", "now", "0", "-"},
		"legacy":    {"legacy", "never fetched", "-", "-", "now", "0", "-"},
	}
	for _, line := range lines[1:] {
		got := cells.Split(line, 7)
		w, ok := want[got[0]]
		if !ok {
			t.Errorf("unexpected row %q", line)
			continue
		}
		for i := range w {
			if got[i] != w[i] {
				t.Errorf("%s: column %d is %q, want %q (row %q)", got[0], i, got[i], w[i], line)
			}
		}
		delete(want, got[0])
	}
	if len(want) > 0 {
		t.Errorf("rows missing: %v", want)
	}
	if !strings.Contains(stdout.String(), "500 Internal Server Error: the server is having a very bad day, and says so at great length, again and again") {
		t.Errorf("the whole error, on one line, is not shown when the output is no terminal:\n%s", stdout.String())
	}
}
