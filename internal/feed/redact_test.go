package feed

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"testing"
)

func TestRedactorURL(t *testing.T) {
	tests := []struct {
		name, in     string
		shown, pub   string
		extra        []string
		secretInside string // must be in neither output
	}{
		{name: "no secret", in: "https://example.org/feed.xml?page=2&sort=new#top",
			shown: "https://example.org/feed.xml?page=2&sort=new#top", pub: "https://example.org/feed.xml?page=2&sort=new#top"},
		{name: "kept byte for byte", in: "https://example.org/a%2Fb?q=a+b&x=%7E",
			shown: "https://example.org/a%2Fb?q=a+b&x=%7E", pub: "https://example.org/a%2Fb?q=a+b&x=%7E"},
		{name: "user and password", in: "http://user:s3cr3t@127.0.0.1:8080/feed",
			shown: "http://xxxxx@127.0.0.1:8080/feed", pub: "http://127.0.0.1:8080/feed", secretInside: "s3cr3t"},
		{name: "user alone is hidden too", in: "https://APIKEY123@api.example.org/feed",
			shown: "https://xxxxx@api.example.org/feed", pub: "https://api.example.org/feed", secretInside: "APIKEY123"},
		{name: "at sign in the path is not userinfo", in: "https://example.org/@alice/feed",
			shown: "https://example.org/@alice/feed", pub: "https://example.org/@alice/feed"},
		{name: "secret params", in: "http://h/feed?apikey=K3Y&token=T0K&page=2",
			shown: "http://h/feed?apikey=xxxxx&token=xxxxx&page=2", pub: "http://h/feed?page=2", secretInside: "K3Y"},
		{name: "only secret params", in: "http://h/feed?token=T0K",
			shown: "http://h/feed?token=xxxxx", pub: "http://h/feed", secretInside: "T0K"},
		{name: "case and separators", in: "http://h/f?API_KEY=a1&Api-Key=a2&apiKey=a3&X-Api-Key=a4&client_secret=a5&AccessToken=a6&oauth_token=a7&X-Amz-Signature=a8&sig=a9&passwd=b1&auth=b2&key=b3&password=b4&PASSWORD=b5",
			shown: "http://h/f?API_KEY=xxxxx&Api-Key=xxxxx&apiKey=xxxxx&X-Api-Key=xxxxx&client_secret=xxxxx&AccessToken=xxxxx&oauth_token=xxxxx&X-Amz-Signature=xxxxx&sig=xxxxx&passwd=xxxxx&auth=xxxxx&key=xxxxx&password=xxxxx&PASSWORD=xxxxx",
			pub:   "http://h/f", secretInside: "a1"},
		{name: "words that merely contain a secret name", in: "http://h/f?author=ann&monkey=1&keyword=go&mytoken=2&signup=3",
			shown: "http://h/f?author=ann&monkey=1&keyword=go&mytoken=2&signup=3", pub: "http://h/f?author=ann&monkey=1&keyword=go&mytoken=2&signup=3"},
		{name: "escaped name", in: "http://h/f?api%5Fkey=K3Y&a=1",
			shown: "http://h/f?api%5Fkey=xxxxx&a=1", pub: "http://h/f?a=1", secretInside: "K3Y"},
		{name: "semicolons and empty parts", in: "http://h/f?a=1;token=T0K&&b=2",
			shown: "http://h/f?a=1&token=xxxxx&b=2", pub: "http://h/f?a=1&b=2", secretInside: "T0K"},
		{name: "fragment with a token", in: "https://h/cb#access_token=T0K&state=s",
			shown: "https://h/cb#access_token=xxxxx&state=s", pub: "https://h/cb#state=s", secretInside: "T0K"},
		{name: "configured name", in: "http://h/f?session=S1&page=2", extra: []string{"Session"},
			shown: "http://h/f?session=xxxxx&page=2", pub: "http://h/f?page=2", secretInside: "S1"},
		{name: "configured name with separators", in: "http://h/f?x-customer-id=C1", extra: []string{"customer_id"},
			shown: "http://h/f?x-customer-id=xxxxx", pub: "http://h/f", secretInside: "C1"},
		{name: "configured names add to the defaults", in: "http://h/f?token=T0K", extra: []string{"session"},
			shown: "http://h/f?token=xxxxx", pub: "http://h/f", secretInside: "T0K"},
		{name: "not a URL Go parses", in: "http://u:s3cr3t@h/%zz?token=T0K",
			shown: "http://xxxxx@h/%zz?token=xxxxx", pub: "http://h/%zz", secretInside: "s3cr3t"},
		{name: "several hosts", in: "postgres://u:pw@h1:5432,h2:5432/db?password=pw2&sslmode=disable",
			shown: "postgres://xxxxx@h1:5432,h2:5432/db?password=xxxxx&sslmode=disable", pub: "postgres://h1:5432,h2:5432/db?sslmode=disable", secretInside: "pw"},
		{name: "empty", in: "", shown: "", pub: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := NewRedactor(tc.extra...)
			if got := r.URL(tc.in); got != tc.shown {
				t.Errorf("URL(%q) = %q, want %q", tc.in, got, tc.shown)
			}
			if got := r.Public(tc.in); got != tc.pub {
				t.Errorf("Public(%q) = %q, want %q", tc.in, got, tc.pub)
			}
			if s := tc.secretInside; s != "" {
				if strings.Contains(r.URL(tc.in), s) || strings.Contains(r.Public(tc.in), s) {
					t.Errorf("%q leaks through", s)
				}
			}
			// Redacting twice changes nothing more.
			if got := r.URL(r.URL(tc.in)); got != tc.shown {
				t.Errorf("URL is not idempotent: %q", got)
			}
		})
	}
}

