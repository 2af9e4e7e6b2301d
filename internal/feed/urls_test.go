package feed

import (
	"net/url"
	"testing"
)

func TestIsFrontPage(t *testing.T) {
	for raw, want := range map[string]bool{
		"https://s.example":         true,
		"https://s.example/":        true,
		"https://s.example/?p=1":    false,
		"https://s.example/a":       false,
		"https://s.example/#top":    true,
		"https://s.example/news/":   false,
		"https://s.example:8443/":   true,
		"https://s.example/?utm=1 ": false,
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := IsFrontPage(u); got != want {
			t.Errorf("IsFrontPage(%q) = %v, want %v", raw, got, want)
		}
	}
}
