package scrape

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"net/url"
	"runtime"
	"strings"
	"time"

	"github.com/andybalholm/cascadia"
	nethtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/normalize"
)

// ErrNoItems reports a page or a JSON document in which the source's item
// rules, or the listing inference, found nothing: a source that used to
// work and now yields nothing has changed its layout, which must show as
// an error rather than as an empty success.
var ErrNoItems = errors.New("no items found")

// Scraped is what Scrape made of a web page.
type Scraped struct {
	// Feed holds the items, built as Normalize builds a feed's: plain-text
	// titles, sanitized summaries and contents, absolute links without
	// tracking parameters, UTC dates (zero when the page gives none), and
	// the canonical link as the stable id. Title is the page's <title>
	// (else its og:site_name, else its og:title), Link the page's URL.
	Feed *normalize.Feed
	// Rules are the selectors the items were found with: the source's
	// own, or those inferred from the page (nil for a single article).
	// Given back as src.Items they find the same items on the same page,
	// so a user can copy them from the preview and adjust them. (An
	// inferred Each may also match elements that give no link, such as a
	// notice among the teasers: Scrape skips those.)
	Rules *feed.ItemRules
	// Single is set when the page is itself an article and its one item
	// is that article (title, dates and author from the page's metadata,
	// content extracted as Extract does); no other page is linked to.
	Single bool
	// NeedPages says the items are not complete without their article
	// pages: each must be fetched and Extract's Title, Published,
	// Updated, Author and Content used where the item has none
	// (CompleteFromPage). True when the rules were inferred, or when the
	// source's rules give no date.
	NeedPages bool
	// Skipped counts the elements the rules matched that gave no usable
	// link (none, or not http(s)): they are not items.
	Skipped int
}

// Scrape turns a web page (UTF-8 HTML, as internal/fetch delivers it)
// fetched from pageURL (the final URL after redirects) into items for src.
//
// With src.Items set, its rules say where the items are: Each selects
// the item elements, and each field is a CSS selector relative to one,
// ending in @attr to take that attribute rather than the text (an empty
// selector before @, or ":scope", is the element itself). Title, Link,
// Date, Summary and Image left empty are guessed over the matched
// elements as listing inference guesses them (guessFields), and Rules
// holds the guesses. For a field still empty: Link is the element's own href when it is a link, else the
// first link in a heading of the element, else its first link; Title is
// the text of the element when it is a heading, else of its first
// heading, else of that link. Link (a selector without @
// takes the href of the element it selects, or of the first link in it)
// is resolved against the page's <base href> and pageURL; an element
// without an http(s) link is skipped and counted. Date is parsed with
// DateFormat (a Go layout) when given and it fits, else leniently (see
// parseDate); a date attribute that is empty falls back to the element's
// text. Summary and Content take the selected element's HTML, sanitized
// as feed content is (an @attr value is plain text); Content takes every
// match, the other fields the first. Image (an <img>'s src or srcset, or
// an attribute) becomes the item's Image, its picture (not an enclosure:
// a thumbnail is no attachment). Author is a name. The source's
// rewrites apply as to a feed's items; an item without a summary gets one
// derived from its content. Items keep the page's order; an item repeating
// an earlier one's link is dropped (counted in Feed.Duplicates) after
// lending it the fields it lacks.
//
// Without src.Items (or with an empty Each), Scrape finds the listing
// itself (see infer.go) and returns the rules it inferred; NeedPages is
// then set, since a listing's teasers are no articles. When the page is itself an article,
// its one item is that article and Single is set: when it carries JSON-LD
// of an article type naming this page (or its rel=canonical), or when it
// says og:type article, carries JSON-LD naming another URL or holds one
// <article> with 500 characters of text outside links, and no listing of
// five items or more was found (the "related stories" under an article
// are fewer).
//
// Errors name the source: rules matching no element
// (`items.each "SEL" matched 0 elements`) or giving no link in any of
// them, and a page on which no listing and no article was found, wrap
// ErrNoItems; a selector that does not compile and a bad rewrite pattern
// are errors too; a page with more than MaxElements elements wraps
// ErrTooComplex. Scrape does not panic on any page. The feed's title and
// items fit the caps of limits.go, as Normalize's do.
func (sc *Scraper) Scrape(src feed.Source, page []byte, pageURL string, now time.Time) (*Scraped, error) {
	out, err := sc.scrape(src, page, pageURL, now)
	if err != nil {
		return nil, err
	}
	sc.norm.Bound(src.Name, out.Feed)
	return out, nil
}

