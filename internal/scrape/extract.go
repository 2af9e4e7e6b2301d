package scrape

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"codeberg.org/readeck/go-readability/v2"
	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"
	nethtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/normalize"
)

// Article is the article extracted from a page.
type Article struct {
	Title     string // plain text; may be empty
	Content   string // sanitized, hygienic HTML with absolute URLs; never empty
	Canonical string // Canonical() of the page's rel=canonical; may be empty

	// Published, Updated and Author are what the page says about its
	// article (ArticleMeta): UTC dates, zero when it gives none (dates in
	// the future are left for the caller, who has a clock, to judge), and
	// plain-text names. They date and credit items taken from pages
	// rather than from a feed.
	Published time.Time
	Updated   time.Time
	Author    string
	// Image is the article's lead picture (absolute http(s); may be
	// empty): the hero the page shows above or beside the story, else
	// its og:image, else its JSON-LD image. Content starts with it when
	// the story's body does not show it.
	Image string

	// authors are the names Author joins.
	authors []string
}

// ErrNoArticle reports a page on which no article text was found.
var ErrNoArticle = errors.New("no article found")

// maxPageElements bounds the pages given to readability, whose scoring
// grows faster than the page: a news page has a few thousand elements.
const maxPageElements = 50000

// Extract finds the article on page, the HTML of the article page fetched
// from pageURL (the final URL after redirects). page must already be UTF-8,
// as internal/fetch delivers it; a <meta charset> on it is ignored, since it
// names the encoding the page had before conversion.
//
// With src.Content.Select set, the article is what the selector matches (all
// matches in document order, none inside another), without what
// src.Content.Remove matches inside it; readability is not used. Without
// it, readability finds the article, and the Remove selectors still apply.
// Either way the content is sanitized and hygienic as in Normalize
// (sanitizeHTML), URLs resolved against the page's <base> or pageURL, and
// the source's content rewrites are applied (not its title rewrites, which
// are the feed item's). Title is the page's (og:title, else <title>, or
// readability's cleaned one). Canonical is the page's <link
// rel="canonical">, resolved and canonicalized, when it is http(s).
// Published, Updated and Author are ArticleMeta's. Title, Author and
// Content fit the caps of limits.go and hold no character XML forbids.
//
// A selector that does not compile, a bad rewrite pattern and a page
// without article text (wrapping ErrNoArticle) are errors naming pageURL.
// Extract does not panic on any page.
func (sc *Scraper) Extract(src feed.Source, page []byte, pageURL string) (*Article, error) {
	rewrites, err := sc.norm.Rewrites(src)
	if err != nil {
		return nil, fmt.Errorf("extract %s: %w", pageURL, err)
	}
	var sel cascadia.Selector
	if s := strings.TrimSpace(src.Content.Select); s != "" {
		if sel, err = sc.compileSelector(s); err != nil {
			return nil, fmt.Errorf("extract %s: source %s: %w", pageURL, src.Name, err)
		}
	}
	removes := make([]cascadia.Selector, 0, len(src.Content.Remove))
	for _, s := range src.Content.Remove {
		if strings.TrimSpace(s) == "" {
			continue
		}
		m, err := sc.compileSelector(s)
		if err != nil {
			return nil, fmt.Errorf("extract %s: source %s: %w", pageURL, src.Name, err)
		}
		removes = append(removes, m)
	}

	// x/net/html reads bytes as UTF-8 whatever a <meta> says, which is
	// what a converted page needs. Invalid sequences are replaced so that
	// they cannot reach the output.
	doc, err := nethtml.Parse(bytes.NewReader(bytes.ToValidUTF8(page, []byte("\uFFFD"))))
	if err != nil {
		return nil, fmt.Errorf("extract %s: parse: %w", pageURL, err)
	}
	pageBase := normalize.ParseBase(pageURL)
	base := documentBase(doc, pageBase)

	art := &Article{Title: pageTitle(doc)}
	// The metadata is read before the article is looked for, which
	// changes the document.
	meta := readMeta(doc, base, pageBase)
	art.Published, art.Updated, art.Author, art.authors = meta.Published, meta.Updated, meta.Author, meta.authors
	if c := canonicalLink(doc, base); c != "" {
		art.Canonical = sc.norm.Canonical(c)
	}

	got, err := articleHTML(doc, sel, removes, base)
	if err != nil {
		return nil, fmt.Errorf("extract %s: %w", pageURL, err)
	}
	if got.title != "" {
		art.Title = got.title
	}
	raw := art.takeByline(got, meta)

	content := sc.norm.SanitizeHTML(raw, base, pageBase)
	if normalize.CleanText(content) == "" {
		return nil, fmt.Errorf("extract %s: %w", pageURL, ErrNoArticle)
	}
	lead := got.hero
	if lead.url == "" {
		lead = metaLead(meta)
	}
	if lead.url != "" {
		art.Image = lead.url
		if !showsImage(content, lead.url) {
			// The story's picture, which readability left out with the
			// headline it sits by: shown first, as on the page.
			content = sc.norm.SanitizeHTML(lead.html, base, pageBase) + content
		}
	}
	content = rewrites.HTML(feed.FieldContent, content, base, pageBase)
	if normalize.CleanText(content) == "" {
		return nil, fmt.Errorf("extract %s: %w", pageURL, ErrNoArticle)
	}
	art.Content = content
	// An article page is extracted once per item: what the caps cut is
	// logged at debug level, not as one warning per item.
	sc.norm.BoundArticle(src.Name, pageURL, &art.Title, &art.Author, &art.Canonical, &art.Content)
	if art.Image != "" && len(art.Image) > normalize.MaxLinkBytes {
		art.Image = ""
	}
	by := "readability"
	if sel != nil {
		by = "rules"
	}
	sc.log.Debug("article extracted", "source", src.Name, "url", pageURL, "by", by, "bytes", len(content))
	return art, nil
}

