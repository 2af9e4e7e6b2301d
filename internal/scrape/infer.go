package scrape

import (
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	nethtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/net/publicsuffix"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/normalize"
)

// Listing inference: where on a page without rules the items are.
//
// A listing is a run of same-shaped elements (siblings of one tag under
// one parent, or elements with the same structural path of tags and
// classes), each holding a link to an article page of the same site with
// headline-like text. Links in navigation, page headers and footers,
// sidebars, menus, share bars, tag clouds and pagination are not looked
// at; links to the home page, to tag, category, topic, author and search
// pages, to later pages of the listing and to files are not article
// links; texts that are one or two short words, dates, numbers or "Read
// more" are not headlines. Each candidate group is scored by its members
// holding exactly one headline (more makes it a container of items, not
// an item), the length of their headlines, how article-like their URLs
// are (slugs, ids), and the dates and images beside them; the best group
// is the listing. On a front page a lead story sits apart from the list
// under it: further groups, and single headlines in a heading (or
// holding one) or beside a teaser paragraph, whose URLs look like the
// listing's (same first path segment, or a slug at the same depth or in a
// dated path like the listing's) join it. The result is given as
// feed.ItemRules, verified against the page: Each selects exactly the
// items, and Link, Title, Date, Summary and Image give, for every item,
// what the inference found.

// Bounds of the inference, whatever the page.
const (
	maxInferLinks      = 20000 // article links looked at
	maxPathLevels      = 12    // levels of a structural path signature
	maxAncestors       = 8     // levels above a link an item element may be
	maxExtraGroups     = 4     // groups joining the best one
	maxExtraSingles    = 5     // lone headlines joining it
	minWeakListingSize = 5     // items a listing needs to beat og:type=article
)

// pageKind is what a page without rules is taken for.
type pageKind int

const (
	pageListing pageKind = iota
	pageArticle
	pageNothing
)

// listing is an inferred listing.
type listing struct {
	rules   feed.ItemRules
	members []*nethtml.Node // the item elements, in document order
	best    int             // items of the best group alone
}

// pageKind decides between the listing found (l, may be nil) and the page
// being an article itself (see Scrape).
func (s *scraper) pageKind(meta Meta, canonical string, l *listing) pageKind {
	strong := false
	if meta.ldArticle && s.page != nil {
		self := map[string]bool{canonicalKey(s.page.String()): true}
		if canonical != "" {
			self[canonicalKey(canonical)] = true
		}
		for _, id := range meta.ldIDs {
			if u := normalize.ResolveURL(s.page, nil, id, false); u != "" && self[canonicalKey(u)] {
				strong = true
			}
		}
	}
	// Weaker signs: the page calls itself an article without naming
	// itself, or holds one long <article>. A few related links under such
	// an article are no listing.
	weak := meta.ldArticle || strings.EqualFold(meta.Type, "article") || loneLongArticle(s.doc)
	switch {
	case strong:
		return pageArticle
	case l != nil && (!weak || l.best >= minWeakListingSize):
		return pageListing
	case weak:
		return pageArticle
	}
	return pageNothing
}

// loneLongArticle reports whether the page has exactly one <article>
// holding at least 500 characters of text outside links: an article page
// that declares nothing about itself.
func loneLongArticle(doc *nethtml.Node) bool {
	arts := normalize.FindAll(doc, atom.Article)
	if len(arts) != 1 {
		return false
	}
	var b strings.Builder
	var walk func(*nethtml.Node)
	walk = func(n *nethtml.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			switch {
			case c.Type == nethtml.TextNode:
				b.WriteString(c.Data)
			case c.Type == nethtml.ElementNode && c.DataAtom != atom.A && c.DataAtom != atom.Script && c.DataAtom != atom.Style:
				walk(c)
			}
		}
	}
	walk(arts[0])
	return utf8.RuneCountInString(squash(b.String())) >= 500
}

// articleLink is a link on the page to what looks like an article page.
type articleLink struct {
	a         *nethtml.Node
	key       string // the canonical link
	text      string // plain text of the link (its title or image alt when it has none)
	headline  bool   // the text reads as a headline
	inHeading bool
}

// elemInfo is what is below an element: the article links' URLs, one
// kept and whether there are others.
type elemInfo struct {
	headline      string // the first headline URL below
	headlineMulti bool   // more than one distinct headline URL below
}

