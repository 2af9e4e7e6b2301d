package normalize

import (
	"net/url"
	"strings"
)

// resolveURL returns ref as an absolute URL, resolved against base, or ""
// when it is unusable: unparseable, relative with no base, or of a scheme
// other than http and https (and mailto when allowMailto). That drops
// javascript:, data:, vbscript: and the like whatever their spelling.
//
// A fragment-only ref ("#fn1") is resolved against page, the item's own
// link, when there is one: it points into the article the content was
// written for, not into the feed's home page.
//
// As browsers do, leading and trailing spaces and any tab or newline inside
// ref are ignored first, so "java\nscript:" is judged as "javascript:".
//
// The result is a valid URI (or IRI: letters beyond ASCII stay): what Go
// leaves as it was given in a query (spaces, quotes, angle brackets and
// the like) is percent-encoded, so no published URL can end an attribute or
// a reader's link early. See resolveRef for the URL as the feed gives it.
func resolveURL(base, page *url.URL, ref string, allowMailto bool) string {
	return escapeURI(resolveRef(base, page, ref, allowMailto))
}

// uriForbidden are the ASCII characters that may appear nowhere in a URI
// (RFC 3986) besides controls and space, which escapeURI encodes too.
const uriForbidden = "\"<>\\^`{|}"

// escapeURI percent-encodes the ASCII characters of s that a URI cannot
// hold: controls, space and uriForbidden. Everything else, '%' included,
// is kept, so an already valid URI comes back unchanged.
func escapeURI(s string) string {
	clean := func(c byte) bool { return c > ' ' && c != 0x7f && strings.IndexByte(uriForbidden, c) < 0 }
	i := 0
	for i < len(s) && clean(s[i]) {
		i++
	}
	if i == len(s) {
		return s
	}
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for ; i < len(s); i++ {
		if c := s[i]; clean(c) {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// resolveRef is resolveURL without the final escaping: the URL as the feed
// gives it, from which item ids are derived, so that they do not move.
func resolveRef(base, page *url.URL, ref string, allowMailto bool) string {
	ref = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, strings.TrimSpace(ref))
	if ref == "" {
		return ""
	}
	u, err := url.Parse(ref)
	if err != nil {
		return ""
	}
	if !u.IsAbs() {
		b := base
		if page != nil && strings.HasPrefix(ref, "#") {
			b = page
		}
		if b == nil {
			return ""
		}
		u = b.ResolveReference(u)
	}
	switch u.Scheme {
	case "http", "https":
		if u.Host == "" {
			return ""
		}
	case "mailto":
		if !allowMailto || u.Opaque == "" {
			return ""
		}
	default:
		return ""
	}
	return u.String()
}
