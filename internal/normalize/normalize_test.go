package normalize

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/testkit"
)

// fixtures are the hand-written feeds in testdata/, each with the URL it is
// pretended to be fetched from.
var fixtures = []struct {
	file    string
	baseURL string
}{
	{"rss091.xml", "https://cafe.example.com/rss.xml"},
	{"rss10.xml", "https://rdf.example.net/index.rdf"},
	{"rss20.xml", "https://go.example.org/feeds/blog.xml"},
	{"atom10.xml", "https://atom.example.com/weblog/feed.atom"},
	{"jsonfeed11.json", "https://json.example.com/feed.json"},
	{"preamble.xml", "https://pre.example.com/rss"},
	{"xss.xml", "https://xss.example.com/feed"},
}

// TestGolden normalizes every fixture and compares the result, as indented
// JSON, with its .golden.json file. Run with -update to rewrite them after a
// deliberate change, then read the diff.
func TestGolden(t *testing.T) {
	n := New(Options{})
	for _, fx := range fixtures {
		t.Run(fx.file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", fx.file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := n.Normalize(feed.Source{Name: "test-src"}, body, fx.baseURL, testNow)
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			checkInvariants(t, got)
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false) // keep the HTML in the golden files readable
			enc.SetIndent("", "  ")
			if err := enc.Encode(got); err != nil {
				t.Fatal(err)
			}
			data := buf.Bytes()
			golden := filepath.Join("testdata", strings.TrimSuffix(fx.file, filepath.Ext(fx.file))+".golden.json")
			testkit.Golden(t, golden, data)
		})
	}
}

func TestNotAFeed(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{"html page", "<!DOCTYPE html><html><head><title>Home</title></head><body>hi</body></html>"},
		{"empty", ""},
		{"whitespace", "   \n\t"},
		{"plain text", "just some words"},
		{"xml of another kind", `<?xml version="1.0"?><catalog><book>x</book></catalog>`},
		{"html after a long comment", "<!--" + strings.Repeat("x", 5000) + "--><html><body></body></html>"},
	}
	n := New(Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := n.Normalize(feed.Source{Name: "go-blog"}, []byte(tc.body), "https://example.com/", testNow)
			if !errors.Is(err, ErrNotAFeed) || !errors.Is(err, gofeed.ErrFeedTypeNotDetected) {
				t.Fatalf("err = %v, want one wrapping ErrNotAFeed and gofeed.ErrFeedTypeNotDetected", err)
			}
			if !strings.HasPrefix(err.Error(), "parse go-blog: ") {
				t.Errorf("err = %q, want it to name the source", err)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{"truncated rss", `<rss version="2.0"><channel><title>x</title><item><title>`},
		{"broken json", `{"version": "https://jsonfeed.org/version/1.1", "items": [`},
		// gofeed v1.4.2 dereferences the nil item and panics; guard must
		// turn that into an error.
		{"json null item", `{"version": "https://jsonfeed.org/version/1.1", "items": [null]}`},
	}
	n := New(Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := n.Normalize(feed.Source{Name: "go-blog"}, []byte(tc.body), "https://example.com/", testNow)
			if err == nil {
				// Lenient parsing is fine too, as long as the result holds.
				checkInvariants(t, f)
				return
			}
			t.Logf("err = %v", err)
			if errors.Is(err, ErrNotAFeed) {
				t.Errorf("err = %v: a broken feed is not an HTML page", err)
			}
			if !strings.HasPrefix(err.Error(), "parse go-blog: ") {
				t.Errorf("err = %q, want it to name the source", err)
			}
		})
	}
}

func TestEmptyFeeds(t *testing.T) {
	tests := []struct {
		name, body, wantTitle, wantLink string
	}{
		{"rss", `<rss version="2.0"><channel><title>Empty</title><link>https://e.example/</link></channel></rss>`, "Empty", "https://e.example/"},
		{"atom", `<feed xmlns="http://www.w3.org/2005/Atom"><title>Empty</title></feed>`, "Empty", "https://example.com/"},
		{"json", `{"version":"https://jsonfeed.org/version/1.1","title":"Empty","items":[]}`, "Empty", "https://example.com/"},
		{"rss without channel", `<rss version="2.0"></rss>`, "", "https://example.com/"},
	}
	n := New(Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := n.Normalize(feed.Source{Name: "s"}, []byte(tc.body), "https://example.com/some/feed.xml", testNow)
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			if len(f.Items) != 0 || f.Title != tc.wantTitle || f.Link != tc.wantLink {
				t.Errorf("got %d items, title %q, link %q; want 0, %q, %q", len(f.Items), f.Title, f.Link, tc.wantTitle, tc.wantLink)
			}
		})
	}
}