// inferrer holds the state of one inference.
type inferrer struct {
	s       *scraper
	links   []*articleLink
	byNode  map[*nethtml.Node]*articleLink
	order   map[*nethtml.Node]int // document order of the elements scanned
	info    map[*nethtml.Node]*elemInfo
	words   map[string]int // the longest headline of each URL, in words
	pathSig map[*nethtml.Node]string
	// horizon is the document order of the last element looked at when
	// the page was larger than what inference looks at (maxPageElements
	// elements, maxInferLinks links); 0 when it looked at everything.
	horizon int
}

// newInferrer returns an inferrer that has collected the page's article
// links.
func (s *scraper) newInferrer() *inferrer {
	in := &inferrer{
		s: s, byNode: make(map[*nethtml.Node]*articleLink), order: make(map[*nethtml.Node]int),
		info: make(map[*nethtml.Node]*elemInfo), words: make(map[string]int), pathSig: make(map[*nethtml.Node]string),
	}
	in.collect()
	return in
}

// inferListing finds the page's listing; nil when there is none.
func (s *scraper) inferListing() *listing {
	in := s.newInferrer()
	if len(in.links) == 0 {
		return nil
	}
	groups := in.groups()
	if len(groups) == 0 {
		return nil
	}
	best := groups[0]
	members := slices.Clone(best.good)
	covered := make(map[*nethtml.Node]bool)
	coveredAnc := make(map[*nethtml.Node]bool)
	cover := func(ms []*nethtml.Node) {
		for _, m := range ms {
			covered[m] = true
			for p := m.Parent; p != nil; p = p.Parent {
				coveredAnc[p] = true
			}
		}
	}
	cover(best.good)
	shapes := newShapeSet(in, best.good)

	// Further groups of the same kind of links (a front page's other
	// lists), then lone headlines in a heading (its lead story, which the
	// list under it may link to again: Scrape keeps the first copy).
	extra := 0
	for _, g := range groups[1:] {
		if extra == maxExtraGroups {
			break
		}
		if !in.disjoint(g.good, covered, coveredAnc) || !shapes.mostlyFit(in, g.good) {
			continue
		}
		members = append(members, g.good...)
		cover(g.good)
		extra++
	}
	singles := 0
	for _, l := range in.links {
		if singles == maxExtraSingles {
			break
		}
		if !l.headline || !shapes.fit(l.key) || in.insideCovered(l.a, covered) {
			continue
		}
		e := in.loneItem(l, coveredAnc)
		if e == nil || !(l.inHeading || teased(e, l.a)) {
			continue
		}
		members = append(members, e)
		cover([]*nethtml.Node{e})
		singles++
	}
	slices.SortFunc(members, func(a, b *nethtml.Node) int { return in.order[a] - in.order[b] })

	rules, members := in.rules(members)
	if len(members) == 0 {
		return nil
	}
	return &listing{rules: rules, members: members, best: len(best.good)}
}

// collect walks the page (at most maxPageElements elements) and keeps the
// article links outside the page's furniture.
func (in *inferrer) collect() {
	site := siteOf(in.s.page)
	count := 0
	var walk func(n *nethtml.Node, excluded, inHeading, inArticle bool)
	walk = func(n *nethtml.Node, excluded, inHeading, inArticle bool) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != nethtml.ElementNode {
				continue
			}
			if count >= maxPageElements {
				if in.horizon == 0 {
					in.horizon = count
				}
				return
			}
			count++
			in.order[c] = count
			ex := excluded || furniture(c, inArticle)
			h := inHeading || headings[c.DataAtom]
			if c.DataAtom == atom.A && !ex && in.horizon == 0 {
				if l := in.articleLink(c, site, h); l != nil {
					in.links = append(in.links, l)
					in.byNode[c] = l
					if len(in.links) == maxInferLinks {
						in.horizon = count
					}
				}
			}
			walk(c, ex, h, inArticle || c.DataAtom == atom.Article || c.DataAtom == atom.Li)
		}
	}
	walk(in.s.doc, false, false, false)

	in.headingsForLinks()
	for _, l := range in.links {
		if l.headline {
			in.words[l.key] = max(in.words[l.key], len(strings.Fields(l.text)))
		}
		level := 0
		for e := l.a; e != nil && level <= maxAncestors && !isPageRoot(e); e = e.Parent {
			inf := in.info[e]
			if inf == nil {
				inf = &elemInfo{}
				in.info[e] = inf
			}
			if l.headline {
				switch inf.headline {
				case "":
					inf.headline = l.key
				case l.key:
				default:
					inf.headlineMulti = true
				}
			}
			level++
		}
	}
}

