package normalize

import (
	"crypto/sha256"
	"encoding/hex"
	"html"
	"log/slog"
	"strings"
	"unicode/utf8"

	nethtml "golang.org/x/net/html"

	"github.com/feedmill/feedmill/internal/feed"
)

// cuts counts, for one feed, the fields bound cut or dropped to fit the
// caps of limits.go, and the characters XML forbids it removed.
type cuts struct {
	titles, authors, emails, categories, ids, links, summaries, contents int
	forbidden                                                            int
}

// log reports the cuts of one feed of source in one line, when there are
// any: once per source and refresh, not once per item.
func (c *cuts) log(log *slog.Logger, source string) {
	if c.forbidden > 0 {
		log.Debug("dropped characters XML forbids from items", "source", source, "count", c.forbidden)
	}
	attrs := []any{"source", source}
	for _, f := range []struct {
		key string
		n   int
	}{
		{"titles", c.titles}, {"authors", c.authors}, {"emails", c.emails}, {"categories", c.categories},
		{"ids", c.ids}, {"links", c.links}, {"summaries", c.summaries}, {"contents", c.contents},
	} {
		if f.n > 0 {
			attrs = append(attrs, f.key, f.n)
		}
	}
	if len(attrs) > 2 {
		log.Warn("fields over their caps were cut (see Field caps in docs/how-it-works.md)", attrs...)
	}
}

// bound makes f fit the caps of limits.go and free of the characters XML
// forbids, and logs what it cut once. Every function that returns items
// calls it last, so that no path (feed, JSON API, scraped page) escapes it.
func (n *Normalizer) bound(source string, f *Feed) {
	var c cuts
	f.Title = c.text(f.Title, MaxTitleBytes, &c.titles)
	f.Link = c.url(f.Link, &c.links)
	for i := range f.Items {
		c.item(&f.Items[i])
	}
	c.log(n.log, source)
}

// item bounds one item's fields.
func (c *cuts) item(it *feed.Item) {
	it.ID = c.id(it.ID)
	it.Title = c.text(it.Title, MaxTitleBytes, &c.titles)
	if it.Link = c.url(it.Link, &c.links); it.Link == "" {
		it.Canonical = "" // Canonical(Link): no link, no story URL
	} else {
		it.Canonical = c.url(it.Canonical, &c.links)
	}
	it.Summary = c.html(it.Summary, &c.summaries)
	it.Content = c.html(it.Content, &c.contents)

	if len(it.Authors) > MaxAuthors {
		c.authors += len(it.Authors) - MaxAuthors
		it.Authors = it.Authors[:MaxAuthors]
	}
	for i := range it.Authors {
		p := &it.Authors[i]
		p.Name = c.text(p.Name, MaxAuthorBytes, &c.authors)
		if p.Email = c.text(p.Email, 0, nil); len(p.Email) > MaxEmailBytes {
			p.Email = ""
			c.emails++
		}
		p.URI = c.url(p.URI, &c.links)
	}

	if len(it.Categories) > MaxCategories {
		c.categories += len(it.Categories) - MaxCategories
		it.Categories = it.Categories[:MaxCategories]
	}
	for i, cat := range it.Categories {
		it.Categories[i] = c.text(cat, MaxCategoryBytes, &c.categories)
	}

	kept := it.Enclosures[:0]
	for _, e := range it.Enclosures {
		if e.URL = c.url(e.URL, &c.links); e.URL != "" {
			e.Type = c.text(e.Type, 0, nil)
			kept = append(kept, e)
		}
	}
	if len(kept) == 0 {
		kept = nil
	}
	it.Enclosures = kept

	// Every path that builds items (feeds, scraped pages, JSON APIs)
	// ends here: an image that is not an absolute http(s) URL goes.
	it.Image = c.url(imageURL(nil, it.Image), &c.links)
}

// text returns s without forbidden characters, cut to max bytes (0: no
// cap) with an ellipsis, counting a cut in *count.
func (c *cuts) text(s string, max int, count *int) string {
	s = c.clean(s)
	if max <= 0 || len(s) <= max {
		return s
	}
	*count++
	const ellipsis = "…"
	return strings.TrimRight(cutBytes(s, max-len(ellipsis)), " ") + ellipsis
}

// url returns u without forbidden characters, or "" when it is longer
// than MaxLinkBytes (see there why it is not cut), counting that in *count.
func (c *cuts) url(u string, count *int) string {
	u = c.clean(u)
	if len(u) > MaxLinkBytes {
		*count++
		return ""
	}
	return u
}

// id returns the item id without forbidden characters and capped by capID.
func (c *cuts) id(id string) string {
	id = c.clean(id)
	if len(id) > MaxIDBytes {
		c.ids++
		return capID(id)
	}
	return id
}

