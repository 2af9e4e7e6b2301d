package publish

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mmcdole/gofeed/rss"

	"github.com/feedmill/feedmill/internal/feed"
)

func TestParseFormat(t *testing.T) {
	tests := []struct {
		in     string
		want   Format
		wantOK bool
		ct     string
	}{
		{"rss", RSS, true, "application/rss+xml; charset=utf-8"},
		{"atom", Atom, true, "application/atom+xml; charset=utf-8"},
		{"json", JSON, true, "application/feed+json; charset=utf-8"},
		{".atom", Atom, true, "application/atom+xml; charset=utf-8"},
		{"RSS", 0, false, ""},
		{"xml", 0, false, ""},
		{"", 0, false, ""},
		{"..rss", 0, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := ParseFormat(tt.in)
			if got != tt.want || ok != tt.wantOK {
				t.Fatalf("ParseFormat(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
			}
			if ok && got.ContentType() != tt.ct {
				t.Errorf("ContentType() = %q, want %q", got.ContentType(), tt.ct)
			}
		})
	}
}

func TestFeedURL(t *testing.T) {
	tests := []struct {
		name, base, feed string
		f                Format
		want             string
	}{
		{"plain", "https://x.example", "all", RSS, "https://x.example/feeds/all.rss"},
		{"trailing slash", "https://x.example/", "all", Atom, "https://x.example/feeds/all.atom"},
		{"base path", "https://x.example/mill/", "tech", JSON, "https://x.example/mill/feeds/tech.json"},
		{"escaped name", "https://x.example", "a b", RSS, "https://x.example/feeds/a%20b.rss"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FeedURL(tt.base, tt.feed, tt.f); got != tt.want {
				t.Errorf("FeedURL = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNormalizeLink(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "  ", ""},
		{"lower scheme and host", "HTTPS://Example.COM/Path", "https://example.com/Path"},
		{"default https port", "https://example.com:443/a", "https://example.com/a"},
		{"default http port", "http://example.com:80/a", "http://example.com/a"},
		{"other port kept", "http://example.com:8080/a", "http://example.com:8080/a"},
		{"https on port 80 kept", "https://example.com:80/a", "https://example.com:80/a"},
		{"fragment dropped", "https://example.com/a#comments", "https://example.com/a"},
		{"query kept", "https://example.com/a?b=1", "https://example.com/a?b=1"},
		{"ipv6 default port", "http://[::1]:80/a", "http://[::1]/a"},
		{"ipv6 port kept", "http://[::1]:81/a", "http://[::1]:81/a"},
		{"relative kept as is", " /a/b ", "/a/b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := normalizeLink(tt.in); got != tt.want {
				t.Errorf("normalizeLink(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestIsPermaLink(t *testing.T) {
	tests := []struct {
		name, id, link string
		want           bool
	}{
		{"url equal to link", "https://e.x/1", "https://e.x/1", true},
		{"http url", "http://e.x/1", "http://e.x/1", true},
		{"url differs from link", "https://e.x/1", "https://e.x/1?ref=rss", false},
		{"url without link", "https://e.x/1", "", false},
		{"tag uri", "tag:e.x,2024:1", "tag:e.x,2024:1", false},
		{"urn", "urn:feedmill:a:1", "https://e.x/1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isPermaLink(tt.id, tt.link); got != tt.want {
				t.Errorf("isPermaLink(%q, %q) = %v", tt.id, tt.link, got)
			}
		})
	}
}

func TestTitleFromHTML(t *testing.T) {
	long := strings.Repeat("word ", 30)
	tests := []struct {
		name      string
		fragments []string
		want      string
	}{
		{"nothing", []string{"", ""}, "(untitled)"},
		{"markup only", []string{"<img src=x><br/>", ""}, "(untitled)"},
		{"entities decoded", []string{"<p>Fish &amp; chips &lt;3</p>"}, "Fish & chips <3"},
		{"blocks separate words", []string{"<p>one</p><p>two</p>three<br>four"}, "one two three four"},
		{"script is not text", []string{"<script>alert(1)</script><style>p{}</style>visible"}, "visible"},
		{"falls to the second fragment", []string{"  ", "<b>content</b>"}, "content"},
		{"plain text collapsed", []string{" a \n\t b "}, "a b"},
		{"cut at a word", []string{long}, strings.TrimSpace(strings.Repeat("word ", 16)) + "…"},
		{"no space to cut at", []string{strings.Repeat("é", 100)}, strings.Repeat("é", 80) + "…"},
		{"exactly the limit", []string{strings.Repeat("x", 80)}, strings.Repeat("x", 80)},
		{"broken markup", []string{"<p>unclosed <b>bold"}, "unclosed bold"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := titleFromHTML(tt.fragments...); got != tt.want {
				t.Errorf("titleFromHTML = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCleaners(t *testing.T) {
	urls := []struct{ in, want string }{
		{" https://e.x/a ", "https://e.x/a"},
		{"HTTP://E.X/", "HTTP://E.X/"},
		{"ftp://e.x/a", ""},
		{"/relative", ""},
		{"https://e.x/a b", ""},
		{"https://e.x/\x01", ""},
		{"javascript:alert(1)", ""},
		{"https://", ""},
	}
	for _, tt := range urls {
		if got := cleanURL(tt.in); got != tt.want {
			t.Errorf("cleanURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	emails := []struct{ in, want string }{
		{" a@b.c ", "a@b.c"},
		{"a b@c.d", ""},
		{"Name <a@b.c>", ""},
		{"nobody", ""},
		{"a@b@c", ""},
	}
	for _, tt := range emails {
		if got := cleanEmail(tt.in); got != tt.want {
			t.Errorf("cleanEmail(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestHostileItem renders an item full of things that break naive feed
// writers and checks every format is still well-formed and complete.
func TestHostileItem(t *testing.T) {
	it := feed.Item{
		Source:     "evil source/☃",
		ID:         "id with spaces & <angle>",
		Link:       "javascript:alert(1)",
		Title:      "nul\x00 and \x1b escape ]]> and \ufffe",
		Summary:    "<p>]]&gt; <![CDATA[ x ]]> \x00</p>",
		Content:    "\xff\xfe invalid utf-8",
		Authors:    []feed.Person{{Name: "", Email: "not an address", URI: "ftp://x"}, {}},
		Categories: []string{"", "  ", "a\nb"},
		Enclosures: []feed.Enclosure{{URL: "https://e.x/a b.mp3", Length: -5}, {URL: "https://e.x/ok.mp3", Length: -1}},
	}
	st := &memStore{items: []feed.Item{it}, states: []feed.SourceState{{Name: "evil source/☃", FeedLink: "not a url"}}}
	src := []feed.Source{{Name: "evil source/☃", URL: "https://e.x/feed", Categories: []string{"x,y/z"}}}
	p := New(Options{BaseURL: "https://news.example.org"}, []FeedSpec{{Name: "f", Title: "F", Sources: []string{"evil source/☃"}}}, src, st)
	if err := p.Rebuild(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, f := range formats {
		t.Run(f.String(), func(t *testing.T) {
			body := mustSnapshot(t, p, "f", f).Body
			if !utf8.Valid(body) {
				t.Error("output is not valid UTF-8")
			}
			if f == JSON {
				var doc struct {
					Items []map[string]any `json:"items"`
				}
				if err := json.Unmarshal(body, &doc); err != nil || len(doc.Items) != 1 {
					t.Fatalf("json: %v, %d items", err, len(doc.Items))
				}
				if _, ok := doc.Items[0]["url"]; ok {
					t.Error("a javascript: link was published")
				}
				return
			}
			if err := wellFormed(body); err != nil {
				t.Errorf("not well-formed: %v\n%s", err, body)
			}
			if bytes.Contains(body, []byte("javascript:")) {
				t.Error("a javascript: link was published")
			}
			if !bytes.Contains(body, []byte("urn:feedmill:evil%20source%2F%E2%98%83:id%20with%20spaces%20%26%20%3Cangle%3E")) {
				t.Errorf("public id missing:\n%s", body)
			}
		})
	}
	if err := wellFormed(p.OPML().Body); err != nil {
		t.Errorf("OPML not well-formed: %v", err)
	}
	if !bytes.Contains(p.OPML().Body, []byte(`category="x y z"`)) {
		t.Errorf("OPML category not made a tag:\n%s", p.OPML().Body)
	}
}

func wellFormed(b []byte) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// FuzzRender checks that no item text can make a document malformed.
func FuzzRender(f *testing.F) {
	f.Add("title", "<p>summary</p>", "content", "https://e.x/1", "id", "Name", "a@b.c", "cat")
	f.Add("", "", "", "", "", "", "", "")
	f.Add("]]>", "<![CDATA[", "\x00\xff", "http://[::1", "a b", "\x1b", "@", "\n")
	f.Fuzz(func(t *testing.T, title, summary, content, link, id, name, email, cat string) {
		it := feed.Item{
			Source: "s", ID: id, Link: link, Title: title, Summary: summary, Content: content,
			Authors: []feed.Person{{Name: name, Email: email}}, Categories: []string{cat},
			Enclosures: []feed.Enclosure{{URL: link, Type: cat}},
			Published:  t0,
		}
		// A second copy from another source, so the footer meets the same
		// hostile text.
		cp := it
		cp.Source, cp.ID, cp.FirstSeen = "t", id+"-copy", t0.Add(time.Minute)
		stories := groupStories([]feed.Item{it, cp}, grouping{byTitle: true, window: time.Hour}, 10)
		d := (&Publisher{base: "https://n.x"}).document(FeedSpec{Name: "f", Title: title}, stories,
			map[string]sourceInfo{"s": {name: "s", title: name, url: link}, "t": {name: "t", title: name + cat}})
		for _, f := range formats {
			body, err := render(d, f)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if f == JSON {
				if !json.Valid(body) {
					t.Fatalf("invalid JSON:\n%s", body)
				}
				continue
			}
			if err := wellFormed(body); err != nil {
				t.Fatalf("%s not well-formed: %v\n%s", f, err, body)
			}
		}
	})
}

// TestPublishedIDs: malformed urn:uuid: and tag: ids, and ids that are no
// URI, are published under a URN minted from the source and the id, the
// same in every format; valid ones as they are; an RSS guid is a
// permalink only when it is the item's http(s) link. Posts at fragments
// of one page keep their own ids. feedcheck judges the documents.
func TestPublishedIDs(t *testing.T) {
	day := "https://s.example/2026/11/29"
	mk := func(id, link string, age time.Duration) feed.Item {
		return feed.Item{Source: "s", ID: id, Link: link, Title: "Post " + id, Published: t0.Add(-age), FirstSeen: t0}
	}
	items := []feed.Item{
		mk("urn:uuid:bogus", "https://s.example/1", 1*time.Minute),
		mk("tag:s.example:1", "https://s.example/2", 2*time.Minute),
		mk("https://s.example/3", "https://s.example/3", 3*time.Minute),
		mk("42", "https://s.example/4", 4*time.Minute),
		mk("tag:s.example,2026-11-29:5", "https://s.example/5", 5*time.Minute),
		mk(day+"#a1", day+"#a1", 6*time.Minute),
		mk(day+"#a2", day+"#a2", 7*time.Minute),
	}
	want := []struct {
		id        string
		permaLink bool
	}{
		{"urn:feedmill:s:urn:uuid:bogus", false},
		{"urn:feedmill:s:tag:s.example:1", false},
		{"https://s.example/3", true},
		{"urn:feedmill:s:42", false},
		{"tag:s.example,2026-11-29:5", false},
		{day + "#a1", true},
		{day + "#a2", true},
	}
	st := &memStore{items: items, states: []feed.SourceState{}}
	p := New(Options{BaseURL: testBase}, []FeedSpec{{Name: "ids", Sources: []string{"s"}}}, []feed.Source{{Name: "s", URL: "https://s.example/feed"}}, st)
	if err := p.Rebuild(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, f := range formats {
		body := mustSnapshot(t, p, "ids", f).Body
		got := parseDoc(t, f, body).ids
		if len(got) != len(want) {
			t.Fatalf("%s: ids %q, want %d", f, got, len(want))
		}
		for i, w := range want {
			if got[i] != w.id {
				t.Errorf("%s entry %d: id %q, want %q", f, i, got[i], w.id)
			}
		}
		if f == RSS {
			doc, err := (&rss.Parser{}).Parse(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			for i, it := range doc.Items {
				if perma := it.GUID.IsPermalink != "false"; perma != want[i].permaLink {
					t.Errorf("rss guid %q: isPermaLink %q, want %v", it.GUID.Value, it.GUID.IsPermalink, want[i].permaLink)
				}
			}
		}
		feedcheck(t, f, body)
	}
}

// TestLinklessItemLeadsToSourceSite: an item its feed gave no link is
// published with its source's site as its link, in every format, so that
// readers have somewhere to open it; without a known site it stays
// without one.
func TestLinklessItemLeadsToSourceSite(t *testing.T) {
	st := &memStore{
		items: []feed.Item{
			{Source: "s", ID: "one", Title: "No link here", Content: "<p>Body.</p>", Published: t0, FirstSeen: t0},
			{Source: "bare", ID: "two", Title: "Nor here", Content: "<p>Body.</p>", Published: t0.Add(-time.Hour), FirstSeen: t0},
		},
		states: []feed.SourceState{{Name: "s", FeedLink: "https://s.example/"}},
	}
	src := []feed.Source{{Name: "s", URL: "https://s.example/feed"}, {Name: "bare", URL: "https://bare.example/feed"}}
	p := New(Options{BaseURL: testBase}, []FeedSpec{{Name: "f", Sources: []string{"s", "bare"}}}, src, st)
	if err := p.Rebuild(t.Context()); err != nil {
		t.Fatal(err)
	}
	// What marks an item's own link in each format, that of s, and how
	// many links of that form the document holds in all: the item of
	// s's, and none for the item of bare.
	for f, c := range map[Format]struct {
		form, s string
		all     int
	}{
		RSS:  {"<link>", "<link>https://s.example/</link>", 2}, // and the channel's
		Atom: {`" rel="alternate"></link>`, `<link href="https://s.example/" rel="alternate"></link>`, 1},
		JSON: {`"url": "`, `"url": "https://s.example/",`, 3}, // and each source's feed URL
	} {
		body := string(mustSnapshot(t, p, "f", f).Body)
		if n := strings.Count(body, c.s); n != 1 {
			t.Errorf("%s: %q %d times, want once, the item of s:\n%s", f, c.s, n, body)
		}
		if n := strings.Count(body, c.form); n != c.all {
			t.Errorf("%s: %d links of the form %q, want %d: the item of bare has none\n%s", f, n, c.form, c.all, body)
		}
	}
}