// headingsForLinks gives the article links whose own text is no headline
// ("Read more", an image) the text of a heading beside them: a card whose
// title is a plain <h3> and whose link is a button. The heading must be
// in the closest ancestor of the link that has one, and that ancestor must
// link to no other article.
func (in *inferrer) headingsForLinks() {
	type urls struct {
		first string
		multi bool
	}
	below := make(map[*nethtml.Node]*urls)
	for _, l := range in.links {
		level := 0
		for e := l.a; e != nil && level <= maxAncestors && !isPageRoot(e); e = e.Parent {
			u := below[e]
			if u == nil {
				u = &urls{first: l.key}
				below[e] = u
			} else if u.first != l.key {
				u.multi = true
			}
			level++
		}
	}
	for _, l := range in.links {
		if l.headline {
			continue
		}
		level := 0
		for e := l.a.Parent; e != nil && level < 3 && !isPageRoot(e); e = e.Parent {
			if u := below[e]; u == nil || u.multi {
				break
			}
			if h := firstHeading(e); h != nil {
				if t := pageText(nodeText(h)); headlineLike(t) {
					l.text, l.headline = t, true
				}
				break
			}
			level++
		}
	}
}

// isPageRoot reports whether e is html or body, which are never items.
func isPageRoot(e *nethtml.Node) bool {
	return e.Type != nethtml.ElementNode || e.DataAtom == atom.Html || e.DataAtom == atom.Body
}

// articleLink returns a as an article link, or nil when it is not one.
func (in *inferrer) articleLink(a *nethtml.Node, site string, inHeading bool) *articleLink {
	for rel := range strings.FieldsSeq(strings.ToLower(normalize.Attr(a, "rel"))) {
		switch rel {
		case "tag", "category", "next", "prev", "previous", "author", "home", "first", "last", "search", "alternate", "license", "me":
			return nil
		}
	}
	raw := normalize.ResolveRef(in.s.base, nil, normalize.Attr(a, "href"), false)
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || siteOf(u) != site || !articleURL(u) {
		return nil
	}
	key := in.s.linkKey(raw)
	if in.s.page != nil && canonicalKey(key) == canonicalKey(in.s.n.norm.Canonical(in.s.page.String())) {
		return nil // the page itself
	}
	// A link wrapping a heading (a hero block: picture, kicker, <h2>,
	// teaser, all in one <a>) is a link in a heading, titled by it.
	if h := firstHeading(a); h != nil {
		if t := pageText(nodeText(h)); headlineLike(t) {
			return &articleLink{a: a, key: key, text: t, headline: true, inHeading: true}
		}
	}
	text := pageText(nodeText(a))
	if text == "" {
		text = pageText(normalize.Attr(a, "title"))
	}
	return &articleLink{a: a, key: key, text: text, headline: headlineLike(text), inHeading: inHeading}
}

// linkKey is the identity of a resolved link: its canonical form, as the
// id of the item it makes.
func (s *scraper) linkKey(raw string) string {
	return s.n.norm.Canonical(normalize.EscapeURI(s.n.norm.StripTracking(raw)))
}

