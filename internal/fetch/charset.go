package fetch

import (
	"bytes"
	"mime"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/unicode/utf32"
)

// encodingSource says which rule decided a body's encoding.
type encodingSource string

const (
	fromBOM     encodingSource = "bom"     // a UTF-8, UTF-16 or UTF-32 byte order mark
	fromHeader  encodingSource = "header"  // the charset parameter of Content-Type
	fromJSON    encodingSource = "json"    // JSON is UTF-8 (RFC 8259 §8.1)
	fromProlog  encodingSource = "prolog"  // the XML declaration's encoding
	fromMeta    encodingSource = "meta"    // an HTML <meta> charset
	fromDefault encodingSource = "default" // nothing declared: UTF-8
	fromUnknown encodingSource = "unknown" // only unknown names declared: bytes kept
)

// textEncoding is the outcome of charset detection and conversion.
type textEncoding struct {
	name    string            // WHATWG name of the encoding; "utf-8" when the bytes are kept
	enc     encoding.Encoding // nil when no conversion is needed
	source  encodingSource
	bom     int      // length of the byte order mark to strip
	unknown []string // declared names that match no known encoding, for the log
	err     error    // conversion failure; the body is then kept as is
}

const utf8Name = "utf-8"

// ToUTF8 returns body, as received with the given Content-Type header
// value, converted to UTF-8 exactly as Fetch converts a response body: the
// encoding is decided by the rules of detectEncoding, a byte order mark is
// removed, and an XML declaration is made to name UTF-8. A body whose
// encoding cannot be decided or converted is returned with its bytes as they
// are, for the parser to judge. It never fails; it is for bodies that did
// not come through Fetch, such as content pushed to a WebSub callback.
func ToUTF8(body []byte, contentType string) []byte {
	out, _ := toUTF8(body, contentType)
	return out
}

// toUTF8 returns body converted to UTF-8 and what decided its encoding (see
// detectEncoding). A byte order mark is removed. When the body starts with an
// XML declaration and its encoding was decided, the declaration is made to
// say UTF-8: parsers honour it and would otherwise convert a second time.
// An HTML <meta> charset is left as it is: HTML parsers given bytes read
// them as UTF-8 and do not look at it. Invalid byte sequences in a body
// taken as UTF-8 are replaced by U+FFFD: one bad byte (or a feed whose
// server declares UTF-8 for another encoding) must cost the reader a
// character, not the whole feed, since XML parsers reject invalid UTF-8
// outright. A body whose only declared charsets are unknown is left alone.
func toUTF8(body []byte, contentType string) ([]byte, textEncoding) {
	te := detectEncoding(body, contentType)
	out := body[te.bom:]
	if te.enc != nil {
		converted, err := te.enc.NewDecoder().Bytes(out)
		if err != nil {
			te.err = err
			return out, te
		}
		out = converted
	}
	if te.source != fromUnknown {
		out = declareUTF8(out)
		if !utf8.Valid(out) {
			out = bytes.ToValidUTF8(out, []byte("\uFFFD"))
		}
	}
	return out, te
}

