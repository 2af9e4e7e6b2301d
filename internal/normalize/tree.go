package normalize

import (
	"bytes"
	"cmp"
	"io"
	"slices"
	"strings"

	nethtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// The second tree of sanitizeHTML. bluemonday sanitizes a string, so the
// tidy pass must read its output as a tree again. That output is the
// rendering of a tree x/net/html built, less what the policy removed: in
// all but odd cases its tags are balanced and nest the way they are
// written, and the full HTML5 tree construction (implied end tags, the
// adoption agency, foster parenting, implied tbody) never has to act.
// buildSimple builds that tree straight from the tokens, and hands every
// case where the HTML5 algorithm could act back to x/net/html's parser, so
// the tree is the one ParseFragment would build (FuzzBuildSimple holds the
// two to that on any input).

// maxSimpleDepth is how deep buildSimple nests before it hands a fragment
// to ParseFragment, which flattens deeper ones (see there).
const maxSimpleDepth = 2 * MaxHTMLDepth

// buildSimple returns the children of a <div> holding the HTML fragment
// src, as ParseFragment builds them (before flattenDepth), or nil when src
// holds anything whose tree the HTML5 parsing algorithm would build
// otherwise than its tags read: an end tag that does not close the current
// element, an element that would close another one implicitly, content a
// table would foster out, doctypes, foreign or unknown elements.
// The caller then parses src in full.
func buildSimple(src io.Reader) *nethtml.Node {
	var nodes slab
	root := nodes.node()
	root.Type, root.Data, root.DataAtom = nethtml.ElementNode, "div", atom.Div
	z := nethtml.NewTokenizerFragment(src, "div")
	stack := make([]*nethtml.Node, 1, 16)
	stack[0] = root
	// How many p, a and nobr elements are open: where one is, a start tag
	// may close it (p) or run the adoption agency (a, nobr).
	var ps, as, nobrs int
	for {
		tt := z.Next()
		top := stack[len(stack)-1]
		switch tt {
		case nethtml.ErrorToken:
			if z.Err() != io.EOF {
				return nil
			}
			return root
		case nethtml.TextToken:
			d := string(z.Text())
			switch top.DataAtom {
			case atom.Table, atom.Tbody, atom.Thead, atom.Tfoot, atom.Tr:
				// Only whitespace stays where it is; other text is
				// fostered out of the table.
				d = strings.ReplaceAll(d, "\x00", "")
				if strings.Trim(d, whitespace) != "" {
					return nil
				}
			case atom.Colgroup:
				// Anything but whitespace (a NUL too) closes the group.
				if strings.Trim(d, whitespace) != "" {
					return nil
				}
			case atom.Iframe:
				return nil // raw text: parsed by other rules
			case atom.Pre, atom.Listing:
				if top.FirstChild == nil {
					// The parser drops a newline right after <pre>.
					d = strings.TrimPrefix(d, "\r")
					d = strings.TrimPrefix(d, "\n")
				}
				d = strings.ReplaceAll(d, "\x00", "")
			default:
				d = strings.ReplaceAll(d, "\x00", "")
			}
			nodes.appendText(top, d)
		case nethtml.EndTagToken:
			name, _ := z.TagName()
			if len(stack) == 1 || top.DataAtom == 0 || top.Data != string(name) {
				return nil
			}
			stack = stack[:len(stack)-1]
			switch top.DataAtom {
			case atom.P:
				ps--
			case atom.A:
				as--
			case atom.Nobr:
				nobrs--
			}
		case nethtml.StartTagToken, nethtml.SelfClosingTagToken:
			tok := z.Token()
			e := nodes.node()
			e.Type, e.DataAtom, e.Data, e.Attr = nethtml.ElementNode, tok.DataAtom, tok.Data, tok.Attr
			kind := simpleKind(tok.DataAtom, top.DataAtom, ps > 0)
			switch {
			case kind == simpleNo:
				return nil
			case kind == simpleVoid:
				top.AppendChild(e)
				continue
			case tt == nethtml.SelfClosingTagToken:
				return nil // the parser ignores the slash and opens e
			}
			switch tok.DataAtom {
			case atom.Li, atom.Dd, atom.Dt:
				if closesItem(stack, tok.DataAtom) {
					return nil
				}
			case atom.A:
				if as > 0 {
					return nil
				}
				as++
			case atom.Nobr:
				if nobrs > 0 {
					return nil
				}
				nobrs++
			case atom.P:
				ps++
			case atom.Iframe:
				// Raw text follows: only an empty player is built here.
				if z.Next() != nethtml.EndTagToken {
					return nil
				}
				if name, _ := z.TagName(); string(name) != "iframe" {
					return nil
				}
				top.AppendChild(e)
				continue
			}
			if kind == simpleFormatting {
				// The parser keeps a formatting element's attributes
				// sorted (addFormattingElement).
				slices.SortFunc(e.Attr, func(a, b nethtml.Attribute) int {
					return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Key, b.Key), cmp.Compare(a.Val, b.Val))
				})
			}
			top.AppendChild(e)
			if stack = append(stack, e); len(stack) > maxSimpleDepth {
				return nil
			}
		case nethtml.CommentToken:
			// The parser puts a comment in the current node, in a
			// table's structure too (a publisher's <!-- wp:paragraph -->).
			c := nodes.node()
			c.Type, c.Data = nethtml.CommentNode, string(z.Text())
			top.AppendChild(c)
		default: // doctypes
			return nil
		}
	}
}

