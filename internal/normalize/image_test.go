package normalize

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/feedmill/feedmill/internal/feed"
)

// TestItemImages normalizes feeds that carry pictures in every way feeds
// do (media RSS, Atom with media, JSON Feed, a podcast) and checks each
// item's image: the first usable candidate, resolved, never one taken from
// the content's HTML, and the enclosures kept as the feed gave them.
func TestItemImages(t *testing.T) {
	tests := []struct {
		file    string
		baseURL string
		want    map[string]string // item title -> image
		encl    map[string]int    // item title -> enclosures kept
	}{
		{
			file: "media.rss.xml", baseURL: "https://gazette.example.org/feed.xml",
			want: map[string]string{
				"Thumbnail beats content":            "https://img.example.org/ferry-thumb.jpg",
				"Image media content":                "https://gazette.example.org/img/crane.jpg",
				"Inside a media group":               "https://img.example.org/regatta.png",
				"Thumbnail inside a group's content": "https://img.example.org/storm-still.jpg",
				"Image enclosure":                    "https://img.example.org/lighthouse.gif",
				"Audio enclosure is no picture":      "",
				"Unusable candidates skipped":        "https://img.example.org/tide.jpg?sig=abc",
			},
			encl: map[string]int{"Image enclosure": 1, "Audio enclosure is no picture": 1},
		},
		{
			file: "media.atom.xml", baseURL: "https://feeds.example.net/orchard.atom",
			want: map[string]string{
				"Pruning season":  "https://orchard.example.net/images/pruning.jpg",
				"Blossom gallery": "https://cdn.example.net/blossom-1.jpg",
				"Cider press":     "https://cdn.example.net/cider.webp",
				"No picture":      "",
			},
			encl: map[string]int{"Cider press": 2},
		},
		{
			file: "items.json", baseURL: "https://kiln.example.com/feed.json",
			want: map[string]string{
				"Glaze tests":  "https://kiln.example.com/photos/glaze.jpg",
				"First firing": "https://kiln.example.com/photos/firing-banner.jpg",
				"Clay order":   "",
			},
		},
		{
			file: "podcast.xml", baseURL: "https://nightshift.example.com/feed",
			want: map[string]string{
				"Episode 12: Bakers": "https://nightshift.example.com/ep12.jpg",
				// The show's picture is the channel's, not every episode's.
				"Episode 11: Nurses": "",
			},
			encl: map[string]int{"Episode 12: Bakers": 1, "Episode 11: Nurses": 1},
		},
	}
	n := New(Options{})
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", "images", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			f, err := n.Normalize(feed.Source{Name: "pictures"}, body, tc.baseURL, testNow)
			if err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, f)
			if len(f.Items) != len(tc.want) {
				t.Fatalf("%d items, want %d", len(f.Items), len(tc.want))
			}
			for _, it := range f.Items {
				want, ok := tc.want[it.Title]
				if !ok {
					t.Errorf("unexpected item %q", it.Title)
					continue
				}
				if it.Image != want {
					t.Errorf("%q: image %q, want %q", it.Title, it.Image, want)
				}
				if got := len(it.Enclosures); got != tc.encl[it.Title] {
					t.Errorf("%q: %d enclosures, want %d: %+v", it.Title, got, tc.encl[it.Title], it.Enclosures)
				}
			}
		})
	}
}

