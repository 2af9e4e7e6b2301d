package normalize

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/testkit"
)

// hostileDir holds the vectors and the feeds built from them. The feeds are
// checked in (and read by internal/server's hostile test), so that what is
// tested is plain to see; TestHostileFeeds keeps them in step with the
// vectors.
const hostileDir = "testdata/hostile"

// hostileFeeds are the feeds built from the vectors, with the URL each is
// pretended to be fetched from.
var hostileFeeds = []struct {
	file    string
	baseURL string
	build   func(vectors) []byte
}{
	{"rss.xml", "https://hostile.example/rss.xml", buildHostileRSS},
	{"atom.xml", "https://hostile.example/atom.xml", buildHostileAtom},
	{"feed.json", "https://hostile.example/feed.json", buildHostileJSON},
}

// vectors are the sections of vectors.txt.
type vectors struct {
	html, url, email, typ []string
}

func readVectors(t testing.TB) vectors {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(hostileDir, "vectors.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	var section *[]string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#"):
			continue
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = map[string]*[]string{"[html]": &v.html, "[url]": &v.url, "[email]": &v.email, "[type]": &v.typ}[line]
			if section == nil {
				t.Fatalf("vectors.txt:%d: unknown section %s", n, line)
			}
			continue
		case section == nil:
			t.Fatalf("vectors.txt:%d: vector outside a section", n)
		case strings.HasPrefix(line, `"`) && strings.HasSuffix(line, `"`):
			if unq, err := strconv.Unquote(line); err == nil {
				line = unq
			}
		}
		*section = append(*section, line)
	}
	if len(v.html) == 0 || len(v.url) == 0 || len(v.email) == 0 || len(v.typ) == 0 {
		t.Fatal("vectors.txt lacks a section")
	}
	return v
}

// itemVectors returns what item i carries: an HTML vector (each item has
// its own, so every one is tried), and URL, email and media type vectors in
// turn.
func (v vectors) item(i int) (h, u, e, typ string) {
	return v.html[i], v.url[i%len(v.url)], v.email[i%len(v.email)], v.typ[i%len(v.typ)]
}

// hostileTitle is the feed-level title of every hostile feed.
const hostileTitle = `Hostile <script>alert("feed")</script><img src=x onerror=alert(1)> feed`

// xmlText escapes s for XML text or a quoted attribute. Characters XML 1.0
// cannot carry at all (C0 controls other than tab and newlines) cannot be
// sent in an XML feed; they become U+FFFD, and the JSON feed carries them.
func xmlText(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(xmlChars(s))) // cannot fail on a strings.Builder
	return b.String()
}

// xmlChars replaces the characters XML 1.0 cannot carry with U+FFFD.
func xmlChars(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' {
			return '\uFFFD'
		}
		return r
	}, s)
}

// wellFormed reports whether s is well-formed XML content, so that it can
// sit unescaped in an Atom xhtml div.
func wellFormed(s string) bool {
	d := xml.NewDecoder(strings.NewReader("<div>" + s + "</div>"))
	for {
		if _, err := d.Token(); err != nil {
			return err.Error() == "EOF"
		}
	}
}