// slab hands out the nodes of one tree from blocks: a tree of an
// article's HTML has hundreds of nodes, and one allocation each was the
// largest share of the allocations of normalizing it. Blocks double from
// 4 nodes to 64, so that a summary of one paragraph takes no more than
// it did. A block lives as long as any of its nodes; trees are
// short-lived.
type slab struct {
	free []nethtml.Node
	next int // the size of the next block
}

func (s *slab) node() *nethtml.Node {
	if len(s.free) == 0 {
		s.next = min(max(2*s.next, 4), 64)
		s.free = make([]nethtml.Node, s.next)
	}
	n := &s.free[0]
	s.free = s.free[1:]
	return n
}

// whitespace is what the HTML parser counts as whitespace.
const whitespace = " \t\r\n\f"

// appendText adds text to n as the parser does: merged into a text node
// that is n's last child.
func (s *slab) appendText(n *nethtml.Node, text string) {
	if text == "" {
		return
	}
	if last := n.LastChild; last != nil && last.Type == nethtml.TextNode {
		last.Data += text
		return
	}
	t := s.node()
	t.Type, t.Data = nethtml.TextNode, text
	n.AppendChild(t)
}

// simpleKind is how buildSimple treats a start tag.
type simpleTag int

const (
	simpleNo         simpleTag = iota // hand the fragment to the parser
	simpleOpen                        // open an element
	simpleFormatting                  // open a formatting element
	simpleVoid                        // add an element that holds nothing
)

// simpleKind says how buildSimple treats a start tag of a inside parent,
// pOpen telling whether a p element is open: an element goes where its
// tag stands only when the parser's rules for it do nothing more in that
// place.
func simpleKind(a, parent atom.Atom, pOpen bool) simpleTag {
	// Inside a table's structure only its structure is built in place.
	switch parent {
	case atom.Table:
		switch a {
		case atom.Caption, atom.Colgroup, atom.Thead, atom.Tbody, atom.Tfoot:
			return simpleOpen
		}
		return simpleNo
	case atom.Thead, atom.Tbody, atom.Tfoot:
		if a == atom.Tr {
			return simpleOpen
		}
		return simpleNo
	case atom.Tr:
		if a == atom.Td || a == atom.Th {
			return simpleOpen
		}
		return simpleNo
	case atom.Colgroup:
		if a == atom.Col {
			return simpleVoid
		}
		return simpleNo
	}
	switch a {
	case atom.Address, atom.Article, atom.Aside, atom.Blockquote, atom.Center, atom.Details, atom.Dir,
		atom.Div, atom.Dl, atom.Figcaption, atom.Figure, atom.Footer, atom.Header, atom.Hgroup,
		atom.Main, atom.Menu, atom.Nav, atom.Ol, atom.P, atom.Section, atom.Summary, atom.Ul,
		atom.Pre, atom.Listing, atom.Table, atom.Li, atom.Dd, atom.Dt:
		// Each closes an open p (the parser looks in button scope; any
		// open p is stricter).
		if pOpen {
			return simpleNo
		}
		return simpleOpen
	case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
		switch parent {
		case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
			return simpleNo // a heading closes the heading it is in
		}
		if pOpen {
			return simpleNo
		}
		return simpleOpen
	case atom.Hr:
		if pOpen {
			return simpleNo
		}
		return simpleVoid
	case atom.A, atom.B, atom.Big, atom.Code, atom.Em, atom.Font, atom.I, atom.Nobr, atom.S,
		atom.Small, atom.Strike, atom.Strong, atom.Tt, atom.U:
		return simpleFormatting
	case atom.Area, atom.Br, atom.Embed, atom.Img, atom.Keygen, atom.Wbr, atom.Param, atom.Source, atom.Track:
		return simpleVoid
	case atom.Span, atom.Abbr, atom.Acronym, atom.Bdi, atom.Bdo, atom.Cite, atom.Data, atom.Dfn,
		atom.Del, atom.Ins, atom.Kbd, atom.Mark, atom.Q, atom.Samp, atom.Sub, atom.Sup, atom.Time,
		atom.Var, atom.Picture, atom.Video, atom.Audio, atom.Iframe:
		// The parser's "any other start tag" (and an iframe, read as raw
		// text: buildSimple builds only empty ones).
		return simpleOpen
	}
	return simpleNo
}

