package normalize

import (
	"bytes"
	"html"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	nethtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// newPolicy builds the sanitizing policy for item summaries and contents.
//
// It starts from bluemonday's UGCPolicy (text formatting, links, lists,
// tables, code/pre, blockquote, figure/figcaption, images; no script, style,
// iframe, form, event handler or style attribute) and adds what articles
// carry: srcset images, picture, audio/video with their sources, and
// YouTube and Vimeo players.
//
// Links are left without rel="nofollow". UGCPolicy adds it to keep a site's
// own pages from lending search rank to its users' links; feedmill
// republishes a publisher's own articles to feed readers, which neither rank
// nor follow links, so the attribute would only make every link differ from
// the source for nothing.
//
// Relative URLs are refused: resolveContent has made every URL it keeps
// absolute before the policy runs, so a relative URL here is one that could
// not be resolved, and it would point at feedmill's own host.
func newPolicy() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()

	// UGCPolicy only admits alt text made of letters, digits and a little
	// punctuation, so "Figure 2: results" would lose its alt. Alt text is
	// plain text and escaped on output, so any value is safe.
	p.AllowAttrs("alt").OnElements("img")

	// srcset, poster and <source src> are not among the URL attributes
	// bluemonday checks itself (it checks href, cite and src on the elements
	// it calls linkable, and <source> is not one): resolveContent keeps only
	// absolute http(s) URLs in them and these patterns hold the policy to
	// that should the two ever disagree.
	p.AllowElements("picture")
	p.AllowAttrs("srcset").Matching(srcsetPattern).OnElements("img", "source")
	p.AllowAttrs("sizes").Matching(sizesPattern).OnElements("img", "source")
	p.AllowAttrs("src").Matching(httpURLPattern).OnElements("source")
	p.AllowAttrs("type").Matching(mimePattern).OnElements("source")
	p.AllowAttrs("media").Matching(sizesPattern).OnElements("source")
	p.AllowAttrs("src").OnElements("audio", "video")
	p.AllowAttrs("poster").Matching(httpURLPattern).OnElements("video")
	p.AllowAttrs("controls", "loop", "muted").Matching(booleanPattern).OnElements("audio", "video")
	p.AllowAttrs("preload").Matching(preloadPattern).OnElements("audio", "video")
	p.AllowAttrs("width", "height").Matching(bluemonday.NumberOrPercent).OnElements("video")

	// Video players of YouTube and Vimeo, and nothing else: an iframe
	// shows a whole foreign page inside the reader. fixIframe has dropped
	// every other iframe and made these URLs canonical before the policy
	// runs; the pattern holds the policy to that.
	p.AllowAttrs("src").Matching(playerURLPattern).OnElements("iframe")
	p.AllowAttrs("width", "height").Matching(bluemonday.NumberOrPercent).OnElements("iframe")
	p.AllowAttrs("allowfullscreen").Matching(allowFullscreenPattern).OnElements("iframe")
	p.AllowAttrs("title").OnElements("iframe")

	p.AllowURLSchemes("http", "https", "mailto")
	p.AllowRelativeURLs(false)
	// Last: every bluemonday helper that touches URLs (AllowImages,
	// AllowStandardURLs) switches nofollow back on.
	p.RequireNoFollowOnLinks(false)
	return p
}

var (
	httpURLPattern = regexp.MustCompile(`^https?://\S+$`)
	srcsetPattern  = regexp.MustCompile(`^https?://\S+( [0-9.]+[wx])?(, https?://\S+( [0-9.]+[wx])?)*$`)
	sizesPattern   = regexp.MustCompile(`^[a-zA-Z0-9 ().,:%-]*$`)
	mimePattern    = regexp.MustCompile(`^[a-zA-Z0-9!#$&^_.+-]+/[a-zA-Z0-9!#$&^_.+-]+(;[ a-zA-Z0-9=."-]*)?$`)
	booleanPattern = regexp.MustCompile(`(?i)^(|controls|loop|muted)$`)
	preloadPattern = regexp.MustCompile(`(?i)^(none|metadata|auto)?$`)

	playerURLPattern       = regexp.MustCompile(`^https://(www\.youtube\.com/embed/|www\.youtube-nocookie\.com/embed/|player\.vimeo\.com/video/)[^\s"'<>]*$`)
	allowFullscreenPattern = regexp.MustCompile(`(?i)^(|allowfullscreen|true)$`)
)

