package boilerplate

import (
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/net/html"
)

// chromeSize is the largest declared width or height, in pixels, of an
// image that is chrome by its size: icons, badges, buttons, spacers, and
// the thin strips of a logo.
const chromeSize = 64

// looksLikeChrome reports whether every media element in the siblings
// first..last (a block without text) looks like a piece of the site's
// chrome rather than a picture: see isChrome.
func looksLikeChrome(first, last *html.Node) bool {
	found := false
	for n := first; n != nil; n = n.NextSibling {
		if !allMediaChrome(n, &found) {
			return false
		}
		if n == last {
			break
		}
	}
	return found
}

// allMediaChrome reports whether every media element under n (n included)
// looks like chrome, and sets found when there is one.
func allMediaChrome(n *html.Node, found *bool) bool {
	if n.Type != html.ElementNode || isInvisible(n.DataAtom) {
		return true
	}
	if isMedia(n.DataAtom) {
		*found = true
		return isChrome(n)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if !allMediaChrome(c, found) {
			return false
		}
	}
	return true
}

// isChrome reports whether the media element n, or an element inside it
// (the img of a picture), looks like chrome: a chrome word in the path of
// its URL, in its alt text or in its title; a chrome folder in that path;
// or a declared width or height of at most chromeSize pixels.
func isChrome(n *html.Node) bool {
	if n.Type != html.ElementNode {
		return false
	}
	for _, a := range n.Attr {
		if a.Namespace != "" {
			continue
		}
		switch a.Key {
		case "src", "srcset", "poster", "data":
			if chromeURL(a.Val) {
				return true
			}
		case "alt", "title":
			if chromeText(a.Val) {
				return true
			}
		case "width", "height":
			if v, ok := pixels(a.Val); ok && v <= chromeSize {
				return true
			}
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if isChrome(c) {
			return true
		}
	}
	return false
}

// chromeURL reports whether the path (and query) of rawURL has a chrome
// word or a chrome folder in it. The host is not read: "static." or
// "img." hosts serve a site's photos as much as its logo.
func chromeURL(rawURL string) bool {
	s := strings.ToLower(strings.TrimSpace(rawURL))
	if _, rest, ok := strings.Cut(s, "://"); ok {
		_, s, _ = strings.Cut(rest, "/")
	}
	dirs := strings.Split(s, "/")
	for _, d := range dirs[:len(dirs)-1] {
		// The folders a site serves its template's images from, as
		// opposed to the uploads its articles' photos come from
		// ("/media/2025/05", "/wp-content/uploads").
		switch d {
		case "static", "theme", "themes", "template", "templates", "skin", "skins":
			return true
		}
	}
	return chromeText(s)
}

// chromeText reports whether a word of s starts or ends with a word that
// names a site's chrome ("sitelogo", "logo-dark", "favicon", "icons",
// "badges").
func chromeText(s string) bool {
	for w := range strings.FieldsFuncSeq(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) }) {
		for _, c := range [...]string{
			"logo", "banner", "masthead", "sprite", "icon", "avatar", "badge",
			"button", "pixel", "spacer",
		} {
			if strings.HasPrefix(w, c) || strings.HasSuffix(w, c) {
				return true
			}
		}
	}
	return false
}

// pixels parses a width or height attribute in pixels ("40", "40px");
// percentages and other units are not sizes it can judge.
func pixels(s string) (int, bool) {
	s = strings.TrimSuffix(strings.TrimSpace(strings.ToLower(s)), "px")
	v, err := strconv.Atoi(strings.TrimSpace(s))
	return v, err == nil && v >= 0
}