// detectEncoding decides the encoding of body. The rules, first match wins:
//
//  1. A UTF-8, UTF-16 or UTF-32 byte order mark. It is certain evidence,
//     while a server's default charset often is not, so it outranks the
//     header (as in RFC 7303 and the WHATWG Encoding Standard).
//  2. JSON (a body starting with '{' or '[', or a JSON media type) is UTF-8;
//     a non-UTF-8 header charset is honoured only when the body is not
//     valid UTF-8, because servers stamp charsets on JSON carelessly.
//  3. The charset parameter of Content-Type.
//  4. The XML declaration's encoding, also in BOM-less UTF-16 or UTF-32.
//  5. For HTML, a <meta> charset in the first 1024 bytes.
//  6. UTF-8.
//
// A declared name that is not a known encoding is skipped (and reported in
// unknown) so that a later rule can still decide.
func detectEncoding(body []byte, contentType string) textEncoding {
	var te textEncoding
	switch {
	case bytes.HasPrefix(body, []byte{0xEF, 0xBB, 0xBF}):
		return textEncoding{name: utf8Name, source: fromBOM, bom: 3}
	// The UTF-32 marks come first: FF FE 00 00 would otherwise read as a
	// UTF-16 mark followed by a NUL, which no feed starts with.
	case bytes.HasPrefix(body, []byte{0, 0, 0xFE, 0xFF}):
		return withEncoding(textEncoding{source: fromBOM, bom: 4}, "utf-32be")
	case bytes.HasPrefix(body, []byte{0xFF, 0xFE, 0, 0}):
		return withEncoding(textEncoding{source: fromBOM, bom: 4}, "utf-32le")
	case bytes.HasPrefix(body, []byte{0xFE, 0xFF}):
		return withEncoding(textEncoding{source: fromBOM, bom: 2}, "utf-16be")
	case bytes.HasPrefix(body, []byte{0xFF, 0xFE}):
		return withEncoding(textEncoding{source: fromBOM, bom: 2}, "utf-16le")
	}

	mt := mediaType(contentType)
	header := charsetParam(contentType)
	first := firstNonSpace(body)

	if first == '{' || first == '[' || (first != '<' && isJSONType(mt)) {
		if header != "" {
			if e, name := lookupEncoding(header); e == nil {
				te.unknown = append(te.unknown, header)
			} else if name != utf8Name && !utf8.Valid(body) {
				return withEncoding(textEncoding{source: fromHeader, unknown: te.unknown}, header)
			}
		}
		te.name, te.source = utf8Name, fromJSON
		return te
	}

	if header != "" {
		if e, _ := lookupEncoding(header); e != nil {
			return withEncoding(textEncoding{source: fromHeader}, header)
		}
		te.unknown = append(te.unknown, header)
	}

	// XML 1.0 Appendix F: a UTF-16 or UTF-32 document without a byte order
	// mark still starts with '<' (UTF-32) or "<?x" (UTF-16) in its units.
	switch {
	case bytes.HasPrefix(body, []byte{0, 0, 0, '<'}):
		te.source = fromProlog
		return withEncoding(te, "utf-32be")
	case bytes.HasPrefix(body, []byte{'<', 0, 0, 0}):
		te.source = fromProlog
		return withEncoding(te, "utf-32le")
	case bytes.HasPrefix(body, []byte{'<', 0, '?', 0, 'x', 0}):
		te.source = fromProlog
		return withEncoding(te, "utf-16le")
	case bytes.HasPrefix(body, []byte{0, '<', 0, '?', 0, 'x'}):
		te.source = fromProlog
		return withEncoding(te, "utf-16be")
	}

	if start, end, ok := findXMLEncoding(body); ok {
		label := string(body[start:end])
		e, name := lookupEncoding(label)
		switch {
		case e == nil:
			te.unknown = append(te.unknown, label)
		case isWide(name):
			// The declaration was readable as ASCII, so the body is not
			// UTF-16 or UTF-32 whatever it says; UTF-8 is the only sane
			// reading.
			te.name, te.source = utf8Name, fromProlog
			return te
		default:
			te.source = fromProlog
			return withEncoding(te, label)
		}
	} else if isHTMLType(mt) || looksLikeHTML(body) {
		if label := metaCharset(body); label != "" {
			if e, name := lookupEncoding(label); e == nil {
				te.unknown = append(te.unknown, label)
			} else {
				te.source = fromMeta
				if isWide(name) {
					// A page that could be scanned as ASCII is not UTF-16
					// (the WHATWG prescan makes the same correction).
					te.name = utf8Name
					return te
				}
				return withEncoding(te, label)
			}
		}
	}

	te.name, te.source = utf8Name, fromDefault
	if len(te.unknown) > 0 {
		te.source = fromUnknown
	}
	return te
}

// withEncoding fills te's encoding from a label known to lookupEncoding.
// UTF-8 needs no decoder.
func withEncoding(te textEncoding, label string) textEncoding {
	e, name := lookupEncoding(label)
	te.name = name
	if name != utf8Name {
		te.enc = e
	}
	return te
}

// lookupEncoding is charset.Lookup (the WHATWG Encoding Standard's labels)
// that also knows UTF-32, which the WHATWG standard leaves out but XML
// parsers must read (XML 1.0 Appendix F). It returns a nil encoding for an
// unknown label.
func lookupEncoding(label string) (encoding.Encoding, string) {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "utf-32", "utf32", "utf-32be", "ucs-4", "iso-10646-ucs-4":
		// Without a byte order mark UTF-32 is big-endian (Unicode 3.10).
		return utf32.UTF32(utf32.BigEndian, utf32.IgnoreBOM), "utf-32be"
	case "utf-32le":
		return utf32.UTF32(utf32.LittleEndian, utf32.IgnoreBOM), "utf-32le"
	}
	return charset.Lookup(label)
}

// isWide reports whether an encoding name is UTF-16 or UTF-32, in which an
// ASCII-readable declaration cannot be written.
func isWide(name string) bool {
	return strings.HasPrefix(name, "utf-16") || strings.HasPrefix(name, "utf-32")
}

// charsetParam returns the charset parameter of a Content-Type value, also
// when the value is malformed in ways mime.ParseMediaType rejects (a
// trailing ";", a duplicate parameter), as servers often send.
func charsetParam(contentType string) string {
	if _, params, err := mime.ParseMediaType(contentType); err == nil {
		return strings.TrimSpace(params["charset"])
	}
	for part := range strings.SplitSeq(contentType, ";") {
		k, v, ok := strings.Cut(part, "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "charset") {
			return strings.Trim(strings.TrimSpace(v), `"'`)
		}
	}
	return ""
}

func isJSONType(mt string) bool {
	return mt == "application/json" || mt == "text/json" || strings.HasSuffix(mt, "+json")
}

func isHTMLType(mt string) bool {
	return mt == "text/html" || mt == "application/xhtml+xml"
}

