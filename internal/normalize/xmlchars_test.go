package normalize

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/feedmill/feedmill/internal/feed"
)

// TestForbiddenCharacters: a character XML forbids, raw or as a character
// reference, in any place of an XML feed costs that character, not the
// feed; and none reaches an item's fields, whatever the format it came in
// (JSON Feed escapes, references inside escaped HTML), since feedmill's own
// Atom and RSS would then be ill-formed.
func TestForbiddenCharacters(t *testing.T) {
	rss := func(item string) string {
		return `<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title><link>https://x.example/</link>` +
			item + `<item><title>second</title><link>https://x.example/2</link></item></channel></rss>`
	}
	atom := func(entry string) string {
		return `<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>` + entry +
			`<entry><id>tag:x.example,2025:2</id><title>second</title></entry></feed>`
	}
	tests := []struct {
		name  string
		body  string
		title string // of the first item
		items int
	}{
		{"hex reference in a title", rss(`<item><title>a&#x1b;b</title><link>https://x.example/1</link></item>`), "ab", 2},
		{"upper-case hex reference", rss(`<item><title>a&#x1B;[0mb</title><link>https://x.example/1</link></item>`), "a[0mb", 2},
		{"NUL reference", rss(`<item><title>a&#0;b</title><link>https://x.example/1</link></item>`), "ab", 2},
		{"decimal reference", rss(`<item><title>a&#27;b</title><link>https://x.example/1</link></item>`), "ab", 2},
		{"padded decimal reference", rss(`<item><title>a&#00000001;b</title><link>https://x.example/1</link></item>`), "ab", 2},
		{"form feed reference separates words", rss(`<item><title>a&#12;b</title><link>https://x.example/1</link></item>`), "a b", 2},
		{"raw escape", rss("<item><title>a\x1bb</title><link>https://x.example/1</link></item>"), "ab", 2},
		{"raw NUL", rss("<item><title>a\x00b</title><link>https://x.example/1</link></item>"), "ab", 2},
		{"raw U+FFFE", rss("<item><title>a\uFFFEb</title><link>https://x.example/1</link></item>"), "ab", 2},
		{"raw U+FFFF", rss("<item><title>a\uFFFFb</title><link>https://x.example/1</link></item>"), "ab", 2},
		{"U+FFFF reference", rss(`<item><title>a&#xFFFF;b</title><link>https://x.example/1</link></item>`), "ab", 2},
		{"lone surrogate reference", rss(`<item><title>a&#xD800;b</title><link>https://x.example/1</link></item>`), "a\uFFFDb", 2},
		{"reference past Unicode", rss(`<item><title>a&#99999999999999999999;b</title><link>https://x.example/1</link></item>`), "a\uFFFDb", 2},
		{"reference in a guid", rss(`<item><guid isPermaLink="false">id&#1;1</guid><title>a</title></item>`), "a", 2},
		{"reference in an attribute", rss(`<item><title>a</title><link>https://x.example/1</link><enclosure url="https://x.example/a&#2;.mp3" type="audio/mpeg" length="1"/></item>`), "a", 2},
		{"reference in a description", rss(`<item><title>a</title><link>https://x.example/1</link><description>x&#x1b;y</description></item>`), "a", 2},
		{"raw in CDATA", rss("<item><title><![CDATA[a\x1bb]]></title><link>https://x.example/1</link></item>"), "ab", 2},
		{"reference text in CDATA stays text", rss(`<item><title><![CDATA[a&#x1b;b]]></title><link>https://x.example/1</link></item>`), "ab", 2},
		{"reference in a comment", rss(`<!-- &#0; --><item><title>a</title><link>https://x.example/1</link></item>`), "a", 2},
		{"atom title and content", atom(`<entry><id>tag:x.example,2025:1</id><title>a&#x1b;b</title><content type="html">&lt;p&gt;x&#0;y&lt;/p&gt;</content></entry>`), "ab", 2},
		{"atom xhtml content", atom(`<entry><id>tag:x.example,2025:1</id><title>ab</title><content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">x&#x7;y</div></content></entry>`), "ab", 2},
		{"reference inside escaped HTML", rss(`<item><title>ab</title><link>https://x.example/1</link><description>&lt;p&gt;x&amp;#1;y&amp;#x1b;z&lt;/p&gt;</description></item>`), "ab", 2},
		{"json escapes", `{"version":"https://jsonfeed.org/version/1.1","title":"T\u0001","items":[{"id":"1\u0001","url":"https://x.example/1","title":"a\u0000b\u001b","content_html":"<p>x\u001by</p>","summary":"q\u0001r\ufffes","tags":["t\u0002"],"authors":[{"name":"n\u0003"}]},{"id":"2","title":"second","content_text":"x\u001by"}]}`, "ab", 2},
	}
	n := New(Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := n.Normalize(feed.Source{Name: "s"}, []byte(tt.body), "https://x.example/feed", testNow)
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			if len(f.Items) != tt.items {
				t.Fatalf("%d items, want %d", len(f.Items), tt.items)
			}
			if got := f.Items[0].Title; got != tt.title {
				t.Errorf("title %q, want %q", got, tt.title)
			}
			checkInvariants(t, f)
		})
	}
}

