package websub

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/testkit"
)

// postFrom sends form to the hub's handler as the client at remoteAddr.
func (f hubFixture) postFrom(remoteAddr string, form url.Values) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, base+"/websub/hub", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", formType)
	r.RemoteAddr = remoteAddr
	w := httptest.NewRecorder()
	f.hub.ServeHTTP(w, r)
	return w
}

// TestHubRefusesUnknownTopics: a subscription to anything but a feed we
// publish is refused at once, with the reason, and no request goes to the
// callback (the hub must not be a way to make feedmill call anyone).
func TestHubRefusesUnknownTopics(t *testing.T) {
	tests := []struct{ name, mode, topic string }{
		{"another site", "subscribe", "https://elsewhere.example/feeds/all.rss"},
		{"our site outside /feeds/", "subscribe", base + "/opml"},
		{"the /feeds/ directory itself", "subscribe", base + "/feeds/"},
		{"a look-alike host", "subscribe", "https://feeds.example.evil/feeds/all.rss"},
		{"unsubscribe from another site", "unsubscribe", "https://elsewhere.example/feed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newHub(t, nil, HubOptions{})
			run(t, f.hub.Run)
			cb := newCallback(t, echo)
			w := f.post(subscribeForm(tc.mode, cb.URL+"/cb?a=1", tc.topic))
			if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "not a feed this server publishes") {
				t.Errorf("answer = %d %q, want 400 naming the reason", w.Code, w.Body.String())
			}
			f.settled(t)
			if gets := cb.Gets(); len(gets) != 0 {
				t.Errorf("callback got %d requests, want none", len(gets))
			}
			if subs := f.subs(t, tc.topic); len(subs) != 0 {
				t.Errorf("stored %+v", subs)
			}
		})
	}
}

// TestHubPendingLimits: one client, or one callback host, cannot fill the
// queue of verifications; the defaults apply (10 each).
func TestHubPendingLimits(t *testing.T) {
	const cbHost = "http://127.0.0.2:1/cb"
	tests := []struct {
		name string
		// request i comes from client(i) with callback callback(i)
		client   func(i int) string
		callback func(i int) string
		status   int // of the request past the limit
		reason   string
	}{
		{
			name:     "one client, many callback hosts",
			client:   func(int) string { return "192.0.2.1:4000" },
			callback: func(i int) string { return fmt.Sprintf("http://cb%d.example/cb", i) },
			status:   http.StatusTooManyRequests, reason: "from your address",
		},
		{
			name:     "one IPv6 /64, many addresses",
			client:   func(i int) string { return fmt.Sprintf("[2001:db8::%x]:4000", i+1) },
			callback: func(i int) string { return fmt.Sprintf("http://cb%d.example/cb", i) },
			status:   http.StatusTooManyRequests, reason: "from your address",
		},
		{
			name:     "many clients, one callback host",
			client:   func(i int) string { return fmt.Sprintf("192.0.2.%d:4000", i+1) },
			callback: func(i int) string { return fmt.Sprintf("%s/%d", cbHost, i) },
			status:   http.StatusTooManyRequests, reason: "for callbacks on 127.0.0.2",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newHub(t, nil, HubOptions{}) // not running: every request stays pending
			for i := range 10 {
				if w := f.postFrom(tc.client(i), subscribeForm("subscribe", tc.callback(i), topicRSS)); w.Code != http.StatusAccepted {
					t.Fatalf("request %d: %d %q, want 202", i, w.Code, w.Body.String())
				}
			}
			w := f.postFrom(tc.client(10), subscribeForm("subscribe", tc.callback(10), topicRSS))
			if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.reason) || w.Header().Get("Retry-After") == "" {
				t.Errorf("11th request: %d %q (Retry-After %q), want %d with %q and Retry-After",
					w.Code, w.Body.String(), w.Header().Get("Retry-After"), tc.status, tc.reason)
			}
			// Someone else is still served.
			if w := f.postFrom("198.51.100.9:4000", subscribeForm("subscribe", "http://other.example/cb", topicRSS)); w.Code != http.StatusAccepted {
				t.Errorf("another client: %d %q, want 202", w.Code, w.Body.String())
			}
		})
	}
}