// compileSelector returns the compiled CSS selector (group) from the cache,
// compiling it on first use. Compiled selectors are pure functions.
func (sc *Scraper) compileSelector(s string) (cascadia.Selector, error) {
	if m, ok := sc.selectors.Load(s); ok {
		return m.(cascadia.Selector), nil
	}
	m, err := cascadia.Compile(s)
	if err != nil {
		return nil, fmt.Errorf("selector %q: %w", s, err)
	}
	sc.selectors.Store(s, m)
	return m, nil
}

// removeMatches removes from under root what each selector matches.
func removeMatches(root *nethtml.Node, selectors []cascadia.Selector) {
	if len(selectors) == 0 {
		return
	}
	d := goquery.NewDocumentFromNode(root)
	for _, m := range selectors {
		d.FindMatcher(m).Remove()
	}
}

// renderMatches renders the elements sel matches under doc, in document
// order, leaving out those inside another match (which would repeat).
func renderMatches(doc *nethtml.Node, sel cascadia.Selector) string {
	matches := goquery.NewDocumentFromNode(doc).FindMatcher(sel).Nodes
	outer := make(map[*nethtml.Node]bool, len(matches))
	var b strings.Builder
	for _, m := range matches {
		inside := false
		for p := m.Parent; p != nil; p = p.Parent {
			if outer[p] {
				inside = true
				break
			}
		}
		if inside {
			continue
		}
		outer[m] = true
		if err := nethtml.Render(&b, m); err != nil {
			return "" // a strings.Builder does not fail
		}
	}
	return b.String()
}

// found is what articleHTML found on a page.
type found struct {
	raw    string    // the article's HTML, unsanitized
	title  string    // readability's title; "" with selectors
	byline string    // the byline readability took out of the article, or its metadata's
	hero   leadImage // the picture shown with the story outside its body (findHero)
}

// articleHTML finds the article in doc (which it changes) and returns its
// HTML, unsanitized, with what readability found beside it, and the hero
// picture the page shows with it (looked for before readability, which
// drops it). The libraries it runs are third-party code walking a hostile
// page: a panic inside them is turned into an error, so that one page
// cannot take the daemon down.
func articleHTML(doc *nethtml.Node, sel cascadia.Selector, removes []cascadia.Selector, base *url.URL) (f found, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = found{}, fmt.Errorf("extraction panicked: %v", r)
		}
	}()
	// Remove first: the selectors are written against the page as
	// served, and furniture gone is furniture readability cannot mistake
	// for the article.
	removeMatches(doc, removes)
	normalize.Unlazy(doc)
	f.hero = findHero(doc, base)
	if sel != nil {
		f.raw = renderMatches(doc, sel)
		return f, nil
	}

	p := readability.NewParser()
	p.MaxElemsToParse = maxPageElements
	p.KeepClasses = true // the Remove selectors run on the result too
	if base == nil {
		base = &url.URL{}
	}
	a, err := p.ParseAndMutate(doc, base)
	if err != nil {
		return found{}, fmt.Errorf("readability: %w", err)
	}
	if a.Node == nil {
		return f, nil
	}
	// readability moves and renames elements; what the Remove selectors
	// match in its result goes too.
	removeMatches(a.Node, removes)
	if !hasTextOutsideLinks(a.Node) {
		// What readability falls back to on a page without an article: a
		// menu, a list of headlines.
		return f, nil
	}
	// a.Node is readability's own wrapper (div#readability-page-1): only
	// its content is the article's.
	f.raw = normalize.RenderChildren(a.Node)
	f.title = squash(a.Title())
	f.byline = squash(a.Byline())
	return f, nil
}