// TestFixXMLChars pins the body pass: what it removes, replaces and keeps.
func TestFixXMLChars(t *testing.T) {
	tests := []struct {
		name, in, want string
		fixed          int
	}{
		{"clean", `<a b="&#x41;&amp;">x&#8217;y&#9;&#10;&#13;</a>`, `<a b="&#x41;&amp;">x&#8217;y&#9;&#10;&#13;</a>`, 0},
		{"raw controls", "a\x00b\x01c\x1fd\te\nf\rg", "abcd\te\nf\rg", 3},
		{"vertical tab and form feed", "a\vb\fc&#11;d&#xC;e", "a b c d e", 4},
		{"noncharacters", "a\uFFFEb\uFFFFc\uFFFDd&#xfffe;&#65535;", "abc\uFFFDd", 4},
		{"references", "&#0;&#x0;&#31;&#x1F;&#32;", "&#32;", 4},
		{"surrogates and beyond", "&#xD800;&#57343;&#x110000;&#x10FFFF;", "\uFFFD\uFFFD\uFFFD&#x10FFFF;", 3},
		{"not references", "&#;&#x;&#12&#X1b;&# 1;&#1a;", "&#;&#x;&#12&#X1b;&# 1;&#1a;", 0},
		{"CDATA keeps reference text", "<![CDATA[&#0;\x01]]>&#0;", "<![CDATA[&#0;]]>", 2},
		{"comment keeps reference text", "<!--&#0;\x01-->&#0;", "<!--&#0;-->", 2},
		{"unterminated CDATA", "<![CDATA[&#0;\x01", "<![CDATA[&#0;", 1},
		{"a drop would make a reference", "&#&#0;1;&\x00#1;&#x\x001;", "&#\uFFFD1;&\uFFFD#1;&#x\uFFFD1;", 3},
		{"a drop would end a CDATA section", "<![CDATA[]]\x00>&#1;]]>", "<![CDATA[]]\uFFFD>&#1;]]>", 1},
		{"a drop would open a comment", "<!-\x00-&#1;", "<!-\uFFFD-", 2},
		{"at the end", "a&#0", "a&#0", 0},
		{"truncated U+FFFE", "a\xef\xbf", "a\xef\xbf", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, fixed := fixXMLChars([]byte(tt.in))
			if string(got) != tt.want || fixed != tt.fixed {
				t.Errorf("fixXMLChars(%q) = %q, %d; want %q, %d", tt.in, got, fixed, tt.want, tt.fixed)
			}
		})
	}
}

// TestFixXMLCharsCleanBodyIsNotCopied keeps the pass cheap on the ingest
// path: a clean body (every feed of the corpus but a handful) comes back
// as it is, without an allocation.
func TestFixXMLCharsCleanBodyIsNotCopied(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("testdata", "rss20.xml"))
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(10, func() {
		out, fixed := fixXMLChars(body)
		if fixed != 0 || len(out) != len(body) || &out[0] != &body[0] {
			t.Fatalf("a clean body was changed or copied (%d fixes)", fixed)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations for a clean body, want 0", allocs)
	}
	if s, dropped := dropForbidden(string(body)); dropped || s != string(body) {
		t.Error("dropForbidden changed a clean text")
	}
}

// BenchmarkFixXMLChars measures the pass over a clean feed, the common
// case on the ingest path.
func BenchmarkFixXMLChars(b *testing.B) {
	body := bytes.Repeat([]byte(`<item><title>Caf&#233; &amp; more</title><description><![CDATA[<p>Some text, and &#8217;quotes&#8217;.</p>]]></description></item>`+"\n"), 2000)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		fixXMLChars(body)
	}
}

// FuzzFixXMLChars: whatever the body, the pass leaves no forbidden
// character in it (raw, or as a reference outside CDATA and comments, as
// far as a second pass can tell), and a second pass changes nothing.
func FuzzFixXMLChars(f *testing.F) {
	for _, s := range []string{"a&#0;b", "<![CDATA[\x01&#0;]]>&#1;", "\uFFFE&#xD800;", "<!--\x00", "&#99999999999;"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		once, _ := fixXMLChars(body)
		for _, c := range once {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				t.Fatalf("control %#x left in %q", c, once)
			}
		}
		if bytes.Contains(once, []byte("\uFFFE")) || bytes.Contains(once, []byte("\uFFFF")) {
			t.Fatalf("noncharacter left in %q", once)
		}
		if twice, fixed := fixXMLChars(once); fixed != 0 || !bytes.Equal(twice, once) {
			t.Fatalf("second pass fixed %d in %q", fixed, once)
		}
		if strings.Contains(string(once), "\x00") {
			t.Fatal("NUL left")
		}
	})
}