// TestItemImageRules checks what an image URL may be: resolved against
// the feed's site, else the URL it was fetched from, without the user
// information that URL may carry, free of what XML forbids, and dropped
// rather than cut when it is over MaxLinkBytes.
func TestItemImageRules(t *testing.T) {
	rss := func(channelLink, thumbs string) string {
		return `<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>t</title>` + channelLink +
			`<item><title>one</title><link>https://site.example/one</link>` + thumbs + `</item></channel></rss>`
	}
	long := "https://img.example/" + strings.Repeat("a", MaxLinkBytes) + ".jpg"
	tests := []struct {
		name    string
		body    string
		baseURL string
		want    string
	}{
		{"relative to the fetched URL, its credentials dropped",
			rss("", `<media:thumbnail url="pics/one.jpg"/>`),
			"https://reader:s3cr3t@feeds.example/private/feed.xml?apikey=K3Y", "https://feeds.example/private/pics/one.jpg"},
		{"relative to the site link",
			rss("<link>https://site.example/blog/</link>", `<media:thumbnail url="../one.png"/>`),
			"https://feeds.example/feed.xml", "https://site.example/one.png"},
		{"an over-long URL gives way to the next candidate",
			rss("", `<media:thumbnail url="`+long+`"/><media:thumbnail url="https://img.example/short.jpg"/>`),
			"https://feeds.example/feed.xml", "https://img.example/short.jpg"},
		{"spaces and quotes escaped",
			rss("", `<media:thumbnail url="https://img.example/a b&quot;.jpg"/>`),
			"https://feeds.example/feed.xml", "https://img.example/a%20b%22.jpg"},
		{"a relative URL without any base is none",
			rss("", `<media:thumbnail url="one.jpg"/>`),
			"", ""},
		{"vbscript is none",
			rss("", `<media:thumbnail url=" vbscript:msgbox(1)"/>`),
			"https://feeds.example/feed.xml", ""},
	}
	n := New(Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := n.Normalize(feed.Source{Name: "s"}, []byte(tc.body), tc.baseURL, testNow)
			if err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, f)
			if len(f.Items) != 1 {
				t.Fatalf("%d items", len(f.Items))
			}
			if got := f.Items[0].Image; got != tc.want {
				t.Errorf("image %q, want %q", got, tc.want)
			}
		})
	}
}

// TestBoundImage checks that Bound, which every path building items ends
// with (scraped pages and JSON APIs too), keeps only an absolute http(s)
// image URL within MaxLinkBytes.
func TestBoundImage(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://img.example/a.jpg", "https://img.example/a.jpg"},
		{"https://u:p@img.example/a.jpg", "https://img.example/a.jpg"},
		{"/relative.jpg", ""},
		{"javascript:alert(1)", ""},
		{"https://img.example/\ufffe.jpg", "https://img.example/%EF%BF%BE.jpg"},
		{"https://img.example/\x01.jpg", ""},
		{"https://img.example/" + strings.Repeat("b", MaxLinkBytes), ""},
	}
	n := New(Options{})
	for _, tc := range tests {
		f := &Feed{Items: []feed.Item{{ID: "x", Image: tc.in}}}
		n.Bound("s", f)
		if got := f.Items[0].Image; got != tc.want {
			t.Errorf("Bound(%.40q): image %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestFetchedURLSecretsNotInherited normalizes a feed without a site link,
// fetched from a URL with a password and an API key, whose items have
// relative links, enclosures and images: none of them may carry the
// secrets, which a reader would otherwise be handed in every format.
func TestFetchedURLSecretsNotInherited(t *testing.T) {
	body := `<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>t</title>` +
		`<item><title>a</title><link>/post</link><enclosure url="/e.mp3" type="audio/mpeg" length="1"/><media:thumbnail url="/a.jpg"/></item>` +
		`<item><title>b</title><link>#b</link><media:content url="b.jpg" medium="image"/></item>` +
		`</channel></rss>`
	f, err := New(Options{}).Normalize(feed.Source{Name: "s"}, []byte(body), "https://reader:s3cr3t@h.example/feed?apikey=K3Y", testNow)
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, f)
	want := []feed.Item{
		{Link: "https://h.example/post", Image: "https://h.example/a.jpg", Enclosures: []feed.Enclosure{{URL: "https://h.example/e.mp3", Type: "audio/mpeg", Length: 1}}},
		{Link: "https://h.example/feed#b", Image: "https://h.example/b.jpg"},
	}
	if len(f.Items) != len(want) {
		t.Fatalf("%d items", len(f.Items))
	}
	for i, it := range f.Items {
		if it.Link != want[i].Link || it.Image != want[i].Image || len(it.Enclosures) != len(want[i].Enclosures) ||
			(len(it.Enclosures) > 0 && it.Enclosures[0] != want[i].Enclosures[0]) {
			t.Errorf("item %d: link %q image %q enclosures %+v, want %q %q %+v", i, it.Link, it.Image, it.Enclosures, want[i].Link, want[i].Image, want[i].Enclosures)
		}
		for _, s := range []string{"s3cr3t", "K3Y", "reader"} {
			if strings.Contains(it.ID+it.Link+it.Canonical+it.Image, s) {
				t.Errorf("item %d carries %q: %+v", i, s, it)
			}
		}
	}
}
