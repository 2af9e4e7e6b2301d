package normalize

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"
)

// XML 1.0 (§2.2) forbids a few characters anywhere in a document, raw or
// written as a character reference: the C0 controls other than tab, line
// feed and carriage return, the surrogates and U+FFFE and U+FFFF. gofeed's
// XML parser drops raw C0 controls, but refuses the whole feed for a
// reference to one ("&#x1b;", "&#0;") or for a raw U+FFFE: one bad
// character in one item would cost every item. So feedmill removes them
// before parsing (fixXMLChars), and from every field it produces
// (dropForbidden in bound), since JSON Feed ("\u001b") and HTML ("&#1;"
// inside escaped HTML) can carry them too, and feedmill's own Atom and RSS
// must not.
//
// The characters are dropped, not replaced by U+FFFD: they are invisible
// noise (an escape sequence pasted from a terminal, a NUL from a C string,
// a byte of a broken encoder), and a replacement character would put a
// visible "�" in a title where the publisher's readers saw nothing. Two
// exceptions: vertical tab and form feed separate words or lines where
// they occur, so they become a space; and a reference to a surrogate or
// to no character at all (past U+10FFFF) does stand for a character the
// feed meant but failed to encode, so it becomes U+FFFD, as XML parsers
// that accept it do.

// xmlForbidden reports whether XML 1.0 forbids r in a document.
func xmlForbidden(r rune) bool {
	switch {
	case r < 0x20:
		return r != '\t' && r != '\n' && r != '\r'
	case r < 0xD800:
		return false
	case r <= 0xDFFF:
		return true
	case r == 0xFFFE || r == 0xFFFF:
		return true
	}
	return r > unicode.MaxRune
}

// forbiddenReplacement is what a forbidden character becomes (see above):
// "" to drop it.
func forbiddenReplacement(r rune) string {
	switch {
	case r == '\v' || r == '\f':
		return " "
	case r >= 0xD800 && r <= 0xDFFF, r > unicode.MaxRune:
		return "\uFFFD"
	}
	return ""
}

// xmlByteClass marks the bytes at which fixXMLChars must look closer: the
// C0 controls XML forbids, the lead byte of U+FFFE and U+FFFF, and the
// starts of references, CDATA sections and comments. Every other byte is
// copied as it is, which keeps the scan of a clean document a tight loop.
var xmlByteClass = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = c != '\t' && c != '\n' && c != '\r'
	}
	t[0xEF], t['&'], t['<'] = true, true, true
	return t
}()

// fixXMLChars returns the XML document body without the characters XML
// forbids, raw or as character references, and how many it removed or
// replaced. A clean body is returned as it is, not copied. References
// inside CDATA sections and comments are not references and stay; raw
// forbidden characters go from there too.
func fixXMLChars(body []byte) ([]byte, int) {
	var out []byte // nil until the first fix
	last, fixed := 0, 0
	fix := func(from, to int, rep string) {
		if out == nil {
			out = make([]byte, 0, len(body))
		}
		out = append(out, body[last:from]...)
		if rep == "" && joins(out, body[to:]) {
			rep = "\uFFFD"
		}
		out = append(out, rep...)
		last = to
		fixed++
	}
	for i := 0; i < len(body); {
		for i < len(body) && !xmlByteClass[body[i]] {
			i++
		}
		if i == len(body) {
			break
		}
		switch c := body[i]; {
		case c < 0x20:
			fix(i, i+1, forbiddenReplacement(rune(c)))
			i++
		case c == 0xEF:
			if r, size := utf8.DecodeRune(body[i:]); r == 0xFFFE || r == 0xFFFF {
				fix(i, i+size, "")
				i += size
			} else {
				i++
			}
		case c == '&':
			r, size := charRef(body[i:])
			if size > 0 && xmlForbidden(r) {
				fix(i, i+size, forbiddenReplacement(r))
				i += size
			} else {
				i++
			}
		case bytes.HasPrefix(body[i:], []byte("<![CDATA[")):
			i = skipRaw(body, i+len("<![CDATA["), "]]>", fix)
		case bytes.HasPrefix(body[i:], []byte("<!--")):
			i = skipRaw(body, i+len("<!--"), "-->", fix)
		default: // any other '<'
			i++
		}
	}
	if out == nil {
		return body, 0
	}
	return append(out, body[last:]...), fixed
}