// html returns sanitized HTML without forbidden characters and capped by
// capHTML.
func (c *cuts) html(s string, count *int) string {
	s = c.clean(s)
	if len(s) > MaxContentBytes {
		*count++
		return capHTML(s, MaxContentBytes)
	}
	return s
}

// clean drops the characters XML forbids from s, counting the strings
// that had any.
func (c *cuts) clean(s string) string {
	s, dropped := dropForbidden(s)
	if dropped {
		c.forbidden++
	}
	return s
}

// cutBytes returns the longest prefix of s no longer than max bytes that
// does not end inside a UTF-8 sequence.
func cutBytes(s string, max int) string {
	if len(s) <= max {
		return s
	}
	if max <= 0 {
		return ""
	}
	i := max
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

// idHashSep separates the kept start of a capped id from the hash of the
// whole id. Its characters are all allowed in URIs, so an id that is a
// URL or URN stays one.
const idHashSep = "~sha256:"

// capID returns id cut to MaxIDBytes: its first bytes, idHashSep, and 32
// hex digits of the SHA-256 of the whole id. It depends on id alone, so it
// is the same on every refresh; two ids that differ only past the cap get
// different hashes. The kept start does not end inside a UTF-8 sequence or
// a percent-escape.
func capID(id string) string {
	sum := sha256.Sum256([]byte(id))
	suffix := idHashSep + hex.EncodeToString(sum[:16])
	head := cutBytes(id, MaxIDBytes-len(suffix))
	if k := strings.LastIndexByte(head, '%'); k >= 0 && k >= len(head)-2 {
		head = head[:k]
	}
	return head + suffix
}

// capHTML cuts sanitized HTML s to at most max bytes, keeping it well
// formed: whole elements are kept while they fit, the element the cut
// falls in keeps what fits of its content, a text is cut at a character
// boundary and ends with "…", and elements left empty go. s must be the
// output of sanitizeHTML (nested less than MaxHTMLDepth deep).
func capHTML(s string, max int) string {
	if len(s) <= max {
		return s
	}
	root := ParseFragment(s)
	cutTree(root, max)
	pruneEmpty(root)
	out := strings.TrimSpace(RenderChildren(root))
	if len(out) > max {
		// Rendering differed from what cutTree measured (it should
		// not): plain text is safe to cut at any character.
		out = html.EscapeString(cutBytes(textContent(root), max-len("…"))) + "…"
		out = cutBytes(out, max)
	}
	return out
}

// cutTree keeps of the children of n what renders in budget bytes and
// removes the rest.
func cutTree(n *nethtml.Node, budget int) {
	for c := n.FirstChild; c != nil; {
		next := c.NextSibling
		if budget <= 0 {
			n.RemoveChild(c)
			c = next
			continue
		}
		size := renderedLen(c)
		if size <= budget {
			budget -= size
			c = next
			continue
		}
		switch c.Type {
		case nethtml.TextNode:
			c.Data = cutEscaped(c.Data, budget-len("…")) + "…"
		case nethtml.ElementNode:
			shell := &nethtml.Node{Type: c.Type, Data: c.Data, DataAtom: c.DataAtom, Namespace: c.Namespace, Attr: c.Attr}
			if tags := renderedLen(shell); c.FirstChild != nil && tags < budget {
				cutTree(c, budget-tags)
			} else {
				n.RemoveChild(c)
			}
		default:
			n.RemoveChild(c)
		}
		budget = 0
		c = next
	}
}

// renderedLen is the length of n rendered as HTML.
func renderedLen(n *nethtml.Node) int {
	var w countWriter
	if err := nethtml.Render(&w, n); err != nil {
		return int(^uint(0) >> 1) // cannot happen with countWriter; never fits
	}
	return int(w)
}

type countWriter int

func (w *countWriter) Write(p []byte) (int, error) {
	*w += countWriter(len(p))
	return len(p), nil
}

// WriteString lets nethtml.Render count without copying.
func (w *countWriter) WriteString(s string) (int, error) {
	*w += countWriter(len(s))
	return len(s), nil
}

// cutEscaped returns the longest prefix of text whose HTML-escaped form,
// as x/net/html renders a text node, fits in max bytes.
func cutEscaped(text string, max int) string {
	n := 0
	for i, r := range text {
		w := utf8.RuneLen(r)
		switch r {
		case '&', '\'', '"', '\r':
			w = 5 // &amp; &#39; &#34; &#13;
		case '<', '>':
			w = 4 // &lt; &gt;
		}
		if n+w > max {
			return text[:i]
		}
		n += w
	}
	return text
}