// siteOf returns the registrable domain of u's host ("example.co.uk" for
// "news.example.co.uk"), or the host itself when it has none (an IP
// address, localhost); "" for nil.
func siteOf(u *url.URL) string {
	if u == nil {
		return ""
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if d, err := publicsuffix.EffectiveTLDPlusOne(host); err == nil {
		return d
	}
	return host
}

// listingSegments are path segments that start listings rather than
// articles: /tag/x, /category/x/y, /author/x, /search, /page/2.
var listingSegments = map[string]bool{
	"tag": true, "tags": true, "category": true, "categories": true, "topic": true, "topics": true,
	"section": true, "sections": true, "author": true, "authors": true, "search": true, "archive": true,
	"archives": true, "page": true, "label": true, "labels": true, "series": true, "keyword": true,
	"keywords": true, "subject": true, "subjects": true, "people": true, "profile": true, "user": true, "users": true,
}

// utilitySegments start a site's utility pages, never articles.
var utilitySegments = map[string]bool{
	"login": true, "logout": true, "signin": true, "sign-in": true, "signup": true, "register": true,
	"subscribe": true, "subscription": true, "account": true, "cart": true, "contact": true, "about": true,
	"about-us": true, "privacy": true, "privacy-policy": true, "terms": true, "cookies": true, "imprint": true,
	"impressum": true, "feed": true, "rss": true, "newsletter": true, "donate": true, "jobs": true,
	"careers": true, "advertise": true, "help": true, "faq": true, "sitemap": true, "share": true,
	"print": true, "email": true, "wp-login.php": true, "cdn-cgi": true,
}

// fileExts are extensions of links to files rather than pages.
var fileExts = []string{".pdf", ".jpg", ".jpeg", ".png", ".gif", ".webp", ".svg", ".zip", ".mp3", ".mp4",
	".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".csv", ".xml", ".rss", ".atom", ".json", ".ics", ".txt"}

// paginationParams are query parameters that page through a listing.
var paginationParams = []string{"page", "paged", "pg", "pagenum", "offset", "start", "from", "share", "replytocom", "s", "q"}

var digits = regexp.MustCompile(`^[0-9]+$`)

// articleURL reports whether u looks like the address of an article: not
// the home page, a listing, a utility page, a later page or a file.
func articleURL(u *url.URL) bool {
	segs := pathSegments(u)
	if len(segs) == 0 {
		return false
	}
	last := segs[len(segs)-1]
	if len(segs) == 1 && (strings.HasPrefix(last, "index.") || strings.HasPrefix(last, "default.")) {
		return false
	}
	if utilitySegments[segs[0]] {
		return false
	}
	for i, seg := range segs {
		if listingSegments[seg] && len(segs)-i <= 3 {
			if seg != "page" || i+1 == len(segs) || digits.MatchString(segs[i+1]) || len(segs)-i <= 2 {
				return false
			}
		}
	}
	for _, ext := range fileExts {
		if strings.HasSuffix(last, ext) {
			return false
		}
	}
	q := u.Query()
	for _, p := range paginationParams {
		if q.Has(p) {
			return false
		}
	}
	// A one-segment path is a section front ("/news", "/sport") unless it
	// is a slug or an id.
	return len(segs) > 1 || slugScore(u) >= 0.7
}

// pathSegments returns u's non-empty path segments, lower-cased.
func pathSegments(u *url.URL) []string {
	var segs []string
	for seg := range strings.SplitSeq(strings.ToLower(u.Path), "/") {
		if seg != "" {
			segs = append(segs, seg)
		}
	}
	return segs
}

var idSegment = regexp.MustCompile(`[0-9]{4,}`)

// slugScore says how much u's last segment looks like an article's own
// name: 1 for a slug of three words or more, 0.7 for an id or a page
// file, 0.3 for a deep path, else 0.
func slugScore(u *url.URL) float64 {
	segs := pathSegments(u)
	if len(segs) == 0 {
		return 0
	}
	last := segs[len(segs)-1]
	stem := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(last, ".html"), ".htm"), ".php"), ".aspx")
	words := strings.FieldsFunc(stem, func(r rune) bool { return r == '-' || r == '_' || r == '+' })
	switch {
	case len(words) >= 3:
		return 1
	case idSegment.MatchString(stem) || stem != last:
		return 0.7
	case len(segs) >= 3:
		return 0.3
	}
	return 0
}

// notHeadlines are link texts that are not headlines, lower-cased.
var notHeadlines = map[string]bool{
	"read more": true, "more": true, "continue reading": true, "read the full story": true,
	"read full article": true, "read the full article": true, "read article": true, "view all": true,
	"see all": true, "see more": true, "show more": true, "load more": true, "older posts": true,
	"newer posts": true, "older entries": true, "newer entries": true, "next page": true,
	"previous page": true, "next": true, "previous": true, "back to top": true, "skip to content": true,
	"skip to main content": true, "all news": true, "more news": true, "learn more": true,
	"find out more": true, "view more": true, "more stories": true, "all stories": true,
}

