package publish

import (
	"encoding/xml"
	"strings"

	"github.com/feedmill/feedmill/internal/feed"
)

// The OPML 2.0 subscription list (http://opml.org/spec2.opml). It carries no
// dates, so its bytes change only when a source does.

type opmlDoc struct {
	XMLName xml.Name `xml:"opml"`
	Version string   `xml:"version,attr"`
	Head    opmlHead `xml:"head"`
	Body    opmlBody `xml:"body"` // required, even without outlines
}

type opmlBody struct {
	Outlines []opmlEntry `xml:"outline"`
}

type opmlHead struct {
	Title string `xml:"title"`
	Docs  string `xml:"docs"`
}

type opmlEntry struct {
	Type     string `xml:"type,attr"`
	Text     string `xml:"text,attr"`
	Title    string `xml:"title,attr"`
	XMLURL   string `xml:"xmlUrl,attr"`
	HTMLURL  string `xml:"htmlUrl,attr,omitempty"`
	Category string `xml:"category,attr,omitempty"`
}

// allSourcesTitle is the title of the OPML list of every source.
const allSourcesTitle = "feedmill sources"

// renderOPML lists the given sources, in the order given, under a title.
func renderOPML(title string, sources []feed.Source, srcs map[string]sourceInfo) ([]byte, error) {
	doc := opmlDoc{
		Version: "2.0",
		Head:    opmlHead{Title: title, Docs: "http://opml.org/spec2.opml"},
		Body:    opmlBody{Outlines: make([]opmlEntry, 0, len(sources))},
	}
	for _, s := range sources {
		info := source(srcs, s.Name)
		doc.Body.Outlines = append(doc.Body.Outlines, opmlEntry{
			Type:     "rss", // OPML's type for any subscribable feed
			Text:     info.title,
			Title:    info.title,
			XMLURL:   strings.TrimSpace(s.URL),
			HTMLURL:  info.home,
			Category: opmlCategories(s.Categories),
		})
	}
	return encodeXML(doc)
}

// opmlCategories writes categories as OPML tags: comma-separated, so a
// comma inside one becomes a space, and without slashes, which would make
// them paths.
func opmlCategories(cats []string) string {
	out := make([]string, 0, len(cats))
	for _, c := range mergeCategories(cats) {
		c = strings.TrimSpace(strings.NewReplacer(",", " ", "/", " ").Replace(c))
		if c != "" {
			out = append(out, collapseSpace(c))
		}
	}
	return strings.Join(out, ",")
}