// TestTitles follows titles through each format's own escaping: whatever
// the feed's XML or JSON layer decodes, cleanText decodes once more, so
// that a title shows as its publisher meant it.
func TestTitles(t *testing.T) {
	rssWith := func(title string) string {
		return `<rss version="2.0"><channel><item><guid>g</guid><title>` + title + `</title></item></channel></rss>`
	}
	atomWith := func(title string) string {
		return `<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>g</id>` + title + `</entry></feed>`
	}
	jsonWith := func(title string) string {
		return `{"version":"https://jsonfeed.org/version/1.1","items":[{"id":"g","title":` + title + `}]}`
	}
	tests := []struct {
		name, body, want string
	}{
		{"rss escaped markup", rssWith(`Hello &lt;b&gt;World&lt;/b&gt;`), "Hello World"},
		{"rss cdata markup", rssWith(`<![CDATA[Hello <b>World</b> &amp; all]]>`), "Hello World & all"},
		{"rss double escaped ampersand", rssWith(`Tom &amp;amp; Jerry`), "Tom & Jerry"},
		{"rss triple escaped ampersand decoded once", rssWith(`Tom &amp;amp;amp; Jerry`), "Tom &amp; Jerry"},
		{"rss html entity", rssWith(`Caf&amp;eacute;`), "Café"},
		{"rss whitespace", rssWith("\n   Spread \n  out   \n"), "Spread out"},
		{"rss no title", rssWith(``), ""},
		{"atom text", atomWith(`<title type="text">x &lt; y &amp; z</title>`), "x < y & z"},
		{"atom html", atomWith(`<title type="html">&lt;em&gt;Em&lt;/em&gt; &amp;amp; more</title>`), "Em & more"},
		{"atom xhtml", atomWith(`<title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">An <b>xhtml</b> title</div></title>`), "An xhtml title"},
		{"json plain", jsonWith(`"Tom & Jerry"`), "Tom & Jerry"},
		{"json with entity", jsonWith(`"Tom &amp; Jerry"`), "Tom & Jerry"},
		{"json with markup", jsonWith(`"<i>Italic</i> title"`), "Italic title"},
	}
	n := New(Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := n.Normalize(feed.Source{Name: "s"}, []byte(tc.body), "https://x.example/feed", testNow)
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			if len(f.Items) != 1 || f.Items[0].Title != tc.want {
				t.Errorf("items = %+v, want one titled %q", f.Items, tc.want)
			}
		})
	}
}

func TestFeedLink(t *testing.T) {
	tests := []struct {
		name, body, baseURL    string
		wantLink, wantItemLink string
	}{
		{"rss relative link", `<rss version="2.0"><channel><link>/blog/</link><item><link>post</link></item></channel></rss>`,
			"https://x.example/feeds/rss.xml", "https://x.example/blog/", "https://x.example/blog/post"},
		{"no link: origin, items against the feed URL", `<rss version="2.0"><channel><item><link>post</link></item></channel></rss>`,
			"https://x.example/feeds/rss.xml", "https://x.example/", "https://x.example/feeds/post"},
		{"javascript link: origin", `<rss version="2.0"><channel><link>javascript:alert(1)</link><item><link>post</link></item></channel></rss>`,
			"https://x.example/feeds/rss.xml", "https://x.example/", "https://x.example/feeds/post"},
		{"atom: link from alternate, not self", `<feed xmlns="http://www.w3.org/2005/Atom"><link rel="self" href="/feed.atom"/><link href="/site/"/><entry><link href="p"/></entry></feed>`,
			"https://x.example/feeds/a", "https://x.example/site/", "https://x.example/site/p"},
		{"json home_page_url", `{"version":"https://jsonfeed.org/version/1.1","home_page_url":"https://home.example/","items":[{"id":"1","url":"/p"}]}`,
			"https://x.example/feed.json", "https://home.example/", "https://home.example/p"},
		{"no usable base URL", `<rss version="2.0"><channel><item><link>post</link><guid>g</guid></item></channel></rss>`,
			"not a url", "", ""},
	}
	n := New(Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := n.Normalize(feed.Source{Name: "s"}, []byte(tc.body), tc.baseURL, testNow)
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			if f.Link != tc.wantLink {
				t.Errorf("feed link = %q, want %q", f.Link, tc.wantLink)
			}
			if len(f.Items) != 1 || f.Items[0].Link != tc.wantItemLink {
				t.Errorf("items = %+v, want one linking to %q", f.Items, tc.wantItemLink)
			}
		})
	}
}

