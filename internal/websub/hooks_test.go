package websub

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/store"
	"github.com/feedmill/feedmill/internal/testkit"
)

// recorder collects what the hub's hooks are told.
type recorder struct {
	mu       sync.Mutex
	outcomes []string
	counts   []int
}

func (r *recorder) delivery(outcome string) {
	r.mu.Lock()
	r.outcomes = append(r.outcomes, outcome)
	r.mu.Unlock()
}

func (r *recorder) subscribers(n int) {
	r.mu.Lock()
	r.counts = append(r.counts, n)
	r.mu.Unlock()
}

func (r *recorder) Outcomes() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.outcomes...)
}

func (r *recorder) Counts() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int(nil), r.counts...)
}

// countingStore is the SQLite store, which counts subscriptions, made to
// fail counting when fail is set.
type countingStore struct {
	*store.SQLite
	fail bool
}

func (c countingStore) CountHubSubscriptions(ctx context.Context, now time.Time) (int, error) {
	if c.fail {
		return 0, errors.New("disk on fire")
	}
	return c.SQLite.CountHubSubscriptions(ctx, now)
}

// uncountedStore hides the SQLite store's CountHubSubscriptions: a store
// that cannot count.
type uncountedStore struct{ hubStore }

func TestHubOnDelivery(t *testing.T) {
	tests := []struct {
		name     string
		retries  int
		statuses []int
		want     []string
	}{
		{"delivered at once", 0, []int{204}, []string{DeliveryOK}},
		{"delivered after two failures", 0, []int{500, 503, 200}, []string{DeliveryRetry, DeliveryRetry, DeliveryOK}},
		{"retries used up", 2, []int{500}, []string{DeliveryRetry, DeliveryRetry, DeliveryFailed}},
		{"never retried", -1, []int{502}, []string{DeliveryFailed}},
		{"subscriber gone", 0, []int{http.StatusGone}, []string{DeliveryFailed}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			f := newHub(t, nil, HubOptions{Retries: tc.retries, OnDelivery: rec.delivery})
			run(t, f.hub.Run)
			cb := newCallback(t, echo, tc.statuses...)
			f.subscribe(t, cb.URL+"/cb", topicRSS, "")
			f.hub.Publish(topicRSS, []byte("v1"), rssType)
			testkit.WaitFor(t, "every attempt reported", func() bool { return len(rec.Outcomes()) >= len(tc.want) })
			time.Sleep(30 * time.Millisecond) // room for a wrong further report
			if got := rec.Outcomes(); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("outcomes = %q, want %q", got, tc.want)
			}
			if n := len(cb.Posts()); n != len(tc.want) {
				t.Errorf("%d attempts made, %d reported", n, len(tc.want))
			}
		})
	}
}

// newCountingHub is newHub on a store that can count subscriptions.
func newCountingHub(t *testing.T, cs countingStore, opts HubOptions) hubFixture {
	t.Helper()
	logs := &testkit.SyncBuffer{}
	opts.BaseURL, opts.Now, opts.RetryBase, opts.Logger = base, fixedNow(t0), 5*time.Millisecond, logs.Logger(slog.LevelDebug)
	return hubFixture{hub: NewHub(opts, cs), st: cs.SQLite, logs: logs}
}

