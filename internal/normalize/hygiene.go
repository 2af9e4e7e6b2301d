package normalize

import (
	"bytes"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	nethtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// The hygiene of sanitizeHTML: what pages and feeds carry for browsers with
// scripts, analytics and a layout, and what a feed reader needs instead.

// Attributes in which lazy-loading scripts keep an image's real URL until
// it scrolls into view, most common first.
var (
	lazySrcAttrs    = []string{"data-src", "data-lazy-src", "data-original", "data-lazy", "data-lazyload", "data-echo", "data-actualsrc"}
	lazySrcsetAttrs = []string{"data-srcset", "data-lazy-srcset", "data-original-set"}
)

// unlazy makes the lazy-loaded images, sources and iframes under root real,
// as the page's script would: a URL in a lazy attribute (data-src and the
// like) replaces src, whatever src held (a data: URI, a blank GIF, a
// blurred preview), and data-srcset replaces srcset. A srcset that is a
// data: URI goes.
//
// A <noscript> holding an image is the fallback of the image before it:
// when that image is (or holds exactly one image) and has a real URL after
// unlazying, the fallback is dropped, else the fallback takes its place;
// without an image before it, the fallback is unwrapped. A <noscript>
// without an image ("please enable JavaScript") is dropped. withNoscript
// false drops every <noscript>: it is how nested ones are handled, so that
// unwrapping happens once.
func unlazy(root *nethtml.Node, withNoscript bool) {
	for c := root.FirstChild; c != nil; {
		next := c.NextSibling
		if c.Type != nethtml.ElementNode {
			c = next
			continue
		}
		switch c.DataAtom {
		case atom.Img, atom.Source:
			unlazyImage(c)
		case atom.Iframe:
			if src := getAttr(c, "src"); src == "" || src == "about:blank" {
				if lazy := firstAttr(c, lazySrcAttrs); lazy != "" {
					setAttr(c, "src", lazy)
				}
			}
		case atom.Noscript:
			if withNoscript {
				useNoscript(root, c)
			} else {
				root.RemoveChild(c)
			}
			c = next
			continue
		}
		unlazy(c, withNoscript)
		c = next
	}
}

// unlazyImage does unlazy's work on one <img> or <source>. An image whose
// src remains a placeholder file loses that src: it would show a grey box
// or nothing.
func unlazyImage(e *nethtml.Node) {
	if lazy := firstAttr(e, lazySrcAttrs); lazy != "" && !isDataURI(lazy) {
		setAttr(e, "src", lazy)
	} else if isPlaceholder(getAttr(e, "src")) {
		removeAttr(e, "src")
	}
	if lazy := firstAttr(e, lazySrcsetAttrs); lazy != "" && !isDataURI(lazy) {
		setAttr(e, "srcset", lazy)
	} else if isDataURI(getAttr(e, "srcset")) {
		removeAttr(e, "srcset")
	}
}

// useNoscript handles the <noscript> ns, a child of parent (see unlazy).
func useNoscript(parent, ns *nethtml.Node) {
	// With scripting on, as x/net/html parses, a <noscript>'s content is
	// raw text: parse it as the markup it is.
	var text strings.Builder
	for c := ns.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == nethtml.TextNode {
			text.WriteString(c.Data)
		}
	}
	fallback := ParseFragment(text.String())
	unlazy(fallback, false)
	if len(findAll(fallback, atom.Img)) == 0 {
		parent.RemoveChild(ns)
		return
	}
	prev := ns.PrevSibling
	for prev != nil && prev.Type == nethtml.TextNode && strings.TrimSpace(prev.Data) == "" {
		prev = prev.PrevSibling
	}
	// Where the fallback goes: in place of a placeholder image before it,
	// else in place of the <noscript>.
	at := ns
	if prev != nil && prev.Type == nethtml.ElementNode {
		imgs := findAll(prev, atom.Img)
		if prev.DataAtom == atom.Img {
			imgs = []*nethtml.Node{prev}
		}
		if len(imgs) == 1 {
			if hasRealImage(imgs[0]) {
				parent.RemoveChild(ns) // the script version is complete
				return
			}
			at = imgs[0]
		}
	}
	for fallback.FirstChild != nil {
		c := fallback.FirstChild
		fallback.RemoveChild(c)
		at.Parent.InsertBefore(c, at)
	}
	if at != ns {
		at.Parent.RemoveChild(at)
	}
	parent.RemoveChild(ns)
}

