package metrics

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/feedmill/feedmill/internal/publish"
	"github.com/feedmill/feedmill/internal/testkit"
)

// scrape fetches m's Handler over HTTP, as Prometheus does, and parses the
// text exposition.
func scrape(t *testing.T, m *Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("scrape: read: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: status %d: %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("scrape: Content-Type %q, want the text format", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("scrape: parse: %v\n%s", err, body)
	}
	return fams
}

// series returns the metric of family name whose labels are exactly
// labels ("k=v" pairs), or nil.
func series(fams map[string]*dto.MetricFamily, name string, labels ...string) *dto.Metric {
	fam := fams[name]
	if fam == nil {
		return nil
	}
	for _, m := range fam.GetMetric() {
		var got []string
		for _, lp := range m.GetLabel() {
			got = append(got, lp.GetName()+"="+lp.GetValue())
		}
		sort.Strings(got)
		w := append([]string(nil), labels...)
		sort.Strings(w)
		if strings.Join(got, ",") == strings.Join(w, ",") {
			return m
		}
	}
	return nil
}

// value returns the value of a counter or gauge series, failing the test
// when the series is missing.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	m := series(fams, name, labels...)
	if m == nil {
		t.Fatalf("no series %s{%s}", name, strings.Join(labels, ","))
	}
	switch {
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Untyped != nil:
		return m.GetUntyped().GetValue()
	}
	t.Fatalf("%s{%s} is neither a counter nor a gauge", name, strings.Join(labels, ","))
	return 0
}

// histogram returns the sample count and sum of a histogram series.
func histogram(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels ...string) (uint64, float64) {
	t.Helper()
	m := series(fams, name, labels...)
	if m == nil || m.Histogram == nil {
		t.Fatalf("no histogram %s{%s}", name, strings.Join(labels, ","))
	}
	return m.GetHistogram().GetSampleCount(), m.GetHistogram().GetSampleSum()
}

// labelValues returns the values of label in the series of family name.
func labelValues(fams map[string]*dto.MetricFamily, name, label string) []string {
	var vals []string
	for _, m := range fams[name].GetMetric() {
		for _, lp := range m.GetLabel() {
			if lp.GetName() == label {
				vals = append(vals, lp.GetValue())
			}
		}
	}
	sort.Strings(vals)
	return vals
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// t0 is a fixed instant with a fraction of a second.
var t0 = time.Date(2024, time.May, 1, 12, 0, 0, 250_000_000, time.UTC)

func TestObserveFetch(t *testing.T) {
	m := New(Options{})
	m.ObserveFetch("a", 1500*time.Millisecond, 200, OutcomeOK, 3, 1, 0, t0)
	m.ObserveFetch("a", 250*time.Millisecond, 304, OutcomeNotModified, 0, 0, 0, t0.Add(time.Hour))
	m.ObserveFetch("b", 2*time.Second, 500, OutcomeError, 0, 0, 1, t0)
	m.ObserveFetch("b", 3*time.Second, 0, OutcomeError, 0, 0, 2, t0.Add(time.Minute))
	m.ObserveFetch("c", 0, 0, OutcomeSkipped, 0, 0, 0, t0)
	fams := scrape(t, m)

	if n, sum := histogram(t, fams, "feedmill_fetch_duration_seconds", "source=a"); n != 2 || !near(sum, 1.75) {
		t.Errorf("duration of a: count %d, sum %g; want 2, 1.75", n, sum)
	}
	if n, sum := histogram(t, fams, "feedmill_fetch_duration_seconds", "source=b"); n != 2 || !near(sum, 5) {
		t.Errorf("duration of b: count %d, sum %g; want 2, 5", n, sum)
	}
	if s := series(fams, "feedmill_fetch_duration_seconds", "source=c"); s != nil {
		t.Errorf("a skipped refresh was timed: %v", s)
	}

	counters := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"feedmill_fetches_total", []string{"source=a", "outcome=ok"}, 1},
		{"feedmill_fetches_total", []string{"source=a", "outcome=not_modified"}, 1},
		{"feedmill_fetches_total", []string{"source=a", "outcome=error"}, 0},
		{"feedmill_fetches_total", []string{"source=a", "outcome=skipped"}, 0},
		{"feedmill_fetches_total", []string{"source=b", "outcome=error"}, 2},
		{"feedmill_fetches_total", []string{"source=b", "outcome=ok"}, 0},
		{"feedmill_fetches_total", []string{"source=c", "outcome=skipped"}, 1},
		{"feedmill_fetch_responses_total", []string{"code=200"}, 1},
		{"feedmill_fetch_responses_total", []string{"code=304"}, 1},
		{"feedmill_fetch_responses_total", []string{"code=500"}, 1},
		{"feedmill_items_new_total", []string{"source=a"}, 3},
		{"feedmill_items_updated_total", []string{"source=a"}, 1},
		{"feedmill_items_new_total", []string{"source=b"}, 0},
		{"feedmill_items_updated_total", []string{"source=c"}, 0},
		{"feedmill_source_consecutive_failures", []string{"source=a"}, 0},
		{"feedmill_source_consecutive_failures", []string{"source=b"}, 2},
		{"feedmill_source_last_success_timestamp_seconds", []string{"source=a"}, 1714568400.25},
	}
	for _, c := range counters {
		if got := value(t, fams, c.name, c.labels...); !near(got, c.want) {
			t.Errorf("%s{%s} = %g, want %g", c.name, strings.Join(c.labels, ","), got, c.want)
		}
	}
	if codes := labelValues(fams, "feedmill_fetch_responses_total", "code"); strings.Join(codes, " ") != "200 304 500" {
		t.Errorf("response codes %q: a fetch without a response must count none", codes)
	}
	if s := labelValues(fams, "feedmill_source_last_success_timestamp_seconds", "source"); strings.Join(s, " ") != "a" {
		t.Errorf("last success of %q, want only a: b failed and c was skipped", s)
	}
	if typ := fams["feedmill_fetch_duration_seconds"].GetType(); typ != dto.MetricType_HISTOGRAM {
		t.Errorf("feedmill_fetch_duration_seconds is a %s", typ)
	}
}

