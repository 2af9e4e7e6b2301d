package fetch

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/feedmill/feedmill/internal/feed"
)

func TestParseLinks(t *testing.T) {
	const base = "https://example.com/feeds/blog.xml"
	tests := []struct {
		name   string
		values []string
		want   []Link
	}{
		{name: "none"},
		{name: "empty value", values: []string{""}},
		{
			name:   "one link, quoted rel",
			values: []string{`<https://hub.example/>; rel="hub"`},
			want:   []Link{{URL: "https://hub.example/", Rel: "hub"}},
		},
		{
			name:   "unquoted rel",
			values: []string{`<https://hub.example/>; rel=hub`},
			want:   []Link{{URL: "https://hub.example/", Rel: "hub"}},
		},
		{
			name:   "comma-separated values",
			values: []string{`<https://hub.example/>; rel="hub", <https://example.com/feeds/blog.xml>; rel="self"`},
			want:   []Link{{URL: "https://hub.example/", Rel: "hub"}, {URL: base, Rel: "self"}},
		},
		{
			name:   "several header fields keep their order",
			values: []string{`<https://example.com/feeds/blog.xml>; rel=self`, `<https://hub.example/>; rel=hub`},
			want:   []Link{{URL: base, Rel: "self"}, {URL: "https://hub.example/", Rel: "hub"}},
		},
		{
			name:   "several relation types give one link each, lower-cased",
			values: []string{`<https://example.com/a>; rel="Self  ALTERNATE"`},
			want:   []Link{{URL: "https://example.com/a", Rel: "self"}, {URL: "https://example.com/a", Rel: "alternate"}},
		},
		{
			name:   "relative targets resolve against the final URL",
			values: []string{`</hub>; rel=hub, <page2.xml>; rel=next`},
			want:   []Link{{URL: "https://example.com/hub", Rel: "hub"}, {URL: "https://example.com/feeds/page2.xml", Rel: "next"}},
		},
		{
			name:   "commas and semicolons inside the target",
			values: []string{`<https://example.com/a,b;c>; rel=hub`},
			want:   []Link{{URL: "https://example.com/a,b;c", Rel: "hub"}},
		},
		{
			name:   "commas, semicolons and escapes inside a quoted parameter",
			values: []string{`<https://example.com/a>; title="x, \"y\"; z"; rel=hub, <https://example.com/b>; rel=self`},
			want:   []Link{{URL: "https://example.com/a", Rel: "hub"}, {URL: "https://example.com/b", Rel: "self"}},
		},
		{
			name:   "parameter names without case, white space around the equals sign",
			values: []string{"<https://hub.example/> ;\tREL = \"hub\""},
			want:   []Link{{URL: "https://hub.example/", Rel: "hub"}},
		},
		{
			name:   "only the first rel counts",
			values: []string{`<https://hub.example/>; rel=hub; rel=self`},
			want:   []Link{{URL: "https://hub.example/", Rel: "hub"}},
		},
		{
			name:   "parameters without value are ignored",
			values: []string{`<https://hub.example/>; crossorigin; rel=hub`},
			want:   []Link{{URL: "https://hub.example/", Rel: "hub"}},
		},
		{
			name:   "no rel",
			values: []string{`<https://example.com/a>; title="x"`},
		},
		{
			name:   "empty rel",
			values: []string{`<https://example.com/a>; rel=""`},
		},
		{
			name:   "anchor naming another resource",
			values: []string{`<https://hub.example/>; rel=hub; anchor="https://other.example/feed"`},
		},
		{
			name:   "anchor naming this resource",
			values: []string{`<https://hub.example/>; rel=hub; anchor="blog.xml"`},
			want:   []Link{{URL: "https://hub.example/", Rel: "hub"}},
		},
		{
			name:   "non-http targets are dropped",
			values: []string{`<mailto:a@example.com>; rel=author, <urn:x:y>; rel=hub, <ftp://example.com/>; rel=hub, <https://hub.example/>; rel=hub`},
			want:   []Link{{URL: "https://hub.example/", Rel: "hub"}},
		},
		{
			name:   "unparseable target is dropped, the next link kept",
			values: []string{`<https://exa mple.com/%zz>; rel=hub, <https://hub.example/>; rel=hub`},
			want:   []Link{{URL: "https://hub.example/", Rel: "hub"}},
		},
		{
			name:   "junk before a link is skipped",
			values: []string{`junk; rel=hub, "quoted, junk", <https://hub.example/>; rel=hub`},
			want:   []Link{{URL: "https://hub.example/", Rel: "hub"}},
		},
		{
			name:   "garbage after rel keeps the link and skips to the next",
			values: []string{`<https://hub.example/>; rel=hub garbage "x,y", <https://example.com/s>; rel=self`},
			want:   []Link{{URL: "https://hub.example/", Rel: "hub"}, {URL: "https://example.com/s", Rel: "self"}},
		},
		{
			name:   "unterminated target ends the value",
			values: []string{`<https://hub.example/>; rel=hub, <https://example.com/s; rel=self`, `<https://example.com/t>; rel=self`},
			want:   []Link{{URL: "https://hub.example/", Rel: "hub"}, {URL: "https://example.com/t", Rel: "self"}},
		},
		{
			name:   "unterminated quoted rel drops the link",
			values: []string{`<https://hub.example/>; rel="hub, <https://example.com/s>; rel=self`},
		},
		{
			name:   "empty list elements",
			values: []string{` , ,<https://hub.example/>; rel=hub,, `},
			want:   []Link{{URL: "https://hub.example/", Rel: "hub"}},
		},
	}
	b, _ := url.Parse(base)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseLinks(tt.values, b)
			if !slices.Equal(got, tt.want) {
				t.Errorf("parseLinks(%q)\n got %v\nwant %v", tt.values, got, tt.want)
			}
		})
	}
}

