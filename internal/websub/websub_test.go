package websub

import (
	"net/url"
	"testing"
)

func TestWithParams(t *testing.T) {
	params := url.Values{"hub.mode": {"subscribe"}, "hub.topic": {"https://f.example/a?b=c"}}
	const enc = "hub.mode=subscribe&hub.topic=https%3A%2F%2Ff.example%2Fa%3Fb%3Dc"
	tests := []struct{ name, in, want string }{
		{"no query", "https://r.example/cb", "https://r.example/cb?" + enc},
		{"own query kept as is", "https://r.example/cb?z=1&a=%2f", "https://r.example/cb?z=1&a=%2f&" + enc},
		{"empty query", "https://r.example/cb?", "https://r.example/cb?" + enc},
		{"fragment dropped", "https://r.example/cb?x=1#frag", "https://r.example/cb?x=1&" + enc},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := withParams(tc.in, params); got != tc.want {
				t.Errorf("withParams = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSignRoundTrip(t *testing.T) {
	body := []byte("<rss/>")
	if err := checkSignature("k", sign("k", body), body); err != nil {
		t.Errorf("own signature rejected: %v", err)
	}
	if sign("k", body) != hmacHex("k", body) {
		t.Errorf("sign = %q, want %q", sign("k", body), hmacHex("k", body))
	}
}

// FuzzCheckSignature: no header crashes the check, and only the right
// signature passes.
func FuzzCheckSignature(f *testing.F) {
	f.Add("k", "sha256=00", []byte("body"))
	f.Add("", "", []byte{})
	f.Add("secret", "sha1=zz", []byte("x"))
	f.Add("secret", "=", []byte("x"))
	f.Fuzz(func(t *testing.T, secret, header string, body []byte) {
		if err := checkSignature(secret, header, body); err == nil && header != sign(secret, body) {
			// Another valid method or hex case may pass; it must then
			// really be an HMAC of the body.
			if checkSignature(secret+"x", header, body) == nil {
				t.Errorf("header %q passes for two secrets", header)
			}
		}
		if err := checkSignature(secret, sign(secret, body), body); err != nil {
			t.Errorf("own signature rejected: %v", err)
		}
	})
}