// hasRealImage reports whether img has a src or srcset that is neither
// empty nor a data: URI nor a known placeholder file.
func hasRealImage(img *nethtml.Node) bool {
	if s := getAttr(img, "srcset"); strings.TrimSpace(s) != "" && !isDataURI(s) {
		return true
	}
	s := strings.TrimSpace(getAttr(img, "src"))
	return s != "" && !isDataURI(s) && !isPlaceholder(s)
}

// isPlaceholder reports whether an image URL names one of the stand-in
// files lazy loaders show until the real image comes.
func isPlaceholder(src string) bool {
	u, err := url.Parse(strings.TrimSpace(src))
	if err != nil || u.Path == "" {
		return false
	}
	name := strings.ToLower(u.Path[strings.LastIndexByte(u.Path, '/')+1:])
	stem, _, _ := strings.Cut(name, ".")
	switch stem {
	case "blank", "spacer", "pixel", "transparent", "placeholder", "lazy", "lazyload", "loading", "1x1":
		return true
	}
	return strings.Contains(u.Path, "/placeholder")
}

func isDataURI(s string) bool {
	return len(strings.TrimSpace(s)) >= 5 && strings.EqualFold(strings.TrimSpace(s)[:5], "data:")
}

// beaconHosts serve nothing but counters; beaconHostSuffixes name whole
// domains of them; beaconPrefixes are host and path prefixes of counters
// on hosts that serve other things too (feed redirectors, share links).
var (
	beaconHosts = map[string]bool{
		"pixel.wp.com": true, "stats.wordpress.com": true,
		"pixel.mathtag.com": true, "bat.bing.com": true,
		"pixel.facebook.com": true, "analytics.twitter.com": true,
		"pixel.tapad.com": true, "tr.snapchat.com": true,
		"ct.pinterest.com": true, "px.ads.linkedin.com": true,
		"mc.yandex.ru": true, "counter.yadro.ru": true, "top-fwz1.mail.ru": true,
	}
	beaconHostSuffixes = []string{
		"google-analytics.com", "doubleclick.net", "feedsportal.com",
		"scorecardresearch.com", "quantserve.com",
	}
	beaconPrefixes = []string{
		"feeds.feedburner.com/~r/", "feeds.feedburner.com/~ff/",
		"feedproxy.google.com/~r/", "feedproxy.google.com/~ff/",
		"feeds.feedblitz.com/~/i/", "feeds.wordpress.com/1.0/",
		"www.facebook.com/tr",
	}
)

// isPixel reports whether e is an image that is only there to count
// readers: one pixel or less in both dimensions (or zero in one), hidden
// by its style, or served by a counter (see beaconHosts) or from a path
// named "pixel".
func isPixel(e *nethtml.Node) bool {
	if e.DataAtom != atom.Img {
		return false
	}
	w, wok := dimension(getAttr(e, "width"))
	h, hok := dimension(getAttr(e, "height"))
	if (wok && hok && w <= 1 && h <= 1) || (wok && w == 0) || (hok && h == 0) {
		return true
	}
	style := strings.ToLower(strings.Join(strings.Fields(getAttr(e, "style")), ""))
	if strings.Contains(style, "display:none") || strings.Contains(style, "visibility:hidden") {
		return true
	}
	u, err := url.Parse(getAttr(e, "src"))
	if err != nil || u.Host == "" {
		return false
	}
	host := strings.ToLower(u.Hostname())
	if beaconHosts[host] || strings.HasPrefix(host, "mf.feeds.") {
		return true
	}
	for _, s := range beaconHostSuffixes {
		if host == s || strings.HasSuffix(host, "."+s) {
			return true
		}
	}
	hostPath := host + u.EscapedPath()
	for _, p := range beaconPrefixes {
		if strings.HasPrefix(hostPath, p) {
			return true
		}
	}
	for seg := range strings.SplitSeq(strings.ToLower(u.Path), "/") {
		if seg == "pixel" || strings.HasPrefix(seg, "pixel.") {
			return true
		}
	}
	return false
}

// dimension parses a width or height attribute ("1", "1px", " 0 ").
func dimension(s string) (int, bool) {
	s = strings.TrimSuffix(strings.TrimSpace(strings.ToLower(s)), "px")
	v, err := strconv.Atoi(strings.TrimSpace(s))
	return v, err == nil
}

