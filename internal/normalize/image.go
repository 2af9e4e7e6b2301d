package normalize

import (
	"net/url"
	"strings"

	"github.com/mmcdole/gofeed"
	ext "github.com/mmcdole/gofeed/extensions"
	gjson "github.com/mmcdole/gofeed/json"
)

// image returns the item's lead picture as the feed carries it, or "".
// The first usable candidate wins, in this order:
//
//  1. media:thumbnail (of the item, of a media:group, of a media:content);
//  2. media:content whose medium is "image" or whose type is image/*
//     (of the item, then of a media:group);
//  3. gofeed's item image (for RSS: itunes:image, a media:content image or
//     an image enclosure; for JSON Feed: image, else banner_image);
//  4. an enclosure of an image/* type (an RSS enclosure, an Atom link
//     rel="enclosure");
//  5. a JSON Feed item's image, else its banner_image;
//  6. the item's itunes:image.
//
// A candidate is usable when imageURL accepts it. The picture is never
// taken from the content's HTML: gofeed's scan for one is disabled
// (newRSSTranslator), and the content keeps its images anyway. The
// enclosures stay as the feed gave them.
func (b *itemBuilder) image(gi *gofeed.Item, jsonItem *gjson.Item) string {
	var cands []string
	media := gi.Extensions["media"]
	groups := media["group"]

	thumbs := func(m map[string][]ext.Extension) {
		for _, t := range m["thumbnail"] {
			cands = append(cands, t.Attrs["url"])
		}
	}
	thumbs(media)
	for _, g := range groups {
		thumbs(g.Children)
	}
	for _, c := range media["content"] {
		thumbs(c.Children)
	}
	for _, g := range groups {
		for _, c := range g.Children["content"] {
			thumbs(c.Children)
		}
	}

	contents := func(list []ext.Extension) {
		for _, c := range list {
			if isImageMedia(c.Attrs["medium"], c.Attrs["type"]) {
				cands = append(cands, c.Attrs["url"])
			}
		}
	}
	contents(media["content"])
	for _, g := range groups {
		contents(g.Children["content"])
	}

	if gi.Image != nil {
		cands = append(cands, gi.Image.URL)
	}
	for _, e := range gi.Enclosures {
		if e != nil && strings.HasPrefix(cleanMediaType(e.Type), "image/") {
			cands = append(cands, e.URL)
		}
	}
	if jsonItem != nil {
		cands = append(cands, jsonItem.Image, jsonItem.BannerImage)
	}
	for _, i := range gi.Extensions["itunes"]["image"] {
		cands = append(cands, i.Attrs["href"])
	}
	if gi.ITunesExt != nil {
		cands = append(cands, gi.ITunesExt.Image)
	}

	for _, c := range cands {
		if u := imageURL(b.base, c); u != "" && len(u) <= MaxLinkBytes {
			return u
		}
	}
	return ""
}

// isImageMedia reports whether a media:content of this medium and type is
// a picture.
func isImageMedia(medium, typ string) bool {
	return strings.EqualFold(strings.TrimSpace(medium), "image") ||
		strings.HasPrefix(cleanMediaType(typ), "image/")
}

// imageURL returns ref as the URL of an item's picture, resolved against
// base, or "" when it cannot be one: not http(s) once resolved (as
// resolveURL judges) or a mere fragment (which would name the page it is
// resolved against, not a picture). The caller applies MaxLinkBytes.
//
// User information is dropped: a reader cannot use it (browsers refuse
// credentials in the URL of an image), and when ref is relative it would
// be the source's own user name and password, inherited from the URL the
// feed was fetched from. The query is kept as the feed gave it, like an
// enclosure's: a signed image URL needs its signature, and a relative ref
// never inherits the fetched URL's query.
func imageURL(base *url.URL, ref string) string {
	ref = strings.TrimSpace(ref)
	if ref == "" || strings.HasPrefix(ref, "#") {
		return ""
	}
	s := resolveURL(base, nil, ref, false)
	if s == "" {
		return ""
	}
	if strings.Contains(s, "@") {
		u, err := url.Parse(s)
		if err != nil {
			return ""
		}
		if u.User != nil {
			u.User = nil
			s = u.String()
		}
	}
	return s
}
