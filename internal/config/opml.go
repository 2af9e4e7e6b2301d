package config

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/net/html/charset"

	"github.com/feedmill/feedmill/internal/feed"
)

// opmlFeed is one feed of an OPML subscription list, as Import reads it.
type opmlFeed struct {
	URL        string   // trimmed, feed: scheme replaced, checked by checkFeedURL
	Title      string   // the outline's title, else its text; whitespace collapsed
	Categories []string // enclosing folders, outermost first, then its category attribute
	Line       int      // of the outline, for messages

	// From feedmill's own export (publish's OPML): the source's name, when
	// valid, and for an html or json source its type, URL is then the
	// source's own URL (feedmillUrl), not its feed at feedmill (xmlUrl).
	Name, Type string
}

// parseOPML reads the feeds of an OPML 1.0 or 2.0 document: every outline
// with an xmlUrl whose type is rss, atom or absent, in document order, each
// URL once (a feed listed in two folders gets the categories of both).
// Outlines without an xmlUrl are folders: their text becomes a category of
// every feed inside them. The error says what is wrong with the document,
// or lists every outline whose URL feedmill cannot fetch.
//
// Readers write OPML carelessly, so the XML is read leniently (a bare '&'
// in a URL, HTML entities, case of attribute names), but a document that
// is not XML, is not OPML, or ends early is refused.
func parseOPML(data []byte) ([]opmlFeed, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.CharsetReader = charset.NewReaderLabel
	dec.Strict = false
	dec.Entity = xml.HTMLEntity

	type frame struct {
		folder string // category this outline gives its children; "" if none
	}
	var (
		stack    []frame
		feeds    []opmlFeed
		byURL    = make(map[string]int) // URL -> index in feeds
		problems []string
		root     string
		outlines int
	)
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("not an OPML file: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = t.Name.Local
				if !strings.EqualFold(root, "opml") {
					return nil, fmt.Errorf("not an OPML file: the document is <%s>, not <opml>", root)
				}
				continue
			}
			if !strings.EqualFold(t.Name.Local, "outline") {
				continue
			}
			outlines++
			line, _ := dec.InputPos()
			attrs := make(map[string]string, len(t.Attr))
			for _, a := range t.Attr {
				attrs[strings.ToLower(a.Name.Local)] = a.Value
			}
			title := collapseSpace(attrs["title"])
			if title == "" {
				title = collapseSpace(attrs["text"])
			}
			rawURL := strings.TrimSpace(attrs["xmlurl"])
			if rawURL == "" {
				stack = append(stack, frame{folder: title})
				continue
			}
			// A feed outline may hold others (some readers nest a feed's
			// saved items under it); it is not a folder.
			stack = append(stack, frame{})
			switch strings.ToLower(strings.TrimSpace(attrs["type"])) {
			case "", "rss", "atom":
			default:
				continue // type="link", "include" and the like are not feeds
			}
			u := feedURL(rawURL)
			// feedmill lists a source that is not a feed by its feed at
			// feedmill and names what it reads in its own attributes:
			// the import gets the source back, not a copy of feedmill's.
			typ := strings.ToLower(strings.TrimSpace(attrs["feedmilltype"]))
			if own := strings.TrimSpace(attrs["feedmillurl"]); own != "" && (typ == feed.TypeHTML || typ == feed.TypeJSON) {
				u = own
			} else {
				typ = ""
			}
			name := strings.TrimSpace(attrs["feedmillname"])
			if !validSourceName(name) {
				name = ""
			}
			if problem := checkFeedURL(u, feed.Redactor{}); problem != "" {
				problems = append(problems, fmt.Sprintf("line %d: outline %s: %s", line, quote(title), problem))
				continue
			}
			var cats []string
			for _, f := range stack[:len(stack)-1] {
				cats = appendCategory(cats, f.folder)
			}
			for c := range strings.SplitSeq(attrs["category"], ",") {
				// OPML 2.0 writes categories as paths ("/Tech"); the
				// leading slash is notation, not part of the name.
				cats = appendCategory(cats, strings.TrimLeft(strings.TrimSpace(c), "/"))
			}
			if i, dup := byURL[u]; dup {
				for _, c := range cats {
					feeds[i].Categories = appendCategory(feeds[i].Categories, c)
				}
				continue
			}
			byURL[u] = len(feeds)
			feeds = append(feeds, opmlFeed{URL: u, Title: title, Categories: cats, Line: line, Name: name, Type: typ})
		case xml.EndElement:
			if strings.EqualFold(t.Name.Local, "outline") && len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		}
	}
	switch {
	case root == "":
		return nil, errors.New("not an OPML file: no XML element found")
	case len(problems) > 0:
		return nil, fmt.Errorf("feeds feedmill cannot fetch (fix or remove them):\n%s", strings.Join(problems, "\n"))
	case outlines == 0:
		return nil, errors.New("no feeds in the OPML file: it has no outline elements")
	case len(feeds) == 0:
		return nil, fmt.Errorf("no feeds in the OPML file: no outline (of %d) has an xmlUrl with type rss, atom or none", outlines)
	}
	return feeds, nil
}

// feedURL trims u and rewrites the feed: pseudo-scheme some readers export
// ("feed://example.com/rss", "feed:https://example.com/rss") to http(s).
func feedURL(u string) string {
	u = strings.TrimSpace(u)
	lower := strings.ToLower(u)
	switch {
	case strings.HasPrefix(lower, "feed://"):
		return "http://" + u[len("feed://"):]
	case strings.HasPrefix(lower, "feed:http://"), strings.HasPrefix(lower, "feed:https://"):
		return u[len("feed:"):]
	}
	return u
}

// appendCategory appends c to cats unless it is empty or already there.
func appendCategory(cats []string, c string) []string {
	c = collapseSpace(c)
	if c == "" || slices.Contains(cats, c) {
		return cats
	}
	return append(cats, c)
}

// collapseSpace trims s and turns every run of white space and control
// characters inside it into one space, so that a title fits on one line of
// feeds.yaml and prints safely.
func collapseSpace(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}), " ")
}
