package websub

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/testkit"
)

// TestRoundTrip subscribes our Subscriber to our Hub, both served by one
// server as feedmill serves them, and publishes: the document arrives at
// the deliver function, signed and verified.
func TestRoundTrip(t *testing.T) {
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	hubLogs, subLogs := &testkit.SyncBuffer{}, &testkit.SyncBuffer{}
	hub := NewHub(HubOptions{BaseURL: srv.URL, Logger: hubLogs.Logger(slog.LevelDebug), RetryBase: 5 * time.Millisecond}, openStore(t))
	sink := &sink{}
	subStore := openStore(t)
	sub := NewSubscriber(SubscriberOptions{CallbackBase: srv.URL + "/websub/callback/", Logger: subLogs.Logger(slog.LevelDebug)}, subStore, sink.deliver)
	mux.Handle("POST /websub/hub", hub)
	mux.Handle("/websub/callback/{source}", sub)
	run(t, hub.Run)
	run(t, sub.Run)

	topic := srv.URL + "/feeds/all.atom"
	ctx := context.Background()
	if err := sub.Subscribe(ctx, "mill", srv.URL+"/websub/hub", topic); err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	// The subscriber confirms before the hub records the subscription:
	// a publication is for subscribers the hub knows.
	testkit.WaitFor(t, "the subscription to be verified", func() bool {
		s, ok, err := subStore.SourceSubscription(ctx, "mill")
		subs, herr := hub.st.HubSubscriptions(ctx, topic, time.Now())
		return err == nil && ok && s.State == feed.SubscriptionActive && herr == nil && len(subs) == 1
	})
	if s, _, _ := subStore.SourceSubscription(ctx, "mill"); s.Lease != DefaultLease {
		t.Errorf("granted lease %s, want %s", s.Lease, DefaultLease)
	}

	const doc = `<feed xmlns="http://www.w3.org/2005/Atom"><title>All</title></feed>`
	hub.Publish(topic, []byte(doc), "application/atom+xml")
	t.Cleanup(func() {
		if t.Failed() || testing.Verbose() {
			t.Logf("hub log:\n%s\nsubscriber log:\n%s", hubLogs, subLogs)
		}
	})
	testkit.WaitFor(t, "the delivery", func() bool { return len(sink.Got()) == 1 })
	if got, want := sink.Got()[0], (pushed{"mill", doc, "application/atom+xml"}); got != want {
		t.Errorf("delivered %+v, want %+v", got, want)
	}

	// Unsubscribing ends the deliveries.
	if err := sub.Unsubscribe(ctx, "mill"); err != nil {
		t.Fatalf("Unsubscribe: %v", err)
	}
	testkit.WaitFor(t, "the hub to drop the subscription", func() bool {
		subs, err := hub.st.HubSubscriptions(ctx, topic, time.Now())
		return err == nil && len(subs) == 0
	})
	hub.Publish(topic, []byte("<feed/>"), "application/atom+xml")
	time.Sleep(30 * time.Millisecond)
	if n := len(sink.Got()); n != 1 {
		t.Errorf("%d deliveries after unsubscribing, want none", n-1)
	}
}
