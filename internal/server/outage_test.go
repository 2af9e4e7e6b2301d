package server

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
)

// TestOutage checks what /healthz, /status.json and the status page say
// when every fetched source failed its last attempt the same way (the
// offline laptop of issue 16), and that they say nothing of it otherwise.
func TestOutage(t *testing.T) {
	now := time.Now()
	noHost := func(name string) feed.SourceState {
		return feed.SourceState{Name: name, URL: "https://" + name + ".example/feed", LastFetch: now, Failures: 1,
			LastError: "fetch https://" + name + ".example/feed: no such host: check the name, or this machine's network/DNS (lookup " + name + ".example: no such host)",
			LastCause: feed.CauseNoHost, NextFetch: now.Add(15 * time.Minute), NextReason: feed.NextBackoff}
	}
	healthy := feed.SourceState{Name: "blog", URL: "https://blog.example/feed", LastFetch: now, LastSuccess: now, NextFetch: now.Add(time.Hour), NextReason: feed.NextSchedule}
	refused := noHost("broken")
	refused.LastCause, refused.LastError = feed.CauseRefused, "fetch https://broken.example/feed: connection refused"
	tests := []struct {
		name   string
		states []feed.SourceState
		want   feed.Cause // "" for no outage
	}{
		// "new" was never fetched: it does not count.
		{"every fetched source has no such host", []feed.SourceState{noHost("blog"), noHost("broken")}, feed.CauseNoHost},
		{"one works", []feed.SourceState{healthy, noHost("broken")}, ""},
		{"different causes", []feed.SourceState{noHost("blog"), refused}, ""},
		{"a lone fetched source", []feed.SourceState{noHost("broken")}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t, fixedStates{states: tc.states})

			resp, body := do(t, "GET", ts.URL+"/healthz")
			var h health
			if err := json.Unmarshal([]byte(body), &h); err != nil || resp.StatusCode != 200 {
				t.Fatalf("healthz: %s, %v:\n%s", resp.Status, err, body)
			}
			wantStatus := "ok"
			if tc.want != "" {
				wantStatus = "degraded"
			}
			if h.Status != wantStatus || h.Cause != tc.want || (tc.want != "") != (h.Reason != "" && strings.Contains(h.Reason, tc.want.Words())) {
				t.Errorf("healthz: status %q, cause %q, reason %q; want %q, %q and the cause's words", h.Status, h.Cause, h.Reason, wantStatus, tc.want)
			}

			_, body = do(t, "GET", ts.URL+"/status.json")
			var doc statusDoc
			if err := json.Unmarshal([]byte(body), &doc); err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.want == "" && doc.Outage != nil:
				t.Errorf("status.json reports an outage: %+v", doc.Outage)
			case tc.want != "" && (doc.Outage == nil || doc.Outage.Cause != tc.want || doc.Outage.Sources != 2 || doc.Outage.Words != tc.want.Words()):
				t.Errorf("status.json outage %+v, want %q of 2 sources", doc.Outage, tc.want)
			}

			_, page := do(t, "GET", ts.URL+"/")
			shown := strings.Contains(page, `<div class="banner" id="outage" role="alert">`)
			if shown != (tc.want != "") {
				t.Errorf("status page shows the outage banner: %v, want %v", shown, tc.want != "")
			}
		})
	}
}

// TestNextReason checks that each source says when it is tried again and
// why, on the status page, its own page and in /status.json.
func TestNextReason(t *testing.T) {
	now := time.Now()
	states := []feed.SourceState{
		{Name: "blog", URL: "https://blog.example/feed", LastFetch: now, LastSuccess: now, NextFetch: now.Add(3 * time.Hour), NextReason: feed.NextCache},
		{Name: "broken", URL: "https://broken.example/feed", LastFetch: now, LastError: "fetch x: HTTP 503 Service Unavailable, retry after 2h0m0s",
			LastCause: feed.CauseHTTP, Failures: 2, NextFetch: now.Add(2 * time.Hour), NextReason: feed.NextRetryAfter},
	}
	ts := newTestServer(t, fixedStates{states: states})
	_, body := do(t, "GET", ts.URL+"/status.json")
	var doc statusDoc
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string][2]string{
		"blog":   {feed.NextCache, "later than the schedule, as the server's cache hints ask"},
		"broken": {feed.NextRetryAfter, "as the server asked (Retry-After)"},
		"new":    {"", ""},
	}
	for _, row := range doc.Sources {
		w := want[row.Name]
		if row.NextReason != w[0] || !strings.HasPrefix(row.NextWhy, w[1]) {
			t.Errorf("%s: next reason %q, %q; want %q, %q", row.Name, row.NextReason, row.NextWhy, w[0], w[1])
		}
	}
	_, page := do(t, "GET", ts.URL+"/")
	if !strings.Contains(page, "as the server asked (Retry-After)") || !strings.Contains(page, "cache hints ask") {
		t.Errorf("status page does not say why the sources wait:\n%s", page)
	}
	_, page = do(t, "GET", ts.URL+"/sources/broken")
	if !strings.Contains(page, "as the server asked (Retry-After)") {
		t.Errorf("source page does not say why the source waits:\n%s", page)
	}
}
