package normalize

import (
	"bytes"
	"net/url"
	"time"

	nethtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/feedmill/feedmill/internal/feed"
)

// What internal/scrape builds its items with. A web page or a JSON API
// becomes items by the same rules as a feed: the same sanitizing, URL
// resolution, tracking-parameter stripping, date sanity, people cleaning,
// rewrites and caps. Those rules live here, once; this file is the whole
// of what scrape may use of them, so that the contract between the two
// packages can be read in one place.

// SanitizeHTML sanitizes an HTML fragment as Normalize does an item's
// summary and content, resolving its URLs against base, else page.
func (n *Normalizer) SanitizeHTML(fragment string, base, page *url.URL) string {
	return n.sanitizeHTML(fragment, base, page)
}

// PlainText converts text known to be plain to sanitized HTML.
func (n *Normalizer) PlainText(s string) string { return n.plainText(s) }

// HTMLOrText converts text of unknown kind to sanitized HTML, as Normalize
// does a feed's content: markup is sanitized, anything else is plain text.
func (n *Normalizer) HTMLOrText(s string, base, page *url.URL) string {
	return n.htmlOrText(s, base, page)
}

// ImageURL returns ref as the URL of an item's or an article's picture,
// resolved against base, or "" when it cannot be one: not an absolute
// http(s) URL once resolved, a mere fragment, or longer than MaxLinkBytes.
// User information is dropped; the query is kept. It is the rule feed
// items' images are judged by (see image.go), so a picture found on a
// page is published under the same rule.
func (n *Normalizer) ImageURL(ref string, base *url.URL) string {
	if u := imageURL(base, ref); len(u) <= MaxLinkBytes {
		return u
	}
	return ""
}

// StripTracking returns rawURL without its tracking parameters (the
// built-in list and Options.TrackingParams), keeping its fragment.
func (n *Normalizer) StripTracking(rawURL string) string { return n.stripTracking(rawURL) }

// Bound makes f fit the caps of limits.go and free of the characters XML
// forbids, and logs what it cut once, naming source. Every function that
// returns items calls it last.
func (n *Normalizer) Bound(source string, f *Feed) { n.bound(source, f) }

// BoundArticle makes the fields of an article extracted from pageURL fit
// the caps of limits.go (title MaxTitleBytes, author MaxAuthorBytes,
// canonical link MaxLinkBytes, content MaxContentBytes) and free of the
// characters XML forbids. What it cut is logged at debug level: an
// article page is extracted once per item, and the caps are documented.
func (n *Normalizer) BoundArticle(source, pageURL string, title, author, canonical, content *string) {
	var c cuts
	*title = c.text(*title, MaxTitleBytes, &c.titles)
	*author = c.text(*author, MaxAuthorBytes, &c.authors)
	*canonical = c.url(*canonical, &c.links)
	*content = c.html(*content, &c.contents)
	if c != (cuts{}) {
		n.log.Debug("article fields cut to their caps", "source", source, "url", pageURL,
			"title", c.titles, "author", c.authors, "content", c.contents)
	}
}

// Rewrites are a source's rewrites, compiled, ready to apply to the fields
// of its items.
type Rewrites struct {
	n    *Normalizer
	list []rewrite
}

// Rewrites compiles the rewrites of src; a pattern that does not compile
// or an unknown field is an error naming the source.
func (n *Normalizer) Rewrites(src feed.Source) (Rewrites, error) {
	list, err := n.compileRewrites(src)
	return Rewrites{n: n, list: list}, err
}

// Text applies the rewrites of field (feed.FieldTitle, ...) to plain text s.
func (r Rewrites) Text(field, s string) string { return applyText(r.list, field, s) }

// HTML applies the rewrites of field to sanitized HTML s, sanitizing the
// result again when any applied.
func (r Rewrites) HTML(field, s string, base, page *url.URL) string {
	return r.n.applyHTML(r.list, field, s, base, page)
}

// Item applies the rewrites of an item's title, summary and content to it,
// then gives an item left without a summary the excerpt of its content,
// as Normalize does for a feed's items: the last step of an item a web
// page or a JSON API gave.
func (r Rewrites) Item(it *feed.Item, base, page *url.URL) {
	it.Title = r.Text(feed.FieldTitle, it.Title)
	it.Summary = r.HTML(feed.FieldSummary, it.Summary, base, page)
	it.Content = r.HTML(feed.FieldContent, it.Content, base, page)
	if it.Summary == "" {
		it.Summary = DeriveSummary(it.Content)
	}
}

