package websub

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/store"
	"github.com/feedmill/feedmill/internal/testkit"
)

const (
	base      = "https://feeds.example"
	topicRSS  = base + "/feeds/all.rss"
	topicAtom = base + "/feeds/all.atom"
	rssType   = "application/rss+xml; charset=utf-8"
)

type hubFixture struct {
	hub  *Hub
	st   *store.SQLite
	logs *testkit.SyncBuffer
}

// newHub returns a hub on st (a fresh store when nil) with test defaults:
// base URL base, the clock at t0, tiny retry waits.
func newHub(t *testing.T, st *store.SQLite, opts HubOptions) hubFixture {
	t.Helper()
	if st == nil {
		st = openStore(t)
	}
	logs := &testkit.SyncBuffer{}
	if opts.BaseURL == "" {
		opts.BaseURL = base
	}
	if opts.Now == nil {
		opts.Now = fixedNow(t0)
	}
	if opts.RetryBase == 0 {
		opts.RetryBase = 5 * time.Millisecond
	}
	opts.Logger = logs.Logger(slog.LevelDebug)
	return hubFixture{hub: NewHub(opts, st), st: st, logs: logs}
}

func subscribeForm(mode, callback, topic string, kv ...string) url.Values {
	f := url.Values{"hub.mode": {mode}, "hub.callback": {callback}, "hub.topic": {topic}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return f
}

// post sends form to the hub's handler.
func (f hubFixture) post(form url.Values) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, base+"/websub/hub", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	f.hub.ServeHTTP(w, r)
	return w
}

// mustAccept posts form and checks the 202.
func (f hubFixture) mustAccept(t *testing.T, form url.Values) {
	t.Helper()
	if w := f.post(form); w.Code != http.StatusAccepted {
		t.Fatalf("hub answered %d %q, want 202", w.Code, w.Body.String())
	}
}

// settled waits until no verification is queued or running.
func (f hubFixture) settled(t *testing.T) {
	t.Helper()
	testkit.WaitFor(t, "verifications to finish", func() bool {
		f.hub.mu.Lock()
		defer f.hub.mu.Unlock()
		return f.hub.verifications == 0
	})
}

// subs returns the unexpired subscriptions to topic at t0.
func (f hubFixture) subs(t *testing.T, topic string) []feed.HubSubscription {
	t.Helper()
	subs, err := f.st.HubSubscriptions(context.Background(), topic, t0)
	if err != nil {
		t.Fatalf("HubSubscriptions: %v", err)
	}
	return subs
}

// subscribe makes callback a verified subscriber of topic through the hub.
func (f hubFixture) subscribe(t *testing.T, callback, topic, secret string) {
	t.Helper()
	f.mustAccept(t, subscribeForm("subscribe", callback, topic, "hub.secret", secret))
	f.settled(t)
	for _, s := range f.subs(t, topic) {
		if s.Callback == callback {
			return
		}
	}
	t.Fatalf("%s is not subscribed to %s; log:\n%s", callback, topic, f.logs)
}

