package websub

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/hex"
	"hash"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/store"
	"github.com/feedmill/feedmill/internal/testkit"
)

const (
	callbackBase = "https://feedmill.example/websub/callback/"
	sourceTopic  = "https://blog.example/feed.xml"
)

// pushed is one document handed to the deliver function.
type pushed struct {
	source, body, contentType string
}

// sink records what a Subscriber delivers.
type sink struct {
	mu  sync.Mutex
	got []pushed
	err error
}

func (s *sink) deliver(_ context.Context, source string, body []byte, contentType string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, pushed{source, string(body), contentType})
	return s.err
}

func (s *sink) Got() []pushed {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]pushed(nil), s.got...)
}

type subFixture struct {
	sub  *Subscriber
	st   *store.SQLite
	clk  *testkit.Clock
	sink *sink
	logs *testkit.SyncBuffer
}

func newSub(t *testing.T, opts SubscriberOptions) subFixture {
	t.Helper()
	f := subFixture{st: openStore(t), clk: testkit.NewClock(t0), sink: &sink{}, logs: &testkit.SyncBuffer{}}
	if opts.CallbackBase == "" {
		opts.CallbackBase = callbackBase
	}
	opts.Now, opts.Logger = f.clk.Now, f.logs.Logger(slog.LevelDebug)
	f.sub = NewSubscriber(opts, f.st, f.sink.deliver)
	return f
}

func (f subFixture) get(t *testing.T, source string) feed.SourceSubscription {
	t.Helper()
	sub, ok, err := f.st.SourceSubscription(context.Background(), source)
	if err != nil || !ok {
		t.Fatalf("SourceSubscription(%s) = %v, %v", source, ok, err)
	}
	return sub
}

func (f subFixture) put(t *testing.T, sub feed.SourceSubscription) {
	t.Helper()
	if err := f.st.PutSourceSubscription(context.Background(), sub); err != nil {
		t.Fatal(err)
	}
}

// token is the callback token of source's stored subscription, "" when
// it has none.
func (f subFixture) token(source string) string {
	sub, ok, err := f.st.SourceSubscription(context.Background(), source)
	if err != nil || !ok {
		return ""
	}
	return callbackToken(sub)
}

// verify sends the hub's verification GET for source to its callback, as
// the hub knows it (with the token).
func (f subFixture) verify(source string, q url.Values) *httptest.ResponseRecorder {
	return f.verifyWith(source, f.token(source), q)
}

// verifyWith sends a verification GET for source with token.
func (f subFixture) verifyWith(source, token string, q url.Values) *httptest.ResponseRecorder {
	q = maps.Clone(q)
	if q == nil {
		q = url.Values{}
	}
	q.Set("token", token)
	r := httptest.NewRequest(http.MethodGet, callbackBase+url.PathEscape(source)+"?"+q.Encode(), nil)
	w := httptest.NewRecorder()
	f.sub.ServeHTTP(w, r)
	return w
}

// push sends content for source to its callback, with the token.
func (f subFixture) push(source, body, signature string) *httptest.ResponseRecorder {
	return f.pushWith(source, f.token(source), body, signature)
}

// pushWith sends content for source to the callback with token.
func (f subFixture) pushWith(source, token, body, signature string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, callbackBase+url.PathEscape(source)+"?token="+url.QueryEscape(token), strings.NewReader(body))
	r.Header.Set("Content-Type", "application/atom+xml")
	if signature != "" {
		r.Header.Set("X-Hub-Signature", signature)
	}
	w := httptest.NewRecorder()
	f.sub.ServeHTTP(w, r)
	return w
}

// active returns an active subscription of source as a hub verified it at
// verified for lease.
func active(source, hub, secret string, verified time.Time, lease time.Duration) feed.SourceSubscription {
	return feed.SourceSubscription{
		Source: source, Hub: hub, Topic: sourceTopic, Secret: secret, State: feed.SubscriptionActive,
		Lease: lease, Expires: verified.Add(lease), Updated: verified,
	}
}

var hexSecret = regexp.MustCompile(`^[0-9a-f]{64}$`)