// TestPreamble pins the gofeed trap this package works around: gofeed alone
// does not detect a feed whose root follows 4 KB of preamble.
func TestPreamble(t *testing.T) {
	comment := "<!--" + strings.Repeat("generated ", 600) + "-->\n"
	tests := []struct {
		name, body string
		wantItems  int
	}{
		{"comment before rss", `<?xml version="1.0"?>` + "\n" + comment + `<rss version="2.0"><channel><item><title>a</title></item></channel></rss>`, 1},
		{"whitespace before atom", strings.Repeat(" \n", 3000) + `<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>x</id></entry></feed>`, 1},
		{"doctype with subset and PI before rdf", `<?xml version="1.0"?><?xml-stylesheet href="s.xsl"?><!DOCTYPE rdf:RDF [ <!ENTITY e "]>"> ` + strings.Repeat("<!-- c -->", 500) + ` ]>` + comment +
			`<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"><item><title>r</title><link>https://r.example/</link></item></rdf:RDF>`, 1},
		{"bom and whitespace before json", "\xEF\xBB\xBF" + strings.Repeat("\n", 5000) + `{"version":"https://jsonfeed.org/version/1.1","items":[{"id":"1"}]}`, 1},
	}
	n := New(Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := gofeed.NewParser().ParseString(tc.body); !errors.Is(err, gofeed.ErrFeedTypeNotDetected) {
				t.Logf("gofeed now detects this preamble itself (err = %v); the workaround may go", err)
			}
			f, err := n.Normalize(feed.Source{Name: "s"}, []byte(tc.body), "https://example.com/", testNow)
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			if len(f.Items) != tc.wantItems {
				t.Errorf("got %d items, want %d", len(f.Items), tc.wantItems)
			}
		})
	}
}

// TestDeclaredEncoding pins that a UTF-8 body still declaring its original
// charset is read as UTF-8, not decoded a second time.
func TestDeclaredEncoding(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"utf-8 body declared latin-1", `<?xml version="1.0" encoding="ISO-8859-1"?><rss version="2.0"><channel><title>Café</title></channel></rss>`, "Café"},
		{"utf-8 body declared windows-1252, single quotes", `<?xml version='1.0' encoding='windows-1252'?><rss version="2.0"><channel><title>naïve – “quotes”</title></channel></rss>`, "naïve – “quotes”"},
		{"latin-1 body declared latin-1", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss version=\"2.0\"><channel><title>Caf\xe9</title></channel></rss>", "Café"},
		{"utf-8 declared utf-8", `<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Café</title></channel></rss>`, "Café"},
	}
	n := New(Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := n.Normalize(feed.Source{Name: "s"}, []byte(tc.body), "https://example.com/", testNow)
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			if f.Title != tc.want {
				t.Errorf("title = %q, want %q", f.Title, tc.want)
			}
		})
	}
}