// fixIframe reports whether e may stay: any element but an iframe, or an
// iframe playing a YouTube or Vimeo video, whose URL it makes canonical
// (https, the www host the policy admits) and whose fallback content it
// drops. Its src has been resolved already.
func fixIframe(e *nethtml.Node) bool {
	if e.DataAtom != atom.Iframe {
		return true
	}
	u, err := url.Parse(getAttr(e, "src"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	host := strings.ToLower(u.Hostname())
	switch {
	case (host == "www.youtube.com" || host == "youtube.com" || host == "m.youtube.com") && strings.HasPrefix(u.Path, "/embed/"):
		u.Host = "www.youtube.com"
	case (host == "www.youtube-nocookie.com" || host == "youtube-nocookie.com") && strings.HasPrefix(u.Path, "/embed/"):
		u.Host = "www.youtube-nocookie.com"
	case host == "player.vimeo.com" && strings.HasPrefix(u.Path, "/video/"):
		u.Host = "player.vimeo.com"
	default:
		return false
	}
	u.Scheme, u.User = "https", nil
	setAttr(e, "src", u.String())
	for e.FirstChild != nil {
		e.RemoveChild(e.FirstChild)
	}
	return true
}

// tidyTree reads sanitized HTML as a tree (parseSanitized), removes the
// elements left empty and collapses whitespace (see pruneEmpty and
// collapseSpace). It returns nil for blank HTML.
func tidyTree(sanitized []byte) *nethtml.Node {
	if len(bytes.TrimSpace(sanitized)) == 0 {
		return nil
	}
	return tidy(parseSanitized(sanitized))
}

// tidy is tidyTree of root, a tree of sanitized HTML.
func tidy(root *nethtml.Node) *nethtml.Node {
	pruneEmpty(root)
	collapseSpace(root, false)
	trimSpace(root, true)
	return root
}

// prunable elements are removed when they hold neither text nor media:
// they are layout leftovers (spacer paragraphs, emptied link wrappers of
// tracking pixels, ad slots) that readers render as blank space. Table
// cells are not among them: an empty cell keeps a table's columns.
var prunable = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Span: true, atom.A: true,
	atom.Section: true, atom.Article: true, atom.Aside: true,
	atom.Header: true, atom.Footer: true, atom.Main: true, atom.Hgroup: true,
	atom.Figure: true, atom.Figcaption: true, atom.Blockquote: true,
	atom.Ul: true, atom.Ol: true, atom.Li: true, atom.Dl: true, atom.Dd: true, atom.Dt: true,
	atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true,
	atom.B: true, atom.I: true, atom.Em: true, atom.Strong: true, atom.U: true,
	atom.S: true, atom.Small: true, atom.Sub: true, atom.Sup: true, atom.Mark: true,
	atom.Cite: true, atom.Q: true, atom.Abbr: true,
}

// media elements show something without text.
var media = map[atom.Atom]bool{
	atom.Img: true, atom.Picture: true, atom.Video: true, atom.Audio: true,
	atom.Iframe: true, atom.Hr: true,
}

// pruneEmpty removes, bottom up, the prunable descendants of n that hold no
// text (whitespace, no-break and zero-width spaces do not count) and no
// media, only line breaks at most. It reports whether n itself holds
// anything.
func pruneEmpty(n *nethtml.Node) bool {
	full := false
	for c := n.FirstChild; c != nil; {
		next := c.NextSibling
		switch c.Type {
		case nethtml.TextNode:
			if strings.TrimFunc(c.Data, isBlank) != "" {
				full = true
			}
		case nethtml.ElementNode:
			switch {
			case media[c.DataAtom]:
				full = true
			case pruneEmpty(c):
				full = true
			case prunable[c.DataAtom]:
				n.RemoveChild(c)
			case c.DataAtom != atom.Br && c.DataAtom != atom.Wbr:
				full = true // a table cell, a pre: kept, and it counts
			}
		}
		c = next
	}
	return full
}

func isBlank(r rune) bool { return unicode.IsSpace(r) || r == '\u200b' || r == '\ufeff' }

// blocks are the elements whose edges swallow the whitespace next to them
// when a browser lays them out; br counts, since a line starting with a
// space shows none.
var blocks = map[atom.Atom]bool{
	atom.Address: true, atom.Article: true, atom.Aside: true, atom.Blockquote: true,
	atom.Details: true, atom.Dd: true, atom.Div: true, atom.Dl: true, atom.Dt: true,
	atom.Figcaption: true, atom.Figure: true, atom.Footer: true, atom.Header: true,
	atom.Hgroup: true, atom.Hr: true, atom.Li: true, atom.Main: true, atom.Ol: true,
	atom.P: true, atom.Pre: true, atom.Section: true, atom.Summary: true,
	atom.Table: true, atom.Tbody: true, atom.Thead: true, atom.Tfoot: true,
	atom.Tr: true, atom.Td: true, atom.Th: true, atom.Caption: true, atom.Ul: true,
	atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true,
	atom.Br: true,
}

// collapseSpace replaces every run of ASCII whitespace in text outside
// <pre> with one space. No-break spaces are the author's and stay. Text
// nodes made neighbours by pruneEmpty are merged first, so that their
// spaces collapse together.
func collapseSpace(n *nethtml.Node, inPre bool) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		switch c.Type {
		case nethtml.TextNode:
			for next := c.NextSibling; next != nil && next.Type == nethtml.TextNode; next = c.NextSibling {
				c.Data += next.Data
				n.RemoveChild(next)
			}
			if !inPre {
				c.Data = collapseRuns(c.Data)
			}
		case nethtml.ElementNode:
			collapseSpace(c, inPre || c.DataAtom == atom.Pre || c.DataAtom == atom.Textarea)
		}
	}
}