// TestHubActiveLimitPerCallbackHost: a host with 100 subscriptions (the
// default) gets no new one, but renewals of those it has still pass.
func TestHubActiveLimitPerCallbackHost(t *testing.T) {
	f := newHub(t, nil, HubOptions{})
	ctx := context.Background()
	for i := range 100 {
		sub := feed.HubSubscription{
			Topic: topicRSS, Callback: fmt.Sprintf("http://victim.example/cb/%d", i),
			Lease: time.Hour, Expires: t0.Add(time.Hour), Created: t0,
		}
		if err := f.st.PutHubSubscription(ctx, sub); err != nil {
			t.Fatal(err)
		}
	}
	w := f.postFrom("192.0.2.1:4000", subscribeForm("subscribe", "http://VICTIM.example:8080/cb/new", topicRSS))
	if w.Code != http.StatusTooManyRequests || !strings.Contains(w.Body.String(), "victim.example") || w.Header().Get("Retry-After") == "" {
		t.Errorf("new subscription: %d %q (Retry-After %q), want 429 naming the host", w.Code, w.Body.String(), w.Header().Get("Retry-After"))
	}
	if w := f.postFrom("192.0.2.1:4000", subscribeForm("subscribe", "http://victim.example/cb/7", topicRSS)); w.Code != http.StatusAccepted {
		t.Errorf("renewal: %d %q, want 202", w.Code, w.Body.String())
	}
	if w := f.postFrom("192.0.2.1:4000", subscribeForm("unsubscribe", "http://victim.example/cb/8", topicRSS)); w.Code != http.StatusAccepted {
		t.Errorf("unsubscription: %d %q, want 202", w.Code, w.Body.String())
	}
}

// TestHubFormBounds: what an anonymous client sends is bounded.
func TestHubFormBounds(t *testing.T) {
	f := newHub(t, nil, HubOptions{})
	long := "http://127.0.0.2/cb?x=" + strings.Repeat("a", 3000)
	tests := []struct {
		name   string
		form   url.Values
		status int
		reason string
	}{
		{"callback too long", subscribeForm("subscribe", long, topicRSS), 400, "hub.callback longer than 2048 bytes"},
		{"topic too long", subscribeForm("subscribe", "http://127.0.0.2/cb", topicRSS+"?"+strings.Repeat("a", 3000)), 400, "hub.topic longer than 2048 bytes"},
		{"form too large", subscribeForm("subscribe", "http://127.0.0.2/cb", topicRSS, "padding", strings.Repeat("p", 20<<10)), 413, "too large"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := f.post(tc.form)
			if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.reason) {
				t.Errorf("answer = %d %q, want %d with %q", w.Code, w.Body.String(), tc.status, tc.reason)
			}
		})
	}
}

// TestHubDeliveriesFlowWhileVerificationsHang: callbacks that never answer
// their verification, as many as may be pending, do not hold up the
// delivery to a verified subscriber. Counted by events: the hanging
// verifications have all arrived (every verification worker is stuck)
// before the content is published.
func TestHubDeliveriesFlowWhileVerificationsHang(t *testing.T) {
	// Verifications hang longer than the test's safety net: only the
	// end of Run ends them.
	f := newHub(t, nil, HubOptions{Client: &http.Client{Timeout: 10 * time.Minute}})
	run(t, f.hub.Run)
	subscriber := newCallback(t, echo)
	f.subscribe(t, subscriber.URL+"/cb", topicRSS, "k")

	var arrived atomic.Int32
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(hang.Close)
	t.Cleanup(func() { close(release) }) // runs first: the handlers return

	const hanging = 8 // more than the workers of either queue, within the pending limits
	for i := range hanging {
		f.mustAccept(t, subscribeForm("subscribe", fmt.Sprintf("%s/cb/%d", hang.URL, i), topicRSS))
	}
	testkit.WaitFor(t, "verifications to hang", func() bool { return arrived.Load() >= 4 })

	f.hub.Publish(topicRSS, []byte("v1"), rssType)
	testkit.WaitFor(t, "the delivery to the verified subscriber", func() bool { return len(subscriber.Posts()) == 1 })
	if got := subscriber.Posts()[0]; string(got.Body) != "v1" || got.Header.Get("X-Hub-Signature") != hmacHex("k", []byte("v1")) {
		t.Errorf("delivery = %q signed %q", got.Body, got.Header.Get("X-Hub-Signature"))
	}
}
