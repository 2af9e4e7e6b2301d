package fetch

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/feedmill/feedmill/internal/feed"
)

func TestFetchMoved(t *testing.T) {
	mux := http.NewServeMux()
	redirect := func(to string, code int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, to, code) }
	}
	mux.HandleFunc("/feed", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == `"x"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		io.WriteString(w, sampleRSS)
	})
	mux.HandleFunc("/301", redirect("/feed", http.StatusMovedPermanently))
	mux.HandleFunc("/308", redirect("/feed", http.StatusPermanentRedirect))
	mux.HandleFunc("/302", redirect("/feed", http.StatusFound))
	mux.HandleFunc("/303", redirect("/feed", http.StatusSeeOther))
	mux.HandleFunc("/307", redirect("/feed", http.StatusTemporaryRedirect))
	mux.HandleFunc("/301-308", redirect("/308", http.StatusMovedPermanently))
	mux.HandleFunc("/301-302", redirect("/302", http.StatusMovedPermanently))
	mux.HandleFunc("/302-301", redirect("/301", http.StatusFound))
	mux.HandleFunc("/private/feed", func(w http.ResponseWriter, r *http.Request) {
		if user, pass, ok := r.BasicAuth(); !ok || user != "reader" || pass != "s3cret" {
			http.Error(w, "who are you", http.StatusUnauthorized)
			return
		}
		io.WriteString(w, sampleRSS)
	})
	mux.HandleFunc("/private/old", redirect("/private/feed", http.StatusMovedPermanently))
	srv := newServer(t, mux.ServeHTTP)
	// Another host name for the same server: credentials do not go there.
	other := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	mux.HandleFunc("/elsewhere", redirect(other+"/feed", http.StatusMovedPermanently))

	withCreds := strings.Replace(srv.URL, "http://", "http://reader:s3cret@", 1)
	tests := []struct {
		name      string
		url       string
		sent      feed.Validators
		wantMoved string
	}{
		{name: "no redirect", url: srv.URL + "/feed"},
		{name: "301", url: srv.URL + "/301", wantMoved: srv.URL + "/feed"},
		{name: "308", url: srv.URL + "/308", wantMoved: srv.URL + "/feed"},
		{name: "302 is temporary", url: srv.URL + "/302"},
		{name: "303 is temporary", url: srv.URL + "/303"},
		{name: "307 is temporary", url: srv.URL + "/307"},
		{name: "301 then 308", url: srv.URL + "/301-308", wantMoved: srv.URL + "/feed"},
		{name: "301 then 302", url: srv.URL + "/301-302"},
		{name: "302 then 301", url: srv.URL + "/302-301"},
		{name: "301 to a 304", url: srv.URL + "/301", sent: feed.Validators{ETag: `"x"`}, wantMoved: srv.URL + "/feed"},
		{name: "301 to another host", url: srv.URL + "/elsewhere", wantMoved: other + "/feed"},
		{name: "credentials follow on the same host", url: withCreds + "/private/old", wantMoved: withCreds + "/private/feed"},
		{name: "credentials stay behind for another host", url: withCreds + "/elsewhere", wantMoved: other + "/feed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := newClient(t, Options{}).Fetch(t.Context(), tt.url, tt.sent)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Moved != tt.wantMoved {
				t.Errorf("Moved = %q, want %q", resp.Moved, tt.wantMoved)
			}
		})
	}
}

func TestFetchCredentialsNotSentToOtherHosts(t *testing.T) {
	var gotAuth []string
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		gotAuth = append(gotAuth, r.Host+" "+r.Header.Get("Authorization"))
		if r.URL.Path == "/old" {
			http.Redirect(w, r, "http://"+strings.Replace(r.Host, "127.0.0.1", "localhost", 1)+"/feed", http.StatusMovedPermanently)
			return
		}
		io.WriteString(w, sampleRSS)
	})
	withCreds := strings.Replace(srv.URL, "http://", "http://reader:s3cret@", 1)
	if _, err := newClient(t, Options{}).Fetch(t.Context(), withCreds+"/old", feed.Validators{}); err != nil {
		t.Fatal(err)
	}
	if len(gotAuth) != 2 || !strings.HasSuffix(gotAuth[0], " Basic cmVhZGVyOnMzY3JldA==") || !strings.HasSuffix(gotAuth[1], " ") {
		t.Errorf("requests (host, Authorization) = %q; want credentials for 127.0.0.1 only", gotAuth)
	}
}

func TestFetchCredentialsNotSentInClear(t *testing.T) {
	var plainAuth []string
	plain := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		plainAuth = append(plainAuth, r.Header.Get("Authorization"))
		if r.URL.Path == "/hop" {
			// A second plain hop must not get them back either.
			http.Redirect(w, r, "/feed", http.StatusMovedPermanently)
			return
		}
		io.WriteString(w, sampleRSS)
	})
	secure := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.URL+"/hop", http.StatusMovedPermanently)
	}))
	t.Cleanup(secure.Close)
	c := newClient(t, Options{})
	c.open.TLSClientConfig = secure.Client().Transport.(*http.Transport).TLSClientConfig.Clone()

	withCreds := strings.Replace(secure.URL, "https://", "https://reader:s3cret@", 1)
	resp, err := c.Fetch(t.Context(), withCreds+"/old", feed.Validators{})
	if err != nil {
		t.Fatal(err)
	}
	if len(plainAuth) != 2 || plainAuth[0] != "" || plainAuth[1] != "" {
		t.Errorf("plain http server got Authorization %q, want none", plainAuth)
	}
	if resp.Moved != plain.URL+"/feed" {
		t.Errorf("Moved = %q, want %q without credentials", resp.Moved, plain.URL+"/feed")
	}
}
