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

	// feedmill's own attributes (OPML 2.0 allows any): the source's name,
	// and for a source that is not a feed its type and its own (public)
	// URL, since its xmlUrl is then its feed at feedmill. With them an
	// import of the list gives back the same sources (see config.Import).
	Name      string `xml:"feedmillName,attr,omitempty"`
	SourceTyp string `xml:"feedmillType,attr,omitempty"`
	SourceURL string `xml:"feedmillUrl,attr,omitempty"`
}

// allSourcesTitle is the title of the OPML list of every source.
const allSourcesTitle = "feedmill sources"

// renderOPML lists the given sources, in the order given, under a title.
// A feed source is listed with its URL; an html or json source, which a
// reader cannot subscribe to, with its own feed at base (SourceFeedURL,
// Atom).
func renderOPML(title, base string, sources []feed.Source, srcs map[string]sourceInfo) ([]byte, error) {
	doc := opmlDoc{
		Version: "2.0",
		Head:    opmlHead{Title: title, Docs: "http://opml.org/spec2.opml"},
		Body:    opmlBody{Outlines: make([]opmlEntry, 0, len(sources))},
	}
	for _, s := range sources {
		info := source(srcs, s.Name)
		e := opmlEntry{
			Type:     "rss", // OPML's type for any subscribable feed
			Text:     info.title,
			Title:    info.title,
			XMLURL:   strings.TrimSpace(s.URL),
			HTMLURL:  info.home,
			Category: opmlCategories(s.Categories),
			Name:     s.Name,
		}
		if s.Type == feed.TypeHTML || s.Type == feed.TypeJSON {
			e.XMLURL = SourceFeedURL(base, s.Name, Atom)
			e.SourceTyp, e.SourceURL = s.Type, strings.TrimSpace(s.URL)
			if e.HTMLURL == "" && s.Type == feed.TypeHTML {
				e.HTMLURL = e.SourceURL
			}
		}
		doc.Body.Outlines = append(doc.Body.Outlines, e)
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