// sanitizeHTML makes fragment safe to embed and clean to read. In order:
//
//  1. hygiene on the parsed fragment (prepare): lazy-loaded images made
//     real, <noscript> fallbacks used once, every URL made absolute against
//     base (fragment-only links against page, the article itself), tracking
//     parameters stripped from links, tracking pixels and iframes other
//     than YouTube and Vimeo players dropped;
//  2. the bluemonday policy (newPolicy), which removes unsafe URLs and
//     markup;
//  3. tidying of what is left (tidy): elements left empty removed,
//     whitespace collapsed outside <pre>.
//
// It returns "" for a fragment with no visible content left.
func (n *Normalizer) sanitizeHTML(fragment string, base, page *url.URL) string {
	out, _ := n.sanitizeTree(fragment, base, page)
	return out
}

// sanitizeTree is sanitizeHTML, also returning the tree its result was
// rendered from (nil with ""), so that the text can be read from it
// (deriveSummary) without parsing the result again. The caller must not
// change the tree.
//
// URLs are resolved on the first tree, before sanitizing, deliberately:
// the sanitizer is then the last step to change the HTML and judges the
// URLs as they will be published, and it only has to accept absolute ones.
// Each fragment is parsed once, and the sanitizer's output read back as a
// tree once: by buildSimple in all but odd cases, which costs a fraction
// of a parse. The rendering of the first tree and the sanitizer's output
// go through buffers the Normalizer reuses.
func (n *Normalizer) sanitizeTree(fragment string, base, page *url.URL) (string, *nethtml.Node) {
	if strings.TrimSpace(fragment) == "" {
		return "", nil
	}
	return n.sanitizeTreeBy(fragment, base, page, true)
}

// sanitizeTreeBy is sanitizeTree; reuse false always reads the sanitizer's
// output as a new tree (the tests hold the two ways to one result).
//
// When the policy returns its input unchanged, which it does for the
// markup of clean publishers, the tree that input was rendered from is
// the tree its output parses to, provided that tree was built from the
// tokens as they stand (buildSimple): it is used as it is, and the output
// is not read again. A <noscript> fallback may graft a tree the parser
// built, so a fragment holding one is read again. Most such trees are
// recognized without running the policy at all (keptAsIs, after shed).
func (n *Normalizer) sanitizeTreeBy(fragment string, base, page *url.URL, reuse bool) (string, *nethtml.Node) {
	root, simple := parseFragment(fragment)
	simple = simple && !containsFoldASCII(fragment, "<noscript")
	unlazy(root, true)
	n.fixURLs(root, base, page)

	bufs := n.buffers()
	defer n.bufs.Put(bufs)
	if reuse && simple && keptAsIs(shed(root)) {
		// The policy would return the rendering unchanged: the tree is
		// the tree of its output, without the policy reading it.
		mergeText(root)
		return finish(tidy(root), &bufs.prepared)
	}
	renderChildrenTo(&bufs.prepared, root)
	if err := n.policy.SanitizeReaderToWriter(bytes.NewReader(bufs.prepared.Bytes()), &bufs.sanitized); err != nil {
		// As Policy.Sanitize: a fragment it cannot read leaves nothing.
		bufs.sanitized.Reset()
	}
	if reuse && simple && bytes.Equal(bufs.sanitized.Bytes(), bufs.prepared.Bytes()) {
		// Rendering leaves the text on either side of a removed element
		// in two nodes, which the parse of the output makes one.
		mergeText(root)
		return finish(tidy(root), &bufs.prepared)
	}
	return finish(tidyTree(bufs.sanitized.Bytes()), &bufs.prepared)
}

