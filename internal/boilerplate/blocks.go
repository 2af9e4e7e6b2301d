package boilerplate

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// A block is the unit that is compared across articles and removed: the
// smallest piece of a fragment that carries text of its own.
//
// It is either a leaf block element (a p, li, h3, blockquote, figcaption,
// or a div or section holding only inline content: text, links, spans) or a
// run of inline content that sits beside block elements in a container (the
// bare "Subscribe" text a sanitizer leaves of a form, text between two
// paragraphs). A container that holds blocks is not a block itself: its
// blocks are compared one by one, so that a newsletter box between two
// paragraphs goes block by block and the story's paragraphs around it stay.
//
// A row of buttons or links ("Once Monthly Annual", "Share Facebook X
// Email") is one block when it is one leaf element, and a block per button
// when each button is a box of its own; either way it recurs, and goes.
// Tables and preformatted text are single blocks whatever they hold: removing
// a cell would shift the columns after it, and code must not lose lines.
type block struct {
	first, last *html.Node // the block element (first == last), or a run of inline siblings
	tag         string     // the element's name; "" for a run
	sig         string     // what is compared: see signature
}

// blocks returns the blocks of the tree under root that carry text or media,
// in document order.
func blocks(root *html.Node) []block {
	s := scanner{boxes: make(map[*html.Node]bool)}
	markBoxes(root, s.boxes)
	s.collect(root)
	return s.out
}

// scanner finds the blocks of one tree. Its buffers are reused from block
// to block: Learn reads a whole window of articles, and building each
// signature in a fresh buffer was a good part of its cost.
type scanner struct {
	boxes map[*html.Node]bool // see markBoxes
	text  textBuilder
	media []byte
	out   []block
}

// markBoxes records in boxes every element under n (n included) that is a
// block element or holds one, and reports whether n is such an element.
func markBoxes(n *html.Node, boxes map[*html.Node]bool) bool {
	if n.Type != html.ElementNode || isInvisible(n.DataAtom) {
		return false
	}
	box := isBlock(n.DataAtom)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if markBoxes(c, boxes) {
			box = true
		}
	}
	if box {
		boxes[n] = true
	}
	return box
}

// collect appends the blocks among the children of parent to s.out.
func (s *scanner) collect(parent *html.Node) {
	var first, last *html.Node
	flush := func() {
		if first == nil {
			return
		}
		if sig := s.signature(first, last); sig != "" {
			s.out = append(s.out, block{first: first, last: last, sig: sig})
		}
		first, last = nil, nil
	}
	for c := parent.FirstChild; c != nil; c = c.NextSibling {
		if !s.boxes[c] {
			if first == nil {
				first = c
			}
			last = c
			continue
		}
		flush()
		if isAtomic(c.DataAtom) || isBlock(c.DataAtom) && !holdsBox(c, s.boxes) {
			if sig := s.signature(c, c); sig != "" {
				s.out = append(s.out, block{first: c, last: c, tag: c.Data, sig: sig})
			}
			continue
		}
		s.collect(c)
	}
	flush()
}

// holdsBox reports whether a child of n is a box.
func holdsBox(n *html.Node, boxes map[*html.Node]bool) bool {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if boxes[c] {
			return true
		}
	}
	return false
}

// signature is what identifies the block made of the siblings first..last
// across articles: its visible text, whitespace collapsed, case folded and
// years folded, followed by a mark with the URL of each image or media
// element in it (so that a recurring banner image counts as one block, while
// story images differ). It is "" for a block with neither text nor media.
//
// Years are folded ("© 2025 Example News" and "© 2026 Example News" are one
// block) because the year is what changes in otherwise fixed furniture, and
// without folding a credit line would be back in every article for weeks
// each January, until the new year's line recurred often enough. Other
// numbers are kept: a line that recurs with different numbers ("Closed at
// 8,123, up 0.4%") is more likely the story of a templated report than
// furniture.
func (s *scanner) signature(first, last *html.Node) string {
	s.text = textBuilder{b: s.text.b[:0], lower: true}
	s.media = s.media[:0]
	collectText(first, last, &s.text, &s.media)
	if len(s.text.b) == 0 && len(s.media) == 0 {
		return ""
	}
	foldYears(s.text.b)
	if len(s.media) > 0 {
		// A NUL (which the parser drops from text) keeps text that
		// looks like a media mark apart from a media element.
		s.text.b = append(append(s.text.b, 0), s.media...)
	}
	return string(s.text.b)
}