// TestXMLBase pins what gofeed v1.4.2 does with xml:base, which decides what
// is left for this package to resolve: in Atom it resolves links, enclosure
// links, author URIs and the URLs inside HTML content; in RSS it resolves
// <link> but neither enclosure URLs nor the HTML of descriptions, which this
// package then resolves against the feed's link.
func TestXMLBase(t *testing.T) {
	const atomFeed = `<feed xmlns="http://www.w3.org/2005/Atom">
  <link href="https://site.example/"/>
  <entry xml:base="https://base.example/dir/">
    <id>a</id>
    <link href="post"/>
    <link rel="enclosure" href="a.mp3" type="audio/mpeg" length="10"/>
    <author><name>A</name><uri>me</uri></author>
    <content type="html">&lt;a href="x"&gt;x&lt;/a&gt;</content>
  </entry>
</feed>`
	const rssFeed = `<rss version="2.0"><channel><link>https://site.example/</link>
  <item xml:base="https://base.example/dir/">
    <link>post</link>
    <enclosure url="a.mp3" type="audio/mpeg" length="10"/>
    <description>&lt;a href="x"&gt;x&lt;/a&gt;</description>
  </item>
</channel></rss>`
	tests := []struct {
		name, body                    string
		wantLink, wantEnc, wantInHTML string
		wantURI                       string
	}{
		{"atom", atomFeed, "https://base.example/dir/post", "https://base.example/dir/a.mp3", `href="https://base.example/dir/x"`, "https://base.example/dir/me"},
		{"rss", rssFeed, "https://base.example/dir/post", "https://site.example/a.mp3", `href="https://site.example/x"`, ""},
	}
	n := New(Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := n.Normalize(feed.Source{Name: "s"}, []byte(tc.body), "https://fetched.example/feed", testNow)
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			if len(f.Items) != 1 {
				t.Fatalf("got %d items, want 1", len(f.Items))
			}
			it := f.Items[0]
			if it.Link != tc.wantLink {
				t.Errorf("link = %q, want %q", it.Link, tc.wantLink)
			}
			if len(it.Enclosures) != 1 || it.Enclosures[0].URL != tc.wantEnc {
				t.Errorf("enclosures = %+v, want one at %q", it.Enclosures, tc.wantEnc)
			}
			if html := it.Summary + it.Content; !strings.Contains(html, tc.wantInHTML) {
				t.Errorf("html %q lacks %s", html, tc.wantInHTML)
			}
			if tc.wantURI != "" && (len(it.Authors) != 1 || it.Authors[0].URI != tc.wantURI) {
				t.Errorf("authors = %+v, want one with URI %q", it.Authors, tc.wantURI)
			}
		})
	}
}

func TestDuplicateIDs(t *testing.T) {
	tests := []struct {
		name    string
		items   string
		wantIDs []string
		wantTtl []string
	}{
		{
			name:    "same guid keeps the first",
			items:   `<item><guid>g1</guid><title>first</title></item><item><guid>g1</guid><title>second</title></item><item><guid>g2</guid><title>third</title></item>`,
			wantIDs: []string{"g1", "g2"},
			wantTtl: []string{"first", "third"},
		},
		{
			name:    "same link without guid",
			items:   `<item><link>https://x.example/a</link><title>one</title></item><item><link>https://x.example/a</link><title>two</title></item>`,
			wantIDs: []string{"https://x.example/a"},
			wantTtl: []string{"one"},
		},
		{
			name:    "guid spelled with spaces is the same guid",
			items:   `<item><guid> g1 </guid><title>one</title></item><item><guid>g1</guid><title>two</title></item>`,
			wantIDs: []string{"g1"},
			wantTtl: []string{"one"},
		},
		{
			name:    "same title and date hash alike",
			items:   `<item><title>t</title><pubDate>Mon, 12 May 2025 08:00:00 GMT</pubDate></item><item><title>t</title><pubDate>Mon, 12 May 2025 08:00:00 GMT</pubDate></item>`,
			wantIDs: []string{feed.ItemID("", "", "t", time.Date(2025, 5, 12, 8, 0, 0, 0, time.UTC))},
			wantTtl: []string{"t"},
		},
		{
			name:    "untitled linkless items differ by their text",
			items:   `<item><description>one</description></item><item><description>two</description></item>`,
			wantIDs: []string{feed.ItemID("", "", "one\x00", time.Time{}), feed.ItemID("", "", "two\x00", time.Time{})},
			wantTtl: []string{"", ""},
		},
	}
	n := New(Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := `<rss version="2.0"><channel>` + tc.items + `</channel></rss>`
			f, err := n.Normalize(feed.Source{Name: "s"}, []byte(body), "https://x.example/feed", testNow)
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			var ids, titles []string
			for _, it := range f.Items {
				ids = append(ids, it.ID)
				titles = append(titles, it.Title)
			}
			if strings.Join(ids, "|") != strings.Join(tc.wantIDs, "|") || strings.Join(titles, "|") != strings.Join(tc.wantTtl, "|") {
				t.Errorf("ids %q titles %q; want %q %q", ids, titles, tc.wantIDs, tc.wantTtl)
			}
			if want := strings.Count(tc.items, "<item>") - len(tc.wantIDs); f.Duplicates != want {
				t.Errorf("Duplicates = %d, want %d", f.Duplicates, want)
			}
		})
	}
}