func TestSubscribeSendsTheForm(t *testing.T) {
	hub := newHubServer(t, http.StatusAccepted)
	f := newSub(t, SubscriberOptions{Lease: 48 * time.Hour})
	ctx := context.Background()
	if err := f.sub.Subscribe(ctx, "my blog/1", hub.URL+"/hub", sourceTopic); err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	forms := hub.Forms()
	if len(forms) != 1 {
		t.Fatalf("hub got %d requests, want 1", len(forms))
	}
	form := forms[0]
	want := map[string]string{
		"hub.mode":          "subscribe",
		"hub.topic":         sourceTopic,
		"hub.lease_seconds": "172800",
	}
	for k, v := range want {
		if got := form.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	secret := form.Get("hub.secret")
	if !hexSecret.MatchString(secret) {
		t.Errorf("hub.secret = %q, want 32 random bytes in hex", secret)
	}
	token := callbackToken(feed.SourceSubscription{Source: "my blog/1", Secret: secret})
	if cb := form.Get("hub.callback"); cb != callbackBase+"my%20blog%2F1?token="+token || len(token) != 32 {
		t.Errorf("hub.callback = %q, want the source's callback with its token", cb)
	}
	got := f.get(t, "my blog/1")
	wantSub := feed.SourceSubscription{
		Source: "my blog/1", Hub: hub.URL + "/hub", Topic: sourceTopic, Secret: secret,
		State: feed.SubscriptionRequested, Lease: 48 * time.Hour, Updated: t0,
	}
	if got != wantSub {
		t.Errorf("stored %+v\nwant %+v", got, wantSub)
	}

	// Another source gets another secret.
	if err := f.sub.Subscribe(ctx, "other", hub.URL+"/hub", sourceTopic); err != nil {
		t.Fatal(err)
	}
	if s2 := hub.Forms()[1].Get("hub.secret"); s2 == secret || !hexSecret.MatchString(s2) {
		t.Errorf("second secret %q (first %q)", s2, secret)
	}
}

func TestSubscribeErrors(t *testing.T) {
	hub := newHubServer(t, http.StatusInternalServerError)
	f := newSub(t, SubscriberOptions{})
	ctx := context.Background()
	err := f.sub.Subscribe(ctx, "blog", hub.URL+"/hub", sourceTopic)
	if err == nil || !strings.Contains(err.Error(), hub.URL+"/hub") || !strings.Contains(err.Error(), "500") {
		t.Fatalf("Subscribe error = %v, want one naming the hub and the status", err)
	}
	if got := f.get(t, "blog"); got.State != feed.SubscriptionRequested || !strings.Contains(got.Reason, "500") {
		t.Errorf("stored %+v, want requested with the failure as reason", got)
	}

	for _, tc := range []struct{ name, source, hub, topic, want string }{
		{"no source", "", hub.URL, sourceTopic, "empty source name"},
		{"relative hub", "blog", "/hub", sourceTopic, "hub"},
		{"ftp topic", "blog", hub.URL, "ftp://blog.example/feed", "topic"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := f.sub.Subscribe(ctx, tc.source, tc.hub, tc.topic); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want one with %q", err, tc.want)
			}
		})
	}
	if n := len(hub.Forms()); n != 1 {
		t.Errorf("hub got %d requests, want only the first", n)
	}
}