// visibleText returns the visible text of the siblings first..last with
// whitespace collapsed, and the media in them, each as " [tag url]".
func visibleText(first, last *html.Node) (text, media string) {
	var t textBuilder
	var m []byte
	collectText(first, last, &t, &m)
	return string(t.b), string(m)
}

func collectText(first, last *html.Node, t *textBuilder, m *[]byte) {
	for n := first; n != nil; n = n.NextSibling {
		walkText(n, t, m)
		if n == last {
			break
		}
	}
}

func walkText(n *html.Node, t *textBuilder, m *[]byte) {
	switch n.Type {
	case html.TextNode:
		t.WriteString(n.Data)
		return
	case html.ElementNode:
	default:
		return // comments, doctypes
	}
	switch {
	case isInvisible(n.DataAtom):
		return
	case isMedia(n.DataAtom):
		*m = append(*m, " ["...)
		*m = append(*m, n.Data...)
		if src := mediaURL(n); src != "" {
			*m = append(*m, ' ')
			*m = append(*m, src...)
		}
		*m = append(*m, ']')
		return
	case n.DataAtom == atom.Br:
		t.WriteString(" ")
		return
	}
	// Blocks inside a block (the items of a list, the cells of a table)
	// are separated by their layout, not by their text.
	block := isBlock(n.DataAtom)
	if block {
		t.WriteString(" ")
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walkText(c, t, m)
	}
	if block {
		t.WriteString(" ")
	}
}

