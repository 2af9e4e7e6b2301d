package scrape

import (
	"bytes"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/feedmill/feedmill/internal/normalize"
	nethtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/feedmill/feedmill/internal/feed"
)

// Meta is what an article page says about itself in its markup, for
// dating and titling items taken from pages that no feed describes.
type Meta struct {
	Title       string    // plain text; may be empty
	Published   time.Time // UTC; zero when the page gives none
	Updated     time.Time // UTC; zero when the page gives none
	Author      string    // plain text, several names joined by ", "; may be empty
	Image       string    // absolute http(s) URL; may be empty
	Description string    // plain text; may be empty

	// Type is the page's declared kind: the schema.org type of its
	// article ("NewsArticle", "BlogPosting"), else its og:type ("article",
	// "website"); empty when it declares none.
	Type string
	// URL is the address the page's article data gives for itself
	// (JSON-LD url, mainEntityOfPage or @id, else og:url), absolute; may
	// be empty.
	URL string
	// SiteName is og:site_name, else the JSON-LD publisher's name.
	SiteName string

	// ldArticle is set when the page carries JSON-LD of an article type,
	// and ldIDs holds what that article says it is (url,
	// mainEntityOfPage, @id), as given.
	ldArticle bool
	ldIDs     []string
	// authors are the names Author joins.
	authors []string
	// siteAuthor is set when every author the metadata names is the site
	// itself (its og:site_name or JSON-LD publisher) or an organization:
	// a byline naming a person then credits the article instead.
	siteAuthor bool
	// ogImage and ldImage are the page's og:image (or Twitter card) and
	// its JSON-LD article's image, absolute; Image is the first of them.
	ogImage, ldImage string
}

// ArticleMeta reads page (UTF-8 HTML fetched from pageURL) for what it
// says about its article, each field from the most trusted place that
// has it:
//
//  1. JSON-LD (<script type="application/ld+json">) of an article type
//     (Article, NewsArticle, BlogPosting, ReportageNewsArticle and the
//     other schema.org Article types, found at the top, in arrays, in
//     @graph and as a page's mainEntity): headline, datePublished,
//     dateModified, author (a name, a Person or an array of them, or a
//     reference to one by @id), image, description, url;
//  2. <meta property="article:published_time">, "article:modified_time"
//     and "article:author" (and the itemprop, Dublin Core and parsely
//     equivalents, and <meta name="author">);
//  3. OpenGraph: og:title, og:image, og:description, og:updated_time,
//     og:site_name, og:type, og:url (Twitter cards as a fallback);
//  4. the first <time datetime> in the page's <article> or <main> (one
//     marked pubdate or itemprop="datePublished" anywhere), else the
//     first in the story's header or byline area outside them (after the
//     page's first <h1>, or in an element whose class or id says byline,
//     post-meta, dateline and the like), never one in navigation, an
//     aside, a footer, comments or a list of related stories;
//  5. <title>, and <meta name="description">.
//
// When the page carries several JSON-LD articles, the one naming pageURL
// is taken, else the first. Dates are UTC; dates before 1995 are
// dropped. Text is plain; URLs are absolute http(s). A page that cannot
// be parsed gives an empty Meta. An author who is the site itself
// (og:site_name, the JSON-LD publisher) is dropped when a person is named
// beside it.
func ArticleMeta(page []byte, pageURL string) Meta {
	doc, err := nethtml.Parse(bytes.NewReader(bytes.ToValidUTF8(page, []byte("\uFFFD"))))
	if err != nil {
		return Meta{}
	}
	base := documentBase(doc, normalize.ParseBase(pageURL))
	return readMeta(doc, base, normalize.ParseBase(pageURL))
}

// articleTypes are the schema.org types of articles (Article and its
// subtypes). Compared without case.
var articleTypes = map[string]bool{
	"article": true, "newsarticle": true, "blogposting": true, "reportagenewsarticle": true,
	"analysisnewsarticle": true, "opinionnewsarticle": true, "reviewnewsarticle": true,
	"backgroundnewsarticle": true, "askpublicnewsarticle": true, "satiricalarticle": true,
	"scholarlyarticle": true, "medicalscholarlyarticle": true, "techarticle": true,
	"report": true, "liveblogposting": true, "advertisercontentarticle": true, "socialmediaposting": true,
	"discussionforumposting": true, "posting": true,
}