// scrape is Scrape without the caps.
func (sc *Scraper) scrape(src feed.Source, page []byte, pageURL string, now time.Time) (*Scraped, error) {
	rewrites, err := sc.norm.Rewrites(src)
	if err != nil {
		return nil, err
	}
	if countTags(page) > normalize.MaxElements {
		return nil, fmt.Errorf("scrape %s: %w: more than %d elements", src.Name, normalize.ErrTooComplex, normalize.MaxElements)
	}
	doc, err := nethtml.Parse(bytes.NewReader(bytes.ToValidUTF8(page, []byte("\uFFFD"))))
	if err != nil {
		return nil, fmt.Errorf("scrape %s: parse %s: %w", src.Name, pageURL, err)
	}
	pageBase := normalize.ParseBase(pageURL)
	base := documentBase(doc, pageBase)
	meta := readMeta(doc, base, pageBase)
	normalize.Unlazy(doc)

	s := &scraper{
		n: sc, src: src, doc: doc, base: base, page: pageBase, now: now.UTC(), rewrites: rewrites,
	}
	out := &Scraped{Feed: &normalize.Feed{Title: listingTitle(doc, meta, pageBase), Link: normalize.EscapeURI(normalize.ResolveRef(pageBase, nil, pageURL, false))}}

	if src.Items != nil && strings.TrimSpace(src.Items.Each) != "" {
		// Fields left out are guessed from the elements, as inference
		// guesses them; out.Rules shows what was used.
		given := *src.Items
		if _, err := s.compileRules(given, true); err != nil {
			return nil, err // the user's own selectors are reported as given
		}
		rules := s.guessFields(given)
		if err := s.apply(rules, rules == given, out); err != nil {
			return nil, err
		}
		out.Rules = &rules
		out.NeedPages = strings.TrimSpace(rules.Date) == ""
		return out, nil
	}

	listing := s.inferListing()
	switch s.pageKind(meta, canonicalLink(doc, base), listing) {
	case pageArticle:
		it, err := sc.singleArticle(src, page, pageURL, meta, rewrites, now.UTC())
		if err != nil {
			return nil, fmt.Errorf("scrape %s: %w", src.Name, err)
		}
		out.Feed.Items = []feed.Item{it}
		out.Single = true
		return out, nil
	case pageNothing:
		return nil, fmt.Errorf("scrape %s: no listing of articles found on %s (give items: rules): %w", src.Name, pageURL, ErrNoItems)
	}
	if err := s.apply(listing.rules, false, out); err != nil {
		return nil, err
	}
	rules := listing.rules
	out.Rules = &rules
	out.NeedPages = true
	return out, nil
}

// countTags counts what may be start tags in page ('<' and a letter):
// at least the elements the parser will make, for refusing a page that
// would take too much memory before parsing it.
func countTags(page []byte) int {
	count := 0
	for i := 0; i+1 < len(page); i++ {
		if page[i] == '<' {
			if c := page[i+1] | 0x20; c >= 'a' && c <= 'z' {
				count++
			}
		}
	}
	return count
}

// listingTitle is the title of a scraped page's feed: its <title>, else
// its og:site_name, else its og:title. A site's front page titled with its
// name and a slogan ("The Valley Courier | News from the valley") is
// called by its name alone, as a reader's list of subscriptions would.
func listingTitle(doc *nethtml.Node, meta Meta, page *url.URL) string {
	for _, t := range normalize.FindAll(doc, atom.Title) {
		if s := pageText(normalize.TextContent(t)); s != "" {
			if page != nil && feed.IsFrontPage(page) && meta.SiteName != "" && titledBy(s, meta.SiteName) {
				return meta.SiteName
			}
			return s
		}
	}
	if meta.SiteName != "" {
		return meta.SiteName
	}
	return meta.Title
}

// titledBy reports whether title is name and more, set apart by one of
// the separators titles use (" | ", " - ", " – ", " — ", " · ", ": ").
func titledBy(title, name string) bool {
	for _, sep := range []string{" | ", " - ", " – ", " — ", " · ", ": "} {
		for part := range strings.SplitSeq(title, sep) {
			if strings.EqualFold(strings.TrimSpace(part), strings.TrimSpace(name)) {
				return true
			}
		}
	}
	return false
}