func TestSubscribeWhenDue(t *testing.T) {
	const hubPath = "/hub"
	tests := []struct {
		name     string
		stored   func(hub string) feed.SourceSubscription
		now      time.Time
		requests int
		state    string
		sameKey  bool // the stored secret is kept
	}{
		{"active, lease far from its end", func(hub string) feed.SourceSubscription {
			return active("blog", hub, "old", t0, 10*24*time.Hour)
		}, t0.Add(24 * time.Hour), 0, feed.SubscriptionActive, true},
		{"active, inside the renewal margin", func(hub string) feed.SourceSubscription {
			return active("blog", hub, "old", t0, 10*24*time.Hour)
		}, t0.Add(9*24*time.Hour + time.Minute), 1, feed.SubscriptionActive, true},
		{"active, expired", func(hub string) feed.SourceSubscription {
			return active("blog", hub, "old", t0, 10*24*time.Hour)
		}, t0.Add(11 * 24 * time.Hour), 1, feed.SubscriptionRequested, false},
		{"requested recently", func(hub string) feed.SourceSubscription {
			s := active("blog", hub, "old", t0, 10*24*time.Hour)
			s.State, s.Expires = feed.SubscriptionRequested, time.Time{}
			return s
		}, t0.Add(30 * time.Minute), 0, feed.SubscriptionRequested, true},
		{"requested long ago, never verified", func(hub string) feed.SourceSubscription {
			s := active("blog", hub, "old", t0, 10*24*time.Hour)
			s.State, s.Expires = feed.SubscriptionRequested, time.Time{}
			return s
		}, t0.Add(2 * time.Hour), 1, feed.SubscriptionRequested, false},
		{"denied today", func(hub string) feed.SourceSubscription {
			s := active("blog", hub, "old", t0, 10*24*time.Hour)
			s.State, s.Reason = feed.SubscriptionDenied, "no"
			return s
		}, t0.Add(time.Hour), 0, feed.SubscriptionDenied, true},
		{"denied yesterday", func(hub string) feed.SourceSubscription {
			s := active("blog", hub, "old", t0, 10*24*time.Hour)
			s.State, s.Reason = feed.SubscriptionDenied, "no"
			return s
		}, t0.Add(25 * time.Hour), 1, feed.SubscriptionRequested, false},
		{"unsubscribed", func(hub string) feed.SourceSubscription {
			s := active("blog", hub, "old", t0, 10*24*time.Hour)
			s.State = feed.SubscriptionUnsubscribed
			return s
		}, t0.Add(time.Minute), 1, feed.SubscriptionRequested, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			hub := newHubServer(t, http.StatusAccepted)
			f := newSub(t, SubscriberOptions{})
			f.put(t, tc.stored(hub.URL+hubPath))
			f.clk.Set(tc.now)
			if err := f.sub.Subscribe(context.Background(), "blog", hub.URL+hubPath, sourceTopic); err != nil {
				t.Fatalf("Subscribe: %v", err)
			}
			forms := hub.Forms()
			if len(forms) != tc.requests {
				t.Fatalf("hub got %d requests, want %d", len(forms), tc.requests)
			}
			got := f.get(t, "blog")
			if got.State != tc.state || (got.Secret == "old") != tc.sameKey {
				t.Errorf("stored state %q secret %q; want %q, secret kept = %v", got.State, got.Secret, tc.state, tc.sameKey)
			}
			if len(forms) == 1 && forms[0].Get("hub.secret") != got.Secret {
				t.Errorf("sent secret %q, stored %q", forms[0].Get("hub.secret"), got.Secret)
			}
		})
	}
}

func TestSubscribeElsewhereGivesUpTheOldSubscription(t *testing.T) {
	oldHub := newHubServer(t, http.StatusAccepted)
	newHub := newHubServer(t, http.StatusAccepted)
	f := newSub(t, SubscriberOptions{})
	f.put(t, active("blog", oldHub.URL, "old", t0, 10*24*time.Hour))
	if err := f.sub.Subscribe(context.Background(), "blog", newHub.URL, "https://blog.example/new.xml"); err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	if forms := oldHub.Forms(); len(forms) != 1 || forms[0].Get("hub.mode") != "unsubscribe" || forms[0].Get("hub.topic") != sourceTopic {
		t.Errorf("old hub got %v, want one unsubscribe of the old topic", forms)
	}
	if forms := newHub.Forms(); len(forms) != 1 || forms[0].Get("hub.mode") != "subscribe" {
		t.Errorf("new hub got %v, want one subscribe", forms)
	}
	if cb := oldHub.Forms()[0].Get("hub.callback"); !strings.HasSuffix(cb, "?token="+callbackToken(active("blog", "", "old", t0, 0))) {
		t.Errorf("the old hub was asked to unsubscribe %q, not its callback", cb)
	}
	// The old hub verifying the unsubscription, at its callback, is
	// confirmed, once; at the new callback it is not.
	oldToken := callbackToken(active("blog", "", "old", t0, 0))
	unsub := url.Values{"hub.mode": {"unsubscribe"}, "hub.topic": {sourceTopic}, "hub.challenge": {"c1"}}
	if w := f.verify("blog", unsub); w.Code != 404 {
		t.Errorf("unsubscribe verification with the new token = %d %q, want 404", w.Code, w.Body.String())
	}
	if w := f.verifyWith("blog", oldToken, unsub); w.Code != 200 || w.Body.String() != "c1" {
		t.Errorf("unsubscribe verification of the old topic = %d %q", w.Code, w.Body.String())
	}
	if w := f.verifyWith("blog", oldToken, unsub); w.Code != 404 {
		t.Errorf("second unsubscribe verification of the old topic = %d, want 404", w.Code)
	}
	// Its pushes are refused: 410 tells it to drop the subscription.
	if w := f.pushWith("blog", oldToken, "x", hmacHex("old", []byte("x"))); w.Code != http.StatusGone {
		t.Errorf("push of the old hub = %d, want 410", w.Code)
	}
}

