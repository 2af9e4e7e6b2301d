package fetch

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/feedmill/feedmill/internal/feed"
)

func TestDiscover(t *testing.T) {
	const base = "https://example.org/blog/post.html"
	tests := []struct {
		name string
		page string
		base string // base URL; the const above when empty
		want []string
	}{
		{
			name: "RSS, relative",
			page: `<html><head><link rel="alternate" type="application/rss+xml" href="/feed.xml"></head></html>`,
			want: []string{"https://example.org/feed.xml"},
		},
		{
			name: "every feed type, in document order",
			page: `<head>
				<link rel="alternate" type="application/atom+xml" href="atom.xml">
				<link rel="alternate" type="application/rss+xml" href="rss.xml">
				<link rel="alternate" type="application/feed+json" href="feed.json">
				<link rel="alternate" type="application/rdf+xml" href="index.rdf">
			</head>`,
			want: []string{
				"https://example.org/blog/atom.xml", "https://example.org/blog/rss.xml",
				"https://example.org/blog/feed.json", "https://example.org/blog/index.rdf",
			},
		},
		{
			name: "plain application/json comes last",
			page: `<link rel="alternate" type="application/json" href="/wp-json/wp/v2/posts/1">
				<link rel="alternate" type="application/rss+xml" href="/feed/">`,
			want: []string{"https://example.org/feed/", "https://example.org/wp-json/wp/v2/posts/1"},
		},
		{
			name: "rel with several tokens, case and parameters",
			page: `<LINK REL="Alternate  Home" TYPE="Application/RSS+XML; charset=UTF-8" HREF="/a">
				<link rel="feed alternate" type="application/atom+xml" href="/b"/>`,
			want: []string{"https://example.org/a", "https://example.org/b"},
		},
		{
			name: "not feeds",
			page: `<link rel="stylesheet" type="text/css" href="/style.css">
				<link rel="alternate" type="text/html" hreflang="fr" href="/fr/">
				<link rel="alternate" type="application/json+oembed" href="/oembed">
				<link rel="alternative" type="application/rss+xml" href="/typo">
				<link rel="alternate" href="/no-type">
				<link type="application/rss+xml" href="/no-rel">
				<a rel="alternate" type="application/rss+xml" href="/anchor">feed</a>`,
			want: nil,
		},
		{
			name: "http(s) only",
			page: `<link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
				<link rel="alternate" type="application/rss+xml" href="data:text/xml,<rss/>">
				<link rel="alternate" type="application/rss+xml" href="ftp://example.org/feed">
				<link rel="alternate" type="application/rss+xml" href="feed://example.org/feed">
				<link rel="alternate" type="application/rss+xml" href="http://example.net/feed">`,
			want: []string{"http://example.net/feed"},
		},
		{
			name: "no href, empty href",
			page: `<link rel="alternate" type="application/rss+xml">
				<link rel="alternate" type="application/rss+xml" href=" ">`,
			want: nil,
		},
		{
			name: "duplicates once",
			page: `<link rel="alternate" type="application/rss+xml" href="/feed">
				<link rel="alternate" type="application/rss+xml" href="https://example.org/feed">`,
			want: []string{"https://example.org/feed"},
		},
		{
			name: "base href",
			page: `<head><base href="https://cdn.example.com/site/"><base href="/ignored/">
				<link rel="alternate" type="application/rss+xml" href="feed.xml"></head>`,
			want: []string{"https://cdn.example.com/site/feed.xml"},
		},
		{
			name: "relative base href",
			page: `<base href="/other/"><link rel="alternate" type="application/rss+xml" href="feed.xml">`,
			want: []string{"https://example.org/other/feed.xml"},
		},
		{
			name: "links in the body count too",
			page: `<html><body><p>hi</p><link rel="alternate" type="application/atom+xml" href="/atom"></body></html>`,
			want: []string{"https://example.org/atom"},
		},
		{
			name: "not inside script, style or comments",
			page: `<script>document.write('<link rel="alternate" type="application/rss+xml" href="/s">')</script>
				<style>/* <link rel="alternate" type="application/rss+xml" href="/c"> */</style>
				<!-- <link rel="alternate" type="application/rss+xml" href="/k"> -->
				<link rel="alternate" type="application/rss+xml" href="/real">`,
			want: []string{"https://example.org/real"},
		},
		{
			name: "entities in href",
			page: `<link rel="alternate" type="application/rss+xml" href="/feed?a=1&amp;b=2">`,
			want: []string{"https://example.org/feed?a=1&b=2"},
		},
		{
			name: "broken markup",
			page: `<head><link rel="alternate" type="application/rss+xml" href="/one"><link rel=alternate type=application/atom+xml href=/two <link`,
			want: []string{"https://example.org/one"},
		},
		{
			name: "unparsable base URL keeps absolute links",
			base: "http://[::1",
			page: `<link rel="alternate" type="application/rss+xml" href="/rel">
				<link rel="alternate" type="application/rss+xml" href="https://example.org/abs">`,
			want: []string{"https://example.org/abs"},
		},
		{name: "empty page", page: "", want: nil},
		{name: "a feed, not a page", page: sampleRSS, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.base
			if b == "" {
				b = base
			}
			if got := Discover([]byte(tt.page), b); !slices.Equal(got, tt.want) {
				t.Errorf("Discover = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDiscoverBounded(t *testing.T) {
	var page strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&page, `<link rel="alternate" type="application/rss+xml" href="/feed/%d">`, i)
	}
	got := Discover([]byte(page.String()), "https://example.org/")
	if len(got) != maxDiscovered || got[0] != "https://example.org/feed/0" {
		t.Errorf("Discover returned %d links starting %q, want the first %d", len(got), got[0], maxDiscovered)
	}
}

func FuzzDiscover(f *testing.F) {
	f.Add([]byte(`<link rel="alternate" type="application/rss+xml" href="/feed">`), "https://example.org/")
	f.Add([]byte(`<base href="//x"><link rel=alternate type=application/json href=a>`), "http://h/")
	f.Add([]byte("<link rel=\"alternate\x00\" type=\"application/atom+xml\" href=\"\xff\">"), "")
	f.Fuzz(func(t *testing.T, page []byte, base string) {
		for _, u := range Discover(page, base) {
			if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
				t.Errorf("Discover returned %q", u)
			}
		}
	})
}

// TestFirstFeed runs autodiscovery against a local site: which advertised
// feed is taken, which are tried, and how many requests it costs.
func TestFirstFeed(t *testing.T) {
	var mu sync.Mutex
	hits := map[string]int{}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.Path]++
		mu.Unlock()
		switch {
		case strings.HasPrefix(r.URL.Path, "/feed"):
			io.WriteString(w, "<rss/>")
		case strings.HasPrefix(r.URL.Path, "/text"):
			io.WriteString(w, "plain text")
		default:
			http.NotFound(w, r)
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	link := func(path string) string {
		return `<link rel="alternate" type="application/rss+xml" href="` + path + `">`
	}
	// read accepts bodies that start like a feed.
	read := func(_ string, resp *Response) error {
		if !strings.HasPrefix(string(resp.Body), "<rss") {
			return errors.New("not a feed")
		}
		return nil
	}
	tests := []struct {
		name      string
		page      string
		want      string   // path of the feed taken; "" for none
		wantTried []string // in each failure, in order
		wantHits  int      // requests made
	}{
		{name: "no feed advertised", page: "<p>hello</p>"},
		{name: "first feed", page: link("/feed1") + link("/feed2"), want: "/feed1", wantHits: 1},
		{
			name: "broken feeds before a good one", page: link("/gone") + link("/text") + link("/feed"),
			want: "/feed", wantTried: []string{"advertised feed " + srv.URL + "/gone: ", "advertised feed " + srv.URL + "/text: not a feed"}, wantHits: 3,
		},
		{name: "the page itself is skipped", page: link("/page") + link("/feed"), want: "/feed", wantHits: 1},
		{
			name: "at most MaxTriedFeeds", page: link("/a") + link("/b") + link("/c") + link("/d") + link("/feed"),
			wantTried: []string{"/a: ", "/b: ", "/c: "}, wantHits: MaxTriedFeeds,
		},
		{
			name: "secrets hidden", page: link("/text?api_key=hunter2"),
			wantTried: []string{"advertised feed " + srv.URL + "/text?api_key=xxxxx: not a feed"}, wantHits: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			clear(hits)
			mu.Unlock()
			c := newClient(t, Options{})
			page := &Response{URL: srv.URL + "/page", Body: []byte(tt.page)}
			got, resp, tried := FirstFeed(t.Context(), c, page, srv.URL, feed.Redactor{}, read)
			want := ""
			if tt.want != "" {
				want = srv.URL + tt.want
			}
			if got != want || (resp != nil) != (want != "") {
				t.Errorf("FirstFeed = %q (response %v), want %q", got, resp != nil, want)
			}
			if len(tried) != len(tt.wantTried) {
				t.Fatalf("tried %q, want %d failures like %q", tried, len(tt.wantTried), tt.wantTried)
			}
			for i, err := range tried {
				if !strings.Contains(err.Error(), tt.wantTried[i]) {
					t.Errorf("failure %d %q does not contain %q", i, err, tt.wantTried[i])
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Errorf("failure %d %q shows the secret", i, err)
				}
			}
			mu.Lock()
			total := 0
			for _, n := range hits {
				total += n
			}
			mu.Unlock()
			if total != tt.wantHits {
				t.Errorf("%d requests (%v), want %d", total, hits, tt.wantHits)
			}
		})
	}
}