// pageText makes text taken from a parsed page plain text as cleanText
// makes feed text, without decoding entities a second time (the parser
// has decoded them): inert markup, no control characters, collapsed
// whitespace.
func pageText(s string) string {
	return normalize.CleanText(html.EscapeString(s))
}

// scraper holds what one Scrape works on.
type scraper struct {
	n        *Scraper
	src      feed.Source
	doc      *nethtml.Node
	base     *url.URL // the page's <base href>, else its URL
	page     *url.URL // the page's URL
	now      time.Time
	rewrites normalize.Rewrites
}

// field is one parsed ItemRules field: a selector (nil for the element
// itself) and an attribute ("" for the text or HTML).
type field struct {
	spec string
	sel  cascadia.Selector
	attr string
	self bool // the selector is empty: the element itself
}

// parseField splits "sel@attr" and compiles sel. The @ that starts the
// attribute is the last one outside brackets, parentheses and quotes,
// followed by an attribute name. An empty spec gives a zero field.
func parseField(spec string, compile func(string) (cascadia.Selector, error)) (field, error) {
	spec = strings.TrimSpace(spec)
	f := field{spec: spec}
	if spec == "" {
		return f, nil
	}
	sel := spec
	if at := attrSplit(spec); at >= 0 {
		sel, f.attr = strings.TrimSpace(spec[:at]), strings.ToLower(strings.TrimSpace(spec[at+1:]))
	}
	if sel == "" || sel == ":scope" {
		f.self = true
		return f, nil
	}
	m, err := compile(sel)
	if err != nil {
		return f, err
	}
	f.sel = m
	return f, nil
}

// attrSplit returns the index of the @ that starts spec's attribute, or -1.
func attrSplit(spec string) int {
	depth := 0
	var quote byte
	at := -1
	for i := 0; i < len(spec); i++ {
		c := spec[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '[' || c == '(':
			depth++
		case c == ']' || c == ')':
			depth--
		case c == '@' && depth == 0:
			at = i
		}
	}
	if at < 0 || !isAttrName(spec[at+1:]) {
		return -1
	}
	return at
}

func isAttrName(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if !(c >= 'a' && c <= 'z' || s[i] >= '0' && s[i] <= '9' && i > 0 || s[i] == '-' || s[i] == '_' || s[i] == ':' || s[i] == '.' && i > 0) {
			return false
		}
	}
	return true
}

// node returns what f selects in e: e itself, or its first descendant
// matching the selector; nil when nothing matches.
func (f field) node(e *nethtml.Node) *nethtml.Node {
	if f.self {
		return e
	}
	if f.sel == nil {
		return nil
	}
	return firstMatch(e, f.sel)
}

// firstMatch returns the first descendant of e, in document order, that m
// matches.
func firstMatch(e *nethtml.Node, m cascadia.Matcher) *nethtml.Node {
	for c := e.FirstChild; c != nil; c = c.NextSibling {
		if c.Type != nethtml.ElementNode {
			continue
		}
		if m.Match(c) {
			return c
		}
		if d := firstMatch(c, m); d != nil {
			return d
		}
	}
	return nil
}

// allMatches returns the descendants of e that m matches and that are not
// inside another match, in document order.
func allMatches(e *nethtml.Node, m cascadia.Matcher, out []*nethtml.Node) []*nethtml.Node {
	for c := e.FirstChild; c != nil; c = c.NextSibling {
		if c.Type != nethtml.ElementNode {
			continue
		}
		if m.Match(c) {
			out = append(out, c)
			continue
		}
		out = allMatches(c, m, out)
	}
	return out
}

// text returns the plain text of what f selects in e: the attribute when
// f names one, else the element's text.
func (f field) text(e *nethtml.Node) string {
	node := f.node(e)
	if node == nil {
		return ""
	}
	if f.attr != "" {
		return pageText(normalize.Attr(node, f.attr))
	}
	return pageText(nodeText(node))
}

// nodeText returns the text a reader sees in n: no script, style or
// template text, a space between blocks.
func nodeText(n *nethtml.Node) string {
	if n.Type == nethtml.TextNode {
		return n.Data
	}
	return normalize.BlockText(n, unseen)
}

// unseen are the elements whose text a reader never sees.
var unseen = map[atom.Atom]bool{atom.Script: true, atom.Style: true, atom.Template: true, atom.Noscript: true}