func TestHubSubscribeVerification(t *testing.T) {
	tests := []struct {
		name   string
		verify func(url.Values) (int, string)
		stored bool
	}{
		{"echoed challenge", echo, true},
		{"echo with a trailing newline", func(q url.Values) (int, string) { return 200, q.Get("hub.challenge") + "\n" }, true},
		{"wrong echo", func(url.Values) (int, string) { return 200, "not the challenge" }, false},
		{"empty echo", func(url.Values) (int, string) { return 200, "" }, false},
		{"404", func(q url.Values) (int, string) { return 404, q.Get("hub.challenge") }, false},
		{"500 with the challenge", func(q url.Values) (int, string) { return 500, q.Get("hub.challenge") }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newHub(t, nil, HubOptions{})
			run(t, f.hub.Run)
			cb := newCallback(t, tc.verify)
			callback := cb.URL + "/push?id=7&x=%2F"
			f.mustAccept(t, subscribeForm("subscribe", callback, topicRSS, "hub.lease_seconds", "86400", "hub.secret", "shh"))
			f.settled(t)

			gets := cb.Gets()
			if len(gets) != 1 {
				t.Fatalf("callback got %d GETs, want 1", len(gets))
			}
			q := gets[0].Query
			if q.Get("hub.mode") != "subscribe" || q.Get("hub.topic") != topicRSS || q.Get("hub.lease_seconds") != "86400" {
				t.Errorf("verification query = %v", q)
			}
			if len(q.Get("hub.challenge")) < 16 {
				t.Errorf("challenge %q is too short to be unguessable", q.Get("hub.challenge"))
			}
			if q.Get("id") != "7" || q.Get("x") != "/" {
				t.Errorf("the callback's own query was not kept: %v", q)
			}

			subs := f.subs(t, topicRSS)
			if !tc.stored {
				if len(subs) != 0 {
					t.Errorf("stored %+v after a failed verification", subs)
				}
				return
			}
			want := []feed.HubSubscription{{
				Topic: topicRSS, Callback: callback, Secret: "shh",
				Lease: 24 * time.Hour, Expires: t0.Add(24 * time.Hour), Created: t0,
				Client: "192.0.2.1", // httptest's RemoteAddr
			}}
			if !reflect.DeepEqual(subs, want) {
				t.Errorf("stored %+v, want %+v", subs, want)
			}
		})
	}
}

func TestHubRefusesBadRequests(t *testing.T) {
	f := newHub(t, nil, HubOptions{})
	const cb = "http://127.0.0.1:1/cb"
	tests := []struct {
		name        string
		method      string
		contentType string
		form        url.Values
		status      int
		reason      string
	}{
		{"GET", http.MethodGet, "", nil, 405, "POST"},
		{"JSON body", http.MethodPost, "application/json", subscribeForm("subscribe", cb, topicRSS), 415, formType},
		{"no mode", "", "", subscribeForm("", cb, topicRSS), 400, "missing hub.mode"},
		{"publish mode", "", "", subscribeForm("publish", cb, topicRSS), 400, `unsupported hub.mode "publish"`},
		{"no callback", "", "", subscribeForm("subscribe", "", topicRSS), 400, "missing hub.callback"},
		{"relative callback", "", "", subscribeForm("subscribe", "/cb", topicRSS), 400, "invalid hub.callback"},
		{"ftp callback", "", "", subscribeForm("subscribe", "ftp://127.0.0.1/cb", topicRSS), 400, "not http(s)"},
		{"callback without host", "", "", subscribeForm("subscribe", "http:///cb", topicRSS), 400, "no host"},
		{"no topic", "", "", subscribeForm("subscribe", cb, ""), 400, "missing hub.topic"},
		{"relative topic", "", "", subscribeForm("subscribe", cb, "feeds/all.rss"), 400, "invalid hub.topic"},
		{"secret of 200 bytes", "", "", subscribeForm("subscribe", cb, topicRSS, "hub.secret", strings.Repeat("s", 200)), 400, "hub.secret must be shorter than 200 bytes"},
		{"lease not a number", "", "", subscribeForm("subscribe", cb, topicRSS, "hub.lease_seconds", "ten"), 400, "invalid hub.lease_seconds"},
		{"negative lease", "", "", subscribeForm("subscribe", cb, topicRSS, "hub.lease_seconds", "-5"), 400, "invalid hub.lease_seconds"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			method, ct := tc.method, tc.contentType
			if method == "" {
				method = http.MethodPost
			}
			if ct == "" {
				ct = formType
			}
			r := httptest.NewRequest(method, base+"/websub/hub", strings.NewReader(tc.form.Encode()))
			r.Header.Set("Content-Type", ct)
			w := httptest.NewRecorder()
			f.hub.ServeHTTP(w, r)
			if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.reason) {
				t.Errorf("answer = %d %q, want %d with %q", w.Code, w.Body.String(), tc.status, tc.reason)
			}
			if !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
				t.Errorf("Content-Type = %q, want plain text", w.Header().Get("Content-Type"))
			}
		})
	}
	// A secret of 199 bytes is fine.
	if w := f.post(subscribeForm("subscribe", cb, topicRSS, "hub.secret", strings.Repeat("s", 199))); w.Code != http.StatusAccepted {
		t.Errorf("secret of 199 bytes: %d %q, want 202", w.Code, w.Body.String())
	}
	f.hub.mu.Lock()
	n := f.hub.verifications
	f.hub.mu.Unlock()
	if n != 1 {
		t.Errorf("%d verifications queued, want 1 (the acceptable request only)", n)
	}
}