func TestHubOnSubscribers(t *testing.T) {
	rec := &recorder{}
	cs := countingStore{SQLite: openStore(t)}
	ctx := context.Background()
	// One subscription is there before Run, one has expired already.
	for _, s := range []feed.HubSubscription{
		{Topic: topicAtom, Callback: "http://127.0.0.1:1/old", Lease: time.Hour, Expires: t0.Add(time.Hour), Created: t0},
		{Topic: topicAtom, Callback: "http://127.0.0.1:1/expired", Lease: time.Hour, Expires: t0, Created: t0.Add(-time.Hour)},
	} {
		if err := cs.PutHubSubscription(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	f := newCountingHub(t, cs, HubOptions{OnSubscribers: rec.subscribers})
	run(t, f.hub.Run)
	testkit.WaitFor(t, "the count at start", func() bool { return len(rec.Counts()) == 1 })

	a, b := newCallback(t, echo), newCallback(t, echo, http.StatusGone)
	f.subscribe(t, a.URL+"/cb", topicRSS, "")
	f.subscribe(t, b.URL+"/cb", topicRSS, "")
	// A renewal changes nothing: no call.
	f.subscribe(t, a.URL+"/cb", topicRSS, "new secret")
	f.mustAccept(t, subscribeForm("unsubscribe", a.URL+"/cb", topicRSS))
	f.settled(t)
	// b answers the delivery 410 Gone: the hub drops it.
	f.hub.Publish(topicRSS, []byte("v1"), rssType)
	want := []int{1, 2, 3, 2, 1}
	testkit.WaitFor(t, "every change reported", func() bool { return len(rec.Counts()) >= len(want) })
	time.Sleep(30 * time.Millisecond)
	if got := rec.Counts(); !reflect.DeepEqual(got, want) {
		t.Errorf("counts = %v, want %v", got, want)
	}
	if n, err := f.hub.Subscribers(ctx); n != 1 || err != nil {
		t.Errorf("Subscribers() = %d, %v; want 1, nil", n, err)
	}
}

func TestHubSubscribersWithoutCount(t *testing.T) {
	rec := &recorder{}
	st := openStore(t)
	logs := &testkit.SyncBuffer{}
	f := hubFixture{hub: NewHub(HubOptions{
		BaseURL: base, Now: fixedNow(t0), RetryBase: 5 * time.Millisecond, Logger: logs.Logger(slog.LevelDebug),
		OnSubscribers: rec.subscribers,
	}, uncountedStore{st}), st: st, logs: logs}
	if _, err := f.hub.Subscribers(context.Background()); !errors.Is(err, ErrNoCount) {
		t.Errorf("Subscribers() error = %v, want ErrNoCount", err)
	}
	run(t, f.hub.Run)
	cb := newCallback(t, echo)
	f.subscribe(t, cb.URL+"/cb", topicRSS, "")
	if got := rec.Counts(); len(got) != 0 {
		t.Errorf("OnSubscribers told %v by a store that cannot count", got)
	}
	if !strings.Contains(f.logs.String(), "cannot count subscriptions") {
		t.Errorf("the missing count is not logged:\n%s", f.logs)
	}
}

func TestHubCountFailure(t *testing.T) {
	rec := &recorder{}
	f := newCountingHub(t, countingStore{SQLite: openStore(t), fail: true}, HubOptions{OnSubscribers: rec.subscribers})
	if _, err := f.hub.Subscribers(context.Background()); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("Subscribers() error = %v, want the store's", err)
	}
	run(t, f.hub.Run)
	testkit.WaitFor(t, "the failure logged", func() bool { return strings.Contains(f.logs.String(), "count subscribers") })
	if got := rec.Counts(); len(got) != 0 {
		t.Errorf("OnSubscribers told %v after a failed count", got)
	}
}

func TestSubscriberActive(t *testing.T) {
	f := newSub(t, SubscriberOptions{})
	ctx := context.Background()
	for _, s := range []feed.SourceSubscription{
		{Source: "live", State: feed.SubscriptionActive, Lease: time.Hour, Expires: t0.Add(time.Hour)},
		{Source: "live2", State: feed.SubscriptionActive, Lease: time.Hour, Expires: t0.Add(time.Minute)},
		{Source: "lapsed", State: feed.SubscriptionActive, Lease: time.Hour, Expires: t0},
		{Source: "asked", State: feed.SubscriptionRequested, Lease: time.Hour},
		{Source: "refused", State: feed.SubscriptionDenied, Reason: "no"},
		{Source: "dropped", State: feed.SubscriptionUnsubscribed},
	} {
		s.Hub, s.Topic, s.Updated = "https://hub.example/", sourceTopic, t0
		if err := f.st.PutSourceSubscription(ctx, s); err != nil {
			t.Fatalf("put %s: %v", s.Source, err)
		}
	}
	if n, err := f.sub.Active(ctx); n != 2 || err != nil {
		t.Errorf("Active() = %d, %v; want 2 (live and live2), nil", n, err)
	}
	f.clk.Set(t0.Add(30 * time.Minute))
	if n, err := f.sub.Active(ctx); n != 1 || err != nil {
		t.Errorf("Active() 30 min later = %d, %v; want 1, nil", n, err)
	}
}