// Bounds on the JSON-LD read from one page: a page is hostile input too.
const (
	maxLDBlocks = 32
	maxLDBytes  = 1 << 20
	maxLDDepth  = 16
	maxLDNodes  = 10000
)

// pageFacts collects, in one walk of the document, what readMeta needs.
type pageFacts struct {
	ld        []string          // JSON-LD blocks, in order
	props     map[string]string // first content of each <meta property|name|itemprop>, lower-cased key
	title     string
	times     []string // datetime of <time> in article/main, in order
	loose     []string // datetime of <time> in the story's header or byline area outside article/main
	markedPub string   // datetime of a <time pubdate> or itemprop=datePublished
}

// zone is where in the page collectFacts is.
type zone struct {
	main   bool // inside <article>, <main> or role=main
	off    bool // inside navigation, an aside, a footer, comments, related stories
	byline bool // inside an element whose class or id says byline or post meta
}

// offWords are the class and id words of page regions whose dates are not
// the article's: navigation, sidebars, footers, comments, related and
// popular stories.
var offWords = map[string]bool{
	"nav": true, "navigation": true, "navbar": true, "menu": true, "sidebar": true, "widget": true, "footer": true,
	"comment": true, "comments": true, "related": true, "popular": true, "trending": true, "recommended": true,
	"breadcrumb": true, "breadcrumbs": true, "promo": true, "newsletter": true, "share": true, "social": true,
}

// bylineWords are the class and id words of a story's byline area: the
// author and date line above or below its headline.
var bylineWords = map[string]bool{
	"byline": true, "meta": true, "postmeta": true, "entrymeta": true, "dateline": true, "posted": true,
	"published": true, "pubdate": true, "timestamp": true, "author": true, "authors": true, "writtenby": true,
}

// classWords returns the lower-cased words of e's class and id, split at
// white space, '-' and '_', each also joined with its neighbours ("post",
// "meta" and "postmeta" for "post-meta").
func classWords(e *nethtml.Node) []string {
	var out []string
	for _, key := range []string{"class", "id"} {
		for tok := range strings.FieldsSeq(strings.ToLower(normalize.Attr(e, key))) {
			parts := strings.FieldsFunc(tok, func(r rune) bool { return r == '-' || r == '_' })
			out = append(out, parts...)
			for i := 0; i+1 < len(parts); i++ {
				out = append(out, parts[i]+parts[i+1])
			}
		}
	}
	return out
}

// hasWord reports whether any of e's class and id words is in set.
func hasWord(e *nethtml.Node, set map[string]bool) bool {
	for _, w := range classWords(e) {
		if set[w] {
			return true
		}
	}
	return false
}

// offRegion reports whether e opens a region of the page that is not the
// story: navigation, an aside, a footer, a form, comments, related stories.
func offRegion(e *nethtml.Node) bool {
	switch e.DataAtom {
	case atom.Nav, atom.Aside, atom.Footer, atom.Form:
		return true
	}
	switch strings.ToLower(normalize.Attr(e, "role")) {
	case "navigation", "complementary", "contentinfo", "banner":
		return true
	}
	return hasWord(e, offWords)
}