func TestSubscriberVerification(t *testing.T) {
	const hubURL = "https://hub.example/"
	requested := feed.SourceSubscription{
		Source: "blog", Hub: hubURL, Topic: sourceTopic, Secret: "k",
		State: feed.SubscriptionRequested, Lease: DefaultLease, Updated: t0,
	}
	q := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	tests := []struct {
		name   string
		stored *feed.SourceSubscription
		source string
		query  url.Values
		status int
		body   string
		want   feed.SourceSubscription // the stored subscription after
	}{
		{"subscribe confirmed", &requested, "blog",
			q("hub.mode", "subscribe", "hub.topic", sourceTopic, "hub.challenge", "ch4llenge", "hub.lease_seconds", "3600"),
			200, "ch4llenge", func() feed.SourceSubscription {
				s := requested
				s.State, s.Lease, s.Expires, s.Updated = feed.SubscriptionActive, time.Hour, t0.Add(time.Hour+time.Minute), t0.Add(time.Minute)
				return s
			}()},
		{"subscribe without a lease: the one asked", &requested, "blog",
			q("hub.mode", "subscribe", "hub.topic", sourceTopic, "hub.challenge", "c"),
			200, "c", func() feed.SourceSubscription {
				s := requested
				s.State, s.Expires, s.Updated = feed.SubscriptionActive, t0.Add(DefaultLease+time.Minute), t0.Add(time.Minute)
				return s
			}()},
		{"subscribe to another topic", &requested, "blog",
			q("hub.mode", "subscribe", "hub.topic", "https://blog.example/other", "hub.challenge", "c"),
			404, "", requested},
		{"subscribe of an unknown source", &requested, "nobody",
			q("hub.mode", "subscribe", "hub.topic", sourceTopic, "hub.challenge", "c"),
			404, "", requested},
		{"subscribe of an unsubscribed source", func() *feed.SourceSubscription {
			s := requested
			s.State = feed.SubscriptionUnsubscribed
			return &s
		}(), "blog",
			q("hub.mode", "subscribe", "hub.topic", sourceTopic, "hub.challenge", "c"),
			404, "", func() feed.SourceSubscription { s := requested; s.State = feed.SubscriptionUnsubscribed; return s }()},
		{"no challenge", &requested, "blog",
			q("hub.mode", "subscribe", "hub.topic", sourceTopic),
			400, "", requested},
		{"unknown mode", &requested, "blog",
			q("hub.mode", "publish", "hub.topic", sourceTopic, "hub.challenge", "c"),
			400, "", requested},
		{"unsubscribe of a wanted subscription", &requested, "blog",
			q("hub.mode", "unsubscribe", "hub.topic", sourceTopic, "hub.challenge", "c"),
			404, "", requested},
		{"unsubscribe we asked for", func() *feed.SourceSubscription {
			s := requested
			s.State = feed.SubscriptionUnsubscribed
			return &s
		}(), "blog",
			q("hub.mode", "unsubscribe", "hub.topic", sourceTopic, "hub.challenge", "bye"),
			200, "bye", func() feed.SourceSubscription { s := requested; s.State = feed.SubscriptionUnsubscribed; return s }()},
		{"denial", &requested, "blog",
			q("hub.mode", "denied", "hub.topic", sourceTopic, "hub.reason", "not a topic of ours"),
			200, "", func() feed.SourceSubscription {
				s := requested
				s.State, s.Reason, s.Updated = feed.SubscriptionDenied, "not a topic of ours", t0.Add(time.Minute)
				return s
			}()},
		{"denial of another topic", &requested, "blog",
			q("hub.mode", "denied", "hub.topic", "https://blog.example/other"),
			404, "", requested},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newSub(t, SubscriberOptions{})
			f.put(t, *tc.stored)
			f.clk.Set(t0.Add(time.Minute))
			w := f.verify(tc.source, tc.query)
			if w.Code != tc.status {
				t.Errorf("status = %d, want %d (%q)", w.Code, tc.status, w.Body.String())
			}
			if tc.status == 200 && w.Body.String() != tc.body {
				t.Errorf("body = %q, want %q", w.Body.String(), tc.body)
			}
			if got := f.get(t, "blog"); got != tc.want {
				t.Errorf("stored\n %+v\nwant\n %+v", got, tc.want)
			}
		})
	}
}

func signWith(newHash func() hash.Hash, name, secret, body string) string {
	m := hmac.New(newHash, []byte(secret))
	m.Write([]byte(body))
	return name + "=" + hex.EncodeToString(m.Sum(nil))
}

