package publish

import (
	"bytes"
	"regexp"
	"testing"
	"time"

	"github.com/mmcdole/gofeed/atom"
	ext "github.com/mmcdole/gofeed/extensions"
	gjson "github.com/mmcdole/gofeed/json"
	"github.com/mmcdole/gofeed/rss"

	"github.com/feedmill/feedmill/internal/feed"
)

// imageItems are items of one source "pics": one with an image whose URL
// needs escaping in XML, one without, one whose image is no http(s) URL.
func imageItems() []feed.Item {
	mk := func(id, image string, age time.Duration) feed.Item {
		return feed.Item{Source: "pics", ID: "https://pics.example/" + id, Link: "https://pics.example/" + id,
			Title: "Post " + id, Summary: "<p>Text of " + id + "</p>", Image: image,
			Published: t0.Add(-age), FirstSeen: t0.Add(-age)}
	}
	return []feed.Item{
		mk("with", "https://img.example/with.jpg?w=600&sig=a1", time.Minute),
		mk("without", "", 2*time.Minute),
		mk("bad", "javascript:alert(1)", 3*time.Minute),
	}
}

// mediaImages returns, per item or entry, the URL of its media:thumbnail
// and of its media:content medium="image" ("" for none).
func mediaImages(list []ext.Extensions) (thumbs, contents []string) {
	for _, e := range list {
		var th, co string
		if ts := e["media"]["thumbnail"]; len(ts) == 1 {
			th = ts[0].Attrs["url"]
		}
		if cs := e["media"]["content"]; len(cs) == 1 && cs[0].Attrs["medium"] == "image" {
			co = cs[0].Attrs["url"]
		}
		thumbs, contents = append(thumbs, th), append(contents, co)
	}
	return thumbs, contents
}

// TestImagesPublished publishes items with and without images in every
// format, in a combined feed and in the source's own feed: JSON Feed
// writes image, RSS and Atom media:thumbnail and media:content, the media
// prefix is declared once on the root of a document that uses it and not
// at all on one that does not, a URL that is not http(s) is not written,
// and feedcheck (xmllint, feedparser, newsboat) accepts every document.
func TestImagesPublished(t *testing.T) {
	st := &memStore{items: imageItems(), states: []feed.SourceState{}}
	specs := []FeedSpec{
		{Name: "pics", Sources: []string{"pics"}},
		{Name: "plain", Sources: []string{"pics"}, Exclude: []*regexp.Regexp{regexp.MustCompile(`^Post with$`)}},
	}
	p := New(Options{BaseURL: testBase}, specs, []feed.Source{{Name: "pics", URL: "https://pics.example/feed"}}, st)
	if err := p.Rebuild(t.Context()); err != nil {
		t.Fatal(err)
	}
	const img = "https://img.example/with.jpg?w=600&sig=a1"
	want := []string{img, "", ""}
	for _, f := range formats {
		docs := map[string][]byte{
			"pics":        mustSnapshot(t, p, "pics", f).Body,
			"source pics": mustSourceSnapshot(t, p, "pics", f).Body,
		}
		for what, body := range docs {
			t.Run(what+"."+f.String(), func(t *testing.T) {
				var got, contents []string
				switch f {
				case JSON:
					doc, err := (&gjson.Parser{}).Parse(bytes.NewReader(body))
					if err != nil {
						t.Fatal(err)
					}
					for _, it := range doc.Items {
						got = append(got, it.Image)
					}
					contents = got
				case RSS:
					doc, err := (&rss.Parser{}).Parse(bytes.NewReader(body))
					if err != nil {
						t.Fatal(err)
					}
					var list []ext.Extensions
					for _, it := range doc.Items {
						list = append(list, it.Extensions)
					}
					got, contents = mediaImages(list)
				case Atom:
					doc, err := (&atom.Parser{}).Parse(bytes.NewReader(body))
					if err != nil {
						t.Fatal(err)
					}
					var list []ext.Extensions
					for _, e := range doc.Entries {
						list = append(list, e.Extensions)
					}
					got, contents = mediaImages(list)
				}
				if len(got) != len(want) {
					t.Fatalf("%d items, want %d", len(got), len(want))
				}
				for i := range want {
					if got[i] != want[i] || contents[i] != want[i] {
						t.Errorf("item %d: image %q, media:content %q; want %q", i, got[i], contents[i], want[i])
					}
				}
				if f != JSON {
					if n := bytes.Count(body, []byte(`xmlns:media="http://search.yahoo.com/mrss/"`)); n != 1 {
						t.Errorf("the media namespace is declared %d times, want once:\n%s", n, body)
					}
				}
				if bytes.Contains(body, []byte("javascript")) {
					t.Error("a javascript: image was published")
				}
				feedcheck(t, f, body)
			})
		}
		plain := mustSnapshot(t, p, "plain", f).Body
		if bytes.Contains(plain, []byte("media")) || bytes.Contains(plain, []byte(`"image"`)) {
			t.Errorf("plain.%s: a document without images mentions media or image:\n%s", f, plain)
		}
	}
}

// TestImageChangeChangesETag changes nothing but an item's image: every
// document showing it, the source's own feed included (which is rendered
// again only when its fingerprint moves), gets new bytes and a new ETag.
func TestImageChangeChangesETag(t *testing.T) {
	items := imageItems()
	st := &memStore{items: items, states: []feed.SourceState{}}
	p := New(Options{BaseURL: testBase}, []FeedSpec{{Name: "pics", Sources: []string{"pics"}}},
		[]feed.Source{{Name: "pics", URL: "https://pics.example/feed"}}, st)
	if err := p.Rebuild(t.Context()); err != nil {
		t.Fatal(err)
	}
	before := map[string]*Snapshot{}
	for _, f := range formats {
		before["pics."+f.String()] = mustSnapshot(t, p, "pics", f)
		before["source."+f.String()] = mustSourceSnapshot(t, p, "pics", f)
	}
	items = imageItems()
	items[1].Image = "https://img.example/new.png"
	st.set(items)
	if err := p.Rebuild(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, f := range formats {
		for name, s := range map[string]*Snapshot{
			"pics." + f.String():   mustSnapshot(t, p, "pics", f),
			"source." + f.String(): mustSourceSnapshot(t, p, "pics", f),
		} {
			if s.ETag == before[name].ETag {
				t.Errorf("%s: ETag unchanged after the image changed", name)
			}
			if !bytes.Contains(s.Body, []byte("https://img.example/new.png")) {
				t.Errorf("%s: the new image is not published", name)
			}
		}
	}
}