// containsFoldASCII reports whether s contains sub, ASCII letters of
// either case matching (sub is lower case).
func containsFoldASCII(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		j := 0
		for j < len(sub) && s[i+j]|0x20 == sub[j]|0x20 {
			j++
		}
		if j == len(sub) {
			return true
		}
	}
	return false
}

// finish renders a tidied tree (nil for nothing) with buf as scratch and
// returns the HTML, or "" and nil when it shows nothing (hasVisible).
func finish(root *nethtml.Node, buf *bytes.Buffer) (string, *nethtml.Node) {
	if root == nil {
		return "", nil
	}
	renderChildrenTo(buf, root)
	out := string(bytes.TrimSpace(buf.Bytes()))
	if out == "" || !hasVisible(root, out) {
		return "", nil
	}
	return out, root
}

// scratch holds the buffers of one sanitizeTree call.
type scratch struct {
	prepared, sanitized bytes.Buffer
}

// buffers returns empty buffers from the Normalizer's pool. Their
// capacity is kept between items, which is what saves the allocations;
// a buffer grown by a huge fragment is not kept.
func (n *Normalizer) buffers() *scratch {
	s, _ := n.bufs.Get().(*scratch)
	if s == nil || s.prepared.Cap()+s.sanitized.Cap() > maxPooledBytes {
		s = new(scratch)
	}
	s.prepared.Reset()
	s.sanitized.Reset()
	return s
}

// maxPooledBytes bounds the buffers a pooled scratch keeps.
const maxPooledBytes = 1 << 20

// ParseFragment parses an HTML fragment as the content of a <div>, which it
// returns (a root of its own: every node has a parent to be removed
// from), with no element nested more than MaxHTMLDepth deep below it
// (flattenDepth). x/net/html fails on elements nested more than 512 deep
// (and on reader errors, which a strings.Reader has none of): such a
// fragment, which no publisher writes, is parsed again with the tags past
// MaxHTMLDepth left out (flattenTags), and if even that fails, its text
// alone is kept. Either way the time and memory it takes grow with the
// fragment's length only, and its text survives.
//
// Most publishers' HTML has balanced tags that nest as written; its tree
// is built straight from the tokens (buildSimple, exact where it builds)
// at a fraction of the full tree construction's cost, and the parser is
// left the rest.
func ParseFragment(fragment string) *nethtml.Node {
	root, _ := parseFragment(fragment)
	return root
}

// parseFragment is ParseFragment, also telling whether the tree was built
// from the tokens as they stand (buildSimple) rather than by the parser.
func parseFragment(fragment string) (root *nethtml.Node, simple bool) {
	if root := buildSimple(strings.NewReader(fragment)); root != nil {
		flattenDepth(root, MaxHTMLDepth)
		return root, true
	}
	return parseFull(fragment), false
}

// parseFull is ParseFragment by x/net/html's parser alone.
func parseFull(fragment string) *nethtml.Node {
	root := &nethtml.Node{Type: nethtml.ElementNode, Data: "div", DataAtom: atom.Div}
	nodes, err := nethtml.ParseFragment(strings.NewReader(fragment), root)
	if err != nil {
		nodes, err = nethtml.ParseFragment(strings.NewReader(flattenTags(fragment, MaxHTMLDepth)), root)
	}
	if err != nil {
		nodes = []*nethtml.Node{{Type: nethtml.TextNode, Data: fragmentText(fragment)}}
	}
	for _, node := range nodes {
		root.AppendChild(node)
	}
	flattenDepth(root, MaxHTMLDepth)
	return root
}

// flattenDepth unwraps the elements more than depth levels below n that
// hold anything: their children take their place. Elements without
// children (an image, a line break) stay where they are, since they nest
// nothing. So no element below n has more than depth element ancestors
// below n, unless it is empty.
func flattenDepth(n *nethtml.Node, depth int) {
	for c := n.FirstChild; c != nil; {
		if c.Type != nethtml.ElementNode || c.FirstChild == nil {
			c = c.NextSibling
			continue
		}
		if depth > 0 {
			flattenDepth(c, depth-1)
			c = c.NextSibling
			continue
		}
		// Unwrap c: its children move before it and are looked at next.
		first := c.FirstChild
		for k := c.FirstChild; k != nil; {
			next := k.NextSibling
			c.RemoveChild(k)
			n.InsertBefore(k, c)
			k = next
		}
		n.RemoveChild(c)
		c = first
	}
}

