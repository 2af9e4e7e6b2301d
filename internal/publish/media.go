package publish

// An item's image is written in RSS and Atom as Media RSS
// (https://www.rssboard.org/media-rss) elements, which readers of both
// formats know: media:thumbnail, which most readers show beside the
// entry, and media:content medium="image", which others take as the
// entry's picture. JSON Feed has its own item image field.

// mediaNS is the Media RSS namespace.
const mediaNS = "http://search.yahoo.com/mrss/"

// mediaRef is a media:thumbnail: a picture's URL.
type mediaRef struct {
	URL string `xml:"url,attr"`
}

// mediaContent is a media:content that is a picture.
type mediaContent struct {
	URL    string `xml:"url,attr"`
	Medium string `xml:"medium,attr"`
}

// mediaNSFor returns the Media RSS namespace when an entry has an image,
// else "". The prefix is declared only where it is used, so that a
// document without images is byte for byte what it was before feedmill
// published images: its ETag does not change, and readers do not fetch
// every feed again after an upgrade.
func mediaNSFor(entries []entry) string {
	for _, e := range entries {
		if e.image != "" {
			return mediaNS
		}
	}
	return ""
}

// mediaOf returns the Media RSS elements of e's image, nil without one.
func mediaOf(e entry) (*mediaRef, *mediaContent) {
	if e.image == "" {
		return nil, nil
	}
	return &mediaRef{URL: e.image}, &mediaContent{URL: e.image, Medium: "image"}
}