func collectFacts(doc *nethtml.Node) *pageFacts {
	f := &pageFacts{props: make(map[string]string)}
	sawH1 := false
	var walk func(n *nethtml.Node, in zone)
	walk = func(n *nethtml.Node, in zone) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != nethtml.ElementNode {
				continue
			}
			z := in
			if !z.off && offRegion(c) {
				z.off = true
			}
			if !z.byline && hasWord(c, bylineWords) {
				z.byline = true
			}
			switch c.DataAtom {
			case atom.Script:
				if strings.EqualFold(strings.TrimSpace(normalize.Attr(c, "type")), "application/ld+json") && len(f.ld) < maxLDBlocks {
					f.ld = append(f.ld, normalize.TextContent(c))
				}
				continue
			case atom.Meta:
				content := normalize.Attr(c, "content")
				for _, k := range []string{"property", "name", "itemprop"} {
					key := strings.ToLower(strings.TrimSpace(normalize.Attr(c, k)))
					if key == "" || strings.TrimSpace(content) == "" {
						continue
					}
					if _, ok := f.props[key]; !ok {
						f.props[key] = content
					}
				}
			case atom.Title:
				if f.title == "" {
					f.title = squash(normalize.TextContent(c))
				}
			case atom.Article, atom.Main:
				z.main = true
			case atom.H1:
				if !z.off {
					sawH1 = true
				}
			case atom.Time:
				dt := normalize.Attr(c, "datetime")
				if strings.TrimSpace(dt) == "" {
					dt = normalize.TextContent(c)
				}
				switch {
				case z.off:
					// A comment's, a related story's, the menu's date.
				case z.main:
					f.times = append(f.times, dt)
				case sawH1 || z.byline:
					// The story's header or byline area outside
					// <article>: after its headline, or marked.
					f.loose = append(f.loose, dt)
				}
				if f.markedPub == "" && (normalize.HasAttr(c, "pubdate") || strings.EqualFold(normalize.Attr(c, "itemprop"), "datePublished")) {
					f.markedPub = dt
				}
			}
			if strings.EqualFold(normalize.Attr(c, "role"), "main") {
				z.main = true
			}
			walk(c, z)
		}
	}
	walk(doc, zone{})
	return f
}

// readMeta is ArticleMeta on a parsed document; base resolves relative
// URLs and page is the URL the page was fetched from (may be nil).
func readMeta(doc *nethtml.Node, base, page *url.URL) Meta {
	f := collectFacts(doc)
	var m Meta
	ld := pickLDArticle(f.ld, page)
	if ld != nil {
		m.ldArticle = true
		m.ldIDs = ld.ids
		m.Type = ld.typ
		m.Title = normalize.CleanText(ld.headline)
		m.Published = metaDate(ld.published)
		m.Updated = metaDate(ld.modified)
		for _, a := range ld.authors {
			if a = normalize.CleanText(a); a != "" && !slices.Contains(m.authors, a) {
				m.authors = append(m.authors, a)
			}
		}
		m.Author = strings.Join(m.authors, ", ")
		m.ldImage = normalize.ResolveURL(base, nil, ld.image, false)
		m.Image = m.ldImage
		m.Description = normalize.CleanText(ld.description)
		m.URL = normalize.ResolveURL(base, nil, ld.url, false)
		m.SiteName = normalize.CleanText(ld.publisher)
	}
	prop := func(keys ...string) string {
		for _, k := range keys {
			if v := strings.TrimSpace(f.props[k]); v != "" {
				return v
			}
		}
		return ""
	}
	if m.Published.IsZero() {
		m.Published = metaDate(prop("article:published_time", "datepublished", "og:published_time",
			"dc.date.issued", "dcterms.issued", "dc.date", "dcterms.created", "parsely-pub-date", "sailthru.date", "pubdate", "publishdate", "date"))
	}
	if m.Updated.IsZero() {
		m.Updated = metaDate(prop("article:modified_time", "datemodified", "og:updated_time", "dcterms.modified", "last-modified"))
	}
	if m.Author == "" {
		for _, a := range []string{prop("article:author"), prop("author", "dc.creator", "parsely-author", "sailthru.author")} {
			// article:author is often the author's profile URL.
			if a != "" && normalize.ParseBase(a) == nil {
				m.Author = normalize.CleanText(a)
				m.authors = []string{m.Author}
				break
			}
		}
	}
	if m.Title == "" {
		m.Title = normalize.CleanText(prop("og:title", "twitter:title"))
	}
	m.ogImage = normalize.ResolveURL(base, nil, prop("og:image", "og:image:url", "og:image:secure_url", "twitter:image", "twitter:image:src"), false)
	if m.Image == "" {
		m.Image = m.ogImage
	}
	if m.Description == "" {
		m.Description = normalize.CleanText(prop("og:description", "twitter:description"))
	}
	if m.Type == "" {
		m.Type = normalize.CleanText(prop("og:type"))
	}
	if m.URL == "" {
		m.URL = normalize.ResolveURL(base, nil, prop("og:url"), false)
	}
	if m.SiteName == "" {
		m.SiteName = normalize.CleanText(prop("og:site_name", "application-name"))
	}
	if m.Published.IsZero() {
		m.Published = metaDate(f.markedPub)
	}
	for _, t := range slices.Concat(f.times, f.loose) {
		if !m.Published.IsZero() {
			break
		}
		m.Published = metaDate(t)
	}
	if m.Title == "" {
		m.Title = normalize.CleanText(f.title)
	}
	if m.Description == "" {
		m.Description = normalize.CleanText(prop("description"))
	}
	if !m.Published.IsZero() && !m.Updated.IsZero() && m.Updated.Before(m.Published) {
		m.Updated = m.Published
	}
	m.dropSiteAuthor(ld, prop("og:site_name"))
	return m
}