func TestLastSuccess(t *testing.T) {
	m := New(Options{})
	m.LastSuccess("a", t0)
	m.LastSuccess("never", time.Time{})
	fams := scrape(t, m)
	if got, want := value(t, fams, "feedmill_source_last_success_timestamp_seconds", "source=a"), 1714564800.25; !near(got, want) {
		t.Errorf("last success = %f, want %f", got, want)
	}
	if s := series(fams, "feedmill_source_last_success_timestamp_seconds", "source=never"); s != nil {
		t.Errorf("a zero time was recorded: %v", s)
	}
	// A later refresh moves it.
	m.ObserveFetch("a", time.Second, 200, OutcomeOK, 0, 0, 0, t0.Add(time.Minute))
	if got, want := value(t, scrape(t, m), "feedmill_source_last_success_timestamp_seconds", "source=a"), 1714564860.25; !near(got, want) {
		t.Errorf("last success after a refresh = %f, want %f", got, want)
	}
}

func TestForget(t *testing.T) {
	m := New(Options{})
	for _, s := range []string{"gone", "kept"} {
		m.ObserveFetch(s, time.Second, 200, OutcomeOK, 1, 1, 0, t0)
		m.ObserveFetch(s, time.Second, 500, OutcomeError, 0, 0, 1, t0)
	}
	m.Forget([]string{"gone", "never seen"})
	fams := scrape(t, m)
	for _, name := range []string{
		"feedmill_fetch_duration_seconds", "feedmill_fetches_total", "feedmill_items_new_total",
		"feedmill_items_updated_total", "feedmill_source_last_success_timestamp_seconds", "feedmill_source_consecutive_failures",
	} {
		for _, s := range labelValues(fams, name, "source") {
			if s != "kept" {
				t.Errorf("%s still has source %q", name, s)
			}
		}
		if len(labelValues(fams, name, "source")) == 0 {
			t.Errorf("%s lost the kept source", name)
		}
	}
	// Responses are not per source: they stay.
	if got := value(t, fams, "feedmill_fetch_responses_total", "code=200"); got != 2 {
		t.Errorf("responses 200 = %g, want 2", got)
	}
	// A source that comes back starts from zero, with its zeroes again.
	m.ObserveFetch("gone", time.Second, 304, OutcomeNotModified, 0, 0, 0, t0)
	fams = scrape(t, m)
	if got := value(t, fams, "feedmill_fetches_total", "source=gone", "outcome=ok"); got != 0 {
		t.Errorf("ok of a returning source = %g, want 0", got)
	}
	if got := value(t, fams, "feedmill_fetches_total", "source=gone", "outcome=not_modified"); got != 1 {
		t.Errorf("not_modified of a returning source = %g, want 1", got)
	}
}