var countLabel = regexp.MustCompile(`(?i)^[0-9][0-9,.]*\s+(comments?|replies|reply|responses?|shares?|likes?|views?)$`)

// headlineLike reports whether a link text reads as a headline: several
// words (or, in scripts without spaces, several characters), not a
// label, a date, a number or an invitation to read more.
func headlineLike(text string) bool {
	t := strings.TrimSpace(text)
	runes := utf8.RuneCountInString(t)
	if runes < 8 || runes > 400 {
		return false
	}
	words := strings.Fields(t)
	spaceless := false
	for _, r := range t {
		if unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul, unicode.Thai) {
			spaceless = true
			break
		}
	}
	if len(words) < 3 && !spaceless && !(len(words) == 2 && runes >= 18) {
		return false
	}
	lower := strings.ToLower(strings.TrimFunc(t, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r)
	}))
	if notHeadlines[lower] || strings.HasPrefix(lower, "read more") || strings.HasPrefix(lower, "continue reading") {
		return false
	}
	if countLabel.MatchString(lower) || !strings.ContainsFunc(t, unicode.IsLetter) {
		return false
	}
	return !looksLikeDate(t)
}

// furnitureRoles are ARIA roles of page furniture.
var furnitureRoles = map[string]bool{
	"navigation": true, "banner": true, "contentinfo": true, "complementary": true,
	"search": true, "menu": true, "menubar": true, "toolbar": true,
}

// furnitureWords are class and id names (or their first part:
// "nav-links", "menu_main") of page furniture.
var furnitureWords = []string{"nav", "navbar", "navigation", "menu", "breadcrumb", "breadcrumbs",
	"pagination", "pager", "paging", "share", "sharing", "social", "sidebar", "tagcloud", "tags",
	"cookie", "cookies", "skip", "footer", "masthead"}

// furnitureSuffixes end class and id names of page furniture
// ("site-nav", "post-tags").
var furnitureSuffixes = []string{"-nav", "_nav", "-navigation", "-menu", "_menu", "-pagination", "-pager",
	"-tags", "_tags", "-tag-cloud", "-breadcrumbs", "-breadcrumb", "-share", "-sharing", "-social",
	"-footer", "_footer", "site-header", "tag-cloud", "tag-list"}

// furniture reports whether e is page furniture whose links are no
// items: navigation, menus, sidebars, the page's header and footer (not
// an article's), share bars, tag clouds, pagination.
func furniture(e *nethtml.Node, inArticle bool) bool {
	switch e.DataAtom {
	case atom.Nav, atom.Aside, atom.Menu, atom.Form, atom.Select, atom.Template, atom.Script, atom.Style, atom.Noscript:
		return true
	case atom.Header, atom.Footer:
		if !inArticle {
			return true
		}
	case atom.Html, atom.Body, atom.Main:
		return false
	}
	if furnitureRoles[strings.ToLower(strings.TrimSpace(normalize.Attr(e, "role")))] {
		return true
	}
	names := strings.Fields(strings.ToLower(normalize.Attr(e, "class")))
	if id := strings.ToLower(strings.TrimSpace(normalize.Attr(e, "id"))); id != "" {
		names = append(names, id)
	}
	for _, name := range names {
		for _, w := range furnitureWords {
			if name == w || strings.HasPrefix(name, w+"-") || strings.HasPrefix(name, w+"_") {
				return true
			}
		}
		for _, suf := range furnitureSuffixes {
			if strings.HasSuffix(name, suf) {
				return true
			}
		}
	}
	return false
}

// group is a set of same-shaped elements holding article links.
type group struct {
	members []*nethtml.Node
	seen    map[*nethtml.Node]bool
}

func (g *group) add(e *nethtml.Node) {
	if !g.seen[e] {
		g.seen[e] = true
		g.members = append(g.members, e)
	}
}

// scoredGroup is a group worth considering as the listing.
type scoredGroup struct {
	good  []*nethtml.Node // members holding exactly one headline, in document order
	score float64
	depth int
}

type siblingKey struct {
	parent *nethtml.Node
	tag    string
}