// dropSiteAuthor leaves out of the authors the site itself (its
// og:site_name, its JSON-LD publisher) when a person is named beside it,
// and marks an article credited to nobody else (siteAuthor), so that a
// byline naming a person can credit it instead.
func (m *Meta) dropSiteAuthor(ld *ldArticle, ogSite string) {
	if len(m.authors) == 0 {
		return
	}
	site := func(name string) bool {
		if ld != nil && slices.ContainsFunc(ld.orgs, func(o string) bool { return strings.EqualFold(o, name) }) {
			return true
		}
		for _, s := range []string{m.SiteName, normalize.CleanText(ogSite)} {
			if s != "" && strings.EqualFold(s, name) {
				return true
			}
		}
		return ld != nil && ld.publisher != "" && strings.EqualFold(normalize.CleanText(ld.publisher), name)
	}
	people := slices.DeleteFunc(slices.Clone(m.authors), site)
	if len(people) == 0 {
		m.siteAuthor = true
		return
	}
	m.authors = people
	m.Author = strings.Join(people, ", ")
}

// metaDate parses a date a page gives about itself, dropping those before
// 1995 as placeholders (feed.DateTooEarly; the future is judged later, by
// whoever has a clock).
func metaDate(s string) time.Time {
	t := parseDate(s, "")
	if feed.DateTooEarly(t) {
		return time.Time{}
	}
	return t
}

// ldArticle is what readMeta takes from one JSON-LD article.
type ldArticle struct {
	typ                 string
	headline            string
	published, modified string
	authors             []string
	image               string
	description         string
	url                 string
	ids                 []string // url, mainEntityOfPage and @id: what the article says it is
	publisher           string
	orgs                []string // the authors given as organizations, not people
}

// pickLDArticle parses the JSON-LD blocks and returns the article naming
// page, else the first article; nil when there is none. Blocks that are
// not JSON (a stray trailing comma breaks a few) are skipped.
func pickLDArticle(blocks []string, page *url.URL) *ldArticle {
	var articles []*ldArticle
	budget := maxLDBytes
	for _, b := range blocks {
		b = strings.TrimSpace(b)
		// Some CMSes wrap the JSON in a comment or CDATA section.
		b = strings.TrimPrefix(strings.TrimPrefix(b, "<!--"), "//<![CDATA[")
		b = strings.TrimSuffix(strings.TrimSuffix(strings.TrimSpace(b), "-->"), "//]]>")
		if len(b) > budget {
			break
		}
		budget -= len(b)
		var v any
		if err := json.Unmarshal([]byte(b), &v); err != nil {
			continue
		}
		ids := make(map[string]map[string]any)
		nodes := 0
		indexIDs(v, ids, 0, &nodes)
		nodes = 0
		collectLDArticles(v, ids, &articles, 0, &nodes)
	}
	if len(articles) == 0 {
		return nil
	}
	if page != nil {
		want := canonicalKey(page.String())
		for _, a := range articles {
			for _, id := range a.ids {
				if u := normalize.ParseBase(normalize.ResolveURL(page, nil, id, false)); u != nil && canonicalKey(u.String()) == want {
					return a
				}
			}
		}
	}
	return articles[0]
}