func TestSubscriberContent(t *testing.T) {
	const body = `<feed xmlns="http://www.w3.org/2005/Atom"><title>Blog</title></feed>`
	tests := []struct {
		name      string
		state     string
		source    string
		signature string
		status    int
		delivered bool
	}{
		{"sha256 signature", feed.SubscriptionActive, "blog", hmacHex("k", []byte(body)), 202, true},
		{"sha1 signature", feed.SubscriptionActive, "blog", signWith(sha1.New, "sha1", "k", body), 202, true},
		{"sha384 signature", feed.SubscriptionActive, "blog", signWith(sha512.New384, "sha384", "k", body), 202, true},
		{"sha512 signature, upper-case method", feed.SubscriptionActive, "blog", signWith(sha512.New, "SHA512", "k", body), 202, true},
		{"while waiting for verification", feed.SubscriptionRequested, "blog", hmacHex("k", []byte(body)), 202, true},
		{"wrong secret", feed.SubscriptionActive, "blog", hmacHex("other", []byte(body)), 202, false},
		{"signature of another body", feed.SubscriptionActive, "blog", hmacHex("k", []byte("other")), 202, false},
		{"no signature", feed.SubscriptionActive, "blog", "", 202, false},
		{"unknown method", feed.SubscriptionActive, "blog", signWith(sha512.New, "md5", "k", body), 202, false},
		{"not hex", feed.SubscriptionActive, "blog", "sha256=zz", 202, false},
		{"no method", feed.SubscriptionActive, "blog", "abcdef", 202, false},
		{"unknown source", feed.SubscriptionActive, "nobody", hmacHex("k", []byte(body)), 410, false},
		{"unsubscribed source", feed.SubscriptionUnsubscribed, "blog", hmacHex("k", []byte(body)), 410, false},
		{"denied source", feed.SubscriptionDenied, "blog", hmacHex("k", []byte(body)), 410, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newSub(t, SubscriberOptions{})
			s := active("blog", "https://hub.example/", "k", t0, DefaultLease)
			s.State = tc.state
			f.put(t, s)
			run(t, f.sub.Run)
			w := f.push(tc.source, body, tc.signature)
			if w.Code != tc.status {
				t.Errorf("status = %d, want %d", w.Code, tc.status)
			}
			if tc.delivered {
				testkit.WaitFor(t, "the delivery", func() bool { return len(f.sink.Got()) == 1 })
				want := pushed{"blog", body, "application/atom+xml"}
				if got := f.sink.Got()[0]; got != want {
					t.Errorf("delivered %+v, want %+v", got, want)
				}
				return
			}
			time.Sleep(20 * time.Millisecond)
			if got := f.sink.Got(); len(got) != 0 {
				t.Errorf("delivered %d documents, want none", len(got))
			}
			if tc.status == 202 && !strings.Contains(f.logs.String(), "push ignored") {
				t.Errorf("ignored push not logged:\n%s", f.logs)
			}
		})
	}
}

func TestSubscriberContentTooLarge(t *testing.T) {
	f := newSub(t, SubscriberOptions{MaxContent: 10})
	f.put(t, active("blog", "https://hub.example/", "k", t0, DefaultLease))
	body := strings.Repeat("x", 11)
	if w := f.push("blog", body, hmacHex("k", []byte(body))); w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("status = %d, want 413", w.Code)
	}
}

func TestSubscriberIngestsNewestPush(t *testing.T) {
	// Pushes arriving before Run, or while a push of the same source is
	// being ingested, are coalesced into the newest.
	f := newSub(t, SubscriberOptions{})
	f.put(t, active("blog", "https://hub.example/", "k", t0, DefaultLease))
	for _, b := range []string{"v1", "v2", "v3"} {
		if w := f.push("blog", b, hmacHex("k", []byte(b))); w.Code != 202 {
			t.Fatalf("push %s: %d", b, w.Code)
		}
	}
	run(t, f.sub.Run)
	testkit.WaitFor(t, "the delivery", func() bool { return len(f.sink.Got()) == 1 })
	time.Sleep(20 * time.Millisecond)
	if got := f.sink.Got(); len(got) != 1 || got[0].body != "v3" {
		t.Errorf("delivered %+v, want only v3", got)
	}
}

