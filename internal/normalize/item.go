package normalize

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/atom"
	gjson "github.com/mmcdole/gofeed/json"
	"github.com/mmcdole/gofeed/rss"
	nethtml "golang.org/x/net/html"

	"github.com/feedmill/feedmill/internal/feed"
)

// itemBuilder turns the items of one parsed feed into feed.Items.
type itemBuilder struct {
	n      *Normalizer
	source string
	base   *url.URL // the feed's link, else the URL it was fetched from; may be nil
	now    time.Time
	orig   any // *rss.Feed, *atom.Feed or *json.Feed

	rewrites []rewrite // the source's, compiled
}

// build normalizes gi, the i-th item of the feed.
func (b *itemBuilder) build(i int, gi *gofeed.Item) (feed.Item, *nethtml.Node) {
	var (
		rssItem   *rss.Item
		atomEntry *atom.Entry
		jsonItem  *gjson.Item
	)
	switch f := b.orig.(type) {
	case *rss.Feed:
		if i < len(f.Items) {
			rssItem = f.Items[i]
		}
	case *atom.Feed:
		if i < len(f.Entries) {
			atomEntry = f.Entries[i]
		}
	case *gjson.Feed:
		if i < len(f.Items) {
			jsonItem = f.Items[i]
		}
	}

	it := feed.Item{Source: b.source, Title: cleanText(gi.Title)}

	rawLink := b.link(gi, rssItem, jsonItem)
	page := parseBase(rawLink)
	it.Link = escapeURI(b.n.stripTracking(rawLink))
	it.Canonical = b.n.Canonical(it.Link)

	it.Summary = b.n.htmlOrText(gi.Description, b.base, page)
	var contentTree *nethtml.Node // what it.Content was rendered from
	it.Content, contentTree = b.content(gi, atomEntry, jsonItem, page)

	pub, upd := gi.PublishedParsed, gi.UpdatedParsed
	switch {
	case atomEntry != nil:
		// gofeed copies an Atom entry's updated into published when it has
		// none. An update time is not a publication time: Published stays
		// empty and readers of the item fall back to Updated (feed.Item.Date).
		pub = atomEntry.PublishedParsed
	case rssItem != nil:
		// gofeed reads dc:date as both dates; in RSS it is the publication
		// date, and only an embedded atom:updated says when an item changed.
		upd = atomUpdated(rssItem)
	}
	it.Published, it.Updated = cleanDates(pub, upd, b.now)

	it.Authors = b.authors(gi, rssItem, atomEntry, jsonItem)
	it.Categories = cleanCategories(b.categories(gi, rssItem))
	it.Enclosures = b.enclosures(gi.Enclosures)
	it.Image = b.image(gi, jsonItem)

	// The id hashes the raw date, not the cleaned one: a far-future date is
	// dropped only until it stops being in the future, and the id must not
	// move when that happens.
	var rawPub time.Time
	if pub != nil {
		rawPub = pub.UTC()
	}
	hashed := it.Title
	if hashed == "" && rawLink == "" {
		// With nothing else to tell them apart, untitled items without guid
		// or link would all share one id and all but the first be dropped.
		hashed = gi.Description + "\x00" + gi.Content
	}
	// The id keeps the link as the feed gives it (tracking parameters
	// and all) and the title before rewrites: an id must not move when
	// the stripping rules or the source's rewrites change.
	it.ID = feed.ItemID(gi.GUID, rawLink, hashed, rawPub)

	it.Title = applyText(b.rewrites, feed.FieldTitle, it.Title)
	it.Summary = b.n.applyHTML(b.rewrites, feed.FieldSummary, it.Summary, b.base, page)
	if rewritten := b.n.applyHTML(b.rewrites, feed.FieldContent, it.Content, b.base, page); rewritten != it.Content {
		it.Content, contentTree = rewritten, nil
	}
	if it.Summary == "" {
		// DeriveSummary(it.Content), from the tree the content was
		// rendered from rather than a parse of it.
		if contentTree != nil {
			it.Summary = deriveSummary(contentTree)
		} else {
			it.Summary = DeriveSummary(it.Content)
		}
	}
	return it, contentTree
}

// link returns the item's absolute link as the feed gives it (resolveRef:
// not yet escaped, since the item's id derives from it). An RSS item
// without <link> whose guid is a permalink (the default) links to the guid,
// as RSS 2.0 defines; a JSON item without url links to its external_url.
func (b *itemBuilder) link(gi *gofeed.Item, rssItem *rss.Item, jsonItem *gjson.Item) string {
	if l := resolveRef(b.base, nil, gi.Link, false); l != "" {
		return l
	}
	if rssItem != nil && rssItem.GUID != nil && !strings.EqualFold(strings.TrimSpace(rssItem.GUID.IsPermalink), "false") {
		if l := resolveRef(nil, nil, rssItem.GUID.Value, false); l != "" {
			return l
		}
	}
	if jsonItem != nil {
		return resolveRef(b.base, nil, jsonItem.ExternalURL, false)
	}
	return ""
}