// canonicalKey is a URL compared for "the same page": without scheme,
// fragment, query-less trailing slash, and "www.".
func canonicalKey(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	host := strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
	p := strings.TrimSuffix(u.EscapedPath(), "/")
	if u.RawQuery != "" {
		p += "?" + u.RawQuery
	}
	return host + p
}

// indexIDs maps the @id of every object in v to the object, so that
// references ({"@id": "#author"}) can be followed.
func indexIDs(v any, ids map[string]map[string]any, depth int, nodes *int) {
	if depth > maxLDDepth || *nodes > maxLDNodes {
		return
	}
	*nodes++
	switch x := v.(type) {
	case map[string]any:
		if id, ok := x["@id"].(string); ok && len(x) > 1 {
			if _, dup := ids[id]; !dup {
				ids[id] = x
			}
		}
		for _, c := range x {
			indexIDs(c, ids, depth+1, nodes)
		}
	case []any:
		for _, c := range x {
			indexIDs(c, ids, depth+1, nodes)
		}
	}
}

// collectLDArticles appends to out the objects of an article type in v,
// depth first in document order.
func collectLDArticles(v any, ids map[string]map[string]any, out *[]*ldArticle, depth int, nodes *int) {
	if depth > maxLDDepth || *nodes > maxLDNodes {
		return
	}
	*nodes++
	switch x := v.(type) {
	case []any:
		for _, c := range x {
			collectLDArticles(c, ids, out, depth+1, nodes)
		}
	case map[string]any:
		if typ := ldArticleType(x["@type"]); typ != "" {
			*out = append(*out, readLDArticle(x, typ, ids))
		}
		// Descend where articles nest: @graph, a page's mainEntity, an
		// ItemList's elements. Not into an article's own fields (its
		// "isPartOf", "author"), which are no further articles of the page.
		for _, k := range []string{"@graph", "mainEntity", "itemListElement", "item"} {
			if c, ok := x[k]; ok {
				collectLDArticles(c, ids, out, depth+1, nodes)
			}
		}
	}
}

// ldArticleType returns the article type named by a JSON-LD @type (a
// string or an array of them, possibly as schema.org URLs), or "".
func ldArticleType(v any) string {
	var names []string
	switch t := v.(type) {
	case string:
		names = []string{t}
	case []any:
		for _, e := range t {
			if s, ok := e.(string); ok {
				names = append(names, s)
			}
		}
	}
	for _, name := range names {
		short := name
		if i := strings.LastIndexAny(short, "/:#"); i >= 0 {
			short = short[i+1:]
		}
		if articleTypes[strings.ToLower(strings.TrimSpace(short))] {
			return strings.TrimSpace(short)
		}
	}
	return ""
}

func readLDArticle(x map[string]any, typ string, ids map[string]map[string]any) *ldArticle {
	a := &ldArticle{typ: typ}
	a.headline = ldString(x["headline"])
	if a.headline == "" {
		a.headline = ldString(x["name"])
	}
	a.published = ldString(x["datePublished"])
	if a.published == "" {
		a.published = ldString(x["dateCreated"])
	}
	a.modified = ldString(x["dateModified"])
	a.description = ldString(x["description"])
	a.image = ldURL(x["image"], ids)
	if a.image == "" {
		a.image = ldURL(x["thumbnailUrl"], ids)
	}
	a.url = ldString(x["url"])
	for _, k := range []string{"url", "mainEntityOfPage", "@id"} {
		if s := ldURL(x[k], nil); s != "" {
			a.ids = append(a.ids, s)
			if a.url == "" && k != "@id" {
				a.url = s
			}
		}
	}
	a.authors = ldNames(x["author"], ids, 0)
	a.orgs = ldOrgs(x["author"], ids, 0)
	if len(a.authors) == 0 {
		a.authors = ldNames(x["creator"], ids, 0)
		a.orgs = ldOrgs(x["creator"], ids, 0)
	}
	if p := ldNames(x["publisher"], ids, 0); len(p) > 0 {
		a.publisher = p[0]
	}
	return a
}