// flattenTags returns fragment without the start and end tags that would
// nest more than depth elements deep, counted as a tokenizer sees them:
// void elements and self-closing tags do not nest, and an end tag closes
// one level. It is a rough count (a parser closes some elements
// implicitly, and ignores end tags that close nothing), used only to give
// the parser a fragment it can read after it refused the original.
func flattenTags(fragment string, depth int) string {
	var b strings.Builder
	b.Grow(len(fragment))
	open := 0
	z := nethtml.NewTokenizer(strings.NewReader(fragment))
	for {
		switch z.Next() {
		case nethtml.ErrorToken:
			return b.String()
		case nethtml.StartTagToken:
			name, _ := z.TagName()
			if voidElements[string(name)] {
				b.Write(z.Raw())
				continue
			}
			if open++; open <= depth {
				b.Write(z.Raw())
			}
		case nethtml.EndTagToken:
			if open <= depth {
				b.Write(z.Raw())
			}
			if open > 0 {
				open--
			}
		default:
			b.Write(z.Raw())
		}
	}
}

// fragmentText returns the text of an HTML fragment, without its tags,
// comments and doctypes.
func fragmentText(fragment string) string {
	var b strings.Builder
	z := nethtml.NewTokenizer(strings.NewReader(fragment))
	for {
		switch z.Next() {
		case nethtml.ErrorToken:
			return b.String()
		case nethtml.TextToken:
			b.Write(z.Text())
		}
	}
}

// RenderChildren renders the children of root: the inner HTML of an
// element, or a parsed fragment.
func RenderChildren(root *nethtml.Node) string {
	var b bytes.Buffer
	renderChildrenTo(&b, root)
	return b.String()
}

// renderChildrenTo renders the children of root into buf, replacing what
// it held.
func renderChildrenTo(buf *bytes.Buffer, root *nethtml.Node) {
	buf.Reset()
	for c := root.FirstChild; c != nil; c = c.NextSibling {
		if err := nethtml.Render(buf, c); err != nil {
			// Render only fails on writer errors, which a bytes.Buffer
			// has none of; keep the text rather than half a tree.
			buf.Reset()
			buf.WriteString(html.EscapeString(textContent(root)))
			return
		}
	}
}

// fixURLs rewrites the URL attributes of the descendants of node to
// absolute URLs, dropping the attributes whose URL is unusable or of a
// scheme other than http, https (and mailto, for links), and then the
// images, media sources and players left with no URL at all, tracking
// pixels and iframes that are not video players. Links lose their tracking
// parameters. Audio and video get their controls: without them a reader
// shows nothing to play.
func (n *Normalizer) fixURLs(node *nethtml.Node, base, page *url.URL) {
	for c := node.FirstChild; c != nil; {
		next := c.NextSibling
		if c.Type == nethtml.ElementNode {
			n.fixAttrs(c, base, page)
			n.fixURLs(c, base, page)
			if lacksURL(c) || isPixel(c) || !fixIframe(c) {
				node.RemoveChild(c)
			}
		}
		c = next
	}
}

// fixAttrs does fixURLs' work on the attributes of one element.
func (n *Normalizer) fixAttrs(e *nethtml.Node, base, page *url.URL) {
	kept := e.Attr[:0]
	hasControls := false
	for _, a := range e.Attr {
		if a.Namespace != "" {
			continue // svg/xlink attributes: nothing we publish
		}
		switch a.Key {
		case "href":
			a.Val = resolveURL(base, page, a.Val, true)
			if e.DataAtom == atom.A || e.DataAtom == atom.Area {
				a.Val = n.stripTracking(a.Val)
			}
		case "src", "poster", "cite":
			a.Val = resolveURL(base, page, a.Val, false)
		case "srcset":
			a.Val = resolveSrcset(base, page, a.Val)
		case "controls":
			hasControls = true
		}
		if a.Val == "" && isURLAttr(a.Key) {
			continue
		}
		kept = append(kept, a)
	}
	e.Attr = kept
	if (e.DataAtom == atom.Audio || e.DataAtom == atom.Video) && !hasControls {
		e.Attr = append(e.Attr, nethtml.Attribute{Key: "controls"})
	}
}