// TestDuplicateIDsLogged checks that a dropped duplicate is logged at debug
// level with the source and the id.
func TestDuplicateIDsLogged(t *testing.T) {
	var buf bytes.Buffer
	n := New(Options{Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	body := `<rss version="2.0"><channel><item><guid>g1</guid></item><item><guid>g1</guid></item></channel></rss>`
	if _, err := n.Normalize(feed.Source{Name: "go-blog"}, []byte(body), "https://x.example/feed", testNow); err != nil {
		t.Fatalf("Normalize: %v", err)
	}
	if got := buf.String(); !strings.Contains(got, "level=DEBUG") || !strings.Contains(got, "source=go-blog") || !strings.Contains(got, "id=g1") {
		t.Errorf("log = %q, want a debug line naming source go-blog and id g1", got)
	}
}

func TestIDFallback(t *testing.T) {
	date := time.Date(2025, 5, 12, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name, item, want string
	}{
		{"rss guid", `<item><guid>abc</guid><link>https://x.example/a</link></item>`, "abc"},
		{"rss guid not a permalink", `<item><guid isPermaLink="false">urn:x:1</guid></item>`, "urn:x:1"},
		{"rss link when no guid", `<item><link>https://x.example/a</link><title>t</title></item>`, "https://x.example/a"},
		{"rss relative link resolved before use", `<item><link>/a</link></item>`, "https://x.example/a"},
		{"rss empty guid falls to link", `<item><guid></guid><link>https://x.example/b</link></item>`, "https://x.example/b"},
		{"hash of title and date", `<item><title>Only a title</title><pubDate>Mon, 12 May 2025 08:00:00 GMT</pubDate></item>`, feed.ItemID("", "", "Only a title", date)},
		{"hash uses the raw future date, not the clamped one", `<item><title>Future</title><pubDate>Fri, 01 Jan 2100 00:00:00 GMT</pubDate></item>`, feed.ItemID("", "", "Future", time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC))},
		{"hash of the cleaned title", `<item><title>  &lt;b&gt;Bold&lt;/b&gt;   title </title></item>`, feed.ItemID("", "", "Bold title", time.Time{})},
	}
	n := New(Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := `<rss version="2.0"><channel><link>https://x.example/</link>` + tc.item + `</channel></rss>`
			f, err := n.Normalize(feed.Source{Name: "s"}, []byte(body), "https://x.example/feed", testNow)
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			if len(f.Items) != 1 || f.Items[0].ID != tc.want {
				t.Errorf("items = %+v, want one with id %q", f.Items, tc.want)
			}
		})
	}
}

// TestIDFallbackFormats covers the id sources of Atom and JSON Feed.
func TestIDFallbackFormats(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"atom id", `<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>tag:x,2025:1</id><link href="https://x.example/1"/></entry></feed>`, "tag:x,2025:1"},
		{"atom link without id", `<feed xmlns="http://www.w3.org/2005/Atom"><entry><link href="/1"/></entry></feed>`, "https://x.example/1"},
		{"json numeric id", `{"version":"https://jsonfeed.org/version/1.1","items":[{"id":42,"url":"https://x.example/42"}]}`, "42"},
		{"json url without id", `{"version":"https://jsonfeed.org/version/1.1","items":[{"url":"https://x.example/u"}]}`, "https://x.example/u"},
	}
	n := New(Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := n.Normalize(feed.Source{Name: "s"}, []byte(tc.body), "https://x.example/feed", testNow)
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			if len(f.Items) != 1 || f.Items[0].ID != tc.want {
				t.Errorf("items = %+v, want one with id %q", f.Items, tc.want)
			}
		})
	}
}

