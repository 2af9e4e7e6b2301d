package websub

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
)

// TestSubscriberRefusesUnaskedVerifications: a verification request we did
// not ask for, with the wrong token, topic or mode, is answered 404 and
// changes nothing.
func TestSubscriberRefusesUnaskedVerifications(t *testing.T) {
	requested := feed.SourceSubscription{
		Source: "blog", Hub: "https://hub.example/", Topic: sourceTopic, Secret: "k",
		State: feed.SubscriptionRequested, Lease: DefaultLease, Updated: t0,
	}
	with := func(state string) feed.SourceSubscription { s := requested; s.State = state; return s }
	good := callbackToken(requested)
	tests := []struct {
		name   string
		stored feed.SourceSubscription
		token  string
		query  url.Values
	}{
		{"subscribe without the token", requested, "",
			url.Values{"hub.mode": {"subscribe"}, "hub.topic": {sourceTopic}, "hub.challenge": {"c"}}},
		{"subscribe with another token", requested, callbackToken(with(feed.SubscriptionActive)) + "0",
			url.Values{"hub.mode": {"subscribe"}, "hub.topic": {sourceTopic}, "hub.challenge": {"c"}}},
		{"subscribe with another source's token", requested, callbackToken(feed.SourceSubscription{Source: "other", Secret: "k"}),
			url.Values{"hub.mode": {"subscribe"}, "hub.topic": {sourceTopic}, "hub.challenge": {"c"}}},
		{"denial without the token", requested, "",
			url.Values{"hub.mode": {"denied"}, "hub.topic": {sourceTopic}, "hub.reason": {"go away"}}},
		{"unsubscribe without the token", with(feed.SubscriptionUnsubscribed), "",
			url.Values{"hub.mode": {"unsubscribe"}, "hub.topic": {sourceTopic}, "hub.challenge": {"c"}}},
		{"unsubscribe of another topic", with(feed.SubscriptionUnsubscribed), good,
			url.Values{"hub.mode": {"unsubscribe"}, "hub.topic": {"https://blog.example/other"}, "hub.challenge": {"c"}}},
		{"unsubscribe of a denied subscription", with(feed.SubscriptionDenied), good,
			url.Values{"hub.mode": {"unsubscribe"}, "hub.topic": {sourceTopic}, "hub.challenge": {"c"}}},
		{"subscribe of an active subscription without a secret", func() feed.SourceSubscription {
			s := with(feed.SubscriptionActive)
			s.Secret, s.Expires = "", t0.Add(DefaultLease)
			return s
		}(), "", url.Values{"hub.mode": {"subscribe"}, "hub.topic": {sourceTopic}, "hub.challenge": {"c"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newSub(t, SubscriberOptions{})
			f.put(t, tc.stored)
			f.clk.Set(t0.Add(time.Minute))
			w := f.verifyWith("blog", tc.token, tc.query)
			if w.Code != http.StatusNotFound {
				t.Errorf("answer = %d %q, want 404", w.Code, w.Body.String())
			}
			if got := f.get(t, "blog"); got != tc.stored {
				t.Errorf("stored\n %+v\nwant it unchanged\n %+v", got, tc.stored)
			}
		})
	}
}

// TestSubscriberRefusesUnaskedPushes: content reaches a source only at its
// subscription's callback, signed with its secret.
func TestSubscriberRefusesUnaskedPushes(t *testing.T) {
	const body = `<feed xmlns="http://www.w3.org/2005/Atom"><title>Forged</title></feed>`
	keyed := active("blog", "https://hub.example/", "k", t0, DefaultLease)
	unkeyed := active("blog", "https://hub.example/", "", t0, DefaultLease) // stored by an older feedmill
	tests := []struct {
		name      string
		stored    feed.SourceSubscription
		token     string
		signature string
		status    int
	}{
		{"signed, without the token", keyed, "", hmacHex("k", []byte(body)), http.StatusGone},
		{"signed, with another token", keyed, callbackToken(active("blog", "", "k2", t0, 0)), hmacHex("k", []byte(body)), http.StatusGone},
		{"no secret, unsigned", unkeyed, "", "", http.StatusGone},
		{"the token, unsigned", keyed, callbackToken(keyed), "", http.StatusAccepted},
		{"the token, signed with another secret", keyed, callbackToken(keyed), hmacHex("k2", []byte(body)), http.StatusAccepted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newSub(t, SubscriberOptions{})
			f.put(t, tc.stored)
			stop := run(t, f.sub.Run)
			w := f.pushWith("blog", tc.token, body, tc.signature)
			if w.Code != tc.status {
				t.Errorf("answer = %d %q, want %d", w.Code, w.Body.String(), tc.status)
			}
			// Run ends after the ingestions it started; none of these
			// pushes may have reached it.
			stop()
			if got := f.sink.Got(); len(got) != 0 {
				t.Errorf("ingested %d documents, want none", len(got))
			}
		})
	}
}

// TestSubscribeGivesOldSubscriptionsASecret: an active subscription stored
// without a secret is renewed with one, and so with a callback token.
func TestSubscribeGivesOldSubscriptionsASecret(t *testing.T) {
	hub := newHubServer(t, http.StatusAccepted)
	f := newSub(t, SubscriberOptions{})
	old := active("blog", hub.URL, "", t0, 10*24*time.Hour)
	f.put(t, old)
	f.clk.Set(t0.Add(9*24*time.Hour + 12*time.Hour)) // due for renewal
	if err := f.sub.Subscribe(context.Background(), "blog", hub.URL, sourceTopic); err != nil {
		t.Fatal(err)
	}
	forms := hub.Forms()
	if len(forms) != 1 || !hexSecret.MatchString(forms[0].Get("hub.secret")) {
		t.Fatalf("hub got %v, want a subscription with a fresh secret", forms)
	}
	sub := f.get(t, "blog")
	if sub.Secret != forms[0].Get("hub.secret") || forms[0].Get("hub.callback") != callbackBase+"blog?token="+callbackToken(sub) {
		t.Errorf("stored %+v, hub got callback %q", sub, forms[0].Get("hub.callback"))
	}
}
