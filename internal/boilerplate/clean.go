package boilerplate

import (
	"strings"

	"github.com/feedmill/feedmill/internal/normalize"

	"golang.org/x/net/html"
)

// Clean removes the furniture from fragment, a sanitized HTML fragment as
// stored in an item's RawContent or RawSummary, and returns the cleaned
// fragment and what was removed, in document order.
//
// It removes every block that is furniture; with it, the links that come
// right after it, which differ in every article: the lists made only of
// links after any furniture block, and the paragraphs made only of links
// too after a furniture heading ("Read more" over links to other stories);
// and then every element the removals left with neither text nor media (the
// box around a newsletter sign-up).
// It only removes nodes: the rest is rendered as parsed, so the result is as
// well-formed and as sanitized as the input.
//
// Clean returns fragment itself, byte for byte, when there is nothing to
// remove, so that cleaning an item again does not churn it; it returns
// fragment unchanged too when removing would leave no text at all, because
// an item is never emptied (an extraction that is all furniture is better
// shown than lost). Clean is idempotent: cleaning its result removes nothing
// more (for any result that parses back to itself, as all do from sanitized
// input).
func (m *Model) Clean(fragment string) (string, []Removal) {
	out, _, removals := m.CleanKept(fragment, nil)
	return out, removals
}

// CleanKept is Clean of a fragment whose tree trees may hold (see
// LearnKeeping); it also returns the tree of the result when it has one at
// hand (nil otherwise), as normalize.ParseFragment would build it, for the
// caller to read (an excerpt) without parsing the result again. The
// caller must not change that tree.
func (m *Model) CleanKept(fragment string, trees *Trees) (string, *html.Node, []Removal) {
	root, bs := trees.take(fragment)
	if m == nil || len(m.furniture) == 0 || strings.TrimSpace(fragment) == "" {
		return fragment, root, nil
	}
	if root == nil {
		root, bs = normalize.ParseFragment(fragment), nil
	}
	var removals []Removal
	// Removing blocks can join two runs of inline text into one, which can
	// itself be furniture: repeat until nothing is, so that Clean is
	// idempotent. Each round removes at least one node, so this ends. The
	// first round uses the blocks Learn read, when it read this tree.
	for m.removeRound(root, bs, &removals) {
		bs = nil
	}
	if len(removals) == 0 {
		return fragment, root, nil
	}
	if !hasText(root) {
		return fragment, nil, nil
	}
	var b strings.Builder
	b.Grow(len(fragment))
	for c := root.FirstChild; c != nil; c = c.NextSibling {
		if err := html.Render(&b, c); err != nil {
			// Render only fails on trees the parser does not build; an
			// unchanged item is the safe answer should it ever happen.
			return fragment, nil, nil
		}
	}
	return b.String(), root, removals
}

// removeRound removes the furniture blocks found under root and what goes
// with them, appends what it removed to removals, and reports whether it
// removed anything. bs are root's blocks when known (nil: read them).
func (m *Model) removeRound(root *html.Node, bs []block, removals *[]Removal) bool {
	if bs == nil {
		bs = blocks(root)
	}
	var furniture []block
	for _, b := range bs {
		if _, ok := m.furniture[b.sig]; ok {
			furniture = append(furniture, b)
		}
	}
	if len(furniture) == 0 {
		return false
	}

	doomed := make(map[*html.Node]bool)
	var order []*html.Node // doomed, in document order of their blocks
	doom := func(n *html.Node) {
		if !doomed[n] {
			doomed[n] = true
			order = append(order, n)
		}
	}
	for _, b := range furniture {
		seen := m.furniture[b.sig]
		text := displayText(b.first, b.last)
		*removals = append(*removals, Removal{Tag: b.tag, Text: text, Seen: seen, Of: m.articles})
		for n := b.first; n != nil; n = n.NextSibling {
			doom(n)
			if n == b.last {
				break
			}
		}
		// A heading takes the links that follow it, as lists or as link
		// paragraphs; any other block only the lists. After a list, only
		// more lists: a link paragraph after the list is the story again.
		heading := b.tag != "" && isHeading(b.first.DataAtom)
		for s := nextSignificant(b.last); s != nil; s = nextSignificant(s) {
			if doomed[s] {
				break
			}
			if s.Type != html.ElementNode || !(heading || isList(s.DataAtom)) || !linkOnly(s) {
				break
			}
			doom(s)
			if isList(s.DataAtom) {
				heading = false
			}
			*removals = append(*removals, Removal{
				Tag: s.Data, Text: displayText(s, s), Seen: seen, Of: m.articles, Under: text,
			})
		}
	}

	var touched []*html.Node
	for _, n := range order {
		if p := n.Parent; p != nil {
			detach(n)
			touched = append(touched, p)
		}
	}
	// Prune the elements the removals emptied, innermost first, up to (not
	// including) the root. Elements that were empty before are left alone.
	// An element found with content keeps it (pruning removes only empty
	// ones), so each is looked into once: the work stays linear.
	kept := make(map[*html.Node]bool)
	for _, p := range touched {
		for p != nil && p != root && p.Parent != nil && !kept[p] {
			if hasContent(p) {
				kept[p] = true
				break
			}
			parent := p.Parent
			detach(p)
			p = parent
		}
	}
	return true
}

// detach removes n from its parent, with the whitespace-only text that only
// separated it from what came before (or, for a first child, from what
// comes after).
func detach(n *html.Node) {
	if prev := n.PrevSibling; prev == nil {
		if next := n.NextSibling; isBlank(next) {
			n.Parent.RemoveChild(next)
		}
	} else if isBlank(prev) {
		n.Parent.RemoveChild(prev)
	}
	n.Parent.RemoveChild(n)
}

// isBlank reports whether n is a text node of whitespace only.
func isBlank(n *html.Node) bool {
	return n != nil && n.Type == html.TextNode && strings.TrimFunc(n.Data, isSpaceOrZeroWidth) == ""
}

// nextSignificant returns the sibling after n, skipping comments and
// whitespace-only text.
func nextSignificant(n *html.Node) *html.Node {
	for s := n.NextSibling; s != nil; s = s.NextSibling {
		switch s.Type {
		case html.CommentNode:
			continue
		case html.TextNode:
			if isBlank(s) {
				continue
			}
		}
		return s
	}
	return nil
}

// linkOnly reports whether all there is to see in n is inside links: some
// link text, and no text or media outside a link.
func linkOnly(n *html.Node) bool {
	links, other := linkContent(n, false)
	return links && !other
}

// linkContent reports whether n shows text inside a link, and whether it
// shows text or media outside one.
func linkContent(n *html.Node, inLink bool) (links, other bool) {
	switch n.Type {
	case html.TextNode:
		if strings.TrimFunc(n.Data, isSpaceOrZeroWidth) == "" {
			return false, false
		}
		return inLink, !inLink
	case html.ElementNode:
		switch {
		case isInvisible(n.DataAtom):
			return false, false
		case isMedia(n.DataAtom):
			return false, !inLink
		case n.Data == "a":
			inLink = true
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		l, o := linkContent(c, inLink)
		links = links || l
		if o {
			return links, true
		}
	}
	return links, false
}

// displayText is the text of the siblings first..last as a Removal shows it;
// for a block without text, its first image or media element.
func displayText(first, last *html.Node) string {
	text, media := visibleText(first, last)
	if text != "" {
		return shorten(text, 80)
	}
	media, _, _ = strings.Cut(strings.TrimPrefix(media, " "), "] [")
	media = strings.TrimSuffix(strings.TrimPrefix(media, "["), "]")
	return "[" + shorten(media, 78) + "]"
}
