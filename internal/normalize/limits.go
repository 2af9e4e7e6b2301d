package normalize

import (
	"bytes"
	"errors"
	"fmt"
)

// Limits on the shape of a feed, checked before gofeed builds anything.
// gofeed turns every element into structs and maps several hundred bytes
// large (an empty <item> costs about 1.5 KB by the time it is a feed.Item),
// so what a body may hold, rather than its size alone, bounds the memory one
// Normalize needs: at worst a few hundred MiB, whatever the body cap. No real
// feed comes near them: a 10,000-item feed has some 20 elements per item.
const (
	// MaxDepth is how deeply elements (XML) or objects and arrays (JSON)
	// may nest. Every parser on the way recurses or keeps a stack per level,
	// and x/net/html gives up on HTML nested deeper than 512 anyway.
	MaxDepth = 512
	// MaxElements is how many elements (XML) or objects and arrays (JSON)
	// a feed may hold.
	MaxElements = 1_000_000
	// MaxItems is how many items or entries a feed may hold.
	MaxItems = 100_000
)

// Caps on what one item (and a feed's title) may carry once normalized,
// whatever the feed sent: a 5 MiB title or a 100 KB id would otherwise be
// stored, published in every feed and page that shows the item, and, as an
// id, fail to fit a PostgreSQL index. No real item comes near them. What
// is cut is logged once per source and refresh (bound), and the caps are
// documented in docs/how-it-works.md ("Field caps"). All are in bytes
// of UTF-8 unless they say otherwise; text is cut at a character
// boundary, never inside one.
const (
	// MaxTitleBytes caps an item's and a feed's title: some 300 words,
	// ten times any headline. A longer title is cut and ends with "…".
	MaxTitleBytes = 2 << 10
	// MaxAuthorBytes caps each author's name (arXiv puts a paper's whole
	// author list in one name), and MaxAuthors how many authors an item
	// keeps. Names are cut with "…"; an email address longer than
	// MaxEmailBytes (RFC 5321's limit) is no address and is dropped.
	MaxAuthorBytes = 512
	MaxAuthors     = 64
	MaxEmailBytes  = 254
	// MaxCategoryBytes caps each category (cut with "…"), and
	// MaxCategories how many an item keeps, the first ones.
	MaxCategoryBytes = 256
	MaxCategories    = 64
	// MaxIDBytes caps an item's id. A longer id keeps its first bytes and
	// ends with "~sha256:" and a hash of the whole id (capID): the same
	// id gives the same capped id on every refresh, and two long ids that
	// differ only past the cap stay two items. PostgreSQL cannot index a
	// key much longer than 2.7 KB.
	MaxIDBytes = 2 << 10
	// MaxLinkBytes caps every URL of an item: its link, canonical link,
	// authors' URIs, enclosures and image. A longer URL is dropped, not cut: a
	// cut URL is a wrong URL (another page, a 404), and no common web
	// server accepts a request line over 8 KiB, so the URL could not be
	// followed anyway.
	MaxLinkBytes = 8 << 10
	// MaxContentBytes caps an item's summary and content, each as
	// sanitized HTML: a long book chapter is 200 KB. Longer HTML is cut
	// between elements or inside a text (ended with "…"), and stays well
	// formed (capHTML).
	MaxContentBytes = 512 << 10
	// MaxHTMLDepth is how deeply elements may nest in a summary or
	// content. Deeper elements are unwrapped: their tags go, their text
	// and images stay (flattenDepth). Articles nest a few dozen levels at
	// most, and libxml2, which many readers build on, refuses documents
	// nested more than 256 levels deep by default, counting the page the
	// reader puts around the item.
	MaxHTMLDepth = 64
)

// ErrTooComplex reports a body beyond MaxDepth, MaxElements or MaxItems.
var ErrTooComplex = errors.New("feed too complex")

// checkShape scans body, without parsing it, for the limits above. A body
// that is malformed in a way the scan cannot follow (an unterminated
// comment, say) passes: the parser then reports the problem.
func checkShape(body []byte) error {
	if looksJSON(body) {
		return checkJSONShape(bytes.TrimLeft(bytes.TrimPrefix(body, utf8BOM), " \t\r\n"))
	}
	return checkXMLShape(body)
}