// looksLikeHTML reports whether body starts like an HTML document, for
// pages served with a generic or missing media type.
func looksLikeHTML(body []byte) bool {
	rest := body[len(body)-len(bytes.TrimLeft(body, xmlSpace)):]
	if len(rest) > 14 {
		rest = rest[:14]
	}
	lower := bytes.ToLower(rest)
	return bytes.HasPrefix(lower, []byte("<!doctype html")) || bytes.HasPrefix(lower, []byte("<html"))
}

// xmlSpace is the white space XML allows around declarations.
const xmlSpace = " \t\r\n"

func firstNonSpace(body []byte) byte {
	rest := bytes.TrimLeft(body, xmlSpace)
	if len(rest) == 0 {
		return 0
	}
	return rest[0]
}

// maxDeclLen bounds the search for the end of an XML declaration; real ones
// are well under 100 bytes.
const maxDeclLen = 512

// findXMLEncoding locates the value of the encoding pseudo-attribute of an
// XML declaration at the start of body (after optional white space, which
// is invalid XML but common, and which parsers tolerate). It returns the
// value's byte range, or ok false when there is no declaration or it has no
// encoding. Names are matched case-insensitively, as sloppy generators
// write "<?XML" and "Encoding" too.
func findXMLEncoding(body []byte) (start, end int, ok bool) {
	i := len(body) - len(bytes.TrimLeft(body, xmlSpace))
	if len(body)-i < len("<?xml ") || !bytes.EqualFold(body[i:i+5], []byte("<?xml")) {
		return 0, 0, false
	}
	i += 5
	// "<?xml-stylesheet ...?>" is a processing instruction, not the
	// declaration: the name must end with white space.
	if !strings.ContainsRune(xmlSpace, rune(body[i])) {
		return 0, 0, false
	}
	limit := min(len(body), i+maxDeclLen)
	declEnd := bytes.Index(body[i:limit], []byte("?>"))
	if declEnd < 0 {
		return 0, 0, false
	}
	decl := body[:i+declEnd] // indexes stay those of body

	for {
		for i < len(decl) && strings.ContainsRune(xmlSpace, rune(decl[i])) {
			i++
		}
		nameStart := i
		for i < len(decl) && isNameByte(decl[i]) {
			i++
		}
		if i == nameStart {
			return 0, 0, false
		}
		name := decl[nameStart:i]
		for i < len(decl) && strings.ContainsRune(xmlSpace, rune(decl[i])) {
			i++
		}
		if i == len(decl) || decl[i] != '=' {
			return 0, 0, false
		}
		i++
		for i < len(decl) && strings.ContainsRune(xmlSpace, rune(decl[i])) {
			i++
		}
		if i == len(decl) || (decl[i] != '"' && decl[i] != '\'') {
			return 0, 0, false
		}
		quote := decl[i]
		i++
		valueEnd := bytes.IndexByte(decl[i:], quote)
		if valueEnd < 0 {
			return 0, 0, false
		}
		if bytes.EqualFold(name, []byte("encoding")) {
			s, e := i, i+valueEnd
			// Surrounding spaces are not part of the name.
			for s < e && decl[s] == ' ' {
				s++
			}
			for e > s && decl[e-1] == ' ' {
				e--
			}
			if s == e {
				return 0, 0, false
			}
			return s, e, true
		}
		i += valueEnd + 1
	}
}

func isNameByte(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '-' || b == '_' || b == ':'
}

// declareUTF8 makes an XML declaration at the start of body name UTF-8, so
// that a parser honouring it does not convert the already converted bytes a
// second time. Other bodies are returned unchanged.
func declareUTF8(body []byte) []byte {
	start, end, ok := findXMLEncoding(body)
	if !ok || strings.EqualFold(string(body[start:end]), "utf-8") {
		return body
	}
	out := make([]byte, 0, len(body)-(end-start)+len("UTF-8"))
	out = append(out, body[:start]...)
	out = append(out, "UTF-8"...)
	return append(out, body[end:]...)
}

// metaCharset returns the charset an HTML page declares in a <meta> element
// within its first 1024 bytes, the window the WHATWG prescan uses:
// <meta charset="..."> or <meta http-equiv="Content-Type" content="...;
// charset=...">. It returns "" when there is none.
func metaCharset(body []byte) string {
	if len(body) > 1024 {
		body = body[:1024]
	}
	z := html.NewTokenizer(bytes.NewReader(body))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return ""
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			if string(name) != "meta" {
				continue
			}
			var declared, content string
			pragma := false
			for hasAttr {
				var key, val []byte
				key, val, hasAttr = z.TagAttr()
				switch string(key) {
				case "charset":
					declared = strings.TrimSpace(string(val))
				case "http-equiv":
					pragma = strings.EqualFold(strings.TrimSpace(string(val)), "content-type")
				case "content":
					content = string(val)
				}
			}
			if declared != "" {
				return declared
			}
			if pragma {
				if cs := charsetParam(content); cs != "" {
					return cs
				}
			}
		}
	}
}
