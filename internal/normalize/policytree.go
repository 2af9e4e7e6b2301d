package normalize

import (
	"net/url"
	"slices"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	nethtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// keptAsIs reports whether the policy (newPolicy) would return the
// rendering of the tree under root byte for byte as it is, judged on the
// tree, without rendering it or running the policy: every node below root
// is text or an element of keptElements carrying only attributes listed
// there, each with a value the policy keeps unchanged. Anything else
// answers false, and the policy then reads the rendering as before.
//
// Why this extends bluemonday: bluemonday judges a stream of tokens it
// reads itself, so a tree has to be rendered and tokenized a second time
// to be judged, and for the markup clean publishers write, which the
// policy leaves as it is, that second reading was a quarter of a long
// article's ingest (docs/PERFORMANCE.md §1). keptAsIs never removes,
// rewrites or admits anything of its own: it knows a small part of the
// policy, and only ever answers "the policy would change nothing here".
// TestKeptElements holds each entry of keptElements to the policy, and
// FuzzKeptAsIs and FuzzReuseSanitizedTree hold every tree it passes to
// the policy's own output; a bluemonday upgrade that changed its verdict
// on any of them fails those tests.
func keptAsIs(root *nethtml.Node) bool {
	for c := root.FirstChild; c != nil; c = c.NextSibling {
		switch c.Type {
		case nethtml.TextNode:
		case nethtml.ElementNode:
			rule, ok := keptElements[c.DataAtom]
			if !ok || c.Namespace != "" || c.Data != c.DataAtom.String() || !rule.keeps(c.Attr) || !keptAsIs(c) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// elementRule is what the policy keeps of an element as it is.
type elementRule struct {
	// attrs are the attributes kept, each with the test its value must
	// pass to be kept unchanged.
	attrs map[string]func(string) bool
	// needsAttr: the policy drops the element's tags when none of its
	// attributes is left (a link without href, an image without source).
	needsAttr bool
}

// keeps reports whether the policy keeps every attribute of attrs as it
// is (a repeated name is left to the policy).
func (r elementRule) keeps(attrs []nethtml.Attribute) bool {
	if r.needsAttr && len(attrs) == 0 {
		return false
	}
	for i, a := range attrs {
		test, ok := r.attrs[a.Key]
		if !ok || a.Namespace != "" || !test(a.Val) {
			return false
		}
		for _, b := range attrs[:i] {
			if b.Key == a.Key {
				return false
			}
		}
	}
	return true
}

// keptElements are the elements of articles the policy keeps as written:
// UGCPolicy's text, list, table and figure elements without attributes,
// links, and images with what newPolicy lets them carry. Elements whose
// content the renderer writes unescaped (script, style, iframe, noscript,
// ...) are not here and never can be: keptAsIs vouches for escaped text
// only.
var keptElements = func() map[atom.Atom]elementRule {
	m := map[atom.Atom]elementRule{
		atom.A: {needsAttr: true, attrs: map[string]func(string) bool{
			"href": keptURL,
		}},
		atom.Img: {needsAttr: true, attrs: map[string]func(string) bool{
			"src":    keptURL,
			"alt":    func(string) bool { return true }, // newPolicy: any alt text
			"width":  bluemonday.NumberOrPercent.MatchString,
			"height": bluemonday.NumberOrPercent.MatchString,
			"srcset": srcsetPattern.MatchString,
			"sizes":  sizesPattern.MatchString,
		}},
	}
	for _, a := range []atom.Atom{
		atom.P, atom.Div, atom.Span, atom.Br, atom.Hr, atom.Wbr,
		atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6,
		atom.B, atom.I, atom.Em, atom.Strong, atom.U, atom.S, atom.Small,
		atom.Sub, atom.Sup, atom.Mark, atom.Cite, atom.Abbr, atom.Code,
		atom.Pre, atom.Blockquote, atom.Q, atom.Del, atom.Ins,
		atom.Ul, atom.Ol, atom.Li, atom.Dl, atom.Dt, atom.Dd,
		atom.Figure, atom.Figcaption, atom.Article, atom.Section, atom.Aside,
		atom.Table, atom.Caption, atom.Thead, atom.Tbody, atom.Tfoot, atom.Tr,
		atom.Th, atom.Td,
	} {
		m[a] = elementRule{}
	}
	return m
}()

// keptURL reports whether the policy keeps a link's or an image's URL
// as it is: absolute, of a scheme newPolicy allows, free of the spaces
// the policy refuses, and already in the form the policy writes back
// (url.URL's String). resolveContent makes the URLs it keeps so.
func keptURL(v string) bool {
	if v == "" || strings.TrimSpace(v) != v || strings.ContainsAny(v, " \t\n") {
		return false
	}
	u, err := url.Parse(v)
	if err != nil {
		return false
	}
	switch u.Scheme {
	case "http", "https", "mailto":
		return u.String() == v
	}
	return false
}

// shed removes from the tree under root, and returns root, what the
// policy removes wherever it stands, whatever its value: comments, and
// class, style, event handler (on…) and data- attributes. The policy
// would take them out of the rendering anyway (TestKeptElements holds it
// to that), so the policy's output is the same with them or without;
// shed lets keptAsIs pass the many articles that differ from clean
// markup only by them.
func shed(root *nethtml.Node) *nethtml.Node {
	for c := root.FirstChild; c != nil; {
		next := c.NextSibling
		switch c.Type {
		case nethtml.CommentNode:
			root.RemoveChild(c)
		case nethtml.ElementNode:
			if len(c.Attr) > 0 {
				c.Attr = slices.DeleteFunc(c.Attr, func(a nethtml.Attribute) bool {
					return a.Namespace == "" && shedAttr(a.Key)
				})
			}
			shed(c)
		}
		c = next
	}
	return root
}

// shedAttr reports whether the policy removes an attribute of this name
// from every element: it allows no class or style, no event handler and
// no data- attribute, and none of the names it allows starts with "on".
func shedAttr(key string) bool {
	return key == "class" || key == "style" || strings.HasPrefix(key, "on") || strings.HasPrefix(key, "data-")
}