// groups returns the candidate groups, best first.
func (in *inferrer) groups() []*scoredGroup {
	siblings := make(map[siblingKey]*group)
	paths := make(map[string]*group)
	var keysSib []siblingKey
	var keysPath []string
	for _, l := range in.links {
		level := 0
		for e := l.a; e != nil && level <= maxAncestors && !isPageRoot(e); e = e.Parent {
			level++
			if e.Parent == nil {
				break
			}
			addToGroup(siblings, &keysSib, siblingKey{e.Parent, e.Data}, e)
			addToGroup(paths, &keysPath, in.path(e), e)
		}
	}
	var out []*scoredGroup
	seen := make(map[string]bool)
	consider := func(g *group) {
		if sg := in.score(g); sg != nil {
			// The same members may form a sibling and a path group.
			var b strings.Builder
			for _, m := range sg.good {
				b.WriteString(strconv.Itoa(in.order[m]))
				b.WriteByte(',')
			}
			if !seen[b.String()] {
				seen[b.String()] = true
				out = append(out, sg)
			}
		}
	}
	for _, k := range keysSib {
		consider(siblings[k])
	}
	for _, k := range keysPath {
		consider(paths[k])
	}
	slices.SortStableFunc(out, func(a, b *scoredGroup) int {
		switch {
		case a.score > b.score+1e-9:
			return -1
		case b.score > a.score+1e-9:
			return 1
		}
		return a.depth - b.depth
	})
	return out
}

// addToGroup adds e to the group of groups under k, making the group (and
// recording k in keys, which keeps the groups' first-seen order) when it
// is the first.
func addToGroup[K comparable](groups map[K]*group, keys *[]K, k K, e *nethtml.Node) {
	g := groups[k]
	if g == nil {
		g = &group{seen: make(map[*nethtml.Node]bool)}
		groups[k] = g
		*keys = append(*keys, k)
	}
	g.add(e)
}

// path returns the structural signature of e: the descriptors (tag and
// stable classes) of it and its ancestors up to the body, at most
// maxPathLevels of them.
func (in *inferrer) path(e *nethtml.Node) string {
	if p, ok := in.pathSig[e]; ok {
		return p
	}
	parts := []string{describe(e)}
	for a := e.Parent; a != nil && !isPageRoot(a) && len(parts) < maxPathLevels; a = a.Parent {
		parts = append(parts, describe(a))
	}
	slices.Reverse(parts)
	p := strings.Join(parts, ">")
	in.pathSig[e] = p
	return p
}

// beyondHorizon reports whether e lies past what the inference looked at
// on a page too large for it: a selector may match it, as the items
// found there are of the same kind.
func (in *inferrer) beyondHorizon(e *nethtml.Node) bool {
	if in.horizon == 0 {
		return false
	}
	past := func(n *nethtml.Node) bool { return in.order[n] == 0 || in.order[n] > in.horizon }
	if past(e) {
		return true
	}
	// An element that starts before the horizon and ends past it.
	last := e
	for c := last.LastChild; c != nil; {
		if c.Type == nethtml.ElementNode {
			last, c = c, c.LastChild
		} else {
			c = c.PrevSibling
		}
	}
	return past(last)
}

// score evaluates g; nil when it is no listing.
func (in *inferrer) score(g *group) *scoredGroup {
	if len(g.members) < 2 {
		return nil
	}
	var good []*nethtml.Node
	multi := 0
	distinct := make(map[string]bool)
	score := 0.0
	for _, m := range g.members {
		inf := in.info[m]
		switch {
		case inf == nil || inf.headline == "":
			continue
		case inf.headlineMulti:
			multi++
			continue
		}
		good = append(good, m)
		distinct[inf.headline] = true
		u, _ := url.Parse(inf.headline)
		q := 1 + float64(min(in.words[inf.headline], 12))/12
		if u != nil {
			q += slugScore(u) / 2
		}
		if hasDateHint(m) {
			q += 0.3
		}
		if len(normalize.FindAll(m, atom.Img)) > 0 {
			q += 0.1
		}
		if m.DataAtom == atom.Article || m.DataAtom == atom.Li {
			q += 0.2
		}
		score += q
	}
	if len(good) < 2 || multi*4 > len(good) || len(distinct)*5 < len(good)*4 {
		return nil
	}
	slices.SortFunc(good, func(a, b *nethtml.Node) int { return in.order[a] - in.order[b] })
	depth := 0
	for p := good[0]; p != nil; p = p.Parent {
		depth++
	}
	return &scoredGroup{good: good, score: score, depth: depth}
}