func TestRedactorPublicIsStableAcrossRotation(t *testing.T) {
	var r Redactor
	a := r.Public("https://alice:old@h/feed?apikey=OLD&page=2")
	b := r.Public("https://bob:new@h/feed?apikey=NEW&page=2")
	if a != b {
		t.Errorf("public URL changed with the secret: %q vs %q", a, b)
	}
}

func TestRedactorText(t *testing.T) {
	var r Redactor
	_, err := url.Parse("http://user:s3cr3t@h/%zz?token=T0K")
	tests := []struct{ name, in, want string }{
		{"go url error", `Get "http://user:***@127.0.0.1:1/feed?apikey=K3Y&page=2": dial tcp: refused`,
			`Get "http://xxxxx@127.0.0.1:1/feed?apikey=xxxxx&page=2": dial tcp: refused`},
		{"sentence punctuation kept", "fetch http://h/f?token=T0K: timed out",
			"fetch http://h/f?token=xxxxx: timed out"},
		{"several URLs", "redirected from http://h/a?sig=S to https://u:p@i/b (moved)",
			"redirected from http://h/a?sig=xxxxx to https://xxxxx@i/b (moved)"},
		{"no URL", "HTTP 500 Internal Server Error", "HTTP 500 Internal Server Error"},
		{"url.Parse error", err.Error(), `parse "http://xxxxx@h/%zz?token=xxxxx": invalid URL escape "%zz"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := r.Text(tc.in); got != tc.want {
				t.Errorf("Text(%q) =\n %q, want\n %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestRedactorError(t *testing.T) {
	var r Redactor
	if r.Error(nil) != nil {
		t.Fatal("Error(nil) is not nil")
	}
	plain := errors.New("no URL here")
	if r.Error(plain) != plain {
		t.Error("an error without secrets was wrapped")
	}
	err := r.Error(fmt.Errorf("fetch http://h/f?token=T0K: %w", io.ErrUnexpectedEOF))
	if strings.Contains(err.Error(), "T0K") {
		t.Errorf("Error leaks: %v", err)
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Error("the cause is lost")
	}
}

func TestIsSecretParam(t *testing.T) {
	r := NewRedactor("", "  ", "session")
	for name, want := range map[string]bool{
		"key": true, "apikey": true, "api_key": true, "token": true, "access_token": true, "secret": true,
		"password": true, "passwd": true, "auth": true, "sig": true, "signature": true,
		"x-api-key": true, "client_secret": true, "refreshToken": true, "SESSION": true,
		"page": false, "author": false, "keys": false, "designation": false, "": false, "=": false,
		strings.Repeat("a_", 1000) + "token": false, // past maxNameWords
	} {
		if got := r.IsSecretParam(name); got != want {
			t.Errorf("IsSecretParam(%.40q) = %v, want %v", name, got, want)
		}
	}
}

func FuzzRedactor(f *testing.F) {
	f.Add("http://user:s3cr3t@h/f?apikey=K3Y&page=2#x")
	f.Add("not a url ?token=&")
	f.Fuzz(func(t *testing.T, s string) {
		var r Redactor
		_ = r.URL(s)
		_ = r.Public(s)
		_ = r.Text(s)
	})
}

func BenchmarkRedactorURL(b *testing.B) {
	var r Redactor
	for b.Loop() {
		r.URL("https://example.org/feed.xml?page=2&sort=new&apikey=K3Y")
	}
}