func TestHubUnsubscribe(t *testing.T) {
	tests := []struct {
		name   string
		verify func(url.Values) (int, string)
		kept   bool
	}{
		{"confirmed", echo, false},
		{"not confirmed", func(url.Values) (int, string) { return 404, "" }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newHub(t, nil, HubOptions{})
			run(t, f.hub.Run)
			cb := newCallback(t, echo)
			f.subscribe(t, cb.URL+"/cb", topicRSS, "")
			cb.mu.Lock()
			cb.verify = tc.verify
			cb.mu.Unlock()

			f.mustAccept(t, subscribeForm("unsubscribe", cb.URL+"/cb", topicRSS))
			f.settled(t)
			gets := cb.Gets()
			if len(gets) != 2 {
				t.Fatalf("callback got %d GETs, want 2", len(gets))
			}
			q := gets[1].Query
			if q.Get("hub.mode") != "unsubscribe" || q.Get("hub.topic") != topicRSS || q.Get("hub.challenge") == "" {
				t.Errorf("unsubscribe verification query = %v", q)
			}
			if got := len(f.subs(t, topicRSS)); (got == 1) != tc.kept {
				t.Errorf("%d subscriptions left, want kept = %v", got, tc.kept)
			}
		})
	}

	t.Run("no such subscription: nothing to verify", func(t *testing.T) {
		f := newHub(t, nil, HubOptions{})
		run(t, f.hub.Run)
		cb := newCallback(t, echo)
		f.mustAccept(t, subscribeForm("unsubscribe", cb.URL+"/cb", topicRSS))
		f.settled(t)
		if gets := cb.Gets(); len(gets) != 0 {
			t.Errorf("callback got %d GETs, want none", len(gets))
		}
	})
}

func TestHubLeaseBounds(t *testing.T) {
	tests := []struct {
		name    string
		opts    HubOptions
		asked   string
		granted time.Duration
	}{
		{"none asked: default", HubOptions{}, "", 10 * 24 * time.Hour},
		{"zero asked: default", HubOptions{}, "0", 10 * 24 * time.Hour},
		{"within bounds", HubOptions{}, "7200", 2 * time.Hour},
		{"below the minimum", HubOptions{}, "60", time.Hour},
		{"above the maximum", HubOptions{}, "31536000", 30 * 24 * time.Hour},
		{"absurdly large", HubOptions{}, "9223372036854775807", 30 * 24 * time.Hour},
		{"custom bounds", HubOptions{DefaultLease: 3 * time.Hour, MinLease: 2 * time.Hour, MaxLease: 4 * time.Hour}, "", 3 * time.Hour},
		{"custom maximum", HubOptions{DefaultLease: 3 * time.Hour, MinLease: 2 * time.Hour, MaxLease: 4 * time.Hour}, "86400", 4 * time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newHub(t, nil, tc.opts)
			run(t, f.hub.Run)
			cb := newCallback(t, echo)
			form := subscribeForm("subscribe", cb.URL+"/cb", topicRSS)
			if tc.asked != "" {
				form.Set("hub.lease_seconds", tc.asked)
			}
			f.subscribe(t, cb.URL+"/cb", topicRSS, "")
			f.mustAccept(t, form) // a renewal with the lease under test
			f.settled(t)
			gets := cb.Gets()
			if got, want := gets[len(gets)-1].Query.Get("hub.lease_seconds"), int64(tc.granted/time.Second); got != strconv.FormatInt(want, 10) {
				t.Errorf("hub.lease_seconds = %s, want %d", got, want)
			}
			subs := f.subs(t, topicRSS)
			if len(subs) != 1 || subs[0].Lease != tc.granted || !subs[0].Expires.Equal(t0.Add(tc.granted)) {
				t.Errorf("stored %+v, want lease %s", subs, tc.granted)
			}
		})
	}
}

