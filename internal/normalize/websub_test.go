package normalize

import (
	"testing"

	"github.com/feedmill/feedmill/internal/feed"
)

// TestWebSubLinks pins where Normalize finds a feed's WebSub hub and self
// URL in each format, including what it relies on in gofeed: Atom-namespace
// elements in RSS land under the "atom" extension prefix whatever prefix
// the feed binds.
func TestWebSubLinks(t *testing.T) {
	const fetched = "https://x.example/feeds/main.xml"
	atom := func(links string) string {
		return `<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>` + links + `<entry><id>e</id></entry></feed>`
	}
	rss := func(ns, channel string) string {
		return `<rss version="2.0"` + ns + `><channel><title>t</title><link>https://site.example/</link>` + channel +
			`<item><guid>1</guid></item></channel></rss>`
	}
	const atomNS = ` xmlns:atom="http://www.w3.org/2005/Atom"`
	json := func(members string) string {
		return `{"version":"https://jsonfeed.org/version/1.1","title":"t",` + members + `"items":[{"id":"1"}]}`
	}
	tests := []struct {
		name, body, baseURL string
		wantHub, wantSelf   string
	}{
		{
			name:     "atom, relative to the fetched URL",
			body:     atom(`<link rel="self" href="/feed.atom"/><link rel="hub" href="hub"/>`),
			wantHub:  "https://x.example/feeds/hub",
			wantSelf: "https://x.example/feed.atom",
		},
		{
			name:     "atom, relative to xml:base",
			body:     `<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://base.example/dir/"><link rel="hub" href="h"/><link rel="self" href="f"/></feed>`,
			wantHub:  "https://base.example/dir/h",
			wantSelf: "https://base.example/dir/f",
		},
		{
			name:     "atom, IANA relation URI and upper case",
			body:     atom(`<link rel="http://www.iana.org/assignments/relation/hub" href="https://hub.example/"/><link rel="SELF" href="https://x.example/s"/>`),
			wantHub:  "https://hub.example/",
			wantSelf: "https://x.example/s",
		},
		{
			name:    "atom, first usable hub wins",
			body:    atom(`<link rel="hub" href="javascript:alert(1)"/><link rel="hub" href="ftp://hub.example/"/><link rel="hub" href="https://hub1.example/"/><link rel="hub" href="https://hub2.example/"/>`),
			wantHub: "https://hub1.example/",
		},
		{
			name: "atom, alternate only",
			body: atom(`<link href="https://site.example/"/><link rel="alternate" href="https://site.example/"/>`),
		},
		{
			name:     "rss, atom:link",
			body:     rss(atomNS, `<atom:link rel="self" href="https://x.example/feeds/main.xml"/><atom:link rel="hub" href="https://hub.example/"/>`),
			wantHub:  "https://hub.example/",
			wantSelf: "https://x.example/feeds/main.xml",
		},
		{
			name:     "rss, another prefix bound to Atom",
			body:     rss(` xmlns:w3a="http://www.w3.org/2005/Atom"`, `<w3a:link rel="hub" href="/hub"/><w3a:link rel="self" href="main.xml"/>`),
			wantHub:  "https://x.example/hub",
			wantSelf: "https://x.example/feeds/main.xml",
		},
		{
			name:    "rss, Atom as the element's default namespace",
			body:    rss("", `<link xmlns="http://www.w3.org/2005/Atom" rel="hub" href="https://hub.example/"/>`),
			wantHub: "https://hub.example/",
		},
		{
			name: "rss, links inside items are not the feed's",
			body: `<rss version="2.0"` + atomNS + `><channel><title>t</title><item><guid>1</guid><atom:link rel="hub" href="https://hub.example/"/></item></channel></rss>`,
		},
		{
			name: "rss, a link in another namespace",
			body: rss(` xmlns:o="https://other.example/ns"`, `<o:link rel="hub" href="https://hub.example/"/>`),
		},
		{
			name: "rss, none",
			body: rss("", ""),
		},
		{
			name:     "rss 1.0",
			body:     `<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"` + atomNS + `><channel rdf:about="https://site.example/"><title>t</title><atom:link rel="hub" href="https://hub.example/"/><atom:link rel="self" href="https://x.example/index.rdf"/></channel><item rdf:about="https://site.example/1"><title>i</title><link>https://site.example/1</link></item></rdf:RDF>`,
			wantHub:  "https://hub.example/",
			wantSelf: "https://x.example/index.rdf",
		},
		{
			name:     "json, hubs and feed_url",
			body:     json(`"feed_url":"https://x.example/feed.json","hubs":[{"type":"rssCloud","url":"https://cloud.example/"},{"type":"WebSub","url":"https://hub.example/"}],`),
			wantHub:  "https://hub.example/",
			wantSelf: "https://x.example/feed.json",
		},
		{
			name:     "json, type without case, relative URLs",
			body:     json(`"feed_url":"feed.json","hubs":[{"type":"websub","url":"/hub"}],`),
			wantHub:  "https://x.example/hub",
			wantSelf: "https://x.example/feeds/feed.json",
		},
		{
			name:    "json, malformed hub entries are skipped",
			body:    json(`"hubs":[{"type":"WebSub","url":42},{"type":"WebSub"},{"type":"WebSub","url":"mailto:a@example.com"},{"type":"WebSub","url":"https://hub.example/"}],`),
			wantHub: "https://hub.example/",
		},
		{
			name:     "json, hubs not an array",
			body:     json(`"feed_url":"https://x.example/feed.json","hubs":{"type":"WebSub","url":"https://hub.example/"},`),
			wantSelf: "https://x.example/feed.json",
		},
		{
			name: "json, unsafe feed_url",
			body: json(`"feed_url":"javascript:alert(1)",`),
		},
		{
			name:     "no usable base leaves relative URLs out",
			body:     atom(`<link rel="hub" href="/hub"/><link rel="self" href="https://x.example/abs"/>`),
			baseURL:  "not a URL",
			wantSelf: "https://x.example/abs",
		},
	}
	n := New(Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := tt.baseURL
			if base == "" {
				base = fetched
			}
			f, err := n.Normalize(feed.Source{Name: "s"}, []byte(tt.body), base, testNow)
			if err != nil {
				t.Fatal(err)
			}
			if f.Hub != tt.wantHub || f.Self != tt.wantSelf {
				t.Errorf("Hub, Self = %q, %q; want %q, %q", f.Hub, f.Self, tt.wantHub, tt.wantSelf)
			}
		})
	}
}
