package store

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
)

// websubStore is the WebSub persistence every store driver implements, on
// top of the rest of the conformance behaviour.
type websubStore interface {
	conformanceStore
	PutHubSubscription(ctx context.Context, sub feed.HubSubscription) error
	DeleteHubSubscription(ctx context.Context, topic, callback string) error
	HubSubscriptions(ctx context.Context, topic string, now time.Time) ([]feed.HubSubscription, error)
	ExpireHubSubscriptions(ctx context.Context, now time.Time) (int, error)
	CountHubSubscriptions(ctx context.Context, now time.Time) (int, error)
	HubTopics(ctx context.Context, now time.Time) ([]string, error)
	HubSubscriptionCounts(ctx context.Context, client, host string, now time.Time) (feed.HubCounts, error)
	PutSourceSubscription(ctx context.Context, sub feed.SourceSubscription) error
	SourceSubscription(ctx context.Context, source string) (feed.SourceSubscription, bool, error)
	SourceSubscriptions(ctx context.Context) ([]feed.SourceSubscription, error)
}

// websubOpener opens a handle on one database; calling it again opens
// another handle on the same database.
type websubOpener func(ctx context.Context) (websubStore, error)

func sqliteWebSubOpener(t *testing.T) websubOpener {
	path := filepath.Join(t.TempDir(), "feedmill.db")
	return func(ctx context.Context) (websubStore, error) { return OpenSQLite(ctx, path, nil) }
}

func TestSQLiteWebSubConformance(t *testing.T) { testWebSubConformance(t, sqliteWebSubOpener) }

// testWebSubConformance runs the WebSub behaviour every driver shares.
func testWebSubConformance(t *testing.T, fresh func(t *testing.T) websubOpener) {
	suite := []struct {
		name string
		run  func(t *testing.T, open websubOpener)
	}{
		{"hub subscriptions round-trip", testHubSubscriptions},
		{"hub subscriptions upsert", testHubSubscriptionUpsert},
		{"hub subscriptions expire", testHubSubscriptionExpiry},
		{"hub subscriptions: bad input", testHubSubscriptionBadInput},
		{"hub subscriptions counted by client and host", testHubSubscriptionCounts},
		{"source subscriptions round-trip", testSourceSubscriptions},
		{"source subscriptions: bad input", testSourceSubscriptionBadInput},
		{"websub: cancelled context", testWebSubCancelled},
	}
	for _, tc := range suite {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, fresh(t))
		})
	}
}

func mustOpenWebSub(t *testing.T, open websubOpener) websubStore {
	t.Helper()
	s, err := open(context.Background())
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return s
}

const (
	topicRSS  = "https://feeds.example/feeds/news.rss"
	topicAtom = "https://feeds.example/feeds/news.atom"
)

func hubSub(topic, callback string, expires time.Time) feed.HubSubscription {
	return feed.HubSubscription{
		Topic:    topic,
		Callback: callback,
		Secret:   "s3cret-" + callback,
		Lease:    10 * 24 * time.Hour,
		Expires:  expires,
		Created:  at(0),
	}
}

func mustPutHub(t *testing.T, s websubStore, subs ...feed.HubSubscription) {
	t.Helper()
	for _, sub := range subs {
		if err := s.PutHubSubscription(context.Background(), sub); err != nil {
			t.Fatalf("PutHubSubscription(%s, %s): %v", sub.Topic, sub.Callback, err)
		}
	}
}

func mustHubSubs(t *testing.T, s websubStore, topic string, now time.Time) []feed.HubSubscription {
	t.Helper()
	subs, err := s.HubSubscriptions(context.Background(), topic, now)
	if err != nil {
		t.Fatalf("HubSubscriptions(%s): %v", topic, err)
	}
	return subs
}

func callbacks(subs []feed.HubSubscription) []string {
	var out []string
	for _, s := range subs {
		out = append(out, s.Callback)
	}
	return out
}