// ldString returns v when it is a string, the first string of an array,
// or a number written out; else "".
func ldString(v any) string {
	switch t := v.(type) {
	case string:
		return strings.TrimSpace(t)
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case []any:
		for _, e := range t {
			if s, ok := e.(string); ok && strings.TrimSpace(s) != "" {
				return strings.TrimSpace(s)
			}
		}
	case map[string]any:
		if s, ok := t["@value"].(string); ok {
			return strings.TrimSpace(s)
		}
	}
	return ""
}

// ldURL returns the URL v gives: a string, an object's url, contentUrl or
// @id (following an @id reference when ids is given), or the first of an
// array.
func ldURL(v any, ids map[string]map[string]any) string {
	switch t := v.(type) {
	case string:
		return strings.TrimSpace(t)
	case []any:
		for _, e := range t {
			if s := ldURL(e, ids); s != "" {
				return s
			}
		}
	case map[string]any:
		if id, ok := t["@id"].(string); ok && len(t) == 1 && ids != nil {
			if ref, ok := ids[id]; ok {
				t = ref
			}
		}
		for _, k := range []string{"url", "contentUrl", "@id"} {
			if s, ok := t[k].(string); ok && strings.TrimSpace(s) != "" {
				return strings.TrimSpace(s)
			}
		}
	}
	return ""
}

// ldNames returns the names of the people or organizations v gives: a
// name, an object with a name (or a reference to one by @id), or an array
// of these.
func ldNames(v any, ids map[string]map[string]any, depth int) []string {
	return ldPeople(v, ids, depth, func(t map[string]any) string { return ldString(t["name"]) })
}

// orgTypes are the schema.org types of organizations, lower-cased: an
// author of one of these types is no person.
var orgTypes = map[string]bool{
	"organization": true, "newsmediaorganization": true, "corporation": true, "localbusiness": true,
	"onlinebusiness": true, "governmentorganization": true, "ngo": true, "educationalorganization": true,
}

// ldOrgs returns the names of the organizations among the authors v
// gives (objects whose @type is an organization type).
func ldOrgs(v any, ids map[string]map[string]any, depth int) []string {
	return ldPeople(v, ids, depth, func(t map[string]any) string {
		typ := ldString(t["@type"])
		if i := strings.LastIndexAny(typ, "/:#"); i >= 0 {
			typ = typ[i+1:]
		}
		if !orgTypes[strings.ToLower(typ)] {
			return ""
		}
		return normalize.CleanText(ldString(t["name"]))
	})
}

// ldPeople walks what JSON-LD gives for an author, creator or publisher:
// a bare name (read as a Person of that name; a URL is no name), an object
// (a reference by @id followed), or an array of these, at most 10 names
// and 3 levels deep. name says what one object gives, "" for nothing.
func ldPeople(v any, ids map[string]map[string]any, depth int, name func(map[string]any) string) []string {
	if depth > 3 {
		return nil
	}
	switch t := v.(type) {
	case string:
		if s := strings.TrimSpace(t); s != "" && normalize.ParseBase(s) == nil && name(map[string]any{"name": s, "@type": "Person"}) != "" {
			return []string{s}
		}
	case []any:
		var out []string
		for _, e := range t {
			out = append(out, ldPeople(e, ids, depth+1, name)...)
			if len(out) >= 10 {
				break
			}
		}
		return out
	case map[string]any:
		if id, ok := t["@id"].(string); ok && ids != nil {
			if ref, ok := ids[id]; ok {
				t = ref
			}
		}
		if s := name(t); s != "" {
			return []string{s}
		}
	}
	return nil
}