func TestDates(t *testing.T) {
	tests := []struct {
		name           string
		item           string
		wantPub, wantU string // RFC 3339, "" for zero
	}{
		{"pubDate to UTC", `<pubDate>Tue, 13 May 2025 17:00:00 +0200</pubDate>`, "2025-05-13T15:00:00Z", ""},
		{"no date stays zero", ``, "", ""},
		{"unparseable date is no date", `<pubDate>yesterday-ish</pubDate>`, "", ""},
		{"epoch is no date", `<pubDate>Thu, 01 Jan 1970 00:00:00 GMT</pubDate>`, "", ""},
		{"1994 is no date", `<pubDate>Sat, 31 Dec 1994 23:59:59 GMT</pubDate>`, "", ""},
		{"1995 is a date", `<pubDate>Sun, 01 Jan 1995 00:00:00 GMT</pubDate>`, "1995-01-01T00:00:00Z", ""},
		{"23h in the future is kept", `<pubDate>Mon, 02 Jun 2025 11:00:00 GMT</pubDate>`, "2025-06-02T11:00:00Z", ""},
		{"25h in the future is no date (first-seen time)", `<pubDate>Mon, 02 Jun 2025 13:00:00 GMT</pubDate>`, "", ""},
		{"year 2100 is no date (first-seen time)", `<pubDate>Fri, 01 Jan 2100 00:00:00 GMT</pubDate>`, "", ""},
		{"dc:date publishes, does not update", `<dc:date>2024-03-01T09:30:00+01:00</dc:date>`, "2024-03-01T08:30:00Z", ""},
		{"pubDate wins over dc:date", `<pubDate>Mon, 12 May 2025 08:00:00 GMT</pubDate><dc:date>2024-03-01T09:30:00+01:00</dc:date>`, "2025-05-12T08:00:00Z", ""},
		{"atom:updated alone", `<atom:updated>2025-05-13T08:00:00+02:00</atom:updated>`, "", "2025-05-13T06:00:00Z"},
		{"atom:updated updates", `<pubDate>Mon, 12 May 2025 08:00:00 GMT</pubDate><atom:updated>2025-05-13T08:00:00Z</atom:updated>`, "2025-05-12T08:00:00Z", "2025-05-13T08:00:00Z"},
		{"update before publication is raised", `<pubDate>Mon, 12 May 2025 08:00:00 GMT</pubDate><atom:updated>2025-05-01T08:00:00Z</atom:updated>`, "2025-05-12T08:00:00Z", "2025-05-12T08:00:00Z"},
	}
	n := New(Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := `<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom"><channel><item><guid>g</guid>` + tc.item + `</item></channel></rss>`
			f, err := n.Normalize(feed.Source{Name: "s"}, []byte(body), "https://x.example/feed", testNow)
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			it := f.Items[0]
			if got := fmtDate(it.Published); got != tc.wantPub {
				t.Errorf("Published = %q, want %q", got, tc.wantPub)
			}
			if got := fmtDate(it.Updated); got != tc.wantU {
				t.Errorf("Updated = %q, want %q", got, tc.wantU)
			}
		})
	}
}

// TestAtomDates pins that an Atom entry with only <updated> gets no
// Published: gofeed would copy updated into published.
func TestAtomDates(t *testing.T) {
	body := `<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>1</id><updated>2025-05-13T08:00:00+02:00</updated></entry></feed>`
	f, err := New(Options{}).Normalize(feed.Source{Name: "s"}, []byte(body), "https://x.example/feed", testNow)
	if err != nil {
		t.Fatalf("Normalize: %v", err)
	}
	it := f.Items[0]
	if !it.Published.IsZero() || fmtDate(it.Updated) != "2025-05-13T06:00:00Z" {
		t.Errorf("Published = %v, Updated = %v; want zero and 2025-05-13T06:00:00Z", it.Published, it.Updated)
	}
}

func fmtDate(d time.Time) string {
	if d.IsZero() {
		return ""
	}
	return d.Format(time.RFC3339)
}