// rulesFields are the compiled fields of one ItemRules.
type rulesFields struct {
	each                                               cascadia.Selector
	title, link, date, summary, content, image, author field
}

// compileRules compiles rules. Compiled selectors of the configuration
// are cached in the Normalizer; inferred ones are not (cached false),
// since pages change and the cache would grow with every new guess.
func (s *scraper) compileRules(r feed.ItemRules, cached bool) (*rulesFields, error) {
	compile := cascadia.Compile
	if cached {
		compile = s.n.compileSelector
	}
	var f rulesFields
	each, err := compile(strings.TrimSpace(r.Each))
	if err != nil {
		return nil, fmt.Errorf("scrape %s: items.each: %w", s.src.Name, err)
	}
	f.each = each
	for _, x := range []struct {
		name string
		spec string
		dst  *field
	}{
		{"title", r.Title, &f.title}, {"link", r.Link, &f.link}, {"date", r.Date, &f.date},
		{"summary", r.Summary, &f.summary}, {"content", r.Content, &f.content},
		{"image", r.Image, &f.image}, {"author", r.Author, &f.author},
	} {
		v, err := parseField(x.spec, compile)
		if err != nil {
			return nil, fmt.Errorf("scrape %s: items.%s: %w", s.src.Name, x.name, err)
		}
		*x.dst = v
	}
	return &f, nil
}

// apply finds the items of rules on the page and puts them in out.
func (s *scraper) apply(rules feed.ItemRules, cached bool, out *Scraped) error {
	f, err := s.compileRules(rules, cached)
	if err != nil {
		return err
	}
	elems := allMatchesNested(s.doc, f.each)
	if len(elems) == 0 {
		return fmt.Errorf("scrape %s: items.each %q matched 0 elements: %w", s.src.Name, strings.TrimSpace(rules.Each), ErrNoItems)
	}
	byID := make(map[string]int, len(elems))
	for _, e := range elems {
		it, ok := s.item(e, f, rules.DateFormat)
		if !ok {
			out.Skipped++
			continue
		}
		if i, dup := byID[it.ID]; dup {
			lend(&out.Feed.Items[i], it)
			out.Feed.Duplicates++
			continue
		}
		byID[it.ID] = len(out.Feed.Items)
		out.Feed.Items = append(out.Feed.Items, it)
		runtime.Gosched() // as Normalize: let waiting requests in between items
	}
	if len(out.Feed.Items) == 0 {
		spec := strings.TrimSpace(rules.Link)
		if spec == "" {
			spec = "(default: the element's first link)"
		} else {
			spec = fmt.Sprintf("%q", spec)
		}
		return fmt.Errorf("scrape %s: items.link %s gave no http(s) link in any of the %d elements items.each %q matched: %w",
			s.src.Name, spec, len(elems), strings.TrimSpace(rules.Each), ErrNoItems)
	}
	return nil
}

// allMatchesNested returns every element under root that m matches, in
// document order, nested ones included (rules decide what an item is).
// It scans at most maxPageElements elements.
func allMatchesNested(root *nethtml.Node, m cascadia.Matcher) []*nethtml.Node {
	var out []*nethtml.Node
	scanned := 0
	var walk func(*nethtml.Node)
	walk = func(n *nethtml.Node) {
		for c := n.FirstChild; c != nil && scanned < maxPageElements; c = c.NextSibling {
			if c.Type != nethtml.ElementNode {
				continue
			}
			scanned++
			if m.Match(c) {
				out = append(out, c)
			}
			walk(c)
		}
	}
	walk(root)
	return out
}

// lend gives dst the fields it lacks from src, a later copy of the same
// item (a front page links its lead story twice).
func lend(dst *feed.Item, src feed.Item) {
	if dst.Title == "" {
		dst.Title = src.Title
	}
	if dst.Summary == "" {
		dst.Summary = src.Summary
	}
	if dst.Content == "" {
		dst.Content = src.Content
	}
	if dst.Published.IsZero() {
		dst.Published = src.Published
	}
	if dst.Updated.IsZero() {
		dst.Updated = src.Updated
	}
	if len(dst.Authors) == 0 {
		dst.Authors = src.Authors
	}
	if len(dst.Enclosures) == 0 {
		dst.Enclosures = src.Enclosures
	}
	if dst.Image == "" {
		dst.Image = src.Image
	}
}

// headings are the elements a default title is taken from.
var headings = map[atom.Atom]bool{atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true}

