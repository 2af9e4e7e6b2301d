package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/refresh"
	"github.com/feedmill/feedmill/internal/testkit"
)

// screen renders what a terminal shows after out: it applies carriage
// returns, "erase to end of line" (ESC [K) and line feeds, and returns the
// lines, the last one (where the cursor is) included even if empty.
func screen(out string) []string {
	lines := []string{""}
	col := 0
	for i := 0; i < len(out); i++ {
		cur := &lines[len(lines)-1]
		switch {
		case out[i] == '\r':
			col = 0
		case out[i] == '\n':
			lines = append(lines, "")
			col = 0
		case strings.HasPrefix(out[i:], "\x1b[K"):
			*cur = (*cur)[:col]
			i += len("\x1b[K") - 1
		default:
			if col < len(*cur) {
				*cur = (*cur)[:col] + string(out[i]) + (*cur)[col+1:]
			} else {
				*cur += string(out[i])
			}
			col++
		}
	}
	return lines
}

// TestProgressBar follows the bar through a pass of three sources, with a
// log line arriving in the middle and the summary at the end, on a clock
// the test moves.
func TestProgressBar(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	now := t0
	var out bytes.Buffer
	p := newProgress(&out, 80, func() time.Time { return now })

	p.begin(3, 0)
	now = now.Add(2 * time.Second)
	p.observe(refresh.Result{Source: "a"})
	now = now.Add(time.Second)
	p.observe(refresh.Result{Source: "b", Err: errors.New("boom")})
	fmt.Fprint(p, "level=WARN msg=\"refresh failed\" source=b\n")
	now = now.Add(4 * time.Second)
	p.observe(refresh.Result{Source: "c"})
	fmt.Fprint(endingWriter{p}, "3 sources: 2 with new or updated items, 0 unchanged, 1 failed\n")
	p.end() // again: harmless
	fmt.Fprint(p, "after\n")

	const (
		cr, el = "\r", "\x1b[K"
	)
	want := cr + "[....................] 0/3 sources, 0 failed, 00:00" + el +
		cr + "[######..............] 1/3 sources, 0 failed, 00:02" + el +
		cr + "[#############.......] 2/3 sources, 1 failed, 00:03" + el +
		cr + el + "level=WARN msg=\"refresh failed\" source=b\n" +
		cr + "[#############.......] 2/3 sources, 1 failed, 00:03" + el +
		cr + "[####################] 3/3 sources, 1 failed, 00:07" + el +
		cr + el + "3 sources: 2 with new or updated items, 0 unchanged, 1 failed\n" +
		"after\n"
	if got := out.String(); got != want {
		t.Errorf("terminal output:\n got %q\nwant %q", got, want)
	}
	wantScreen := []string{
		`level=WARN msg="refresh failed" source=b`,
		"3 sources: 2 with new or updated items, 0 unchanged, 1 failed",
		"after",
		"",
	}
	if got := screen(out.String()); !equalLines(got, wantScreen) {
		t.Errorf("screen:\n got %q\nwant %q", got, wantScreen)
	}
}

func equalLines(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestProgressLineFits checks that the bar narrows on a narrow terminal
// and leaves the last column free, and drops the bar when even that does
// not fit.
func TestProgressLineFits(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		cols int
		want string
	}{
		{"unknown width", 0, "[##########..........] 60/120 sources, 3 failed, 1:02:03"},
		{"wide", 200, "[##########..........] 60/120 sources, 3 failed, 1:02:03"},
		{"narrow", 50, "[######.......] 60/120 sources, 3 failed, 1:02:03"},
		{"too narrow for a bar", 40, "60/120 sources, 3 failed, 1:02:03"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			now := t0
			p := newProgress(io.Discard, tc.cols, func() time.Time { return now })
			p.begin(120, 0)
			p.done, p.failed = 60, 3
			now = now.Add(time.Hour + 2*time.Minute + 3*time.Second)
			got := p.line()
			if got != tc.want {
				t.Errorf("line = %q, want %q", got, tc.want)
			}
			if tc.cols > 0 && len(got) > tc.cols-1 {
				t.Errorf("line is %d long on a terminal of %d columns", len(got), tc.cols)
			}
		})
	}
}

// TestProgressConcurrent reports results and writes log lines from many
// goroutines while the clock redraws the bar: every line arrives whole
// and the bar is gone at the end (the race detector checks the rest).
func TestProgressConcurrent(t *testing.T) {
	var out testkit.SyncBuffer
	p := newProgress(&out, 100, nil)
	const workers, each = 8, 25
	p.begin(workers*each, time.Millisecond)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				p.observe(refresh.Result{Source: fmt.Sprint(w, "-", i)})
				if i%5 == 0 {
					fmt.Fprintf(p, "log line %d-%d\n", w, i)
				}
			}
		})
	}
	wg.Wait()
	fmt.Fprint(endingWriter{p}, "done\n")

	lines := screen(out.String())
	var logs int
	for _, l := range lines[:len(lines)-2] {
		if !strings.HasPrefix(l, "log line ") {
			t.Errorf("garbled line %q", l)
		}
		logs++
	}
	if want := workers * each / 5; logs != want {
		t.Errorf("%d log lines on screen, want %d", logs, want)
	}
	if got := lines[len(lines)-2:]; !equalLines(got, []string{"done", ""}) {
		t.Errorf("screen ends with %q, want the summary and nothing else", got)
	}
	if !strings.Contains(out.String(), fmt.Sprintf("%d/%d sources", workers*each, workers*each)) {
		t.Errorf("the bar never showed every source done")
	}
}