func buildHostileRSS(v vectors) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:media="http://search.yahoo.com/mrss/">
<channel>
`)
	fmt.Fprintf(&b, "<title>%s</title>\n<link>javascript:alert('feed link')</link>\n<description>%s</description>\n", xmlText(hostileTitle), xmlText(v.html[0]))
	b.WriteString(`<atom:link rel="hub" href="javascript:alert('hub')"/>` + "\n" + `<atom:link rel="self" href="data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;"/>` + "\n")
	for i := range v.html {
		h, u, e, typ := v.item(i)
		b.WriteString("<item>\n")
		fmt.Fprintf(&b, "<title>%s</title>\n<link>%s</link>\n<description>%s</description>\n", xmlText(h), xmlText(u), xmlText(h))
		if i%2 == 0 && !strings.Contains(h, "]]>") {
			fmt.Fprintf(&b, "<content:encoded><![CDATA[%s]]></content:encoded>\n", xmlChars(h))
		} else {
			fmt.Fprintf(&b, "<content:encoded>%s</content:encoded>\n", xmlText(h))
		}
		if i%2 == 0 {
			fmt.Fprintf(&b, "<author>%s</author>\n", xmlText(e))
		} else {
			fmt.Fprintf(&b, "<author>%s</author>\n", xmlText(e+" ("+h+")"))
		}
		fmt.Fprintf(&b, "<dc:creator>%s</dc:creator>\n<category>%s</category>\n", xmlText(h), xmlText(h))
		fmt.Fprintf(&b, "<enclosure url=\"%s\" type=\"%s\" length=\"1\"/>\n", xmlText(u), xmlText(typ))
		fmt.Fprintf(&b, "<media:thumbnail url=\"%s\"/>\n", xmlText(u))
		// A permalink guid is the link of an item without one; a guid that
		// is not is an id, whatever it holds.
		if i%2 == 0 {
			fmt.Fprintf(&b, "<guid>%s</guid>\n", xmlText(u+"#"+strconv.Itoa(i)))
		} else {
			fmt.Fprintf(&b, "<guid isPermaLink=\"false\">%s</guid>\n", xmlText(h))
		}
		fmt.Fprintf(&b, "<pubDate>Mon, 02 Jun 2025 %02d:00:00 GMT</pubDate>\n</item>\n", i%24)
	}
	b.WriteString("</channel>\n</rss>\n")
	return []byte(b.String())
}

func buildHostileAtom(v vectors) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
`)
	fmt.Fprintf(&b, "<title type=\"html\">%s</title>\n<subtitle type=\"html\">%s</subtitle>\n", xmlText(hostileTitle), xmlText(v.html[0]))
	b.WriteString(`<id>javascript:alert('id')</id>
<updated>2025-06-02T00:00:00Z</updated>
<link href="javascript:alert('feed link')"/>
<link rel="hub" href="javascript:alert('hub')"/>
<link rel="self" href="data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;"/>
`)
	fmt.Fprintf(&b, "<author><name>%s</name><email>%s</email><uri>%s</uri></author>\n", xmlText(v.html[1]), xmlText(v.email[0]), xmlText(v.url[0]))
	for i := range v.html {
		h, u, e, typ := v.item(i)
		// Every fifth entry sets its base to a URL vector: relative links
		// inside must not inherit a script scheme.
		if i%5 == 0 {
			fmt.Fprintf(&b, "<entry xml:base=\"%s\">\n", xmlText(u))
		} else {
			b.WriteString("<entry>\n")
		}
		titleType := "html"
		if i%2 == 1 {
			titleType = "text"
		}
		fmt.Fprintf(&b, "<id>%s</id>\n<title type=\"%s\">%s</title>\n", xmlText(u+"#"+strconv.Itoa(i)), titleType, xmlText(h))
		fmt.Fprintf(&b, "<updated>2025-06-02T%02d:00:00Z</updated>\n", i%24)
		fmt.Fprintf(&b, "<link rel=\"alternate\" href=\"%s\"/>\n<link rel=\"enclosure\" href=\"%s\" type=\"%s\" length=\"1\"/>\n", xmlText(u), xmlText(u), xmlText(typ))
		fmt.Fprintf(&b, "<author><name>%s</name><email>%s</email><uri>%s</uri></author>\n", xmlText(h), xmlText(e), xmlText(u))
		fmt.Fprintf(&b, "<category term=\"%s\" label=\"%s\"/>\n", xmlText(h), xmlText(h))
		fmt.Fprintf(&b, "<summary type=\"html\">%s</summary>\n", xmlText(h))
		switch {
		case wellFormed(h):
			fmt.Fprintf(&b, "<content type=\"xhtml\"><div xmlns=\"http://www.w3.org/1999/xhtml\">%s</div></content>\n", h)
		case i%3 == 0:
			// No type: the markup decides whether it is HTML.
			fmt.Fprintf(&b, "<content>%s</content>\n", xmlText(h))
		default:
			fmt.Fprintf(&b, "<content type=\"html\">%s</content>\n", xmlText(h))
		}
		b.WriteString("</entry>\n")
	}
	b.WriteString("</feed>\n")
	return []byte(b.String())
}