func TestFeedRequests(t *testing.T) {
	m := New(Options{})
	// A handle taken for each observation, as the server takes one per
	// snapshot, counts into the same series as a kept one.
	observeFeed(m, "all", publish.Atom, 200, 2*time.Millisecond)
	observeFeed(m, "all", publish.Atom, 200, 4*time.Millisecond)
	observeFeed(m, "all", publish.Atom, 304, time.Millisecond)
	observeFeed(m, "all", publish.RSS, 200, 8*time.Millisecond)
	observeFeed(m, "tech", publish.JSON, 200, 16*time.Millisecond)
	// A request the server did not time is counted, not in the histogram.
	observeFeed(m, "tech", publish.JSON, 200, -1)
	fams := scrape(t, m)

	counts := []struct {
		labels []string
		want   float64
	}{
		{[]string{"feed=all", "format=atom", "code=200"}, 2},
		{[]string{"feed=all", "format=atom", "code=304"}, 1},
		{[]string{"feed=all", "format=rss", "code=200"}, 1},
		{[]string{"feed=tech", "format=json", "code=200"}, 2},
	}
	for _, c := range counts {
		if got := value(t, fams, "feedmill_http_feed_requests_total", c.labels...); got != c.want {
			t.Errorf("requests{%s} = %g, want %g", strings.Join(c.labels, ","), got, c.want)
		}
	}
	if n := len(fams["feedmill_http_feed_requests_total"].GetMetric()); n != len(counts) {
		t.Errorf("%d request series, want %d", n, len(counts))
	}
	durations := []struct {
		labels []string
		count  uint64
		sum    float64
	}{
		{[]string{"feed=all", "format=atom"}, 3, 0.007},
		{[]string{"feed=all", "format=rss"}, 1, 0.008},
		{[]string{"feed=tech", "format=json"}, 1, 0.016},
	}
	for _, d := range durations {
		if n, sum := histogram(t, fams, "feedmill_http_feed_request_duration_seconds", d.labels...); n != d.count || !near(sum, d.sum) {
			t.Errorf("duration{%s}: count %d, sum %g; want %d, %g", strings.Join(d.labels, ","), n, sum, d.count, d.sum)
		}
	}
}

// TestRequestsDoNotAllocate: the handles the server takes once per
// document count a request without allocating (and, by construction,
// without a lock: see Requests.Observe) once each status was seen.
func TestRequestsDoNotAllocate(t *testing.T) {
	m := New(Options{})
	type call struct {
		observe func(int, time.Duration)
		status  int
	}
	all, tech, src := m.FeedRequests("all", publish.RSS), m.FeedRequests("tech", publish.JSON), m.SourceFeedRequests("blog", publish.Atom)
	calls := []call{{all, 200}, {all, 304}, {tech, 200}, {tech, 206}, {src, 200}, {src, 304}}
	for _, c := range calls { // warm-up: resolve each series once
		c.observe(c.status, time.Millisecond)
	}
	const runs = 1000
	allocs := testing.AllocsPerRun(runs, func() {
		for _, c := range calls {
			c.observe(c.status, 3*time.Millisecond)
		}
	})
	if allocs != 0 {
		t.Errorf("Observe allocates %g times per run of %d calls after warm-up, want 0", allocs, len(calls))
	}
	// The observations were made: AllocsPerRun runs the function runs+1
	// times.
	fams := scrape(t, m)
	if got := value(t, fams, "feedmill_http_feed_requests_total", "feed=all", "format=rss", "code=304"); got != runs+2 {
		t.Errorf("requests = %g, want %d", got, runs+2)
	}
	if got := value(t, fams, "feedmill_http_source_feed_requests_total", "source=blog", "format=atom", "code=200"); got != runs+2 {
		t.Errorf("source feed requests = %g, want %d", got, runs+2)
	}
}