func TestTerminalWidth(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	for name, w := range map[string]io.Writer{"buffer": new(bytes.Buffer), "file": f, "/dev/null": devNull, "nil file": (*os.File)(nil)} {
		if _, tty := terminalWidth(w); tty {
			t.Errorf("%s taken for a terminal", name)
		}
	}
}

// twoSources serves one good feed and one broken one, and writes a
// feeds.yaml for them.
func twoSources(t *testing.T) (path string, hits *atomic.Int64) {
	t.Helper()
	hits = new(atomic.Int64)
	mux := http.NewServeMux()
	mux.HandleFunc("/good.xml", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/rss+xml")
		io.WriteString(w, `<rss version="2.0"><channel><title>Good</title><link>https://good.example/</link><description>d</description><item><title>Post</title><link>https://good.example/1</link></item></channel></rss>`)
	})
	mux.HandleFunc("/broken.xml", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "oops", http.StatusInternalServerError)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	path = filepath.Join(t.TempDir(), "feeds.yaml")
	cfg := fmt.Sprintf("storage:\n  dsn: feedmill.db\nfetch:\n  min_gap: 0s\nsources:\n  - name: good\n    url: %[1]s/good.xml\n  - name: broken\n    url: %[1]s/broken.xml\n", srv.URL)
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, hits
}

// TestLogFormat runs `feedmill fetch` with each -log-format and reads its
// log lines back.
func TestLogFormat(t *testing.T) {
	tests := []struct {
		format   string
		wantCode int
		check    func(t *testing.T, stderr string)
	}{
		{"text", 1, func(t *testing.T, stderr string) {
			if !strings.Contains(stderr, "level=WARN msg=\"refresh failed\" component=refresh source=broken") {
				t.Errorf("no text log line for the broken source in:\n%s", stderr)
			}
		}},
		{"json", 1, func(t *testing.T, stderr string) {
			var records int
			for line := range strings.SplitSeq(stderr, "\n") {
				if !strings.HasPrefix(line, "{") {
					continue
				}
				var rec map[string]any
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Errorf("log line is not JSON: %v\n%s", err, line)
					continue
				}
				records++
				if rec["msg"] == "refresh failed" && rec["source"] != "broken" {
					t.Errorf("refresh failed for source %v, want broken", rec["source"])
				}
				if rec["msg"] == "refreshed" && rec["source"] != "good" {
					t.Errorf("refreshed source %v, want good", rec["source"])
				}
				if d, ok := rec["duration"]; ok {
					if s, isString := d.(string); !isString || !regexp.MustCompile(`^([0-9.]+(h|m|s|ms|µs|ns))+$`).MatchString(s) {
						t.Errorf("duration %v is not written as a Go duration", d)
					}
				}
			}
			if records < 2 {
				t.Errorf("%d JSON log records, want one per source at least:\n%s", records, stderr)
			}
			if !strings.Contains(stderr, "2 sources: 1 with new or updated items, 0 unchanged, 1 failed") {
				t.Errorf("no summary in:\n%s", stderr)
			}
		}},
		{"xml", 2, func(t *testing.T, stderr string) {}},
	}
	for _, tc := range tests {
		t.Run(tc.format, func(t *testing.T) {
			path, hits := twoSources(t)
			var stdout, stderr bytes.Buffer
			err := Run(t.Context(), []string{"fetch", "-config", path, "-log-format", tc.format}, &stdout, &stderr)
			if code := ExitCode(err); code != tc.wantCode {
				t.Fatalf("exit status %d (%v), want %d; stderr:\n%s", code, err, tc.wantCode, stderr.String())
			}
			if tc.wantCode == 2 {
				if err == nil || !strings.Contains(err.Error(), `-log-format: "xml" is not a log format; use text or json`) {
					t.Errorf("error %v does not say what is wrong with -log-format", err)
				}
				if hits.Load() != 0 {
					t.Errorf("%d requests made despite the bad flag", hits.Load())
				}
			}
			tc.check(t, stderr.String())
		})
	}
}

// TestFetchProgress runs the fetch command as Run does on a terminal,
// with the bar over a buffer: the refresher's results reach the bar
// through the pipeline, warnings scroll above it, and the summary
// replaces it.
func TestFetchProgress(t *testing.T) {
	path, _ := twoSources(t)
	var out testkit.SyncBuffer
	bar := newProgress(&out, 100, nil)
	logger, err := newLogger(bar, "text", slog.LevelWarn)
	if err != nil {
		t.Fatal(err)
	}
	err = fetchCommand(t.Context(), path, fetchRequest{}, bar, logger, bar)
	if code := ExitCode(err); code != 1 {
		t.Fatalf("exit status %d (%v), want 1", code, err)
	}
	raw := out.String()
	if !strings.Contains(raw, "[####################] 2/2 sources, 1 failed, 00:0") {
		t.Errorf("the bar never showed both sources done:\n%q", raw)
	}
	lines := screen(raw)
	for _, l := range lines {
		if strings.Contains(l, "sources, ") && strings.HasPrefix(l, "[") {
			t.Errorf("a bar is left on the screen: %q", l)
		}
	}
	var warned, summary bool
	for _, l := range lines {
		warned = warned || strings.Contains(l, `level=WARN msg="refresh failed" component=refresh source=broken`)
		summary = summary || l == "2 sources: 1 with new or updated items, 0 unchanged, 1 failed"
	}
	if !warned || !summary {
		t.Errorf("screen lacks the warning (%v) or the summary (%v):\n%s", warned, summary, strings.Join(lines, "\n"))
	}
	if strings.Contains(raw, "level=INFO") {
		t.Errorf("info lines under the bar:\n%s", raw)
	}
}
