package fetch

import (
	"net/url"
	"strings"
)

// Link is one link of an HTTP Link header (RFC 8288) with one relation
// type: a link-value whose rel names several types ("self hub") gives one
// Link per type.
type Link struct {
	URL string // absolute http(s), resolved against the response's final URL
	Rel string // one relation type, in lower case
}

// Link returns the URL of the first link in r.Links whose relation type is
// rel, compared without case, or "" when there is none. RFC 8288 leaves the
// order of several links with one type to the application; feedmill takes
// the first, as WebSub discovery does.
func (r *Response) Link(rel string) string {
	rel = strings.ToLower(strings.TrimSpace(rel))
	for _, l := range r.Links {
		if l.Rel == rel {
			return l.URL
		}
	}
	return ""
}

// maxLinks bounds how many Links one response yields: a real response
// carries a handful, and a header of a megabyte of tiny link-values must
// not become hundreds of thousands of them.
const maxLinks = 100

// parseLinks reads the links of the Link header values of a response whose
// final URL is base (RFC 8288 §3): several header fields, each a
// comma-separated list of `<URI-Reference>` followed by `;`-separated
// parameters whose values are tokens or quoted strings. It keeps, in order,
// one Link per relation type of each link-value that has a rel parameter
// (only the first rel counts, as §3.3 requires) and whose target resolves
// to an absolute http(s) URL. A link-value with an anchor parameter that
// names another resource than base is skipped: its context is not this
// response. Malformed link-values are skipped, and so is the malformed
// rest of one whose rel was already read; parseLinks never fails.
func parseLinks(values []string, base *url.URL) []Link {
	var out []Link
	for _, v := range values {
		sc := linkScanner{s: v}
		for len(out) < maxLinks {
			lv, ok := sc.next()
			if !ok {
				break
			}
			target := resolveLink(base, lv.target)
			if target == "" || !lv.hasRel {
				continue
			}
			if lv.hasAnchor && (base == nil || resolveLink(base, lv.anchor) != base.String()) {
				continue
			}
			for _, rel := range strings.Fields(lv.rel) {
				if len(out) == maxLinks {
					break
				}
				out = append(out, Link{URL: target, Rel: strings.ToLower(rel)})
			}
		}
	}
	return out
}

// resolveLink returns ref resolved against base when it is an absolute
// http(s) URL then, else "".
func resolveLink(base *url.URL, ref string) string {
	u, err := url.Parse(strings.TrimSpace(ref))
	if err != nil {
		return ""
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return u.String()
}

// linkValue is one parsed link-value: its target as written and the
// parameters feedmill reads.
type linkValue struct {
	target    string
	rel       string
	hasRel    bool
	anchor    string
	hasAnchor bool
}

// linkScanner walks one Link header value.
type linkScanner struct {
	s string
	i int
}

// next returns the next link-value that starts well (with a target in angle
// brackets), skipping anything else up to the next comma outside quotes and
// brackets. ok is false at the end of the value, or when the rest cannot be
// read (an unterminated target or quoted string).
func (sc *linkScanner) next() (lv linkValue, ok bool) {
	for {
		sc.skip(" \t,")
		if sc.i >= len(sc.s) {
			return lv, false
		}
		if sc.s[sc.i] == '<' {
			break
		}
		if !sc.skipValue() {
			return lv, false
		}
	}
	end := strings.IndexByte(sc.s[sc.i+1:], '>')
	if end < 0 {
		return lv, false
	}
	lv.target = sc.s[sc.i+1 : sc.i+1+end]
	sc.i += end + 2

	for {
		sc.skip(" \t")
		if sc.i >= len(sc.s) || sc.s[sc.i] == ',' {
			return lv, true
		}
		if sc.s[sc.i] != ';' {
			// Garbage after a parameter: keep what was read, drop the rest.
			sc.skipValue()
			return lv, true
		}
		sc.i++
		sc.skip(" \t")
		name := strings.ToLower(sc.word(" \t;,=\""))
		sc.skip(" \t")
		var value string
		if sc.i < len(sc.s) && sc.s[sc.i] == '=' {
			sc.i++
			sc.skip(" \t")
			if sc.i < len(sc.s) && sc.s[sc.i] == '"' {
				var closed bool
				if value, closed = sc.quoted(); !closed {
					return lv, false
				}
			} else {
				value = sc.word(" \t;,")
			}
		}
		switch {
		case name == "rel" && !lv.hasRel:
			lv.rel, lv.hasRel = value, true
		case name == "anchor" && !lv.hasAnchor:
			lv.anchor, lv.hasAnchor = value, true
		}
	}
}

// skip advances past any bytes in set.
func (sc *linkScanner) skip(set string) {
	for sc.i < len(sc.s) && strings.IndexByte(set, sc.s[sc.i]) >= 0 {
		sc.i++
	}
}

// word reads bytes up to the first one in stop (or the end).
func (sc *linkScanner) word(stop string) string {
	start := sc.i
	for sc.i < len(sc.s) && strings.IndexByte(stop, sc.s[sc.i]) < 0 {
		sc.i++
	}
	return sc.s[start:sc.i]
}

// quoted reads a quoted-string starting at the opening quote, undoing
// backslash escapes. closed is false when the string never ends.
func (sc *linkScanner) quoted() (value string, closed bool) {
	var b strings.Builder
	for sc.i++; sc.i < len(sc.s); sc.i++ {
		switch c := sc.s[sc.i]; c {
		case '"':
			sc.i++
			return b.String(), true
		case '\\':
			if sc.i+1 < len(sc.s) {
				sc.i++
				b.WriteByte(sc.s[sc.i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", false
}

// skipValue advances to the comma that ends the current link-value, outside
// quoted strings and angle brackets. When an unterminated quote or bracket
// swallows the rest, it moves to the end and reports false.
func (sc *linkScanner) skipValue() bool {
	for sc.i < len(sc.s) {
		switch sc.s[sc.i] {
		case ',':
			return true
		case '"':
			if _, closed := sc.quoted(); !closed {
				sc.i = len(sc.s)
				return false
			}
			continue
		case '<':
			end := strings.IndexByte(sc.s[sc.i:], '>')
			if end < 0 {
				sc.i = len(sc.s)
				return false
			}
			sc.i += end
		}
		sc.i++
	}
	return true
}
