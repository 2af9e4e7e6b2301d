package app_test

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/testkit"
	"github.com/mmcdole/gofeed"
)

// scrape reads base/metrics into a map from series (name and labels, as
// the exposition text writes them) to value.
func scrape(t *testing.T, base string) map[string]float64 {
	t.Helper()
	resp, body := get(t, base+"/metrics")
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %s", resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("/metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// TestMetricsAfterRefresh scrapes a real daemon's /metrics after its first
// refresh and after readers fetched a feed: the series say what happened.
//
// A request is counted after its response was written (server.serveFeed),
// and a source's fetch when its refresh ends, which for the failing source
// may come after the others were published, so a client can see either
// before the counter moved: the test scrapes until every series it pins has
// reached its value (the events have happened), then asserts each is
// exactly that value.
func TestMetricsAfterRefresh(t *testing.T) {
	e := newEnv(t)
	start := time.Now()
	startDaemon(t, e)
	testkit.WaitFor(t, "all sources fetched and published", func() bool {
		_, body := get(t, e.base+"/feeds/all.json")
		parsed, err := gofeed.NewParser().ParseString(string(body))
		return err == nil && len(parsed.Items) == len(expected)
	})
	resp, _ := get(t, e.base+"/feeds/all.atom")
	get(t, e.base+"/feeds/all.atom", "If-None-Match", resp.Header.Get("ETag"))

	want := map[string]float64{
		`feedmill_fetches_total{outcome="ok",source="podcast"}`:                  1,
		`feedmill_fetches_total{outcome="error",source="down"}`:                  1,
		`feedmill_fetches_total{outcome="ok",source="down"}`:                     0,
		`feedmill_source_consecutive_failures{source="down"}`:                    1,
		`feedmill_source_consecutive_failures{source="podcast"}`:                 0,
		`feedmill_fetch_responses_total{code="200"}`:                             float64(len(fixtures)),
		`feedmill_fetch_duration_seconds_count{source="atomblog"}`:               1,
		`feedmill_http_feed_requests_total{code="304",feed="all",format="atom"}`: 1,
		`feedmill_build_info{version="` + versionOf(t) + `"}`:                    1,
	}
	var m map[string]float64
	testkit.WaitFor(t, "the refresh and the feed requests are counted", func() bool {
		m = scrape(t, e.base)
		for series, v := range want {
			if m[series] < v {
				return false
			}
		}
		return m[`feedmill_http_feed_requests_total{code="200",feed="all",format="atom"}`] >= 1
	})
	for series, v := range want {
		got, ok := m[series]
		if !ok {
			t.Errorf("/metrics lacks %s", series)
			continue
		}
		if got != v {
			t.Errorf("%s = %v, want %v", series, got, v)
		}
	}
	// Values that depend on the fixtures: at least as many new items as
	// the feed shows from each source, a size, a last success.
	newItems := 0.0
	for series, v := range m {
		if strings.HasPrefix(series, "feedmill_items_new_total{") {
			newItems += v
		}
	}
	if newItems < float64(len(expected)) {
		t.Errorf("feedmill_items_new_total sums to %v, want at least the %d published items", newItems, len(expected))
	}
	if m["feedmill_store_size_bytes"] <= 0 {
		t.Errorf("feedmill_store_size_bytes = %v, want > 0", m["feedmill_store_size_bytes"])
	}
	if got := m[`feedmill_published_items{feed="all"}`]; got != float64(len(expected)) {
		t.Errorf(`feedmill_published_items{feed="all"} = %v, want %d`, got, len(expected))
	}
	// The last success lies between the daemon's start and now (the
	// gauge holds whole seconds).
	last := time.Unix(int64(m[`feedmill_source_last_success_timestamp_seconds{source="kitchen"}`]), 0)
	if last.Before(start.Truncate(time.Second)) || last.After(time.Now()) {
		t.Errorf("last success of kitchen at %v, want between the start %v and now", last, start)
	}
	if m[`feedmill_http_feed_requests_total{code="200",feed="all",format="atom"}`] < 1 {
		t.Errorf("the 200 of all.atom was not counted")
	}
}

// versionOf is the version the test binary reports.
func versionOf(t *testing.T) string {
	t.Helper()
	_, out, _ := run(t, "version")
	return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(out), "feedmill "))
}