// CleanPeople makes names plain text, keeps only plausible email addresses
// and absolute http(s) URIs (resolved against base), and drops empty and
// repeated people.
func CleanPeople(base *url.URL, in []feed.Person) []feed.Person {
	b := itemBuilder{base: base}
	return b.cleanPeople(in)
}

// ParsePerson splits a free-form author text ("email (Name)", "Name
// <email>", a bare name...) into a person.
func ParsePerson(text string) feed.Person { return parsePerson(text) }

// CleanDate applies Normalize's date rules to one date: UTC, zero when
// before 1995 or more than a day after now.
func CleanDate(t, now time.Time) time.Time { return cleanDate(&t, now) }

// CleanDates is CleanDate for a published and an updated date, and an
// update never precedes publication.
func CleanDates(pub, upd, now time.Time) (time.Time, time.Time) { return cleanDates(&pub, &upd, now) }

// CleanText turns text that may hold markup into inert plain text (see
// Normalize's titles).
func CleanText(s string) string { return cleanText(s) }

// IsBlank reports whether r is white space, zero-width space included.
func IsBlank(r rune) bool { return isBlank(r) }

// ParseBase returns s as a base URL when it is an absolute http(s) URL,
// else nil.
func ParseBase(s string) *url.URL { return parseBase(s) }

// ResolveURL resolves ref against base, else page, and returns it as an
// absolute http(s) (or, when allowMailto, mailto) URI, or "".
func ResolveURL(base, page *url.URL, ref string, allowMailto bool) string {
	return resolveURL(base, page, ref, allowMailto)
}

// ResolveRef is ResolveURL without the final escaping: the URL as the
// publisher gives it, from which item ids are derived.
func ResolveRef(base, page *url.URL, ref string, allowMailto bool) string {
	return resolveRef(base, page, ref, allowMailto)
}

// EscapeURI percent-encodes the ASCII characters a URI cannot hold.
func EscapeURI(s string) string { return escapeURI(s) }

// CheckJSONShape refuses a JSON body nested deeper than MaxDepth or holding
// more than MaxElements containers or MaxItems items, with an error
// wrapping ErrTooComplex.
func CheckJSONShape(body []byte) error { return checkJSONShape(body) }

// TrimBOM returns body without a leading UTF-8 byte order mark.
func TrimBOM(body []byte) []byte { return bytes.TrimPrefix(body, utf8BOM) }

// Unlazy makes lazy-loaded images real (data-src and the like) and
// unwraps <noscript> fallbacks, as Normalize does in content.
func Unlazy(root *nethtml.Node) { unlazy(root, true) }

// FindAll returns the descendants of n of kind a, in document order.
func FindAll(n *nethtml.Node, a atom.Atom) []*nethtml.Node { return findAll(n, a) }

// Attr returns the value of n's attribute key, or "".
func Attr(n *nethtml.Node, key string) string { return getAttr(n, key) }

// HasAttr reports whether n has the attribute key.
func HasAttr(n *nethtml.Node, key string) bool { return hasAttr(n, key) }

// TextContent returns the text of n's descendants, as the DOM property of
// that name does.
func TextContent(n *nethtml.Node) string { return textContent(n) }

// BlockText returns the text under n without the elements in skip, a
// space around each block element.
func BlockText(n *nethtml.Node, skip map[atom.Atom]bool) string { return blockText(n, skip) }

// The rules the tests of scrape check its items against, as Normalize's
// own tests check a feed's items.

// XMLForbidden reports whether XML 1.0 forbids r in a document: no
// published field holds one.
func XMLForbidden(r rune) bool { return xmlForbidden(r) }

// CleanEmail returns s when it looks like an email address, else "".
func CleanEmail(s string) string { return cleanEmail(s) }

// Defuse drops from plain text s what would be active markup to a reader
// that takes it for HTML; text Normalize made is a fixed point.
func Defuse(s string) string { return defuse(s) }

// MediaTypePattern matches the media types an enclosure may carry, and
// PlayerURLPattern the video players an <iframe> may embed.
var (
	MediaTypePattern = enclosureType
	PlayerURLPattern = playerURLPattern
)
