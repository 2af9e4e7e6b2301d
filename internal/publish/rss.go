package publish

import (
	"encoding/xml"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/feeds"
)

const (
	contentNS = "http://purl.org/rss/1.0/modules/content/"
	dcNS      = "http://purl.org/dc/elements/1.1/"
	rssDocs   = "https://www.rssboard.org/rss-specification"
)

// The RSS document types. gorilla/feeds' RssFeed and RssItem cannot carry
// atom:link, a source url, dc:creator or several categories, and write empty
// link/description elements, so the containers are our own; the guid and
// enclosure types are gorilla's. Namespaced elements use prefixed names,
// which encoding/xml writes as they are; the prefixes are declared on the
// root element.

type rssDoc struct {
	XMLName   xml.Name   `xml:"rss"`
	Version   string     `xml:"version,attr"`
	AtomNS    string     `xml:"xmlns:atom,attr"`
	ContentNS string     `xml:"xmlns:content,attr"`
	DCNS      string     `xml:"xmlns:dc,attr"`
	MediaNS   string     `xml:"xmlns:media,attr,omitempty"` // when an item has an image (see mediaNSFor)
	FHNS      string     `xml:"xmlns:fh,attr,omitempty"`    // archive pages only
	Channel   rssChannel `xml:"channel"`
}

type rssChannel struct {
	Title         string        `xml:"title"`
	Link          string        `xml:"link"`
	Description   string        `xml:"description"`
	Links         []rssAtomLink `xml:"atom:link"` // self, hub and paging
	Archive       *struct{}     `xml:"fh:archive"`
	LastBuildDate string        `xml:"lastBuildDate"`
	Generator     string        `xml:"generator"`
	Docs          string        `xml:"docs"`
	Items         []rssItem     `xml:"item"`
}

type rssAtomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr,omitempty"`
}

type rssItem struct {
	Title       string              `xml:"title"`
	Link        string              `xml:"link,omitempty"`
	Description string              `xml:"description,omitempty"`
	Content     string              `xml:"content:encoded,omitempty"`
	Author      string              `xml:"author,omitempty"`
	Creators    []string            `xml:"dc:creator"`
	Categories  []string            `xml:"category"`
	Enclosure   *feeds.RssEnclosure // RSS allows one; readers take the first
	Thumbnail   *mediaRef           `xml:"media:thumbnail"`
	Media       *mediaContent       `xml:"media:content"`
	GUID        feeds.RssGuid
	PubDate     string     `xml:"pubDate"`
	Source      *rssSource `xml:"source"`
}

type rssSource struct {
	URL   string `xml:"url,attr"`
	Title string `xml:",chardata"`
}

// rssTime formats t as RFC 1123 with a numeric zone, the RFC 822 form every
// reader parses.
func rssTime(t time.Time) string { return t.UTC().Format(time.RFC1123Z) }

func renderRSS(d *document) ([]byte, error) {
	gen := "feedmill"
	if d.version != "" {
		gen += " " + d.version
	}
	doc := rssDoc{
		Version:   "2.0",
		AtomNS:    atomNS,
		ContentNS: contentNS,
		DCNS:      dcNS,
		Channel: rssChannel{
			Title: d.title,
			Link:  d.home,
			// description is required; the title is the best one we have.
			Description:   firstNonBlank(d.description, d.title),
			Links:         []rssAtomLink{{Href: d.selfURL(RSS), Rel: "self", Type: "application/rss+xml"}},
			LastBuildDate: rssTime(d.updated),
			Generator:     gen,
			Docs:          rssDocs,
			Items:         make([]rssItem, 0, len(d.entries)),
		},
	}
	for _, l := range d.links(RSS) {
		al := rssAtomLink{Href: l.href, Rel: l.rel}
		if l.typed {
			al.Type = "application/rss+xml"
		}
		doc.Channel.Links = append(doc.Channel.Links, al)
	}
	if d.archived() {
		doc.FHNS, doc.Channel.Archive = historyNS, &struct{}{}
	}
	doc.MediaNS = mediaNSFor(d.entries)
	for _, e := range d.entries {
		doc.Channel.Items = append(doc.Channel.Items, rssItemOf(e))
	}
	return encodeXML(doc)
}

func rssItemOf(e entry) rssItem {
	it := rssItem{
		Title:       e.title,
		Link:        e.link,
		Description: firstNonBlank(e.summary, e.content),
		Content:     e.content,
		Categories:  e.categories,
		GUID:        feeds.RssGuid{Id: e.id, IsPermaLink: strconv.FormatBool(isPermaLink(e.id, e.link))},
		PubDate:     rssTime(e.published),
	}
	for _, p := range e.authors {
		// RSS author is an e-mail address, and one per item; names go to
		// dc:creator, which may repeat.
		if it.Author == "" && p.Email != "" {
			it.Author = p.Email
			if p.Name != p.Email {
				it.Author += " (" + p.Name + ")"
			}
		}
		it.Creators = append(it.Creators, p.Name)
	}
	if len(e.enclosures) > 0 {
		enc := e.enclosures[0]
		it.Enclosure = &feeds.RssEnclosure{Url: enc.URL, Length: strconv.FormatInt(enc.Length, 10), Type: enc.Type}
	}
	if e.source.url != "" {
		it.Source = &rssSource{URL: e.source.url, Title: e.source.title}
	}
	it.Thumbnail, it.Media = mediaOf(e)
	return it
}

// isPermaLink reports whether an item id may be published as a permalink
// guid: only an http(s) URL that is the item's link itself, since readers
// open a permalink guid as the article.
func isPermaLink(id, link string) bool {
	if id == "" || id != link {
		return false
	}
	u, err := url.Parse(id)
	if err != nil || u.Host == "" {
		return false
	}
	s := strings.ToLower(u.Scheme)
	return s == "http" || s == "https"
}
