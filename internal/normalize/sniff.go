package normalize

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

// feedKind is the format a body's root says it has.
type feedKind int

const (
	kindUnknown   feedKind = iota
	kindRSS                // <rss> or <rdf:RDF>
	kindAtom               // <feed>
	kindJSON               // a JSON object
	kindAtomEntry          // <entry>: an Atom Entry Document (RFC 4287 §4.1.2)
)

func (k feedKind) String() string {
	switch k {
	case kindRSS:
		return "rss"
	case kindAtom:
		return "atom"
	case kindJSON:
		return "json"
	case kindAtomEntry:
		return "atom entry"
	}
	return "unknown"
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// sniff finds the root of body past any preamble gofeed's 4 KB detection
// window cannot see through: a byte order mark, whitespace, the XML
// declaration, processing instructions, comments and a doctype (with its
// internal subset). It returns the root's kind and the offset in body of
// the root's '<' (or of the JSON object's '{'); -1 with kindUnknown. It
// reads the whole body but only up to the root, and never fails: an
// unterminated construct just gives kindUnknown.
func sniff(body []byte) (feedKind, int) {
	b := bytes.TrimPrefix(body, utf8BOM)
	for {
		b = bytes.TrimLeft(b, " \t\r\n")
		switch {
		case len(b) == 0:
			return kindUnknown, -1
		case b[0] == '{':
			return kindJSON, len(body) - len(b)
		case bytes.HasPrefix(b, []byte("<?")):
			b = after(b, "?>")
		case bytes.HasPrefix(b, []byte("<!--")):
			b = after(b[4:], "-->")
		case len(b) >= 9 && strings.EqualFold(string(b[:9]), "<!DOCTYPE"):
			b = afterDoctype(b[9:])
		case b[0] == '<':
			if k := rootKind(b[1:]); k != kindUnknown {
				return k, len(body) - len(b)
			}
			return kindUnknown, -1
		default:
			return kindUnknown, -1
		}
		if b == nil {
			return kindUnknown, -1
		}
	}
}

// atomFeedStart and atomFeedEnd wrap an Atom Entry Document into a feed.
const (
	atomFeedStart = `<feed xmlns="http://www.w3.org/2005/Atom">`
	atomFeedEnd   = `</feed>`
)

// wrapEntry makes the Atom Entry Document body, whose root <entry> starts at
// offset root, an Atom feed holding that one entry: gofeed reads only feed
// documents, while feedparser and readers read an entry document as a feed
// of one entry. The preamble (declaration, doctype) stays before the new
// root; the entry keeps its own namespace declarations, so an entry with a
// prefix ("atom:entry") still reads as Atom.
func wrapEntry(body []byte, root int) []byte {
	out := make([]byte, 0, len(body)+len(atomFeedStart)+len(atomFeedEnd))
	out = append(out, body[:root]...)
	out = append(out, atomFeedStart...)
	out = append(out, body[root:]...)
	return append(out, atomFeedEnd...)
}

// after returns what follows the first end in b, or nil if there is none.
func after(b []byte, end string) []byte {
	i := bytes.Index(b, []byte(end))
	if i < 0 {
		return nil
	}
	return b[i+len(end):]
}

// afterDoctype returns what follows the doctype whose body starts b: the
// first '>' outside quotes and outside the internal subset's brackets.
func afterDoctype(b []byte) []byte {
	var quote byte
	depth := 0
	for i, c := range b {
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '[':
			depth++
		case c == ']':
			depth--
		case c == '>' && depth <= 0:
			return b[i+1:]
		}
	}
	return nil
}

// rootKind maps the root element's name (b starts just after its '<') to a
// feed kind, ignoring any namespace prefix and case as gofeed does.
func rootKind(b []byte) feedKind {
	end := bytes.IndexAny(b, " \t\r\n/>")
	if end < 0 {
		end = len(b)
	}
	name := string(b[:end])
	if i := strings.LastIndexByte(name, ':'); i >= 0 {
		name = name[i+1:]
	}
	switch strings.ToLower(name) {
	case "rss", "rdf":
		return kindRSS
	case "feed":
		return kindAtom
	case "entry":
		return kindAtomEntry
	}
	return kindUnknown
}

// xmlDeclEncoding matches the encoding pseudo-attribute of an XML
// declaration at the very start of a body (after an optional BOM).
var xmlDeclEncoding = regexp.MustCompile(`^(\xEF\xBB\xBF)?\s*<\?xml\s[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']`)

// fixDeclaredEncoding makes the XML declaration agree with the bytes. The
// body reaches us as UTF-8 (internal/fetch converts it), but a converted
// body may still declare its original charset, and gofeed obeys the
// declaration: it would decode the UTF-8 bytes as, say, ISO-8859-1 a second
// time and garble every non-ASCII letter. So when the body is valid UTF-8
// and declares anything else, the declaration is rewritten to UTF-8. A body
// that is not valid UTF-8 keeps its declaration, which is then its best
// description: real text in a legacy 8-bit charset is almost never valid
// UTF-8 by accident.
func fixDeclaredEncoding(body []byte) []byte {
	m := xmlDeclEncoding.FindSubmatchIndex(body)
	if m == nil {
		return body
	}
	enc := strings.ToLower(string(body[m[4]:m[5]]))
	if enc == "utf-8" || enc == "utf8" || !utf8.Valid(body) {
		return body
	}
	fixed := make([]byte, 0, len(body)+5)
	fixed = append(fixed, body[:m[4]]...)
	fixed = append(fixed, "UTF-8"...)
	return append(fixed, body[m[5]:]...)
}

// checkJSONFeed returns an error when body is a JSON document but no JSON
// Feed (its "version" is not a jsonfeed.org URL): read as a feed it would
// be one without items. Bodies that are not JSON are left to the feed
// parsers.
func checkJSONFeed(body []byte) error {
	b := bytes.TrimLeft(bytes.TrimPrefix(body, utf8BOM), " \t\r\n")
	if len(b) == 0 || (b[0] != '{' && b[0] != '[') || !gjson.ValidBytes(b) {
		return nil
	}
	v := gjson.GetBytes(b, "version").String()
	if strings.HasPrefix(v, "https://jsonfeed.org/version/") || strings.HasPrefix(v, "http://jsonfeed.org/version/") {
		return nil
	}
	return errors.New(`a JSON document that is no JSON Feed (its "version" is not https://jsonfeed.org/version/...): give the source items: rules (gjson paths) to read it`)
}