// hasDateHint reports whether e holds a <time> or an element whose class
// names a date.
func hasDateHint(e *nethtml.Node) bool {
	for c := e.FirstChild; c != nil; c = c.NextSibling {
		if c.Type != nethtml.ElementNode {
			continue
		}
		if c.DataAtom == atom.Time || strings.Contains(strings.ToLower(normalize.Attr(c, "class")), "date") || hasDateHint(c) {
			return true
		}
	}
	return false
}

// disjoint reports whether none of ms is, is inside or holds a covered
// element.
func (in *inferrer) disjoint(ms []*nethtml.Node, covered, coveredAnc map[*nethtml.Node]bool) bool {
	for _, m := range ms {
		if coveredAnc[m] || in.insideCovered(m, covered) {
			return false
		}
	}
	return true
}

func (in *inferrer) insideCovered(e *nethtml.Node, covered map[*nethtml.Node]bool) bool {
	for p := e; p != nil; p = p.Parent {
		if covered[p] {
			return true
		}
	}
	return false
}

// loneItem returns the item element of a lone headline link: its highest
// ancestor holding no other headline and no covered element, below the
// page's main wrappers; nil when that is the link alone outside an
// <article> (an inline link in some text).
func (in *inferrer) loneItem(l *articleLink, coveredAnc map[*nethtml.Node]bool) *nethtml.Node {
	e := l.a
	for p := e.Parent; p != nil && !isPageRoot(p) && p.DataAtom != atom.Main; p = p.Parent {
		inf := in.info[p]
		if inf == nil || inf.headlineMulti || coveredAnc[p] {
			break
		}
		e = p
	}
	if e == l.a {
		return nil
	}
	return e
}

// teased reports whether the lone headline link sits in an item element e
// with a teaser beside it, as a lead story outside a heading does: a
// paragraph of running text in e, the link itself not inside one (a link
// in running text is a reference, not a story).
func teased(e, link *nethtml.Node) bool {
	for p := link.Parent; p != nil && p != e; p = p.Parent {
		if p.DataAtom == atom.P {
			return false
		}
	}
	return summaryNode(e, link) != nil
}

// shapeSet is what the URLs of the listing look like.
type shapeSet struct {
	first  map[string]bool // first path segments of URLs two or more deep
	depths map[int]bool
	dated  bool // some of them have a date in their path
}

func newShapeSet(in *inferrer, ms []*nethtml.Node) *shapeSet {
	s := &shapeSet{first: make(map[string]bool), depths: make(map[int]bool)}
	for _, m := range ms {
		u, err := url.Parse(in.info[m].headline)
		if err != nil {
			continue
		}
		segs := pathSegments(u)
		s.depths[len(segs)] = true
		if len(segs) >= 2 {
			s.first[segs[0]] = true
		}
		s.dated = s.dated || datedPath(segs)
	}
	return s
}

// fit reports whether the URL key looks like the listing's: the same first
// segment, or an article-like last segment and the same depth or, when
// the listing's URLs are dated, a date in the path too ("/columns/2025/05/x"
// beside "/news/2025/05/31/y").
func (s *shapeSet) fit(key string) bool {
	u, err := url.Parse(key)
	if err != nil {
		return false
	}
	segs := pathSegments(u)
	if len(segs) >= 2 && s.first[segs[0]] {
		return true
	}
	return slugScore(u) >= 0.7 && (s.depths[len(segs)] || (s.dated && datedPath(segs)))
}

var yearSegment = regexp.MustCompile(`^(19|20)[0-9]{2}$`)

// datedPath reports whether segs hold a year followed by a month
// ("2025/05"), as dated article URLs do.
func datedPath(segs []string) bool {
	for i := 0; i+1 < len(segs); i++ {
		if yearSegment.MatchString(segs[i]) {
			if m, err := strconv.Atoi(segs[i+1]); err == nil && m >= 1 && m <= 12 {
				return true
			}
		}
	}
	return false
}

// mostlyFit reports whether at least half of the headlines of ms fit.
func (s *shapeSet) mostlyFit(in *inferrer, ms []*nethtml.Node) bool {
	fit := 0
	for _, m := range ms {
		if s.fit(in.info[m].headline) {
			fit++
		}
	}
	return fit*2 >= len(ms)
}