// TestSourceFeedRequests: a source's own feed is counted in series of its
// own, by source and format, and Forget drops them with the source's
// other series.
func TestSourceFeedRequests(t *testing.T) {
	m := New(Options{})
	m.SourceFeedRequests("blog", publish.Atom)(200, 2*time.Millisecond)
	m.SourceFeedRequests("blog", publish.Atom)(304, time.Millisecond)
	m.SourceFeedRequests("news", publish.JSON)(200, time.Millisecond)
	fams := scrape(t, m)
	for _, c := range []struct {
		labels []string
		want   float64
	}{
		{[]string{"source=blog", "format=atom", "code=200"}, 1},
		{[]string{"source=blog", "format=atom", "code=304"}, 1},
		{[]string{"source=news", "format=json", "code=200"}, 1},
	} {
		if got := value(t, fams, "feedmill_http_source_feed_requests_total", c.labels...); got != c.want {
			t.Errorf("requests{%s} = %g, want %g", strings.Join(c.labels, ","), got, c.want)
		}
	}
	if n, sum := histogram(t, fams, "feedmill_http_source_feed_request_duration_seconds", "source=blog", "format=atom"); n != 2 || !near(sum, 0.003) {
		t.Errorf("duration of blog: count %d, sum %g; want 2, 0.003", n, sum)
	}
	if fams["feedmill_http_feed_requests_total"] != nil {
		t.Error("a source's feed was counted as a published feed")
	}
	m.Forget([]string{"blog"})
	fams = scrape(t, m)
	for _, name := range []string{"feedmill_http_source_feed_requests_total", "feedmill_http_source_feed_request_duration_seconds"} {
		if vals := labelValues(fams, name, "source"); len(vals) == 0 || vals[0] != "news" || vals[len(vals)-1] != "news" {
			t.Errorf("%s has sources %q after Forget(blog), want only news", name, vals)
		}
	}
}

func TestForgetFeeds(t *testing.T) {
	m := New(Options{})
	handles := map[string]func(int, time.Duration){}
	for _, f := range []string{"gone", "kept"} {
		m.Published(f, 10)
		handles[f] = m.FeedRequests(f, publish.RSS)
		handles[f](200, time.Millisecond)
		observeFeed(m, f, publish.Atom, 200, time.Millisecond)
	}
	m.ForgetFeeds([]string{"gone"})
	fams := scrape(t, m)
	for _, name := range []string{"feedmill_published_items", "feedmill_publish_renders_total", "feedmill_http_feed_requests_total", "feedmill_http_feed_request_duration_seconds"} {
		vals := labelValues(fams, name, "feed")
		if len(vals) == 0 || vals[0] != "kept" || vals[len(vals)-1] != "kept" {
			t.Errorf("%s has feeds %q, want only kept", name, vals)
		}
	}
	// A feed that comes back is counted again from zero, also through a
	// handle taken before it was forgotten: the handle resolves its
	// series again rather than count into the deleted ones.
	handles["gone"](200, time.Millisecond)
	handles["kept"](200, time.Millisecond)
	fams = scrape(t, m)
	if got := value(t, fams, "feedmill_http_feed_requests_total", "feed=gone", "format=rss", "code=200"); got != 1 {
		t.Errorf("requests of a returning feed = %g, want 1", got)
	}
	if n, _ := histogram(t, fams, "feedmill_http_feed_request_duration_seconds", "feed=gone", "format=rss"); n != 1 {
		t.Errorf("duration count of a returning feed = %d, want 1", n)
	}
	if got := value(t, fams, "feedmill_http_feed_requests_total", "feed=kept", "format=rss", "code=200"); got != 2 {
		t.Errorf("requests of a kept feed = %g, want 2", got)
	}
}

func TestPublished(t *testing.T) {
	m := New(Options{})
	m.Published("all", 50)
	m.Published("all", 48)
	m.Published("tech", 0)
	fams := scrape(t, m)
	tests := []struct {
		name, feed string
		want       float64
	}{
		{"feedmill_published_items", "all", 48},
		{"feedmill_published_items", "tech", 0},
		{"feedmill_publish_renders_total", "all", 2},
		{"feedmill_publish_renders_total", "tech", 1},
	}
	for _, tc := range tests {
		if got := value(t, fams, tc.name, "feed="+tc.feed); got != tc.want {
			t.Errorf("%s{feed=%s} = %g, want %g", tc.name, tc.feed, got, tc.want)
		}
	}
}