// takeByline takes the byline at the start of the story out of its HTML
// (see byline) and returns what is left. The byline credits the article
// when the page's metadata names nobody, or only the site itself, and
// dates it when the metadata gives no date. A byline readability took
// out already (it does so when the page's metadata names no author) is
// read the same way.
func (art *Article) takeByline(f found, meta Meta) string {
	raw := f.raw
	b, ok := byline{}, false
	if root := fragmentRoot(raw); root != nil {
		if b, ok = takeByline(root); ok {
			raw = normalize.RenderChildren(root)
		}
	}
	if !ok && f.byline != "" {
		b, ok = readByline(f.byline, true)
	}
	if !ok {
		return raw
	}
	var names []string
	for _, n := range b.names {
		if n = normalize.CleanText(n); n != "" && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	if len(names) > 0 && (art.Author == "" || meta.siteAuthor) {
		art.authors = names
		art.Author = strings.Join(names, ", ")
	}
	if art.Published.IsZero() && !feed.DateTooEarly(b.date) {
		art.Published = b.date
	}
	return raw
}

// hasTextOutsideLinks reports whether there is text under n that is not
// inside a link.
func hasTextOutsideLinks(n *nethtml.Node) bool {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		switch {
		case c.Type == nethtml.TextNode && strings.TrimFunc(c.Data, normalize.IsBlank) != "":
			return true
		case c.Type == nethtml.ElementNode && c.DataAtom != atom.A && hasTextOutsideLinks(c):
			return true
		}
	}
	return false
}

// documentBase returns the URL relative URLs on the page resolve against:
// its first <base href>, resolved against the page's URL, else that URL.
func documentBase(doc *nethtml.Node, page *url.URL) *url.URL {
	for _, b := range normalize.FindAll(doc, atom.Base) {
		if href := normalize.Attr(b, "href"); strings.TrimSpace(href) != "" {
			if u := normalize.ParseBase(normalize.ResolveURL(page, nil, href, false)); u != nil {
				return u
			}
			break // browsers use the first <base href> only
		}
	}
	return page
}

// canonicalLink returns the absolute href of the page's first <link
// rel="canonical">, or "".
func canonicalLink(doc *nethtml.Node, base *url.URL) string {
	for _, l := range normalize.FindAll(doc, atom.Link) {
		for rel := range strings.FieldsSeq(strings.ToLower(normalize.Attr(l, "rel"))) {
			if rel == "canonical" {
				return normalize.ResolveURL(base, nil, normalize.Attr(l, "href"), false)
			}
		}
	}
	return ""
}

// pageTitle returns the page's og:title, else its <title>, as plain text.
// The parser has decoded the entities already: unlike feed text, page text
// is not decoded a second time.
func pageTitle(doc *nethtml.Node) string {
	for _, m := range normalize.FindAll(doc, atom.Meta) {
		if strings.EqualFold(normalize.Attr(m, "property"), "og:title") || strings.EqualFold(normalize.Attr(m, "name"), "og:title") {
			if t := squash(normalize.Attr(m, "content")); t != "" {
				return t
			}
		}
	}
	for _, t := range normalize.FindAll(doc, atom.Title) {
		if s := squash(normalize.TextContent(t)); s != "" {
			return s
		}
	}
	return ""
}

// squash collapses and trims the whitespace of plain text and drops control
// characters.
func squash(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' && r != '\t' && r != '\n' && r != '\r' || r == 0x7f {
			return -1
		}
		return r
	}, s)
	return strings.Join(strings.FieldsFunc(s, normalize.IsBlank), " ")
}