// linkNode returns the element whose href is e's link by default: e when
// it is a link, else the first link inside a heading of e, else e's first
// link.
func linkNode(e *nethtml.Node) *nethtml.Node {
	if e.DataAtom == atom.A && normalize.HasAttr(e, "href") {
		return e
	}
	var first, inHeading *nethtml.Node
	var walk func(n *nethtml.Node, inH bool) bool
	walk = func(n *nethtml.Node, inH bool) bool {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != nethtml.ElementNode {
				continue
			}
			h := inH || headings[c.DataAtom]
			if c.DataAtom == atom.A && normalize.HasAttr(c, "href") {
				if first == nil {
					first = c
				}
				if h {
					inHeading = c
					return true
				}
			}
			if walk(c, h) {
				return true
			}
		}
		return false
	}
	walk(e, false)
	if inHeading != nil {
		return inHeading
	}
	return first
}

// firstHeading returns e's first heading element, or nil.
func firstHeading(e *nethtml.Node) *nethtml.Node {
	for c := e.FirstChild; c != nil; c = c.NextSibling {
		if c.Type != nethtml.ElementNode {
			continue
		}
		if headings[c.DataAtom] {
			return c
		}
		if h := firstHeading(c); h != nil {
			return h
		}
	}
	return nil
}

// rawLink returns the link f gives for e, as resolveRef gives it.
func (s *scraper) rawLink(e *nethtml.Node, f field) string {
	var href string
	switch {
	case f.spec == "":
		if l := linkNode(e); l != nil {
			href = normalize.Attr(l, "href")
		}
	case f.attr != "":
		if node := f.node(e); node != nil {
			href = normalize.Attr(node, f.attr)
		}
	default:
		node := f.node(e)
		if node != nil && !normalize.HasAttr(node, "href") {
			node = linkNode(node)
		}
		if node != nil {
			href = normalize.Attr(node, "href")
		}
	}
	return normalize.ResolveRef(s.base, nil, href, false)
}

// item builds the item of element e; ok is false when e gives no link.
func (s *scraper) item(e *nethtml.Node, f *rulesFields, dateFormat string) (feed.Item, bool) {
	rawLink := s.rawLink(e, f.link)
	if rawLink == "" {
		return feed.Item{}, false
	}
	it := feed.Item{Source: s.src.Name}
	it.Link = normalize.EscapeURI(s.n.norm.StripTracking(rawLink))
	it.Canonical = s.n.norm.Canonical(it.Link)
	// The id is the canonical link: a listing's links carry whatever
	// campaign tags and fragments the page is decorated with today.
	it.ID = feed.ItemID("", it.Canonical, "", time.Time{})
	itemPage := normalize.ParseBase(it.Link)

	it.Title = s.titleOf(e, f.title)
	if d := s.dateOf(e, f.date, dateFormat); !d.IsZero() {
		it.Published = normalize.CleanDate(d, s.now)
	}

	it.Summary = s.htmlField(e, f.summary, false, itemPage)
	it.Content = s.htmlField(e, f.content, true, itemPage)

	if f.image.spec != "" {
		// A listing's thumbnail is the item's picture, not an attachment.
		it.Image = s.imageURL(e, f.image)
	}
	if f.author.spec != "" {
		if name := f.author.text(e); name != "" {
			it.Authors = normalize.CleanPeople(s.base, []feed.Person{normalize.ParsePerson(name)})
		}
	}

	s.rewrites.Item(&it, s.base, itemPage)
	return it, true
}

// titleOf returns the title f gives for e. Without a rule it is the text
// of e when e is a heading, else of e's first heading, else of its link.
func (s *scraper) titleOf(e *nethtml.Node, f field) string {
	if f.spec != "" {
		return f.text(e)
	}
	if headings[e.DataAtom] {
		return pageText(nodeText(e))
	}
	if h := firstHeading(e); h != nil {
		return pageText(nodeText(h))
	}
	if l := linkNode(e); l != nil {
		return pageText(nodeText(l))
	}
	return ""
}

// dateOf returns the date f gives for e (UTC, zero when none): from the
// attribute f names, or the element's text when that is empty or f names
// none.
func (s *scraper) dateOf(e *nethtml.Node, f field, layout string) time.Time {
	if f.spec == "" {
		return time.Time{}
	}
	node := f.node(e)
	if node == nil {
		return time.Time{}
	}
	v := ""
	if f.attr != "" {
		v = normalize.Attr(node, f.attr)
	}
	if strings.TrimSpace(v) == "" {
		v = nodeText(node)
	}
	return parseDate(v, strings.TrimSpace(layout))
}