func TestAuthors(t *testing.T) {
	tests := []struct {
		name string
		item string
		want []feed.Person
	}{
		{"email (name)", `<author>jane@example.org (Jane Doe)</author>`, []feed.Person{{Name: "Jane Doe", Email: "jane@example.org"}}},
		{"name (email)", `<author>Jane Doe (jane@example.org)</author>`, []feed.Person{{Name: "Jane Doe", Email: "jane@example.org"}}},
		{"name <email>", `<author>Jane Doe &lt;jane@example.org&gt;</author>`, []feed.Person{{Name: "Jane Doe", Email: "jane@example.org"}}},
		{"bare email", `<author>jane@example.org</author>`, []feed.Person{{Email: "jane@example.org"}}},
		{"bare name", `<author>Jane Doe</author>`, []feed.Person{{Name: "Jane Doe"}}},
		{"name with markup and entities", `<author>&lt;b&gt;Jos&amp;eacute;&lt;/b&gt; Ortiz</author>`, []feed.Person{{Name: "José Ortiz"}}},
		{"every dc:creator", `<dc:creator>Rob</dc:creator><dc:creator>Ken</dc:creator><dc:creator>Rob</dc:creator>`, []feed.Person{{Name: "Rob"}, {Name: "Ken"}}},
		{"author wins over dc:creator", `<author>a@example.org (A)</author><dc:creator>B</dc:creator>`, []feed.Person{{Name: "A", Email: "a@example.org"}}},
		{"itunes:author as a fallback", `<itunes:author>Pod Person</itunes:author>`, []feed.Person{{Name: "Pod Person"}}},
		{"dc:creator wins over itunes:author", `<dc:creator>Rob</dc:creator><itunes:author>Pod</itunes:author>`, []feed.Person{{Name: "Rob"}}},
		{"blank author", `<author>   </author>`, nil},
	}
	n := New(Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := `<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel><item><guid>g</guid>` + tc.item + `</item></channel></rss>`
			f, err := n.Normalize(feed.Source{Name: "s"}, []byte(body), "https://x.example/feed", testNow)
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			if got := f.Items[0].Authors; !equalPeople(got, tc.want) {
				t.Errorf("authors = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func equalPeople(a, b []feed.Person) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestConcurrentUse runs one Normalizer from several goroutines; run with
// -race.
func TestConcurrentUse(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("testdata", "rss20.xml"))
	if err != nil {
		t.Fatal(err)
	}
	n := New(Options{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := n.Normalize(feed.Source{Name: "s"}, body, "https://go.example.org/feeds/blog.xml", testNow); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

// TestAtomEntryDocument checks that an Atom Entry Document (RFC 4287
// §4.1.2), which gofeed does not read, is read as a feed of its one entry,
// as feedparser and feed readers read it, whatever its preamble and prefix.
func TestAtomEntryDocument(t *testing.T) {
	tests := []struct {
		name, body string
	}{
		{"default namespace", `<?xml version="1.0" encoding="utf-8"?>` + "\n<!-- c -->\n" +
			`<entry xmlns="http://www.w3.org/2005/Atom"><id>urn:x:1</id><title>One</title><link href="/posts/1"/><updated>2025-05-01T10:00:00Z</updated></entry>`},
		{"prefixed", `<atom:entry xmlns:atom="http://www.w3.org/2005/Atom"><atom:id>urn:x:1</atom:id><atom:title>One</atom:title><atom:link href="/posts/1"/><atom:updated>2025-05-01T10:00:00Z</atom:updated></atom:entry>`},
		{"doctype and long preamble", `<?xml version="1.0"?><!DOCTYPE entry>` + "<!--" + strings.Repeat("x", 5000) + "-->\n" +
			`<entry xmlns="http://www.w3.org/2005/Atom"><id>urn:x:1</id><title>One</title><link href="/posts/1"/><updated>2025-05-01T10:00:00Z</updated></entry>` + "\n<!-- trailing -->\n"},
	}
	n := New(Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := gofeed.NewParser().ParseString(tc.body); !errors.Is(err, gofeed.ErrFeedTypeNotDetected) {
				t.Logf("gofeed now reads Atom entry documents itself (err = %v); the workaround may go", err)
			}
			f, err := n.Normalize(feed.Source{Name: "s"}, []byte(tc.body), "https://x.example/entry.atom", testNow)
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			checkInvariants(t, f)
			if len(f.Items) != 1 {
				t.Fatalf("got %d items, want 1", len(f.Items))
			}
			it := f.Items[0]
			want := time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)
			if it.ID != "urn:x:1" || it.Title != "One" || it.Link != "https://x.example/posts/1" || !it.Updated.Equal(want) {
				t.Errorf("item = {ID %q, Title %q, Link %q, Updated %v}, want {urn:x:1, One, https://x.example/posts/1, %v}",
					it.ID, it.Title, it.Link, it.Updated, want)
			}
		})
	}
}

// TestNormalizeRefusesJSONAPI: a json source with item rules is a JSON API,
// which internal/scrape reads; Normalize says so rather than reading the
// body as a JSON Feed and silently ignoring the rules.
func TestNormalizeRefusesJSONAPI(t *testing.T) {
	src := feed.Source{Name: "api", Type: feed.TypeJSON, Items: &feed.ItemRules{Each: "items"}}
	body := []byte(`{"version":"https://jsonfeed.org/version/1.1","title":"t","items":[{"id":"1","url":"https://a.example/1"}]}`)
	got, err := New(Options{}).Normalize(src, body, "https://a.example/feed.json", testNow)
	if err == nil || got != nil || !strings.Contains(err.Error(), "JSON API") {
		t.Fatalf("Normalize(JSON API source) = %v, %v; want an error naming the JSON API", got, err)
	}
}