func TestHubDelivery(t *testing.T) {
	f := newHub(t, nil, HubOptions{HubURL: base + "/websub/hub"})
	run(t, f.hub.Run)
	signed := newCallback(t, echo)
	unsigned := newCallback(t, echo)
	other := newCallback(t, echo)
	f.subscribe(t, signed.URL+"/cb?user=1", topicRSS, "a secret")
	f.subscribe(t, unsigned.URL+"/cb", topicRSS, "")
	f.subscribe(t, other.URL+"/cb", topicAtom, "x")

	body := []byte(`<?xml version="1.0"?><rss version="2.0"><channel><title>All</title></channel></rss>`)
	f.hub.Publish(topicRSS, body, rssType)
	testkit.WaitFor(t, "both deliveries", func() bool { return len(signed.Posts()) == 1 && len(unsigned.Posts()) == 1 })

	got := signed.Posts()[0]
	if string(got.Body) != string(body) {
		t.Errorf("body = %q, want %q", got.Body, body)
	}
	if ct := got.Header.Get("Content-Type"); ct != rssType {
		t.Errorf("Content-Type = %q, want %q", ct, rssType)
	}
	links := strings.Join(got.Header.Values("Link"), ", ")
	for _, want := range []string{`<` + base + `/websub/hub>; rel="hub"`, `<` + topicRSS + `>; rel="self"`} {
		if !strings.Contains(links, want) {
			t.Errorf("Link headers %q lack %q", links, want)
		}
	}
	if sig, want := got.Header.Get("X-Hub-Signature"), hmacHex("a secret", body); sig != want {
		t.Errorf("X-Hub-Signature = %q, want %q", sig, want)
	}
	if sig := unsigned.Posts()[0].Header.Get("X-Hub-Signature"); sig != "" {
		t.Errorf("unsigned subscriber got X-Hub-Signature %q", sig)
	}
	if n := len(other.Posts()); n != 0 {
		t.Errorf("subscriber of another topic got %d deliveries", n)
	}
}

func TestHubRetriesFailedDelivery(t *testing.T) {
	f := newHub(t, nil, HubOptions{})
	run(t, f.hub.Run)
	cb := newCallback(t, echo, 500, 503, 204)
	f.subscribe(t, cb.URL+"/cb", topicRSS, "k")
	f.hub.Publish(topicRSS, []byte("v1"), rssType)
	testkit.WaitFor(t, "three attempts", func() bool { return len(cb.Posts()) == 3 })
	time.Sleep(50 * time.Millisecond) // room for a wrong fourth attempt
	posts := cb.Posts()
	if len(posts) != 3 {
		t.Fatalf("%d attempts, want 3 (two failures, then success)", len(posts))
	}
	for i, p := range posts {
		if string(p.Body) != "v1" || p.Header.Get("X-Hub-Signature") != hmacHex("k", []byte("v1")) {
			t.Errorf("attempt %d: body %q, signature %q", i+1, p.Body, p.Header.Get("X-Hub-Signature"))
		}
	}
	if !strings.Contains(f.logs.String(), "will retry") {
		t.Errorf("failures not logged:\n%s", f.logs)
	}
}

func TestHubGivesUpAfterRetries(t *testing.T) {
	f := newHub(t, nil, HubOptions{Retries: 2})
	run(t, f.hub.Run)
	cb := newCallback(t, echo, 500)
	f.subscribe(t, cb.URL+"/cb", topicRSS, "")
	f.hub.Publish(topicRSS, []byte("v1"), rssType)
	testkit.WaitFor(t, "the hub to give up", func() bool { return strings.Contains(f.logs.String(), "giving up") })
	time.Sleep(50 * time.Millisecond) // room for a wrong further attempt
	if n := len(cb.Posts()); n != 3 {
		t.Errorf("%d attempts, want 3 (the first and 2 retries)", n)
	}
	if n := len(f.subs(t, topicRSS)); n != 1 {
		t.Errorf("%d subscriptions left, want the subscription kept", n)
	}
	// The next content is tried again.
	f.hub.Publish(topicRSS, []byte("v2"), rssType)
	testkit.WaitFor(t, "the next content", func() bool { return len(cb.Posts()) == 4 })
}