// joins reports whether dropping what lies between kept (the output so
// far) and next (the input after the dropped character) would join them
// into markup that neither held: a character reference ("&#" and "1;"
// around a dropped NUL), or the start or end of a comment or CDATA
// section ("]]" and ">"). The dropped character is then replaced by U+FFFD
// instead, so that one pass leaves nothing for a second one.
func joins(kept, next []byte) bool {
	if len(kept) == 0 || len(next) == 0 {
		return false
	}
	p, n := kept[len(kept)-1], next[0]
	if strings.IndexByte("<!-[]>", p) >= 0 && strings.IndexByte("!-[]>C", n) >= 0 {
		return true
	}
	tail := kept[max(0, len(kept)-16):]
	amp := bytes.LastIndexByte(tail, '&')
	if amp < 0 || strings.IndexByte("#x0123456789abcdefABCDEF;", n) < 0 {
		return false
	}
	ref := tail[amp+1:] // "", "#", "#x", "#12", "#x1F": a reference begun
	if len(ref) == 0 {
		return n == '#'
	}
	if ref[0] != '#' {
		return false
	}
	ref = bytes.TrimPrefix(ref[1:], []byte("x"))
	for _, c := range ref {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// skipRaw moves past a CDATA section or comment whose content starts at
// body[i] and which ends with end (or with the body), fixing the raw
// forbidden characters in it, and returns the offset after it.
func skipRaw(body []byte, i int, end string, fix func(from, to int, rep string)) int {
	stop := len(body)
	if k := bytes.Index(body[i:], []byte(end)); k >= 0 {
		stop = i + k
	}
	for ; i < stop; i++ {
		switch c := body[i]; {
		case c < 0x20 && xmlByteClass[c]:
			fix(i, i+1, forbiddenReplacement(rune(c)))
		case c == 0xEF:
			if r, size := utf8.DecodeRune(body[i:]); r == 0xFFFE || r == 0xFFFF {
				fix(i, i+size, "")
				i += size - 1
			}
		}
	}
	if stop == len(body) {
		return stop
	}
	return stop + len(end)
}

// charRef reads the numeric character reference ("&#27;", "&#x1B;") at
// the start of b: the character it names (past unicode.MaxRune for any
// larger number) and its length; size 0 when b does not start with one.
func charRef(b []byte) (r rune, size int) {
	if len(b) < 4 || b[0] != '&' || b[1] != '#' {
		return 0, 0
	}
	i, base := 2, rune(10)
	if b[2] == 'x' {
		i, base = 3, 16
	}
	start := i
	for ; i < len(b); i++ {
		var d rune
		switch c := b[i]; {
		case c >= '0' && c <= '9':
			d = rune(c - '0')
		case base == 16 && c >= 'a' && c <= 'f':
			d = rune(c-'a') + 10
		case base == 16 && c >= 'A' && c <= 'F':
			d = rune(c-'A') + 10
		case c == ';' && i > start:
			return r, i + 1
		default:
			return 0, 0
		}
		if r = r*base + d; r > unicode.MaxRune {
			r = unicode.MaxRune + 1 // saturate: any larger number is no character either
		}
	}
	return 0, 0
}

// dropForbidden returns s without the characters XML forbids (see above),
// and whether it held any; s itself when it holds none. s is UTF-8 text,
// in which surrogates cannot occur, so this drops C0 controls and U+FFFE
// and U+FFFF.
func dropForbidden(s string) (string, bool) {
	clean := func(s string) int {
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x20 && xmlByteClass[c] || c == 0xEF && strings.HasPrefix(s[i:], "\uFFFE") || c == 0xEF && strings.HasPrefix(s[i:], "\uFFFF") {
				return i
			}
		}
		return -1
	}
	i := clean(s)
	if i < 0 {
		return s, false
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for _, r := range s[i:] {
		if xmlForbidden(r) {
			b.WriteString(forbiddenReplacement(r))
			continue
		}
		b.WriteRune(r)
	}
	return b.String(), true
}
