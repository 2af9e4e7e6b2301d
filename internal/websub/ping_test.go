package websub

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

func TestPing(t *testing.T) {
	hub := newHubServer(t, http.StatusNoContent)
	topics := []string{"https://feeds.example/feeds/all.rss", "https://feeds.example/feeds/all.atom"}
	if err := Ping(context.Background(), nil, hub.URL, topics...); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	forms := hub.Forms()
	if len(forms) != len(topics) {
		t.Fatalf("hub got %d requests, want one per topic", len(forms))
	}
	for i, f := range forms {
		if f.Get("hub.mode") != "publish" || f.Get("hub.url") != topics[i] || len(f["hub.url"]) != 1 {
			t.Errorf("request %d: form %v", i, f)
		}
	}
}

func TestPingErrors(t *testing.T) {
	hub := newHubServer(t, http.StatusTooManyRequests)
	topics := []string{"https://feeds.example/feeds/a.rss", "https://feeds.example/feeds/b.rss"}
	err := Ping(context.Background(), nil, hub.URL, topics...)
	if err == nil {
		t.Fatal("Ping succeeded against a failing hub")
	}
	for _, want := range append([]string{hub.URL, "429"}, topics...) {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if n := len(hub.Forms()); n != 2 {
		t.Errorf("hub got %d requests, want every topic tried", n)
	}

	if err := Ping(context.Background(), nil, "not a url", topics...); err == nil {
		t.Error("Ping to an invalid hub URL succeeded")
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	hub.SetStatus(http.StatusNoContent)
	before := len(hub.Forms())
	if err := Ping(ctx, nil, hub.URL, topics...); err == nil || len(hub.Forms()) != before {
		t.Errorf("Ping with an ended context = %v, %d requests sent", err, len(hub.Forms())-before)
	}
}