// lacksURL reports whether n is an image, media source or player left with
// nothing to show or play.
func lacksURL(n *nethtml.Node) bool {
	switch n.DataAtom {
	case atom.Img, atom.Source:
		return !hasAttr(n, "src") && !hasAttr(n, "srcset")
	case atom.Audio, atom.Video:
		if hasAttr(n, "src") {
			return false
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.DataAtom == atom.Source {
				return false
			}
		}
		return true
	}
	return false
}

func hasAttr(n *nethtml.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

func isURLAttr(key string) bool {
	switch key {
	case "href", "src", "poster", "cite", "srcset":
		return true
	}
	return false
}

// resolveSrcset resolves every candidate of a srcset attribute and returns
// them as "URL descriptor, URL descriptor", dropping unusable candidates and
// descriptors. A candidate's URL is its run of non-space characters (commas
// included, as browsers read it), less trailing commas.
func resolveSrcset(base, page *url.URL, srcset string) string {
	var out []string
	rest := srcset
	for {
		rest = strings.TrimLeft(rest, " \t\r\n\f,")
		if rest == "" {
			break
		}
		end := strings.IndexAny(rest, " \t\r\n\f")
		if end < 0 {
			end = len(rest)
		}
		raw, descriptor := rest[:end], ""
		rest = rest[end:]
		if trimmed := strings.TrimRight(raw, ","); trimmed != raw {
			raw = trimmed // "a.jpg," ends the candidate: no descriptor
		} else {
			// The descriptor runs to the next comma outside parentheses.
			depth, i := 0, 0
			for ; i < len(rest); i++ {
				if rest[i] == '(' {
					depth++
				} else if rest[i] == ')' && depth > 0 {
					depth--
				} else if rest[i] == ',' && depth == 0 {
					break
				}
			}
			descriptor, rest = strings.TrimSpace(rest[:i]), rest[i:]
		}
		u := resolveURL(base, page, raw, false)
		if u == "" {
			continue
		}
		if descriptorPattern.MatchString(descriptor) {
			u += " " + descriptor
		}
		out = append(out, u)
	}
	return strings.Join(out, ", ")
}

var descriptorPattern = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?[wx]$`)

// hasVisible reports whether out, rendered from root, shows anything,
// read from root without scanning the markup: an image, media element or
// video player, or text that cleanText keeps. The text is
// what cleanText reads once the tags are stripped and the entities
// decoded (a space for each tag of a block element, nothing for an inline
// one). A tree holding what that reading does not cover (a comment, an
// element cleanText does not know, raw text rendered unescaped) is judged
// on out itself.
//
// Most content shows a letter early: a visible character met while
// everything before it was text and known elements, with no '<' in that
// text (which defuse might read as markup) and no invalid UTF-8, decides
// at once, since neither reading removes anything before the first '<'.
func hasVisible(root *nethtml.Node, out string) bool {
	var b strings.Builder
	exact := true
	early := true // everything so far allows deciding at a visible character
	var walk func(*nethtml.Node) bool
	walk = func(n *nethtml.Node) bool {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			switch c.Type {
			case nethtml.TextNode:
				if early && exact {
					for _, r := range c.Data {
						if r == '<' || r == utf8.RuneError {
							early = false
							break
						}
						if !isBlank(r) && !unicode.IsControl(r) { // a character cleanDecoded keeps
							return true
						}
					}
				}
				b.WriteString(c.Data)
			case nethtml.ElementNode:
				switch c.DataAtom {
				case atom.Img, atom.Video, atom.Audio, atom.Picture, atom.Iframe:
					return true
				case atom.Script, atom.Style, atom.Xmp, atom.Noembed, atom.Noframes, atom.Noscript, atom.Plaintext:
					exact = false
				}
				kind := htmlElements[c.Data]
				if kind == notAnElement || c.Namespace != "" {
					exact = false
				}
				if kind == blockElement {
					b.WriteByte(' ')
				}
				if walk(c) {
					return true
				}
				if kind == blockElement {
					b.WriteByte(' ')
				}
			default:
				exact = false
			}
		}
		return false
	}
	if walk(root) {
		return true
	}
	if !exact {
		return cleanText(out) != ""
	}
	return cleanDecoded(strings.ToValidUTF8(b.String(), "\uFFFD")) != ""
}

var blankLines = regexp.MustCompile(`\n[ \t\f\v]*\n\s*`)

// tagPattern matches something that looks like an HTML tag: '<', an
// optional '/', a name, then anything up to '>'. Whether it is one depends
// on the name (see isKnownTag), so "a <b> c" is markup but "x<y>z" is not.
var (
	tagPattern     = regexp.MustCompile(`<(/?)([a-zA-Z][a-zA-Z0-9]*)(?:[\s/][^>]*)?>`)
	commentPattern = regexp.MustCompile(`(?s)<!--.*?-->`)
	scriptPattern  = regexp.MustCompile(`(?is)<script\b.*?</script\s*>`)
	stylePattern   = regexp.MustCompile(`(?is)<style\b.*?</style\s*>`)
)

func isKnownTag(name string) bool {
	return htmlElements[strings.ToLower(name)] != notAnElement
}

// elementKind says how a stripped tag separates the text around it.
type elementKind int

const (
	notAnElement  elementKind = iota
	blockElement              // block-level or void: stripping leaves a space, so "one<br>two" stays two words
	inlineElement             // sits inside a word or phrase: stripping leaves nothing
)

// htmlElements holds the names of HTML elements, current and obsolete ones
// that feeds still carry. It is never written after initialization.
var htmlElements = func() map[string]elementKind {
	m := make(map[string]elementKind)
	for _, name := range strings.Fields(`address area article aside audio base
		basefont blockquote body br button canvas caption center col colgroup
		dd details dialog dir div dl dt embed fieldset figcaption figure
		footer form frame frameset h1 h2 h3 h4 h5 h6 head header hgroup hr
		html iframe img input label legend li link main map marquee menu
		meta nav noframes noscript object ol optgroup option p param picture
		pre script section select source style summary table tbody td
		template textarea tfoot th thead title tr track ul video
		applet image isindex keygen listing math noembed plaintext portal
		svg xmp`) {
		m[name] = blockElement
	}
	for _, name := range strings.Fields(`a abbr acronym b bdi bdo big blink
		cite code data del dfn em font i ins kbd mark nobr q rp rt ruby s samp
		small span strike strong sub sup time tt u var wbr`) {
		m[name] = inlineElement
	}
	return m
}()

// looksLikeHTML reports whether s carries markup: an HTML comment or a tag
// of a known HTML element. Feeds do not say whether an RSS description or an
// untyped Atom text is HTML or plain text; the markup decides.
func looksLikeHTML(s string) bool {
	if strings.Contains(s, "<!--") {
		return true
	}
	// Match by match, stopping at the first known tag: an article's HTML
	// holds hundreds of tags, and the first one decides.
	for rest := s; ; {
		m := tagPattern.FindStringSubmatchIndex(rest)
		if m == nil {
			return false
		}
		if isKnownTag(rest[m[4]:m[5]]) {
			return true
		}
		rest = rest[m[1]:]
	}
}

// htmlOrText converts feed text of unknown kind to sanitized HTML: markup is
// sanitized as HTML; anything else is plain text whose entities are decoded
// once (feeds escape their text as if it were HTML) and then escaped.
func (n *Normalizer) htmlOrText(s string, base, page *url.URL) string {
	out, _ := n.htmlOrTextTree(s, base, page)
	return out
}

// htmlOrTextTree is htmlOrText, also returning the tree (see sanitizeTree).
func (n *Normalizer) htmlOrTextTree(s string, base, page *url.URL) (string, *nethtml.Node) {
	if looksLikeHTML(s) {
		return n.sanitizeTree(s, base, page)
	}
	return n.plainTextTree(html.UnescapeString(s))
}

// plainText converts text known to be plain to sanitized HTML: escaped,
// a paragraph for each run of text between blank lines, a line break for
// each single newline; what sanitizing that HTML would give.
func (n *Normalizer) plainText(s string) string {
	out, _ := n.plainTextTree(s)
	return out
}

// plainTextTree is plainText, also returning the tree (see sanitizeTree).
// It builds the tree sanitizeHTML would read from that HTML directly:
// paragraphs of text and line breaks, which no step before the tidy pass
// changes (they hold no URL, and the policy keeps them as they are) but
// the parser's dropping of NUL characters. TestPlainTextTree holds it to
// sanitizing the HTML the tests' textToHTML writes.
func (n *Normalizer) plainTextTree(s string) (string, *nethtml.Node) {
	root := textTree(s)
	if root.FirstChild == nil {
		return "", nil
	}
	pruneEmpty(root)
	collapseSpace(root, false)
	trimSpace(root, true)
	bufs := n.buffers()
	defer n.bufs.Put(bufs)
	return finish(root, &bufs.prepared)
}

// textTree returns, under a <div>, the tree ParseFragment builds from the
// HTML form of plain text s (see plainText).
func textTree(s string) *nethtml.Node {
	var nodes slab
	root := &nethtml.Node{Type: nethtml.ElementNode, Data: "div", DataAtom: atom.Div}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	for _, para := range blankLines.Split(s, -1) {
		para = strings.TrimSpace(para)
		if para == "" {
			continue
		}
		p := &nethtml.Node{Type: nethtml.ElementNode, Data: "p", DataAtom: atom.P}
		for i, line := range strings.Split(para, "\n") {
			if i > 0 {
				p.AppendChild(&nethtml.Node{Type: nethtml.ElementNode, Data: "br", DataAtom: atom.Br})
			}
			nodes.appendText(p, strings.ReplaceAll(strings.TrimSpace(line), "\x00", ""))
		}
		root.AppendChild(p)
	}
	return root
}

// cleanText turns feed text that may hold markup into plain text: scripts,
// styles, comments and tags of known HTML elements are removed, entities
// are decoded exactly once (so a double-escaped "&amp;amp;" shows as
// "&amp;", as its publisher wrote it), control and zero-width characters are
// dropped and whitespace is collapsed and trimmed. Text that only looks like
// a tag ("a<b", "x <y> z") is kept, and so is harmless markup that was
// escaped ("&lt;b&gt;" gives "<b>").
//
// The result is also inert when a careless reader takes it for HTML (RSS
// does not say whether a title is text or HTML, and some readers guess
// HTML): no script or style survives, nor any tag that would run script,
// load active content or restyle the page (see defuse), whether it came as
// markup or escaped.
func cleanText(s string) string {
	if s == "" {
		return ""
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	if strings.IndexByte(s, '<') >= 0 {
		s = scriptPattern.ReplaceAllString(s, " ")
		s = stylePattern.ReplaceAllString(s, " ")
		s = commentPattern.ReplaceAllString(s, " ")
		s = stripTags(s)
	}
	return cleanDecoded(html.UnescapeString(s))
}

// cleanDecoded is the end of cleanText, on text whose tags are stripped and
// entities decoded.
func cleanDecoded(s string) string {
	s = defuse(s)
	s = strings.Map(func(r rune) rune {
		if (unicode.IsControl(r) && !unicode.IsSpace(r)) || r == '\u200b' || r == '\ufeff' {
			return -1
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// activeElements run script, load active content, restyle or take over the
// page, or switch the parser into foreign content, whatever their
// attributes.
var activeElements = map[string]bool{
	"script": true, "style": true, "iframe": true, "frame": true, "frameset": true,
	"object": true, "embed": true, "applet": true, "param": true, "base": true,
	"meta": true, "link": true, "form": true, "svg": true, "math": true, "portal": true,
}

// defuse removes from plain text s the markup a browser would act on if s
// were taken for HTML: scripts and styles with their bodies, tags of
// activeElements, and tags of any name with an event handler (on*), a style
// or srcdoc attribute, or a URL of a script scheme (hasActiveAttr). Tags
// are read as a browser's tokenizer reads them (quotes and all), but never
// in raw-text mode, so that nothing hides inside a <title> or <xmp>. An
// unterminated tag at the end of s is judged as if it were closed, as it
// would be once a reader put s inside its own markup. Everything else,
// "Vec<T>" and "<b>" included, is kept byte for byte.
func defuse(s string) string {
	if strings.IndexByte(s, '<') < 0 {
		return s
	}
	s = scriptPattern.ReplaceAllString(s, " ")
	s = stylePattern.ReplaceAllString(s, " ")
	var b strings.Builder
	z := nethtml.NewTokenizer(strings.NewReader(s))
	for {
		tt := z.Next()
		switch tt {
		case nethtml.ErrorToken:
			// The end of the text (a strings.Reader has no other error);
			// what is left is an unterminated tag, or nothing.
			if rest := string(z.Raw()); !activeTag(rest + ">") {
				b.WriteString(rest)
			}
			return b.String()
		case nethtml.StartTagToken, nethtml.EndTagToken, nethtml.SelfClosingTagToken:
			raw := string(z.Raw())
			name, hasAttr := z.TagName()
			active := activeElements[strings.ToLower(string(name))] || hasAttr && hasActiveAttr(z)
			if tt == nethtml.StartTagToken {
				z.NextIsNotRawText()
			}
			if active {
				b.WriteByte(' ')
			} else {
				b.WriteString(raw)
			}
		default:
			b.Write(z.Raw())
		}
	}
}

// activeTag reports whether s starts with a tag that defuse removes.
func activeTag(s string) bool {
	z := nethtml.NewTokenizer(strings.NewReader(s))
	switch z.Next() {
	case nethtml.StartTagToken, nethtml.EndTagToken, nethtml.SelfClosingTagToken:
		name, hasAttr := z.TagName()
		return activeElements[strings.ToLower(string(name))] || hasAttr && hasActiveAttr(z)
	}
	return false
}

// hasActiveAttr reads the attributes of the tag z is on and reports
// whether one is an event handler, a style or srcdoc, or holds a URL whose
// scheme runs script or embeds a document (javascript:, vbscript:,
// livescript:, data:), however it is spaced or cased.
func hasActiveAttr(z *nethtml.Tokenizer) bool {
	for {
		key, val, more := z.TagAttr()
		k := strings.ToLower(string(key))
		if strings.HasPrefix(k, "on") || k == "style" || k == "srcdoc" || scriptURL(string(val)) {
			return true
		}
		if !more {
			return false
		}
	}
}

// scriptURL reports whether v, with the spaces and control characters
// browsers skip taken out, starts with a script or data scheme.
func scriptURL(v string) bool {
	v = strings.ToLower(strings.Map(func(r rune) rune {
		if r <= ' ' || r == 0x7f {
			return -1
		}
		return r
	}, v))
	for _, scheme := range []string{"javascript:", "vbscript:", "livescript:", "data:"} {
		if strings.HasPrefix(v, scheme) {
			return true
		}
	}
	return false
}

// stripTags removes the tags of known HTML elements from s: inline ones
// without a trace, others leaving a space.
func stripTags(s string) string {
	var b strings.Builder
	last := 0
	for _, m := range tagPattern.FindAllStringSubmatchIndex(s, -1) {
		kind := htmlElements[strings.ToLower(s[m[4]:m[5]])]
		if kind == notAnElement {
			continue
		}
		b.WriteString(s[last:m[0]])
		if kind == blockElement {
			b.WriteByte(' ')
		}
		last = m[1]
	}
	b.WriteString(s[last:])
	return b.String()
}