// closesItem reports whether the parser, at a start tag li (or dd, dt),
// would close an open item: one reached walking down the stack of open
// elements before any special element other than address, div and p.
func closesItem(stack []*nethtml.Node, a atom.Atom) bool {
	for i := len(stack) - 1; i >= 1; i-- {
		switch n := stack[i].DataAtom; {
		case a == atom.Li && n == atom.Li, a != atom.Li && (n == atom.Dd || n == atom.Dt):
			return true
		case n == atom.Address || n == atom.Div || n == atom.P:
			continue
		case specialElements[n]:
			return false
		}
	}
	return false
}

// specialElements are the HTML elements the parsing algorithm calls
// special, among those buildSimple builds.
var specialElements = map[atom.Atom]bool{
	atom.Address: true, atom.Area: true, atom.Article: true, atom.Aside: true, atom.Blockquote: true,
	atom.Br: true, atom.Caption: true, atom.Center: true, atom.Col: true, atom.Colgroup: true,
	atom.Dd: true, atom.Details: true, atom.Dir: true, atom.Div: true, atom.Dl: true, atom.Dt: true,
	atom.Embed: true, atom.Figcaption: true, atom.Figure: true, atom.Footer: true, atom.H1: true,
	atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true, atom.Header: true,
	atom.Hgroup: true, atom.Hr: true, atom.Iframe: true, atom.Img: true, atom.Keygen: true,
	atom.Li: true, atom.Listing: true, atom.Main: true, atom.Menu: true, atom.Nav: true, atom.Ol: true,
	atom.P: true, atom.Param: true, atom.Pre: true, atom.Section: true, atom.Source: true,
	atom.Summary: true, atom.Table: true, atom.Tbody: true, atom.Td: true, atom.Tfoot: true,
	atom.Th: true, atom.Thead: true, atom.Tr: true, atom.Track: true, atom.Ul: true, atom.Wbr: true,
}

// parseSanitized returns the tree of bluemonday's output, as ParseFragment
// would: built from its tokens where that is exact (buildSimple), else
// parsed, with no element nested more than MaxHTMLDepth deep.
func parseSanitized(src []byte) *nethtml.Node {
	root := buildSimple(bytes.NewReader(src))
	if root == nil {
		return parseFull(string(src))
	}
	flattenDepth(root, MaxHTMLDepth)
	return root
}

// mergeText joins the adjacent text nodes under n into one, as the parser
// builds them.
func mergeText(n *nethtml.Node) {
	for c := n.FirstChild; c != nil; {
		next := c.NextSibling
		if c.Type == nethtml.TextNode && next != nil && next.Type == nethtml.TextNode {
			c.Data += next.Data
			c.Parent.RemoveChild(next)
			continue
		}
		if c.Type == nethtml.ElementNode {
			mergeText(c)
		}
		c = next
	}
}