func TestWebSub(t *testing.T) {
	m := New(Options{})
	fams := scrape(t, m)
	for _, o := range []string{"ok", "failed", "retry"} {
		if got := value(t, fams, "feedmill_websub_deliveries_total", "outcome="+o); got != 0 {
			t.Errorf("deliveries{%s} before any = %g, want 0", o, got)
		}
	}
	m.Subscribers(5)
	m.Subscribers(3)
	m.Delivery("ok")
	m.Delivery("ok")
	m.Delivery("retry")
	fams = scrape(t, m)
	if got := value(t, fams, "feedmill_websub_hub_subscribers"); got != 3 {
		t.Errorf("subscribers = %g, want 3", got)
	}
	for o, want := range map[string]float64{"ok": 2, "retry": 1, "failed": 0} {
		if got := value(t, fams, "feedmill_websub_deliveries_total", "outcome="+o); got != want {
			t.Errorf("deliveries{%s} = %g, want %g", o, got, want)
		}
	}
	if fams["feedmill_websub_source_subscriptions"] != nil {
		t.Error("source subscriptions reported without Options.SourceSubscriptions")
	}
}

func TestFuncGauges(t *testing.T) {
	var mu sync.Mutex
	size, subs := int64(123456), 4
	var sizeErr error
	hadDeadline := true
	m := New(Options{
		StoreSize: func(ctx context.Context) (int64, error) {
			mu.Lock()
			defer mu.Unlock()
			_, ok := ctx.Deadline()
			hadDeadline = hadDeadline && ok
			return size, sizeErr
		},
		SourceSubscriptions: func(context.Context) (int, error) { return subs, nil },
	})
	fams := scrape(t, m)
	if got := value(t, fams, "feedmill_store_size_bytes"); got != 123456 {
		t.Errorf("store size = %g, want 123456", got)
	}
	if got := value(t, fams, "feedmill_websub_source_subscriptions"); got != 4 {
		t.Errorf("source subscriptions = %g, want 4", got)
	}
	mu.Lock()
	size = 7 << 20
	mu.Unlock()
	if got := value(t, scrape(t, m), "feedmill_store_size_bytes"); got != 7<<20 {
		t.Errorf("store size = %g, want %d: read at each scrape", got, 7<<20)
	}
	mu.Lock()
	defer mu.Unlock()
	if !hadDeadline {
		t.Error("StoreSize was called without a deadline")
	}
}

func TestFuncGaugeErrors(t *testing.T) {
	logs := &testkit.SyncBuffer{}
	m := New(Options{
		Logger:    logs.Logger(slog.LevelInfo),
		StoreSize: func(context.Context) (int64, error) { return 0, errors.New("database is locked") },
	})
	now := t0
	m.now = func() time.Time { return now }
	for range 3 {
		fams := scrape(t, m)
		if f := fams["feedmill_store_size_bytes"]; f != nil {
			t.Fatalf("a failed store size is reported: %v", f)
		}
		if fams["feedmill_build_info"] == nil {
			t.Fatal("a failed gauge took the other series with it")
		}
	}
	if n := strings.Count(logs.String(), "database is locked"); n != 1 {
		t.Errorf("%d log lines for 3 failures within a minute, want 1:\n%s", n, logs)
	}
	now = now.Add(time.Minute)
	scrape(t, m)
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], "database is locked") || !strings.Contains(lines[1], "suppressed=2") ||
		!strings.Contains(lines[1], "metric=feedmill_store_size_bytes") {
		t.Errorf("a minute later, want a second line naming the metric and the 2 failures not logged:\n%s", logs)
	}
}

func TestBuildInfoAndRuntime(t *testing.T) {
	tests := []struct {
		version, want string
	}{
		{"v1.2.3", "v1.2.3"},
		{"", "unknown"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			fams := scrape(t, New(Options{Version: tc.version}))
			if got := value(t, fams, "feedmill_build_info", "version="+tc.want); got != 1 {
				t.Errorf("build_info = %g, want 1", got)
			}
			for _, name := range []string{"go_goroutines", "go_info", "process_cpu_seconds_total", "process_resident_memory_bytes"} {
				if fams[name] == nil {
					t.Errorf("no %s: the Go and process collectors are missing", name)
				}
			}
			for name, fam := range fams {
				if strings.HasPrefix(name, "feedmill_") && fam.GetHelp() == "" {
					t.Errorf("%s has no help", name)
				}
			}
		})
	}
}

func TestOwnRegistry(t *testing.T) {
	// Two Metrics side by side (two daemons in one test process) do not
	// collide, and neither writes to the other.
	a, b := New(Options{}), New(Options{})
	a.Published("all", 1)
	if fams := scrape(t, b); fams["feedmill_published_items"] != nil {
		t.Error("one Metrics sees the series of another")
	}
}