func testHubSubscriptions(t *testing.T, open websubOpener) {
	s := mustOpenWebSub(t, open)
	zone := time.FixedZone("UTC-5", -5*3600)
	full := feed.HubSubscription{
		Topic:    topicRSS,
		Callback: "https://reader.example/push?id=1&x=%2F",
		Secret:   "0123456789abcdef",
		Lease:    36*time.Hour + 1500*time.Millisecond, // kept in whole seconds
		Expires:  time.Date(2024, 5, 3, 7, 0, 0, 123456789, zone),
		Created:  at(-2),
	}
	mustPutHub(t, s,
		full,
		hubSub(topicRSS, "https://a.example/cb", at(48)),
		hubSub(topicAtom, "https://a.example/cb", at(48)),
	)

	got := mustHubSubs(t, s, topicRSS, at(0))
	want := []feed.HubSubscription{
		hubSub(topicRSS, "https://a.example/cb", at(48)),
		{
			Topic:    full.Topic,
			Callback: full.Callback,
			Secret:   full.Secret,
			Lease:    36*time.Hour + time.Second,
			Expires:  time.Date(2024, 5, 3, 12, 0, 0, 123456000, time.UTC),
			Created:  at(-2),
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("HubSubscriptions =\n %+v\nwant (by callback)\n %+v", got, want)
	}
	if got := callbacks(mustHubSubs(t, s, topicAtom, at(0))); !reflect.DeepEqual(got, []string{"https://a.example/cb"}) {
		t.Errorf("other topic: callbacks = %q", got)
	}
	if got := mustHubSubs(t, s, "https://feeds.example/feeds/none.rss", at(0)); len(got) != 0 {
		t.Errorf("unknown topic: %+v, want none", got)
	}

	// A second handle, as after a restart, sees the same.
	other := mustOpenWebSub(t, open)
	if got := mustHubSubs(t, other, topicRSS, at(0)); !reflect.DeepEqual(got, want) {
		t.Errorf("second handle: HubSubscriptions = %+v", got)
	}

	ctx := context.Background()
	if err := s.DeleteHubSubscription(ctx, topicRSS, "https://a.example/cb"); err != nil {
		t.Fatalf("DeleteHubSubscription: %v", err)
	}
	if err := s.DeleteHubSubscription(ctx, topicRSS, "https://never.example/cb"); err != nil {
		t.Errorf("DeleteHubSubscription of an unknown subscription: %v, want nil", err)
	}
	if got := callbacks(mustHubSubs(t, s, topicRSS, at(0))); !reflect.DeepEqual(got, []string{full.Callback}) {
		t.Errorf("after delete: callbacks = %q", got)
	}
	if got := callbacks(mustHubSubs(t, s, topicAtom, at(0))); len(got) != 1 {
		t.Errorf("delete touched another topic: callbacks = %q", got)
	}
}

func testHubSubscriptionUpsert(t *testing.T, open websubOpener) {
	s := mustOpenWebSub(t, open)
	first := hubSub(topicRSS, "https://a.example/cb", at(24))
	mustPutHub(t, s, first)
	renewed := first
	renewed.Secret = "new secret"
	renewed.Lease = time.Hour
	renewed.Expires = at(30)
	renewed.Created = at(20) // ignored: the subscription dates from its first put
	mustPutHub(t, s, renewed)

	got := mustHubSubs(t, s, topicRSS, at(0))
	want := renewed
	want.Created = first.Created
	if len(got) != 1 || got[0] != want {
		t.Errorf("after renewal: %+v, want [%+v]", got, want)
	}
}

func testHubSubscriptionCounts(t *testing.T, open websubOpener) {
	s := mustOpenWebSub(t, open)
	owned := func(topic, callback, client string, expires time.Time) feed.HubSubscription {
		sub := hubSub(topic, callback, expires)
		sub.Client = client
		return sub
	}
	mustPutHub(t, s,
		owned(topicRSS, "https://a.example/1", "192.0.2.1", at(5)),
		owned(topicAtom, "https://A.example:8443/2", "192.0.2.1", at(5)),
		owned(topicRSS, "https://b.example/1", "192.0.2.1", at(1)), // expires first
		owned(topicRSS, "https://a.example/3", "2001:db8::/64", at(5)),
		hubSub(topicAtom, "https://c.example/1", at(5)), // from before clients were recorded
	)
	if got := mustHubSubs(t, s, topicAtom, at(0)); len(got) != 2 || got[0].Client != "192.0.2.1" || got[1].Client != "" {
		t.Errorf("clients read back: %+v", got)
	}
	tests := []struct {
		name, client, host string
		now                time.Time
		want               feed.HubCounts
	}{
		{"client and host", "192.0.2.1", "a.example", at(0), feed.HubCounts{Total: 5, Client: 3, CallbackHost: 3}},
		{"after an expiry", "192.0.2.1", "b.example", at(1), feed.HubCounts{Total: 4, Client: 2, CallbackHost: 0}},
		{"an IPv6 network", "2001:db8::/64", "c.example", at(0), feed.HubCounts{Total: 5, Client: 1, CallbackHost: 1}},
		{"strangers", "198.51.100.7", "d.example", at(0), feed.HubCounts{Total: 5}},
		{"all expired", "192.0.2.1", "a.example", at(5), feed.HubCounts{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.HubSubscriptionCounts(context.Background(), tc.client, tc.host, tc.now)
			if err != nil || got != tc.want {
				t.Errorf("HubSubscriptionCounts = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
	// A renewal by another client moves the subscription to it.
	mustPutHub(t, s, owned(topicRSS, "https://a.example/1", "198.51.100.7", at(6)))
	if got, err := s.HubSubscriptionCounts(context.Background(), "198.51.100.7", "", at(0)); err != nil || got.Client != 1 {
		t.Errorf("after a renewal by another client: %+v, %v", got, err)
	}
}

func testHubSubscriptionExpiry(t *testing.T, open websubOpener) {
	s := mustOpenWebSub(t, open)
	mustPutHub(t, s,
		hubSub(topicRSS, "https://a.example/early", at(1)),
		hubSub(topicRSS, "https://b.example/exact", at(2)),
		hubSub(topicRSS, "https://c.example/late", at(3)),
		hubSub(topicAtom, "https://d.example/late", at(3)),
	)
	tests := []struct {
		name string
		now  time.Time
		want []string
	}{
		{"before all", at(0), []string{"https://a.example/early", "https://b.example/exact", "https://c.example/late"}},
		{"at an expiry instant it is over", at(2), []string{"https://c.example/late"}},
		{"after all", at(3), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := callbacks(mustHubSubs(t, s, topicRSS, tc.now)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("callbacks = %q, want %q", got, tc.want)
			}
		})
	}

	ctx := context.Background()
	// Counts cover every topic, and an expiry instant is already over.
	for _, tc := range []struct {
		now  time.Time
		want int
	}{{at(0), 4}, {at(1), 3}, {at(2), 2}, {at(3), 0}} {
		if n, err := s.CountHubSubscriptions(ctx, tc.now); err != nil || n != tc.want {
			t.Errorf("CountHubSubscriptions(%v) = %d, %v; want %d", tc.now, n, err, tc.want)
		}
	}
	// Topics are listed once each, while one of their subscriptions lasts.
	for _, tc := range []struct {
		now  time.Time
		want []string
	}{{at(0), []string{topicAtom, topicRSS}}, {at(2), []string{topicAtom, topicRSS}}, {at(3), nil}} {
		want := slices.Clone(tc.want)
		slices.Sort(want)
		if got, err := s.HubTopics(ctx, tc.now); err != nil || !slices.Equal(got, want) {
			t.Errorf("HubTopics(%v) = %q, %v; want %q", tc.now, got, err, want)
		}
	}
	n, err := s.ExpireHubSubscriptions(ctx, at(2))
	if err != nil || n != 2 {
		t.Fatalf("ExpireHubSubscriptions(at 2) = %d, %v; want 2, nil", n, err)
	}
	// Expiry deleted the rows: asking with an earlier time finds only the
	// survivors.
	if got := callbacks(mustHubSubs(t, s, topicRSS, at(0))); !reflect.DeepEqual(got, []string{"https://c.example/late"}) {
		t.Errorf("after expiry: callbacks = %q", got)
	}
	if n, err := s.ExpireHubSubscriptions(ctx, at(2)); err != nil || n != 0 {
		t.Errorf("second ExpireHubSubscriptions = %d, %v; want 0, nil", n, err)
	}
	if got := callbacks(mustHubSubs(t, s, topicAtom, at(0))); len(got) != 1 {
		t.Errorf("other topic after expiry: %q", got)
	}
}

func testHubSubscriptionBadInput(t *testing.T, open websubOpener) {
	s := mustOpenWebSub(t, open)
	good := hubSub(topicRSS, "https://a.example/cb", at(24))
	tests := []struct {
		name   string
		modify func(*feed.HubSubscription)
		want   string
	}{
		{"empty topic", func(h *feed.HubSubscription) { h.Topic = " " }, "empty topic"},
		{"empty callback", func(h *feed.HubSubscription) { h.Callback = "" }, "empty callback"},
		{"no expiry", func(h *feed.HubSubscription) { h.Expires = time.Time{} }, "zero expiry"},
		{"no creation", func(h *feed.HubSubscription) { h.Created = time.Time{} }, "zero creation"},
		{"negative lease", func(h *feed.HubSubscription) { h.Lease = -time.Second }, "negative lease"},
		{"expiry out of range", func(h *feed.HubSubscription) { h.Expires = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, "expires: time"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sub := good
			tc.modify(&sub)
			err := s.PutHubSubscription(context.Background(), sub)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want one containing %q", err, tc.want)
			}
		})
	}
	if got := mustHubSubs(t, s, topicRSS, at(0)); len(got) != 0 {
		t.Errorf("bad input stored %+v", got)
	}
}

func sourceSub(source string) feed.SourceSubscription {
	return feed.SourceSubscription{
		Source:  source,
		Hub:     "https://hub.example/",
		Topic:   "https://blog.example/" + source + ".xml",
		Secret:  "secret of " + source,
		State:   feed.SubscriptionRequested,
		Lease:   10 * 24 * time.Hour,
		Updated: at(0),
	}
}

func testSourceSubscriptions(t *testing.T, open websubOpener) {
	s := mustOpenWebSub(t, open)
	ctx := context.Background()
	zone := time.FixedZone("UTC+9", 9*3600)

	if got, ok, err := s.SourceSubscription(ctx, "none"); ok || err != nil || got != (feed.SourceSubscription{}) {
		t.Errorf("SourceSubscription(none) = %+v, %v, %v; want zero, false, nil", got, ok, err)
	}
	if got, err := s.SourceSubscriptions(ctx); len(got) != 0 || err != nil {
		t.Errorf("SourceSubscriptions on an empty store = %+v, %v", got, err)
	}

	full := feed.SourceSubscription{
		Source:  "blog",
		Hub:     "https://hub.example/?x=1",
		Topic:   "https://blog.example/feed.xml",
		Secret:  "ab12",
		State:   feed.SubscriptionActive,
		Reason:  "",
		Lease:   5*24*time.Hour + 999*time.Millisecond,
		Expires: time.Date(2024, 5, 6, 21, 0, 0, 5000, zone),
		Updated: time.Date(2024, 5, 1, 21, 0, 0, 0, zone),
	}
	tests := []struct {
		name string
		put  []feed.SourceSubscription // put in order
		want feed.SourceSubscription
	}{
		{"every field", []feed.SourceSubscription{full}, feed.SourceSubscription{
			Source: "blog", Hub: full.Hub, Topic: full.Topic, Secret: "ab12", State: "active",
			Lease:   5 * 24 * time.Hour,
			Expires: time.Date(2024, 5, 6, 12, 0, 0, 5000, time.UTC),
			Updated: at(0),
		}},
		{"denied with a reason", []feed.SourceSubscription{func() feed.SourceSubscription {
			d := sourceSub("denied")
			d.State, d.Reason = feed.SubscriptionDenied, "topic not found"
			return d
		}()}, func() feed.SourceSubscription {
			d := sourceSub("denied")
			d.State, d.Reason = feed.SubscriptionDenied, "topic not found"
			return d
		}()},
		{"overwrite clears fields", []feed.SourceSubscription{full, {
			Source: "blog", Hub: "https://other-hub.example/", Topic: "https://blog.example/atom",
			State: feed.SubscriptionUnsubscribed, Updated: at(5),
		}}, feed.SourceSubscription{
			Source: "blog", Hub: "https://other-hub.example/", Topic: "https://blog.example/atom",
			State: feed.SubscriptionUnsubscribed, Updated: at(5),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for i, sub := range tc.put {
				if err := s.PutSourceSubscription(ctx, sub); err != nil {
					t.Fatalf("PutSourceSubscription %d: %v", i, err)
				}
			}
			got, ok, err := s.SourceSubscription(ctx, tc.want.Source)
			if !ok || err != nil {
				t.Fatalf("SourceSubscription = %v, %v; want found", ok, err)
			}
			if got != tc.want {
				t.Errorf("SourceSubscription =\n %+v\nwant\n %+v", got, tc.want)
			}
		})
	}

	mustPutSource(t, s, sourceSub("aardvark"))
	all, err := s.SourceSubscriptions(ctx)
	if err != nil {
		t.Fatalf("SourceSubscriptions: %v", err)
	}
	var names []string
	for _, sub := range all {
		names = append(names, sub.Source)
	}
	if want := []string{"aardvark", "blog", "denied"}; !reflect.DeepEqual(names, want) {
		t.Errorf("SourceSubscriptions sources = %q, want %q", names, want)
	}
	if all[0] != sourceSub("aardvark") {
		t.Errorf("listed %+v, want %+v", all[0], sourceSub("aardvark"))
	}
}

func mustPutSource(t *testing.T, s websubStore, sub feed.SourceSubscription) {
	t.Helper()
	if err := s.PutSourceSubscription(context.Background(), sub); err != nil {
		t.Fatalf("PutSourceSubscription(%s): %v", sub.Source, err)
	}
}

func testSourceSubscriptionBadInput(t *testing.T, open websubOpener) {
	s := mustOpenWebSub(t, open)
	tests := []struct {
		name   string
		modify func(*feed.SourceSubscription)
		want   string
	}{
		{"empty source", func(x *feed.SourceSubscription) { x.Source = "" }, "empty source name"},
		{"empty hub", func(x *feed.SourceSubscription) { x.Hub = "" }, `source "src": empty hub`},
		{"empty topic", func(x *feed.SourceSubscription) { x.Topic = "\t" }, "empty topic"},
		{"unknown state", func(x *feed.SourceSubscription) { x.State = "pending" }, `unknown state "pending"`},
		{"no state", func(x *feed.SourceSubscription) { x.State = "" }, `unknown state ""`},
		{"no update time", func(x *feed.SourceSubscription) { x.Updated = time.Time{} }, "zero update time"},
		{"negative lease", func(x *feed.SourceSubscription) { x.Lease = -time.Hour }, "negative lease"},
		{"expiry out of range", func(x *feed.SourceSubscription) {
			x.Expires = time.Date(0, 12, 31, 0, 0, 0, 0, time.UTC)
		}, "expires: time"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sub := sourceSub("src")
			tc.modify(&sub)
			err := s.PutSourceSubscription(context.Background(), sub)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want one containing %q", err, tc.want)
			}
		})
	}
	if got, err := s.SourceSubscriptions(context.Background()); len(got) != 0 || err != nil {
		t.Errorf("bad input stored %+v (%v)", got, err)
	}
}

func testWebSubCancelled(t *testing.T, open websubOpener) {
	s := mustOpenWebSub(t, open)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls := []struct {
		name string
		call func() error
	}{
		{"PutHubSubscription", func() error { return s.PutHubSubscription(ctx, hubSub(topicRSS, "https://a.example/", at(1))) }},
		{"DeleteHubSubscription", func() error { return s.DeleteHubSubscription(ctx, topicRSS, "https://a.example/") }},
		{"HubSubscriptions", func() error { _, err := s.HubSubscriptions(ctx, topicRSS, at(0)); return err }},
		{"ExpireHubSubscriptions", func() error { _, err := s.ExpireHubSubscriptions(ctx, at(0)); return err }},
		{"PutSourceSubscription", func() error { return s.PutSourceSubscription(ctx, sourceSub("src")) }},
		{"SourceSubscription", func() error { _, _, err := s.SourceSubscription(ctx, "src"); return err }},
		{"SourceSubscriptions", func() error { _, err := s.SourceSubscriptions(ctx); return err }},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			if err := c.call(); !errors.Is(err, context.Canceled) {
				t.Errorf("error = %v, want context.Canceled", err)
			}
		})
	}
	if got := mustHubSubs(t, s, topicRSS, at(0)); len(got) != 0 {
		t.Errorf("after cancelled calls: hub subscriptions %+v", got)
	}
	if _, ok, err := s.SourceSubscription(context.Background(), "src"); ok || err != nil {
		t.Errorf("after cancelled calls: source subscription found = %v, %v", ok, err)
	}
}