// content returns the item's full content as sanitized HTML, and the
// tree it was rendered from (nil for ""). gofeed's universal item
// flattens what says how to read it: an Atom content's type and a JSON
// item's content_text (plain) versus content_html, so those come from the
// original item.
func (b *itemBuilder) content(gi *gofeed.Item, entry *atom.Entry, jsonItem *gjson.Item, page *url.URL) (string, *nethtml.Node) {
	switch {
	case jsonItem != nil:
		if strings.TrimSpace(jsonItem.ContentHTML) != "" {
			return b.n.sanitizeTree(jsonItem.ContentHTML, b.base, page)
		}
		return b.n.plainTextTree(jsonItem.ContentText)
	case entry != nil:
		if entry.Content == nil {
			return "", nil
		}
		switch t := strings.ToLower(strings.TrimSpace(entry.Content.Type)); {
		case t == "":
			return b.n.htmlOrTextTree(entry.Content.Value, b.base, page)
		case t == "html" || t == "xhtml" || strings.Contains(t, "html"):
			return b.n.sanitizeTree(entry.Content.Value, b.base, page)
		case t == "text" || strings.HasPrefix(t, "text/"):
			return b.n.plainTextTree(entry.Content.Value)
		default:
			return "", nil // out-of-line or binary content: nothing to show inline
		}
	}
	return b.n.htmlOrTextTree(gi.Content, b.base, page)
}

// cleanDates applies the date rules: feed.SaneDate's (UTC; a placeholder
// before 1995 or a date more than a day after now is missing), and an
// update never precedes publication.
func cleanDates(pub, upd *time.Time, now time.Time) (time.Time, time.Time) {
	p, u := cleanDate(pub, now), cleanDate(upd, now)
	if !p.IsZero() && !u.IsZero() && u.Before(p) {
		u = p
	}
	return p, u
}

// atomUpdated returns the parsed atom:updated embedded in an RSS item, or
// nil. Atom dates are RFC 3339, which needs no lenient parser.
func atomUpdated(it *rss.Item) *time.Time {
	for _, prefix := range []string{"atom", "atom10", "atom03"} {
		for _, e := range it.Extensions[prefix]["updated"] {
			if t, err := time.Parse(time.RFC3339, strings.TrimSpace(e.Value)); err == nil {
				return &t
			}
		}
	}
	return nil
}

// cleanDate is feed.SaneDate of a date gofeed may not have found.
func cleanDate(t *time.Time, now time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return feed.SaneDate(*t, now)
}

// enclosures returns the item's enclosures with absolute http(s) URLs, a
// length in bytes (0 when unknown or invalid), a media type that is one or
// "" (cleanMediaType) and no duplicate URL.
func (b *itemBuilder) enclosures(in []*gofeed.Enclosure) []feed.Enclosure {
	var out []feed.Enclosure
	seen := make(map[string]bool)
	for _, e := range in {
		if e == nil {
			continue
		}
		u := resolveURL(b.base, nil, e.URL, false)
		if u == "" || seen[u] {
			continue
		}
		seen[u] = true
		length, err := strconv.ParseInt(strings.TrimSpace(e.Length), 10, 64)
		if err != nil || length < 0 {
			length = 0
		}
		out = append(out, feed.Enclosure{URL: u, Type: cleanMediaType(e.Type), Length: length})
	}
	return out
}

// enclosureType matches a media type as enclosures carry it: type/subtype
// with optional parameters, none of which may hold quotes, angle brackets or
// spaces other than after a ';'.
var enclosureType = regexp.MustCompile(`^[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+(; ?[a-z0-9!#$&^_.+-]+=[a-z0-9!#$&^_.+-]+)*$`)

// cleanMediaType returns an enclosure's media type lower-cased, or "" when it
// is not one: whatever else a feed puts there (markup, a quote that would end
// an attribute in a careless reader) is no use to anybody.
func cleanMediaType(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) > 255 || !enclosureType.MatchString(s) {
		return ""
	}
	return s
}

// categories returns the item's raw categories. For RSS they are the
// <category> elements, dc:subject and embedded atom:category terms, but not
// the itunes:keywords gofeed also mixes in: those are search keywords, often
// dozens, not the publisher's categories.
func (b *itemBuilder) categories(gi *gofeed.Item, rssItem *rss.Item) []string {
	if rssItem == nil {
		return gi.Categories
	}
	var cats []string
	for _, c := range rssItem.Categories {
		if c != nil {
			cats = append(cats, c.Value)
		}
	}
	if rssItem.DublinCoreExt != nil {
		cats = append(cats, rssItem.DublinCoreExt.Subject...)
	}
	for _, prefix := range []string{"atom", "atom10", "atom03"} {
		for _, c := range rssItem.Extensions[prefix]["category"] {
			cats = append(cats, c.Attrs["term"])
		}
	}
	return cats
}

// cleanCategories makes categories plain text, drops empty ones and keeps the
// first spelling of those that differ only in case.
func cleanCategories(in []string) []string {
	var out []string
	seen := make(map[string]bool)
	for _, c := range in {
		c = cleanText(c)
		key := strings.ToLower(c)
		if c == "" || seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, c)
	}
	return out
}