func TestHubBackoff(t *testing.T) {
	h := NewHub(HubOptions{BaseURL: base}, nil)
	want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute}
	for i, w := range want {
		if got := h.backoff(i + 1); got != w {
			t.Errorf("backoff(%d) = %s, want %s", i+1, got, w)
		}
	}
	if got := h.backoff(1000); got != maxRetryDelay {
		t.Errorf("backoff(1000) = %s, want the cap %s", got, maxRetryDelay)
	}
}

func TestHubNewContentSupersedesRetry(t *testing.T) {
	// The retry of v1 would wait an hour: v2 must go out at once instead,
	// and v1 never again.
	f := newHub(t, nil, HubOptions{RetryBase: time.Hour})
	run(t, f.hub.Run)
	cb := newCallback(t, echo, 500, 204)
	f.subscribe(t, cb.URL+"/cb", topicRSS, "")
	f.hub.Publish(topicRSS, []byte("v1"), rssType)
	testkit.WaitFor(t, "the failed attempt", func() bool { return strings.Contains(f.logs.String(), "will retry") })
	f.hub.Publish(topicRSS, []byte("v2"), rssType)
	testkit.WaitFor(t, "the new content", func() bool { return len(cb.Posts()) == 2 })
	if got := string(cb.Posts()[1].Body); got != "v2" {
		t.Errorf("second delivery = %q, want v2", got)
	}
	testkit.WaitFor(t, "no pending delivery", func() bool {
		f.hub.mu.Lock()
		defer f.hub.mu.Unlock()
		return len(f.hub.deliveries) == 0
	})
}

func TestHubDropsGoneSubscriber(t *testing.T) {
	f := newHub(t, nil, HubOptions{})
	run(t, f.hub.Run)
	cb := newCallback(t, echo, http.StatusGone)
	f.subscribe(t, cb.URL+"/cb", topicRSS, "")
	f.hub.Publish(topicRSS, []byte("v1"), rssType)
	testkit.WaitFor(t, "the subscription to be removed", func() bool { return len(f.subs(t, topicRSS)) == 0 })
	time.Sleep(30 * time.Millisecond)
	if n := len(cb.Posts()); n != 1 {
		t.Errorf("%d attempts, want 1: 410 is not retried", n)
	}
}

func TestHubSkipsExpiredSubscriptions(t *testing.T) {
	clk := testkit.NewClock(t0)
	f := newHub(t, nil, HubOptions{Now: clk.Now})
	expired := newCallback(t, echo)
	live := newCallback(t, echo)
	ctx := context.Background()
	for _, s := range []feed.HubSubscription{
		{Topic: topicRSS, Callback: expired.URL + "/cb", Lease: time.Hour, Expires: t0.Add(time.Hour), Created: t0},
		{Topic: topicRSS, Callback: live.URL + "/cb", Lease: 48 * time.Hour, Expires: t0.Add(48 * time.Hour), Created: t0},
	} {
		if err := f.st.PutHubSubscription(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	clk.Set(t0.Add(2 * time.Hour))
	run(t, f.hub.Run)
	f.hub.Publish(topicRSS, []byte("v1"), rssType)
	// Both deliveries come from one listing of the subscribers: once the
	// live one has its copy, the expired one would have had its own.
	testkit.WaitFor(t, "the live delivery", func() bool { return len(live.Posts()) == 1 })
	time.Sleep(30 * time.Millisecond)
	if n := len(expired.Posts()); n != 0 {
		t.Errorf("expired subscriber got %d deliveries", n)
	}
	// Run deletes expired subscriptions as it starts.
	testkit.WaitFor(t, "the expired row to be deleted", func() bool {
		all, err := f.st.HubSubscriptions(ctx, topicRSS, time.Time{})
		return err == nil && len(all) == 1 && all[0].Callback == live.URL+"/cb"
	})
}

func TestHubSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "feedmill.db")
	cb := newCallback(t, echo)
	{
		st := openStoreAt(t, path)
		f := newHub(t, st, HubOptions{})
		stop := run(t, f.hub.Run)
		f.subscribe(t, cb.URL+"/cb", topicAtom, "kept")
		stop()
	}
	st := openStoreAt(t, path)
	f := newHub(t, st, HubOptions{})
	run(t, f.hub.Run)
	f.hub.Publish(topicAtom, []byte("<feed/>"), "application/atom+xml")
	testkit.WaitFor(t, "the delivery after a restart", func() bool { return len(cb.Posts()) == 1 })
	if got := cb.Posts()[0]; got.Header.Get("X-Hub-Signature") != hmacHex("kept", []byte("<feed/>")) {
		t.Errorf("signature %q after restart", got.Header.Get("X-Hub-Signature"))
	}
}

