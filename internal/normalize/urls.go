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
func resolveURL(base, page *url.URL, ref string, allowMailto bool) string {
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