func buildHostileJSON(v vectors) []byte {
	type author struct {
		Name   string `json:"name"`
		URL    string `json:"url"`
		Avatar string `json:"avatar"`
	}
	type attachment struct {
		URL      string `json:"url"`
		MimeType string `json:"mime_type"`
		Size     int    `json:"size_in_bytes"`
	}
	type item struct {
		ID          string       `json:"id"`
		URL         string       `json:"url"`
		ExternalURL string       `json:"external_url"`
		Title       string       `json:"title"`
		ContentHTML string       `json:"content_html,omitempty"`
		ContentText string       `json:"content_text,omitempty"`
		Summary     string       `json:"summary"`
		Image       string       `json:"image"`
		BannerImage string       `json:"banner_image"`
		Published   string       `json:"date_published"`
		Authors     []author     `json:"authors"`
		Tags        []string     `json:"tags"`
		Attachments []attachment `json:"attachments"`
	}
	doc := struct {
		Version     string   `json:"version"`
		Title       string   `json:"title"`
		HomePageURL string   `json:"home_page_url"`
		FeedURL     string   `json:"feed_url"`
		Description string   `json:"description"`
		Icon        string   `json:"icon"`
		Authors     []author `json:"authors"`
		Hubs        []struct {
			Type string `json:"type"`
			URL  string `json:"url"`
		} `json:"hubs"`
		Items []item `json:"items"`
	}{
		Version: "https://jsonfeed.org/version/1.1", Title: hostileTitle,
		HomePageURL: "javascript:alert('feed link')", FeedURL: "data:text/html,<script>alert(1)</script>",
		Description: v.html[0], Icon: v.url[0],
		Authors: []author{{Name: v.html[1], URL: v.url[0], Avatar: v.url[1]}},
	}
	doc.Hubs = append(doc.Hubs, struct {
		Type string `json:"type"`
		URL  string `json:"url"`
	}{"WebSub", "javascript:alert('hub')"})
	for i := range v.html {
		h, u, _, typ := v.item(i)
		it := item{
			ID: u + "#" + strconv.Itoa(i), URL: u, ExternalURL: u, Title: h, Summary: h,
			Image: u, BannerImage: u, Published: fmt.Sprintf("2025-06-02T%02d:00:00Z", i%24),
			Authors:     []author{{Name: h, URL: u, Avatar: u}},
			Tags:        []string{h},
			Attachments: []attachment{{URL: u, MimeType: typ, Size: 1}},
		}
		if i%2 == 0 {
			it.ContentHTML = h
		} else {
			it.ContentText = h
		}
		doc.Items = append(doc.Items, it)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // the markup as a careless publisher writes it
	enc.SetIndent("", " ")
	if err := enc.Encode(doc); err != nil {
		panic(err) // plain structs of strings always encode
	}
	return b.Bytes()
}

// TestHostileFeeds normalizes feeds that carry the standard XSS vectors in
// every field and checks that nothing executable survives: no script,
// handler, style, form, frame, plugin, SVG or MathML in the HTML, only
// absolute http(s) (and mailto) URLs anywhere, plain text without control
// characters, and media types and e-mail addresses that are what they say.
// Every item survives: hostility is cleaned, not a reason to lose the item.
func TestHostileFeeds(t *testing.T) {
	v := readVectors(t)
	n := New(Options{})
	for _, hf := range hostileFeeds {
		t.Run(hf.file, func(t *testing.T) {
			path := filepath.Join(hostileDir, hf.file)
			body := hf.build(v)
			// The checked-in feed must be the one vectors.txt makes.
			testkit.Golden(t, path, body)
			got, err := n.Normalize(feed.Source{Name: "hostile"}, body, hf.baseURL, testNow)
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			checkInvariants(t, got)
			if len(got.Items) != len(v.html) || got.Duplicates != 0 {
				t.Errorf("%d items and %d duplicates, want %d items", len(got.Items), got.Duplicates, len(v.html))
			}
			if got.Title == "" || strings.Contains(got.Title, "<script") || strings.Contains(got.Title, "alert(\"feed\")") {
				t.Errorf("feed title %q", got.Title)
			}
			for i, it := range got.Items {
				for _, p := range rules.HostileItemProblems(it) {
					t.Errorf("item %d (vector %q): %s", i, v.html[i], p)
				}
			}
		})
	}
}

// TestUnsafeHTML keeps the checker of TestHostileFeeds honest: it must see
// what it is there to see.
func TestUnsafeHTML(t *testing.T) {
	tests := []struct {
		fragment string
		unsafe   bool
	}{
		{`<p>plain <a href="https://ok.example/">link</a> <img src="https://ok.example/a.png" srcset="https://ok.example/a.png 2x"></p>`, false},
		{`<a href="mailto:a@b.example">mail</a>`, false},
		{`<iframe src="https://www.youtube.com/embed/x"></iframe>`, false},
		{`<script>alert(1)</script>`, true},
		{`<p onclick="alert(1)">x</p>`, true},
		{`<p style="color:red">x</p>`, true},
		{`<a href="javascript:alert(1)">x</a>`, true},
		{`<a href="/relative">x</a>`, true},
		{`<a href="https://ok.example/ x">x</a>`, true},
		{`<img src="https://ok.example/a.png" srcset="data:x 2x">`, true},
		{`<svg><circle/></svg>`, true},
		{`<iframe src="https://evil.example/"></iframe>`, true},
		{`<form><input></form>`, true},
		{`<meta http-equiv="refresh" content="0">`, true},
		{`<object data="x"></object>`, true},
	}
	for _, tt := range tests {
		if got := rules.UnsafeHTML(tt.fragment); (len(got) > 0) != tt.unsafe {
			t.Errorf("rules.UnsafeHTML(%q) = %q, want unsafe %v", tt.fragment, got, tt.unsafe)
		}
	}
}

func TestEscapeURI(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"https://ok.example/a?b=c&d=%20#f", "https://ok.example/a?b=c&d=%20#f"},
		{`https://ok.example/?q="><script>`, "https://ok.example/?q=%22%3E%3Cscript%3E"},
		{"https://ok.example/?q=a b|c{d}^e`f\\g", "https://ok.example/?q=a%20b%7Cc%7Bd%7D%5Ee%60f%5Cg"},
		{"https://ok.example/?q=\x01\x7f", "https://ok.example/?q=%01%7F"},
		{"https://ok.example/?q=caf\u00e9", "https://ok.example/?q=caf\u00e9"}, // an IRI keeps its letters
		{"https://ok.example/?q='", "https://ok.example/?q='"},                 // a sub-delimiter
	}
	for _, tt := range tests {
		if got := escapeURI(tt.in); got != tt.want {
			t.Errorf("escapeURI(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestLinkEscapedIDKept pins the split between the published link, a valid
// URI, and the id, which keeps the link as the feed gave it: ids stored
// before links were escaped must not move.
func TestLinkEscapedIDKept(t *testing.T) {
	body := `<rss version="2.0"><channel><item><title>x</title><link>https://ok.example/s?q=a b|"c"</link></item></channel></rss>`
	got, err := New(Options{}).Normalize(feed.Source{Name: "s"}, []byte(body), "https://ok.example/feed", testNow)
	if err != nil {
		t.Fatal(err)
	}
	it := got.Items[0]
	if want := "https://ok.example/s?q=a%20b%7C%22c%22"; it.Link != want {
		t.Errorf("Link = %q, want %q", it.Link, want)
	}
	if want := `https://ok.example/s?q=a b|"c"`; it.ID != want {
		t.Errorf("ID = %q, want %q", it.ID, want)
	}
}