func TestParseLinksBounded(t *testing.T) {
	v := strings.Repeat(`<https://example.com/a>; rel="a b c", `, 1000)
	got := parseLinks([]string{v, v}, nil)
	if len(got) != maxLinks {
		t.Errorf("got %d links, want the cap %d", len(got), maxLinks)
	}
}

func TestResponseLink(t *testing.T) {
	r := &Response{Links: []Link{
		{URL: "https://example.com/self", Rel: "self"},
		{URL: "https://hub1.example/", Rel: "hub"},
		{URL: "https://hub2.example/", Rel: "hub"},
	}}
	tests := []struct{ rel, want string }{
		{rel: "hub", want: "https://hub1.example/"},
		{rel: "HUB", want: "https://hub1.example/"},
		{rel: "self", want: "https://example.com/self"},
		{rel: "next", want: ""},
		{rel: "", want: ""},
	}
	for _, tt := range tests {
		if got := r.Link(tt.rel); got != tt.want {
			t.Errorf("Link(%q) = %q, want %q", tt.rel, got, tt.want)
		}
	}
	if got := (&Response{}).Link("hub"); got != "" {
		t.Errorf("Link on no links = %q", got)
	}
}

// TestFetchLinks checks that Fetch fills Links from every Link header of
// the final response, resolved against the URL after redirects and without
// its credentials, on a 200 and on a 304.
func TestFetchLinks(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/old" {
			http.Redirect(w, r, "/feeds/new.xml", http.StatusMovedPermanently)
			return
		}
		w.Header().Add("Link", `<../hub>; rel="hub", <new.xml>; rel="self"`)
		w.Header().Add("Link", `<https://hub.example/websub>; rel=hub`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write([]byte(sampleRSS))
	})
	u, _ := url.Parse(srv.URL)
	u.User = url.UserPassword("reader", "secret")
	want := []Link{
		{URL: srv.URL + "/hub", Rel: "hub"},
		{URL: srv.URL + "/feeds/new.xml", Rel: "self"},
		{URL: "https://hub.example/websub", Rel: "hub"},
	}
	c := newClient(t, Options{})
	for _, v := range []feed.Validators{{}, {ETag: `"v1"`}} {
		resp, err := c.Fetch(t.Context(), u.String()+"/old", v)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(resp.Links, want) {
			t.Errorf("status %d: Links = %v, want %v", resp.Status, resp.Links, want)
		}
		if got := resp.Link("hub"); got != srv.URL+"/hub" {
			t.Errorf("status %d: Link(hub) = %q", resp.Status, got)
		}
	}
}

func FuzzParseLinks(f *testing.F) {
	for _, s := range []string{
		`<https://hub.example/>; rel="hub self", </x>; rel=next; anchor="#a"`,
		`<a>; rel="\"", "x<y>,z`,
		`<`, `"`, `;;;=,,`,
	} {
		f.Add(s)
	}
	base, _ := url.Parse("https://example.com/feed")
	f.Fuzz(func(t *testing.T, v string) {
		for _, l := range parseLinks([]string{v}, base) {
			if !strings.HasPrefix(l.URL, "http://") && !strings.HasPrefix(l.URL, "https://") {
				t.Errorf("link URL %q is not absolute http(s)", l.URL)
			}
			if l.Rel == "" || l.Rel != strings.ToLower(l.Rel) || strings.ContainsAny(l.Rel, " \t") {
				t.Errorf("bad rel %q", l.Rel)
			}
		}
	})
}
