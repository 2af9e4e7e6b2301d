package websub

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
)

// TestHubTopics: the Topics option decides what can be subscribed to.
func TestHubTopics(t *testing.T) {
	published := map[string]bool{topicAtom: true}
	f := newHub(t, nil, HubOptions{Topics: func(topic string) bool { return published[topic] }})
	cb := "http://127.0.0.2/cb"
	if w := f.post(subscribeForm("subscribe", cb, topicAtom)); w.Code != http.StatusAccepted {
		t.Errorf("published topic: %d %q, want 202", w.Code, w.Body.String())
	}
	// Under /feeds/, but not published.
	if w := f.post(subscribeForm("subscribe", cb, topicRSS)); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), topicRSS) {
		t.Errorf("unpublished topic: %d %q, want 400 naming it", w.Code, w.Body.String())
	}
}

// putSubs stores n subscriptions of client to topicRSS, with callbacks
// callback(i).
func putSubs(t *testing.T, f hubFixture, n int, client string, callback func(i int) string) {
	t.Helper()
	for i := range n {
		sub := feed.HubSubscription{
			Topic: topicRSS, Callback: callback(i), Client: client,
			Lease: time.Hour, Expires: t0.Add(time.Hour), Created: t0,
		}
		if err := f.st.PutHubSubscription(context.Background(), sub); err != nil {
			t.Fatal(err)
		}
	}
}

func TestHubLimits(t *testing.T) {
	const client = "192.0.2.1"
	tests := []struct {
		name   string
		limits HubLimits
		setup  func(t *testing.T, f hubFixture)
		from   string // the request's client
		cb     string
		status int
		reason string
	}{
		{
			name:   "client's active subscriptions",
			limits: HubLimits{ClientActive: 3},
			setup: func(t *testing.T, f hubFixture) {
				putSubs(t, f, 3, client, func(i int) string { return fmt.Sprintf("http://h%d.example/cb", i) })
			},
			from: client, cb: "http://new.example/cb",
			status: http.StatusTooManyRequests, reason: "too many subscriptions from your address (at most 3)",
		},
		{
			name:   "another client is not held to them",
			limits: HubLimits{ClientActive: 3},
			setup: func(t *testing.T, f hubFixture) {
				putSubs(t, f, 3, client, func(i int) string { return fmt.Sprintf("http://h%d.example/cb", i) })
			},
			from: "192.0.2.2", cb: "http://new.example/cb",
			status: http.StatusAccepted,
		},
		{
			name:   "callback host's active subscriptions",
			limits: HubLimits{HostActive: 2},
			setup: func(t *testing.T, f hubFixture) {
				putSubs(t, f, 2, "198.51.100.1", func(i int) string { return fmt.Sprintf("https://victim.example/cb/%d", i) })
			},
			from: client, cb: "http://victim.example/other",
			status: http.StatusTooManyRequests, reason: "too many subscriptions with callbacks on victim.example (at most 2)",
		},
		{
			name:   "global active subscriptions",
			limits: HubLimits{Active: 4},
			setup: func(t *testing.T, f hubFixture) {
				putSubs(t, f, 4, "198.51.100.1", func(i int) string { return fmt.Sprintf("http://h%d.example/cb", i) })
			},
			from: client, cb: "http://new.example/cb",
			status: http.StatusServiceUnavailable, reason: "as many subscriptions as it takes",
		},
		{
			name:   "a renewal past the limits",
			limits: HubLimits{ClientActive: 1, HostActive: 1, Active: 1},
			setup: func(t *testing.T, f hubFixture) {
				putSubs(t, f, 1, client, func(int) string { return "http://new.example/cb" })
			},
			from: client, cb: "http://new.example/cb",
			status: http.StatusAccepted,
		},
		{
			name:   "global pending requests",
			limits: HubLimits{Pending: 2},
			setup: func(t *testing.T, f hubFixture) {
				for i := range 2 {
					f.postFrom(fmt.Sprintf("198.51.100.%d:1", i+1), subscribeForm("subscribe", fmt.Sprintf("http://h%d.example/cb", i), topicRSS))
				}
			},
			from: client, cb: "http://new.example/cb",
			status: http.StatusServiceUnavailable, reason: "too many pending requests",
		},
		{
			name:   "client's pending requests",
			limits: HubLimits{ClientPending: 1},
			setup: func(t *testing.T, f hubFixture) {
				f.postFrom(client+":1", subscribeForm("subscribe", "http://h.example/cb", topicRSS))
			},
			from: client, cb: "http://new.example/cb",
			status: http.StatusTooManyRequests, reason: "too many pending requests from your address (at most 1)",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newHub(t, nil, HubOptions{Limits: tc.limits}) // not running: requests stay pending
			tc.setup(t, f)
			w := f.postFrom(tc.from+":4000", subscribeForm("subscribe", tc.cb, topicRSS))
			if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.reason) {
				t.Errorf("answer = %d %q, want %d with %q", w.Code, w.Body.String(), tc.status, tc.reason)
			}
			if tc.status != http.StatusAccepted && w.Header().Get("Retry-After") == "" {
				t.Errorf("no Retry-After")
			}
		})
	}
}

// TestHubLimitsAtVerification: requests that each passed the limit while
// pending cannot together pass it: the verification checks again, and the
// one too many is neither verified nor stored.
func TestHubLimitsAtVerification(t *testing.T) {
	f := newHub(t, nil, HubOptions{Limits: HubLimits{ClientActive: 2}})
	cb := newCallback(t, echo)
	for i := range 3 {
		f.mustAccept(t, subscribeForm("subscribe", fmt.Sprintf("%s/cb/%d", cb.URL, i), topicRSS))
	}
	run(t, f.hub.Run)
	f.settled(t)
	if n := len(f.subs(t, topicRSS)); n != 2 {
		t.Errorf("%d subscriptions stored, want 2", n)
	}
	if n := len(cb.Gets()); n > 2+verifyWorkers-1 {
		t.Errorf("%d verifications sent", n)
	}
}