func TestSubscriberRenews(t *testing.T) {
	hub := newHubServer(t, http.StatusAccepted)
	f := newSub(t, SubscriberOptions{Lease: 10 * 24 * time.Hour})
	f.put(t, active("due", hub.URL, "kept", t0, 10*24*time.Hour))
	f.put(t, active("fresh", hub.URL, "k2", t0.Add(5*24*time.Hour), 10*24*time.Hour))
	// Nine and a half days on: "due" has less than a tenth of its lease
	// left, "fresh" has more than half.
	f.clk.Set(t0.Add(9*24*time.Hour + 12*time.Hour))
	run(t, f.sub.Run)
	testkit.WaitFor(t, "the renewal", func() bool { return len(hub.Forms()) == 1 })
	form := hub.Forms()[0]
	if form.Get("hub.mode") != "subscribe" || form.Get("hub.callback") != callbackBase+"due?token="+callbackToken(active("due", "", "kept", t0, 0)) ||
		form.Get("hub.secret") != "kept" || form.Get("hub.lease_seconds") != "864000" {
		t.Errorf("renewal form = %v", form)
	}
	testkit.WaitFor(t, "the renewal to be recorded", func() bool {
		return f.get(t, "due").Updated.Equal(t0.Add(9*24*time.Hour + 12*time.Hour))
	})
	if got := f.get(t, "due"); got.State != feed.SubscriptionActive || !got.Expires.Equal(t0.Add(10*24*time.Hour)) {
		t.Errorf("during renewal: %+v, want still active until the old lease ends", got)
	}

	// The hub verifies: the new lease counts from now.
	w := f.verify("due", url.Values{"hub.mode": {"subscribe"}, "hub.topic": {sourceTopic}, "hub.challenge": {"c"}, "hub.lease_seconds": {"864000"}})
	if w.Code != 200 {
		t.Fatalf("verification: %d", w.Code)
	}
	if got := f.get(t, "due"); !got.Expires.Equal(t0.Add(19*24*time.Hour + 12*time.Hour)) {
		t.Errorf("after verification: expires %s", got.Expires)
	}
	time.Sleep(20 * time.Millisecond)
	if n := len(hub.Forms()); n != 1 {
		t.Errorf("hub got %d requests, want the one renewal", n)
	}
}

func TestRenewAt(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		name string
		sub  feed.SourceSubscription
		want time.Time
	}{
		{"a tenth of a long lease", active("s", "h", "k", t0, 10*day), t0.Add(9 * day)},
		{"at least an hour", active("s", "h", "k", t0, 5*time.Hour), t0.Add(4 * time.Hour)},
		{"at most half a short lease", active("s", "h", "k", t0, 30*time.Minute), t0.Add(15 * time.Minute)},
		{"after a renewal request: an hour later", func() feed.SourceSubscription {
			s := active("s", "h", "k", t0, 10*day)
			s.Updated = t0.Add(9*day + time.Minute)
			return s
		}(), t0.Add(9*day + time.Hour + time.Minute)},
		{"after a renewal request of a short lease: a quarter of the margin", func() feed.SourceSubscription {
			s := active("s", "h", "k", t0, 4*time.Hour)
			s.Updated = t0.Add(3 * time.Hour)
			return s
		}(), t0.Add(3*time.Hour + 15*time.Minute)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := renewAt(tc.sub); !got.Equal(tc.want) {
				t.Errorf("renewAt = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestUnsubscribe(t *testing.T) {
	hub := newHubServer(t, http.StatusAccepted)
	f := newSub(t, SubscriberOptions{})
	ctx := context.Background()
	if err := f.sub.Unsubscribe(ctx, "none"); err != nil {
		t.Errorf("Unsubscribe of a source without a subscription: %v", err)
	}
	f.put(t, active("blog", hub.URL, "k", t0, DefaultLease))
	if err := f.sub.Unsubscribe(ctx, "blog"); err != nil {
		t.Fatalf("Unsubscribe: %v", err)
	}
	forms := hub.Forms()
	if len(forms) != 1 || forms[0].Get("hub.mode") != "unsubscribe" || forms[0].Get("hub.topic") != sourceTopic ||
		forms[0].Get("hub.callback") != callbackBase+"blog?token="+callbackToken(active("blog", "", "k", t0, 0)) || forms[0].Has("hub.secret") {
		t.Errorf("hub got %v", forms)
	}
	if got := f.get(t, "blog"); got.State != feed.SubscriptionUnsubscribed {
		t.Errorf("state %q, want unsubscribed", got.State)
	}
	if err := f.sub.Unsubscribe(ctx, "blog"); err != nil || len(hub.Forms()) != 1 {
		t.Errorf("second Unsubscribe: %v, %d requests; want nothing sent", err, len(hub.Forms()))
	}
}