// mediaURL is the URL that identifies a media element: its own, or that of
// the first element inside it that has one (the img of a picture, the source
// of a video).
func mediaURL(n *html.Node) string {
	if n.Type != html.ElementNode {
		return ""
	}
	for _, name := range [...]string{"src", "srcset", "poster", "data"} {
		for _, a := range n.Attr {
			if a.Namespace == "" && a.Key == name && strings.TrimSpace(a.Val) != "" {
				return strings.TrimSpace(a.Val)
			}
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if u := mediaURL(c); u != "" {
			return u
		}
	}
	return ""
}

// textBuilder collapses whitespace (any Unicode space, no-break spaces
// included) into single spaces as text is written, drops zero-width spaces
// and byte-order marks, which sites sprinkle into otherwise equal text, and
// folds case when lower is set. It is on the hot path of Learn, hence the
// ASCII fast path.
type textBuilder struct {
	b     []byte
	lower bool
	space bool // a space is pending
}

func (t *textBuilder) WriteString(s string) {
	for i := 0; i < len(s); {
		c := s[i]
		if plainByte(c, t.lower) {
			// Copy the run of bytes that need no work at once: printable
			// characters, and single spaces between them.
			j := i + 1
			for j < len(s) {
				if plainByte(s[j], t.lower) {
					j++
				} else if s[j] == ' ' && j+1 < len(s) && plainByte(s[j+1], t.lower) {
					j += 2
				} else {
					break
				}
			}
			t.flushSpace()
			t.b = append(t.b, s[i:j]...)
			i = j
			continue
		}
		if c < utf8.RuneSelf {
			i++
			switch {
			case c == ' ' || '\t' <= c && c <= '\r':
				t.space = len(t.b) > 0
				continue
			case t.lower && 'A' <= c && c <= 'Z':
				c += 'a' - 'A'
			}
			t.flushSpace()
			t.b = append(t.b, c)
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '\u200b' || r == '\ufeff':
		case unicode.IsSpace(r):
			t.space = len(t.b) > 0
		default:
			if t.lower {
				r = unicode.ToLower(r)
			}
			t.flushSpace()
			t.b = utf8.AppendRune(t.b, r)
		}
	}
}

// plainByte reports whether c is copied as it is: printable ASCII, and not
// an upper-case letter when folding case.
func plainByte(c byte, lower bool) bool {
	return ' ' < c && c < utf8.RuneSelf && !(lower && 'A' <= c && c <= 'Z')
}

func (t *textBuilder) flushSpace() {
	if t.space {
		t.b = append(t.b, ' ')
		t.space = false
	}
}

// foldYears replaces, in place, every number from 1900 to 2099 in b that
// stands alone (not part of a longer run of digits) with "yyyy".
func foldYears(b []byte) {
	for i := 0; i < len(b); {
		if !isDigit(b[i]) {
			i++
			continue
		}
		j := i
		for j < len(b) && isDigit(b[j]) {
			j++
		}
		if j-i == 4 && (b[i] == '1' && b[i+1] == '9' || b[i] == '2' && b[i+1] == '0') {
			copy(b[i:j], "yyyy")
		}
		i = j
	}
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// hasContent reports whether n holds visible text or media.
func hasContent(n *html.Node) bool {
	switch n.Type {
	case html.TextNode:
		return strings.TrimFunc(n.Data, isSpaceOrZeroWidth) != ""
	case html.ElementNode:
		if isInvisible(n.DataAtom) {
			return false
		}
		if isMedia(n.DataAtom) {
			return true
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if hasContent(c) {
			return true
		}
	}
	return false
}

// hasText reports whether n holds visible text.
func hasText(n *html.Node) bool {
	switch n.Type {
	case html.TextNode:
		return strings.TrimFunc(n.Data, isSpaceOrZeroWidth) != ""
	case html.ElementNode:
		if isInvisible(n.DataAtom) || isMedia(n.DataAtom) {
			return false
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if hasText(c) {
			return true
		}
	}
	return false
}

func isSpaceOrZeroWidth(r rune) bool { return unicode.IsSpace(r) || r == '\u200b' || r == '\ufeff' }

// isBlock reports whether a is an element that makes a block of its own in
// a browser (the table parts included, should one come without its table).
func isBlock(a atom.Atom) bool {
	switch a {
	case atom.Address, atom.Article, atom.Aside, atom.Blockquote, atom.Caption,
		atom.Center, atom.Dd, atom.Details, atom.Dialog, atom.Dir, atom.Div,
		atom.Dl, atom.Dt, atom.Fieldset, atom.Figcaption, atom.Figure,
		atom.Footer, atom.Form, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5,
		atom.H6, atom.Header, atom.Hgroup, atom.Hr, atom.Legend, atom.Li,
		atom.Listing, atom.Main, atom.Menu, atom.Nav, atom.Ol, atom.P,
		atom.Plaintext, atom.Pre, atom.Section, atom.Summary, atom.Table,
		atom.Tbody, atom.Td, atom.Tfoot, atom.Th, atom.Thead, atom.Tr, atom.Ul,
		atom.Xmp:
		return true
	}
	return false
}

// isAtomic reports whether a is a block element compared and removed as a
// whole.
func isAtomic(a atom.Atom) bool {
	switch a {
	case atom.Table, atom.Pre, atom.Listing, atom.Plaintext, atom.Xmp:
		return true
	}
	return false
}

// isMedia reports whether a is an element that shows something without
// text. What is inside it (sources, fallback text) is its own business.
func isMedia(a atom.Atom) bool {
	switch a {
	case atom.Img, atom.Picture, atom.Video, atom.Audio, atom.Iframe,
		atom.Embed, atom.Object, atom.Svg, atom.Canvas, atom.Math:
		return true
	}
	return false
}

// isInvisible reports whether a is an element whose content is not shown.
func isInvisible(a atom.Atom) bool {
	switch a {
	case atom.Script, atom.Style, atom.Template, atom.Noscript, atom.Noembed,
		atom.Noframes, atom.Title, atom.Head:
		return true
	}
	return false
}

// isHeading reports whether a is a heading, which introduces what follows it.
func isHeading(a atom.Atom) bool {
	switch a {
	case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
		return true
	}
	return false
}

// isList reports whether a is an element a list of links comes in.
func isList(a atom.Atom) bool {
	switch a {
	case atom.Ul, atom.Ol, atom.Dl, atom.Menu, atom.Dir:
		return true
	}
	return false
}
