package normalize

import (
	"strings"
	"testing"

	"github.com/feedmill/feedmill/internal/feed"
)

func TestCanonical(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"already canonical", "https://news.example/a/b", "https://news.example/a/b"},
		{"utm parameters", "https://news.example/a?utm_source=rss&utm_medium=feed&utm_campaign=x", "https://news.example/a"},
		{"tracking among others, order kept", "https://news.example/a?z=1&utm_source=rss&b=2&fbclid=X&a=3", "https://news.example/a?z=1&b=2&a=3"},
		{"every kind of click id", "https://n.example/a?gclid=1&dclid=2&gbraid=3&wbraid=4&msclkid=5&yclid=6&igshid=7&id=8", "https://n.example/a?id=8"},
		{"mailing lists", "https://n.example/a?mc_cid=1&mc_eid=2&_hsenc=3&_hsmi=4&mkt_tok=5&vero_id=6&oly_anon_id=7&oly_enc_id=8&__s=9&wt_mc=10&spm=11&p=1", "https://n.example/a?p=1"},
		{"ref exact", "https://n.example/a?ref=rss&ref_src=twsrc&ref_url=x&refresh=1&reference=2", "https://n.example/a?refresh=1&reference=2"},
		{"names without case", "https://n.example/a?UTM_Source=x&FBCLID=y&k=v", "https://n.example/a?k=v"},
		{"encoded name", "https://n.example/a?utm%5Fsource=x&k=v", "https://n.example/a?k=v"},
		{"values and spelling kept", "https://n.example/a?q=a+b&r=%2F&s", "https://n.example/a?q=a+b&r=%2F&s"},
		{"empty query removed", "https://n.example/a?", "https://n.example/a"},
		{"only tracking leaves no query", "https://n.example/a?utm_source=x", "https://n.example/a"},
		{"empty pairs dropped", "https://n.example/a?&a=1&&b=2&", "https://n.example/a?a=1&b=2"},
		{"scheme and host lower-cased", "HTTPS://News.EXAMPLE/Path/To", "https://news.example/Path/To"},
		{"default https port", "https://news.example:443/a", "https://news.example/a"},
		{"default http port", "http://news.example:80/a", "http://news.example/a"},
		{"other port kept", "https://news.example:8443/a", "https://news.example:8443/a"},
		{"http port on https kept", "https://news.example:80/a", "https://news.example:80/a"},
		{"fragment removed", "https://news.example/a#comments", "https://news.example/a"},
		{"trailing slash kept", "https://news.example/a/", "https://news.example/a/"},
		{"empty path is /", "https://news.example", "https://news.example/"},
		{"path case and escapes kept", "https://news.example/A%2Fb/C", "https://news.example/A%2Fb/C"},
		{"ipv6 literal", "http://[2001:DB8::1]:80/a", "http://[2001:db8::1]/a"},
		{"spaces trimmed", "  https://news.example/a  ", "https://news.example/a"},
		{"relative", "/a/b", ""},
		{"not http", "ftp://news.example/a", ""},
		{"mailto", "mailto:a@news.example", ""},
		{"no host", "https:///a", ""},
		{"unparseable", "http://[::1", ""},
		{"empty", "", ""},
	}
	n := New(Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := n.Canonical(tc.in); got != tc.want {
				t.Errorf("Canonical(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestLinkKey(t *testing.T) {
	n := New(Options{TrackingParams: []string{"src"}})
	const key = "//news.example/a/b?id=7"
	tests := []struct {
		name, in, want string
	}{
		{"as stored", "https://news.example/a/b?id=7", key},
		{"http for https", "http://news.example/a/b?id=7", key},
		{"trailing slash", "https://news.example/a/b/?id=7", key},
		{"tracking parameters", "https://news.example/a/b?utm_source=rss&id=7&fbclid=X&src=feed", key},
		{"fragment", "https://news.example/a/b?id=7#comments", key},
		{"case of scheme and host", "HTTPS://News.Example/a/b?id=7", key},
		{"default port", "http://news.example:80/a/b?id=7", key},
		{"all at once", "  http://NEWS.example:80/a/b//?fbclid=1&id=7#top ", key},
		{"root", "https://news.example", "//news.example/"},
		{"root with slash", "http://news.example/", "//news.example/"},
		{"path case counts", "https://news.example/A/b?id=7", "//news.example/A/b?id=7"},
		{"other parameters count", "https://news.example/a/b?id=8", "//news.example/a/b?id=8"},
		{"other port counts", "https://news.example:8443/a/b?id=7", "//news.example:8443/a/b?id=7"},
		{"an id, not a link", "harbour-101", ""},
		{"relative", "/a/b", ""},
		{"not http", "ftp://news.example/a", ""},
		{"empty", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := n.LinkKey(tc.in); got != tc.want {
				t.Errorf("LinkKey(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestCanonicalConfiguredParams(t *testing.T) {
	n := New(Options{TrackingParams: []string{"src", "at_*", " CMP ", "", "*"}})
	tests := []struct {
		in, want string
	}{
		{"https://n.example/a?src=rss&at_custom1=x&at_x=y&cmp=z&k=v", "https://n.example/a?k=v"},
		{"https://n.example/a?source=rss&atom=1", "https://n.example/a?source=rss&atom=1"}, // exact and prefix only; a bare '*' is ignored
		{"https://n.example/a?utm_source=x&k=v", "https://n.example/a?k=v"},                // the built-in list still applies
	}
	for _, tc := range tests {
		if got := n.Canonical(tc.in); got != tc.want {
			t.Errorf("Canonical(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestTrackingInItems follows tracking parameters through Normalize: the
// item's link loses them but keeps its fragment, its id stays the link as
// the feed gives it, its canonical loses the fragment too, and links inside
// the content lose them and keep their fragments; image URLs are left
// alone.
func TestTrackingInItems(t *testing.T) {
	const body = `<rss version="2.0"><channel><link>https://news.example/</link>
<item>
  <link>https://News.example:443/story?id=7&amp;utm_source=rss&amp;utm_medium=feed#top</link>
  <description>&lt;p&gt;See &lt;a href="/other?fbclid=1&amp;amp;p=2#sec-3"&gt;this&lt;/a&gt; and &lt;a href="#notes?utm_source=x"&gt;notes&lt;/a&gt;.&lt;img src="/i.png?utm_source=rss"&gt;&lt;/p&gt;</description>
</item>
<item><title>No link</title><description>text</description></item>
</channel></rss>`
	f, err := New(Options{TrackingParams: []string{"p"}}).Normalize(feed.Source{Name: "s"}, []byte(body), "https://news.example/feed", testNow)
	if err != nil {
		t.Fatalf("Normalize: %v", err)
	}
	if len(f.Items) != 2 {
		t.Fatalf("got %d items, want 2", len(f.Items))
	}
	it := f.Items[0]
	checks := []struct{ what, got, want string }{
		{"Link", it.Link, "https://news.example/story?id=7#top"},
		{"ID", it.ID, "https://News.example:443/story?id=7&utm_source=rss&utm_medium=feed#top"},
		{"Canonical", it.Canonical, "https://news.example/story?id=7"},
		{"Summary", it.Summary, `<p>See <a href="https://news.example/other#sec-3">this</a> and <a href="https://news.example/story?id=7#notes?utm_source=x">notes</a>.<img src="https://news.example/i.png?utm_source=rss"/></p>`},
		{"second Canonical", f.Items[1].Canonical, ""},
		{"second Link", f.Items[1].Link, ""},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
		}
	}
}

// TestTrackingParamsNoAllStrip pins that no configured name strips every
// parameter: the query decides which article a link is on some sites.
func TestTrackingParamsNoAllStrip(t *testing.T) {
	tp := newTrackingParams([]string{"*", "  *  "})
	if got := tp.strip("id=1&page=2"); !strings.Contains(got, "id=1") {
		t.Errorf("strip = %q, want id kept", got)
	}
}