// htmlField returns the sanitized HTML f selects in e (every match when
// all), or the attribute's value as plain text.
func (s *scraper) htmlField(e *nethtml.Node, f field, all bool, itemPage *url.URL) string {
	if f.spec == "" {
		return ""
	}
	if f.attr != "" {
		node := f.node(e)
		if node == nil {
			return ""
		}
		return s.n.norm.PlainText(normalize.Attr(node, f.attr))
	}
	var nodes []*nethtml.Node
	switch {
	case f.self:
		nodes = []*nethtml.Node{e}
	case all:
		nodes = allMatches(e, f.sel, nil)
	default:
		if node := f.node(e); node != nil {
			nodes = []*nethtml.Node{node}
		}
	}
	var b strings.Builder
	for _, node := range nodes {
		if err := nethtml.Render(&b, node); err != nil {
			return "" // a strings.Builder does not fail
		}
	}
	return s.n.norm.SanitizeHTML(b.String(), s.base, itemPage)
}

// imageURL returns the absolute URL of the image f selects in e.
func (s *scraper) imageURL(e *nethtml.Node, f field) string {
	node := f.node(e)
	if node == nil {
		return ""
	}
	var raw string
	switch {
	case f.attr == "srcset":
		raw = firstSrcsetURL(normalize.Attr(node, "srcset"))
	case f.attr != "":
		raw = normalize.Attr(node, f.attr)
	default:
		img := node
		if node.DataAtom != atom.Img && node.DataAtom != atom.Source {
			if imgs := normalize.FindAll(node, atom.Img); len(imgs) > 0 {
				img = imgs[0]
			}
		}
		raw = normalize.Attr(img, "src")
		if strings.TrimSpace(raw) == "" {
			raw = firstSrcsetURL(normalize.Attr(img, "srcset"))
		}
	}
	return normalize.ResolveURL(s.base, nil, raw, false)
}

// firstSrcsetURL returns the URL of a srcset's first candidate.
func firstSrcsetURL(srcset string) string {
	first, _, _ := strings.Cut(strings.TrimSpace(srcset), ",")
	u, _, _ := strings.Cut(strings.TrimSpace(first), " ")
	return u
}

// singleArticle makes the page itself an item: the link is the page's
// URL, title and description from its metadata, content, dates, author
// and picture as Extract gives them (the page's metadata, else its
// byline and its <time>; its hero, else og:image, else JSON-LD image).
func (sc *Scraper) singleArticle(src feed.Source, page []byte, pageURL string, meta Meta, rewrites normalize.Rewrites, now time.Time) (feed.Item, error) {
	raw := normalize.ResolveRef(nil, nil, pageURL, false)
	if raw == "" {
		return feed.Item{}, fmt.Errorf("page URL %q is not an absolute http(s) URL", pageURL)
	}
	art, err := sc.Extract(src, page, pageURL)
	if err != nil {
		return feed.Item{}, err
	}
	it := feed.Item{Source: src.Name, Link: normalize.EscapeURI(sc.norm.StripTracking(raw))}
	it.ID = feed.ItemID("", sc.norm.Canonical(it.Link), "", time.Time{})
	it.Canonical = art.Canonical
	if it.Canonical == "" {
		it.Canonical = sc.norm.Canonical(it.Link)
	}
	it.Title = meta.Title
	if it.Title == "" {
		it.Title = art.Title
	}
	it.Title = rewrites.Text(feed.FieldTitle, it.Title)
	it.Content = art.Content // Extract applied the content rewrites
	if meta.Description != "" {
		it.Summary = rewrites.HTML(feed.FieldSummary, sc.norm.PlainText(meta.Description), nil, nil)
	}
	if it.Summary == "" {
		it.Summary = normalize.DeriveSummary(it.Content)
	}
	it.Published, it.Updated = normalize.CleanDates(art.Published, art.Updated, now)
	var people []feed.Person
	for _, a := range art.authors {
		people = append(people, feed.Person{Name: a})
	}
	it.Authors = normalize.CleanPeople(normalize.ParseBase(pageURL), people)
	it.Image = art.Image
	return it, nil
}
