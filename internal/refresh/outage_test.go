package refresh

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/testkit"
)

// TestOutageToldOnce is the offline laptop of issue 16: when every source
// fails the same way in a pass, the log says so in one warning, and each
// source's failure goes to debug level; when the sources fail in
// different ways, or some work, each failure is its own warning.
func TestOutageToldOnce(t *testing.T) {
	site := newSite(t, rssWith("one"))
	empty := newOrigin(t) // answers 404
	refused := func(name string) feed.Source {
		return feed.Source{Name: name, URL: "http://" + testkit.RefusedAddr(t) + "/feed", Schedule: "@hourly"}
	}
	tests := []struct {
		name        string
		sources     []feed.Source
		wantOutage  int // warnings that every source failed
		wantFailed  int // warnings for single sources
		wantDebug   int // failures logged at debug level
		wantCauseIn string
	}{
		{"every source refused", []feed.Source{refused("a"), refused("b"), refused("c")}, 1, 0, 3, "cause=refused"},
		{"one works", []feed.Source{refused("a"), refused("b"), {Name: "ok", URL: site.URL + "/feed", Schedule: "@hourly"}}, 0, 2, 0, ""},
		{"a lone source", []feed.Source{refused("a")}, 0, 1, 0, ""},
		{"different causes", []feed.Source{refused("a"), {Name: "missing", URL: empty.URL + "/missing", Schedule: "@hourly"}}, 0, 2, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logs testkit.SyncBuffer
			r, _ := newRefresher(t, tc.sources, Options{Logger: logs.Logger(slog.LevelDebug)})
			r.RefreshAll(t.Context(), false)
			out := logs.String()
			outage := strings.Count(out, `level=WARN msg="every source failed the same way"`)
			failed := strings.Count(out, `level=WARN msg="refresh failed"`)
			debug := strings.Count(out, `level=DEBUG msg="refresh failed"`)
			if outage != tc.wantOutage || failed != tc.wantFailed || debug != tc.wantDebug {
				t.Errorf("warnings: %d outage, %d failures, %d failures at debug; want %d, %d, %d\n%s",
					outage, failed, debug, tc.wantOutage, tc.wantFailed, tc.wantDebug, out)
			}
			if !strings.Contains(out, tc.wantCauseIn) || (tc.wantOutage > 0 && !strings.Contains(out, "connection refused: ")) {
				t.Errorf("the log does not name the cause %q in words:\n%s", tc.wantCauseIn, out)
			}
		})
	}
}

// TestOutageAcrossTicks follows an outage past its pass: the sources'
// later failures, each on its own schedule, stay at debug level, and the
// first success says the sources are reachable again.
func TestOutageAcrossTicks(t *testing.T) {
	o := newOrigin(t)
	down := "http://" + testkit.RefusedAddr(t)
	a := feed.Source{Name: "a", URL: down + "/a", Schedule: "@hourly"}
	b := feed.Source{Name: "b", URL: down + "/b", Schedule: "@hourly"}
	var logs testkit.SyncBuffer
	r, _ := newRefresher(t, []feed.Source{a, b}, Options{Logger: logs.Logger(slog.LevelDebug)})
	ctx := t.Context()
	r.RefreshAll(ctx, false)
	r.RefreshOne(ctx, a)
	r.RefreshOne(ctx, b)
	out := logs.String()
	if n := strings.Count(out, `level=WARN`); n != 1 || !strings.Contains(out, `msg="every source failed the same way"`) {
		t.Errorf("%d warnings, want the one that every source failed:\n%s", n, out)
	}

	// The network is back for a: its own refresh says so, once.
	o.handle("/a", serveFeed(rssWith("back")))
	a.URL = o.URL + "/a"
	if res := r.RefreshOne(ctx, a); res.Err != nil {
		t.Fatalf("refresh after the outage: %+v", res)
	}
	r.RefreshOne(ctx, b)
	out = logs.String()
	if n := strings.Count(out, `msg="sources reachable again"`); n != 1 {
		t.Errorf("%d lines that the sources are reachable again, want 1:\n%s", n, out)
	}
	// b still fails, alone now: a warning of its own.
	if n := strings.Count(out, `level=WARN msg="refresh failed" source=b`); n != 1 {
		t.Errorf("%d warnings for b failing alone, want 1:\n%s", n, out)
	}
}

// TestOutageStartsOnTicks: sources that worked go down one tick at a
// time; the last one to fail tells that every source fails, once.
func TestOutageStartsOnTicks(t *testing.T) {
	o := newOrigin(t)
	o.handle("/a", serveFeed(rssWith("a")))
	o.handle("/b", serveFeed(rssWith("b")))
	a := feed.Source{Name: "a", URL: o.URL + "/a", Schedule: "@hourly"}
	b := feed.Source{Name: "b", URL: o.URL + "/b", Schedule: "@hourly"}
	var logs testkit.SyncBuffer
	r, _ := newRefresher(t, []feed.Source{a, b}, Options{Logger: logs.Logger(slog.LevelDebug)})
	ctx := t.Context()
	r.RefreshAll(ctx, false)
	down := "http://" + testkit.RefusedAddr(t)
	a.URL, b.URL = down+"/a", down+"/b"
	r.RefreshOne(ctx, a)
	r.RefreshOne(ctx, b)
	r.RefreshOne(ctx, a)
	out := logs.String()
	if strings.Count(out, `level=WARN msg="refresh failed" source=a`) != 1 ||
		strings.Count(out, `level=WARN msg="every source failed the same way"`) != 1 ||
		strings.Count(out, `level=WARN`) != 2 {
		t.Errorf("want one warning for a, failing first, then one that every source failed:\n%s", out)
	}
}