func TestHubSendsCurrentContentToNewSubscriber(t *testing.T) {
	f := newHub(t, nil, HubOptions{Content: func(_ context.Context, topic string) ([]byte, string, bool) {
		if topic != topicRSS {
			return nil, "", false
		}
		return []byte("current"), rssType, true
	}})
	run(t, f.hub.Run)
	cb := newCallback(t, echo)
	f.subscribe(t, cb.URL+"/cb", topicRSS, "k")
	testkit.WaitFor(t, "the current content", func() bool { return len(cb.Posts()) == 1 })
	if got := cb.Posts()[0]; string(got.Body) != "current" || got.Header.Get("X-Hub-Signature") != hmacHex("k", []byte("current")) {
		t.Errorf("delivery = %q signed %q", got.Body, got.Header.Get("X-Hub-Signature"))
	}
	f.subscribe(t, cb.URL+"/other", topicAtom, "")
	time.Sleep(30 * time.Millisecond)
	if n := len(cb.Posts()); n != 1 {
		t.Errorf("%d deliveries, want none for a topic without content", n-1)
	}
}

func TestHubPublishBeforeRun(t *testing.T) {
	f := newHub(t, nil, HubOptions{})
	cb := newCallback(t, echo)
	ctx := context.Background()
	if err := f.st.PutHubSubscription(ctx, feed.HubSubscription{Topic: topicRSS, Callback: cb.URL, Lease: time.Hour, Expires: t0.Add(time.Hour), Created: t0}); err != nil {
		t.Fatal(err)
	}
	// Three publications before Run coalesce into the newest.
	for _, v := range []string{"v1", "v2", "v3"} {
		f.hub.Publish(topicRSS, []byte(v), rssType)
	}
	run(t, f.hub.Run)
	testkit.WaitFor(t, "the delivery", func() bool { return len(cb.Posts()) == 1 })
	time.Sleep(30 * time.Millisecond)
	if posts := cb.Posts(); len(posts) != 1 || string(posts[0].Body) != "v3" {
		t.Errorf("deliveries = %d, first %q; want only v3", len(posts), posts[0].Body)
	}
}

// TestHubSubscribedTopics: the hub lists each topic with a live
// subscription once; an unsubscribed topic leaves the list.
func TestHubSubscribedTopics(t *testing.T) {
	f := newHub(t, nil, HubOptions{})
	run(t, f.hub.Run)
	if topics, err := f.hub.SubscribedTopics(t.Context()); err != nil || len(topics) != 0 {
		t.Fatalf("no subscription: %q, %v", topics, err)
	}
	cb := newCallback(t, echo)
	f.subscribe(t, cb.URL+"/a", topicRSS, "")
	f.subscribe(t, cb.URL+"/b", topicRSS, "")
	f.subscribe(t, cb.URL+"/c", topicAtom, "")
	want := []string{topicAtom, topicRSS}
	slices.Sort(want)
	if topics, err := f.hub.SubscribedTopics(t.Context()); err != nil || !slices.Equal(topics, want) {
		t.Errorf("topics = %q, %v; want %q", topics, err, want)
	}
	f.mustAccept(t, subscribeForm("unsubscribe", cb.URL+"/c", topicAtom))
	f.settled(t)
	if topics, err := f.hub.SubscribedTopics(t.Context()); err != nil || !slices.Equal(topics, []string{topicRSS}) {
		t.Errorf("after unsubscribing: %q, %v", topics, err)
	}
}