func collapseRuns(s string) string {
	if !hasRun(s) && utf8.ValidString(s) {
		return s // as the loop below would write it
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' {
			if !space {
				b.WriteByte(' ')
			}
			space = true
			continue
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// trimSpace removes the collapsed spaces a browser would not show: those
// next to a block's edge (at the start or end of a block, beside a block
// sibling). Inside an inline element only block siblings count, since the
// element's own edges may sit between two words. <pre> is left alone.
func trimSpace(n *nethtml.Node, block bool) {
	for c := n.FirstChild; c != nil; {
		next := c.NextSibling
		switch c.Type {
		case nethtml.TextNode:
			prev := c.PrevSibling
			atStart := isBlockNode(prev) || (block && prev == nil)
			atEnd := isBlockNode(next) || (block && next == nil)
			if atStart {
				c.Data = strings.TrimLeft(c.Data, " ")
			}
			if atEnd {
				c.Data = strings.TrimRight(c.Data, " ")
			}
			if c.Data == "" {
				n.RemoveChild(c)
			}
		case nethtml.ElementNode:
			if c.DataAtom != atom.Pre && c.DataAtom != atom.Textarea {
				trimSpace(c, blocks[c.DataAtom])
			}
		}
		c = next
	}
}

// hasRun reports whether collapseRuns would change s: whether it holds
// whitespace other than single spaces.
func hasRun(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\t', '\n', '\r', '\f':
			return true
		case ' ':
			if i+1 < len(s) && (s[i+1] == ' ' || s[i+1] == '\t' || s[i+1] == '\n' || s[i+1] == '\r' || s[i+1] == '\f') {
				return true
			}
		}
	}
	return false
}

func isBlockNode(n *nethtml.Node) bool {
	return n != nil && n.Type == nethtml.ElementNode && blocks[n.DataAtom]
}

// textContent returns the text of n's descendants, as the DOM property of
// that name does.
func textContent(n *nethtml.Node) string {
	var b strings.Builder
	var walk func(*nethtml.Node)
	walk = func(n *nethtml.Node) {
		if n.Type == nethtml.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// findAll returns the descendants of n of the given kind, in document
// order.
func findAll(n *nethtml.Node, a atom.Atom) []*nethtml.Node {
	var out []*nethtml.Node
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == nethtml.ElementNode && c.DataAtom == a {
			out = append(out, c)
		}
		out = append(out, findAll(c, a)...)
	}
	return out
}

func getAttr(n *nethtml.Node, key string) string {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val
		}
	}
	return ""
}

// firstAttr returns the first non-blank value among the attributes keys.
func firstAttr(n *nethtml.Node, keys []string) string {
	for _, k := range keys {
		if v := strings.TrimSpace(getAttr(n, k)); v != "" {
			return v
		}
	}
	return ""
}

func setAttr(n *nethtml.Node, key, val string) {
	for i, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			n.Attr[i].Val = val
			return
		}
	}
	n.Attr = append(n.Attr, nethtml.Attribute{Key: key, Val: val})
}

func removeAttr(n *nethtml.Node, key string) {
	kept := n.Attr[:0]
	for _, a := range n.Attr {
		if a.Namespace != "" || a.Key != key {
			kept = append(kept, a)
		}
	}
	n.Attr = kept
}