func TestInvalidUTF8Names(t *testing.T) {
	m := New(Options{})
	bad := "caf\xe9"
	m.ObserveFetch(bad, time.Second, 200, OutcomeOK, 1, 0, 0, t0)
	observeFeed(m, bad, publish.RSS, 200, time.Millisecond)
	m.Published(bad, 1)
	fams := scrape(t, m)
	if got := value(t, fams, "feedmill_fetches_total", "source=caf\uFFFD", "outcome=ok"); got != 1 {
		t.Errorf("fetches of a name with invalid UTF-8 = %g, want 1", got)
	}
	if got := value(t, fams, "feedmill_http_feed_requests_total", "feed=caf\uFFFD", "format=rss", "code=200"); got != 1 {
		t.Errorf("requests of a name with invalid UTF-8 = %g, want 1", got)
	}
	m.Forget([]string{bad})
	m.ForgetFeeds([]string{bad})
	fams = scrape(t, m)
	if fams["feedmill_fetches_total"] != nil || fams["feedmill_http_feed_requests_total"] != nil {
		t.Error("the series of a name with invalid UTF-8 are not forgotten")
	}
}

func TestConcurrentUse(t *testing.T) {
	m := New(Options{StoreSize: func(context.Context) (int64, error) { return 1, nil }})
	const workers, rounds = 8, 200
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range rounds {
				observeFeed(m, "all", publish.Format(i%3), 200, time.Millisecond)
				observeFeed(m, fmt.Sprintf("churn%d", i%4), publish.RSS, 200+i%2, time.Millisecond)
				m.ObserveFetch(fmt.Sprintf("s%d", w%3), time.Millisecond, 200, OutcomeOK, 1, 0, 0, t0)
				m.Published("all", i)
				m.Delivery("ok")
				m.Subscribers(i)
				if i%50 == 0 {
					m.ForgetFeeds([]string{"churn1"})
					m.Forget([]string{"s2"})
				}
			}
		})
	}
	wg.Go(func() {
		for range 5 {
			scrape(t, m)
		}
	})
	wg.Wait()
	fams := scrape(t, m)
	var total float64
	for _, f := range []string{"rss", "atom", "json"} {
		total += value(t, fams, "feedmill_http_feed_requests_total", "feed=all", "format="+f, "code=200")
	}
	if total != workers*rounds {
		t.Errorf("requests of all = %g, want %d", total, workers*rounds)
	}
	if got := value(t, fams, "feedmill_websub_deliveries_total", "outcome=ok"); got != workers*rounds {
		t.Errorf("deliveries = %g, want %d", got, workers*rounds)
	}
	if got := value(t, fams, "feedmill_publish_renders_total", "feed=all"); got != workers*rounds {
		t.Errorf("renders = %g, want %d", got, workers*rounds)
	}
	if got := value(t, fams, "feedmill_fetches_total", "source=s0", "outcome=ok"); got != 3*rounds {
		t.Errorf("fetches of s0 = %g, want %d", got, 3*rounds) // workers 0, 3 and 6
	}
	// A churned feed observed after its last ForgetFeeds is exported: no
	// observation went to a cached series the vector no longer holds.
	observeFeed(m, "churn1", publish.RSS, 200, time.Millisecond)
	if series(scrape(t, m), "feedmill_http_feed_requests_total", "feed=churn1", "format=rss", "code=200") == nil {
		t.Error("a feed observed after ForgetFeeds is not exported")
	}
}

func BenchmarkFeedRequests(b *testing.B) {
	observe := New(Options{}).FeedRequests("all", publish.Atom)
	observe(200, time.Millisecond)
	b.ReportAllocs()
	for b.Loop() {
		observe(200, time.Millisecond)
	}
}

func BenchmarkFeedRequestsParallel(b *testing.B) {
	observe := New(Options{}).FeedRequests("all", publish.Atom)
	observe(200, time.Millisecond)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			observe(200, time.Millisecond)
		}
	})
}

// observeFeed counts one request through a handle of its own, as a server
// does with the first request for a new snapshot.
func observeFeed(m *Metrics, feed string, format publish.Format, status int, d time.Duration) {
	m.FeedRequests(feed, format)(status, d)
}