// looksJSON reports whether body is JSON rather than XML (or HTML): whether
// it starts with '{' or '[' after a byte order mark and whitespace.
func looksJSON(body []byte) bool {
	b := bytes.TrimLeft(bytes.TrimPrefix(body, utf8BOM), " \t\r\n")
	return len(b) > 0 && (b[0] == '{' || b[0] == '[')
}

func tooComplex(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrTooComplex, fmt.Sprintf(format, args...))
}

// voidElements are HTML elements that never have content. Sloppy feeds put
// raw HTML in their descriptions, and the lenient XML parser gofeed uses
// keeps such an unclosed <br> open until its parent closes: counted as
// nesting, a description with a thousand line breaks would look a thousand
// levels deep.
var voidElements = map[string]bool{
	"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true, "img": true,
	"input": true, "link": true, "meta": true, "param": true, "source": true, "track": true, "wbr": true,
}

// checkXMLShape counts the start tags of body and how deeply they nest.
func checkXMLShape(body []byte) error {
	depth, elements, items := 0, 0, 0
	for i := 0; ; {
		j := bytes.IndexByte(body[i:], '<')
		if j < 0 {
			return nil
		}
		i += j + 1
		rest := body[i:]
		switch {
		case bytes.HasPrefix(rest, []byte("!--")):
			if rest = after(rest[3:], "-->"); rest == nil {
				return nil
			}
		case bytes.HasPrefix(rest, []byte("![CDATA[")):
			if rest = after(rest[8:], "]]>"); rest == nil {
				return nil
			}
		case bytes.HasPrefix(rest, []byte("!")):
			if rest = afterDoctype(rest[1:]); rest == nil {
				return nil
			}
		case bytes.HasPrefix(rest, []byte("?")):
			if rest = after(rest[1:], "?>"); rest == nil {
				return nil
			}
		case bytes.HasPrefix(rest, []byte("/")):
			if depth > 0 {
				depth--
			}
			if rest = after(rest, ">"); rest == nil {
				return nil
			}
		case len(rest) > 0 && isNameStart(rest[0]):
			name, selfClosing, next := startTag(rest)
			if next == nil {
				return nil
			}
			rest = next
			elements++
			if elements > MaxElements {
				return tooComplex("more than %d elements", MaxElements)
			}
			local := name
			if k := bytes.LastIndexByte(local, ':'); k >= 0 {
				local = local[k+1:]
			}
			if string(local) == "item" || string(local) == "entry" {
				if items++; items > MaxItems {
					return tooComplex("more than %d items", MaxItems)
				}
			}
			if selfClosing || voidElements[string(bytes.ToLower(name))] {
				continue
			}
			if depth++; depth > MaxDepth {
				return tooComplex("elements nested more than %d deep", MaxDepth)
			}
		default:
			continue // a stray '<' in text, which the parser will judge
		}
		i = len(body) - len(rest)
	}
}

// isNameStart reports whether c can start an XML name (any byte of a
// multi-byte letter counts).
func isNameStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == ':' || c >= 0x80
}

// startTag reads the start tag whose name begins b: its name, whether it
// closes itself ("/>"), and what follows its '>' (nil when it never ends).
// A '>' inside a quoted attribute value does not end it.
func startTag(b []byte) (name []byte, selfClosing bool, rest []byte) {
	end := bytes.IndexAny(b, " \t\r\n/>")
	if end < 0 {
		return nil, false, nil
	}
	name = b[:end]
	var quote byte
	for k := end; k < len(b); k++ {
		c := b[k]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return name, k > 0 && b[k-1] == '/', b[k+1:]
		}
	}
	return name, false, nil
}

// checkJSONShape counts the objects and arrays of body, the items (objects
// in an array in the top-level object: a few authors and hubs count too),
// and how deeply they nest, skipping strings.
func checkJSONShape(body []byte) error {
	var open [2]byte // the kinds of the two outermost open containers
	depth, containers, items := 0, 0, 0
	inString, escaped := false, false
	for _, c := range body {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			if containers++; containers > MaxElements {
				return tooComplex("more than %d objects and arrays", MaxElements)
			}
			if c == '{' && depth == 2 && open == [2]byte{'{', '['} {
				if items++; items > MaxItems {
					return tooComplex("more than %d items", MaxItems)
				}
			}
			if depth < len(open) {
				open[depth] = c
			}
			if depth++; depth > MaxDepth {
				return tooComplex("objects and arrays nested more than %d deep", MaxDepth)
			}
		case c == '}' || c == ']':
			if depth > 0 {
				depth--
			}
		}
	}
	return nil
}
