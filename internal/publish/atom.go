package publish

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strconv"
	"time"

	"github.com/gorilla/feeds"
)

const (
	atomNS = "http://www.w3.org/2005/Atom"
	// historyNS is RFC 5005's namespace (Feed Paging and Archiving).
	historyNS = "http://purl.org/syndication/history/1.0"
)

// The Atom document types. gorilla/feeds' AtomFeed and AtomEntry cannot
// carry several links beside each other, a structured atom:source,
// categories as term attributes or typed titles (and embedding them to add
// a second link field makes encoding/xml drop the first), so the containers
// are our own; the leaf types that say what is needed are gorilla's.

type atomFeed struct {
	XMLName   xml.Name          `xml:"feed"`
	Xmlns     string            `xml:"xmlns,attr"`
	XmlnsFH   string            `xml:"xmlns:fh,attr,omitempty"`    // archive pages only
	XmlnsMRSS string            `xml:"xmlns:media,attr,omitempty"` // when an entry has an image (see mediaNSFor)
	ID        string            `xml:"id"`
	Title     atomText          `xml:"title"`
	Subtitle  *atomText         `xml:"subtitle"`
	Updated   string            `xml:"updated"`
	Links     []feeds.AtomLink  // self, alternate, hub and paging
	Archive   *struct{}         `xml:"fh:archive"`
	Author    *feeds.AtomAuthor // covers entries whose author is unknown
	Generator atomGenerator     `xml:"generator"`
	Entries   []atomEntry       `xml:"entry"`
}

// atomText is a text construct with an explicit type.
type atomText struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

type atomGenerator struct {
	Version string `xml:"version,attr,omitempty"`
	Name    string `xml:",chardata"`
}

type atomEntry struct {
	ID         string             `xml:"id"`
	Title      atomText           `xml:"title"`
	Updated    string             `xml:"updated"`
	Published  string             `xml:"published"`
	Authors    []feeds.AtomAuthor // at least one
	Links      []feeds.AtomLink   // alternate and enclosures
	Categories []atomCategory     `xml:"category"`
	Summary    *atomText          `xml:"summary"`
	Content    *feeds.AtomContent
	Thumbnail  *mediaRef     `xml:"media:thumbnail"`
	Media      *mediaContent `xml:"media:content"`
	Source     *atomSource   `xml:"source"`
}

type atomCategory struct {
	Term string `xml:"term,attr"`
}

// atomSource is the RFC 4287 atom:source of an entry: the feed it came from.
type atomSource struct {
	ID      string           `xml:"id"`
	Title   atomText         `xml:"title"`
	Links   []feeds.AtomLink // alternate (the source's site) and self
	Updated string           `xml:"updated"`
}

func atomTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func renderAtom(d *document) ([]byte, error) {
	f := atomFeed{
		Xmlns:   atomNS,
		ID:      d.selfURL(Atom),
		Title:   atomText{Type: "text", Body: d.title},
		Updated: atomTime(d.updated),
		Links: []feeds.AtomLink{
			{Rel: "self", Type: "application/atom+xml", Href: d.selfURL(Atom)},
			{Rel: "alternate", Type: "text/html", Href: d.home},
		},
		// RFC 4287 requires an author on every entry or on the feed; every
		// entry has one, and this one states who compiled the feed.
		Author:    &feeds.AtomAuthor{AtomPerson: feeds.AtomPerson{Name: "feedmill"}},
		Generator: atomGenerator{Name: "feedmill", Version: d.version},
		Entries:   make([]atomEntry, 0, len(d.entries)),
	}
	for _, l := range d.links(Atom) {
		al := feeds.AtomLink{Rel: l.rel, Href: l.href}
		if l.typed {
			al.Type = "application/atom+xml"
		}
		f.Links = append(f.Links, al)
	}
	if d.archived() {
		f.XmlnsFH, f.Archive = historyNS, &struct{}{}
	}
	f.XmlnsMRSS = mediaNSFor(d.entries)
	if d.description != "" {
		f.Subtitle = &atomText{Type: "text", Body: d.description}
	}
	for _, e := range d.entries {
		f.Entries = append(f.Entries, atomEntryOf(e))
	}
	return encodeXML(f)
}

func atomEntryOf(e entry) atomEntry {
	a := atomEntry{
		ID:        e.id,
		Title:     atomText{Type: "text", Body: e.title},
		Updated:   atomTime(e.updated),
		Published: atomTime(e.published),
	}
	for _, p := range e.authors {
		a.Authors = append(a.Authors, feeds.AtomAuthor{AtomPerson: feeds.AtomPerson{Name: p.Name, Email: p.Email, Uri: p.URI}})
	}
	if e.link != "" {
		a.Links = append(a.Links, feeds.AtomLink{Rel: "alternate", Href: e.link})
	}
	for _, enc := range e.enclosures {
		// RFC 4287 lets length be omitted; validators and podcast clients
		// want it, and 0 says "unknown".
		a.Links = append(a.Links, feeds.AtomLink{Rel: "enclosure", Type: enc.Type, Length: strconv.FormatInt(enc.Length, 10), Href: enc.URL})
	}
	for _, c := range e.categories {
		a.Categories = append(a.Categories, atomCategory{Term: c})
	}
	switch {
	case e.content != "":
		a.Content = &feeds.AtomContent{Type: "html", Content: e.content}
		if e.summary != "" {
			a.Summary = &atomText{Type: "html", Body: e.summary}
		}
	case e.link == "" && e.summary != "":
		// An entry without atom:content must have an alternate link.
		a.Content = &feeds.AtomContent{Type: "html", Content: e.summary}
	case e.link == "":
		a.Content = &feeds.AtomContent{Type: "text", Content: e.title}
	case e.summary != "":
		a.Summary = &atomText{Type: "html", Body: e.summary}
	default:
		a.Summary = &atomText{Type: "text", Body: e.title}
	}
	a.Thumbnail, a.Media = mediaOf(e)
	if s := e.source; s.url != "" {
		src := &atomSource{
			ID:      s.url,
			Title:   atomText{Type: "text", Body: s.title},
			Updated: atomTime(e.srcUpdated),
		}
		if s.home != "" {
			src.Links = append(src.Links, feeds.AtomLink{Rel: "alternate", Type: "text/html", Href: s.home})
		}
		src.Links = append(src.Links, feeds.AtomLink{Rel: "self", Href: s.url})
		a.Source = src
	}
	return a
}

// encodeXML writes v as an indented UTF-8 XML document. encoding/xml
// escapes all text and replaces characters XML cannot carry with U+FFFD, so
// no item content can break the document.
func encodeXML(v any) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode xml: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode xml: %w", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}
