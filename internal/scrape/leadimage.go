package scrape

import (
	"html"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	nethtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/feedmill/feedmill/internal/normalize"
)

// leadImage is an article's lead picture: the hero a page shows with its
// story, else what its metadata names.
type leadImage struct {
	url  string // absolute http(s); "" when there is none
	html string // markup showing it: the page's own figure (its caption kept), or an <img>
}

// bodyText is the length of a paragraph from which it is the story's
// body: a hero comes before it.
const bodyText = 80

// findHero returns the picture a page shows with its story outside the
// story's text, where readability does not look: a <figure>, <picture> or
// <img> between the headline (the page's first <h1> outside navigation)
// and the first paragraph of the body, else the last one just above the
// headline (no paragraph, navigation or sidebar in between). Logos,
// sprites, icons, avatars, pictures under 50 pixels, tracking pixels and
// pictures in navigation, asides, footers, comments or related stories
// never are. doc must be unlazied (normalize.Unlazy) already; it is not
// changed.
func findHero(doc *nethtml.Node, base *url.URL) leadImage {
	var above *leadImage
	var hero leadImage
	sawH1, done := false, false
	var walk func(n *nethtml.Node)
	walk = func(n *nethtml.Node) {
		for c := n.FirstChild; c != nil && !done; c = c.NextSibling {
			if c.Type != nethtml.ElementNode {
				continue
			}
			if offRegion(c) || isSiteHeader(c) {
				above = nil // what came before is not next to the headline
				continue
			}
			if isChrome(c) {
				continue // a logo, a sprite, an advertisement
			}
			switch c.DataAtom {
			case atom.Script, atom.Style, atom.Template, atom.Noscript:
				continue
			case atom.H1:
				if !sawH1 {
					sawH1 = true
				}
				continue
			case atom.P:
				if utf8.RuneCountInString(squash(normalize.BlockText(c, unseen))) >= bodyText {
					if sawH1 {
						if above != nil {
							hero = *above
						}
						done = true
						return
					}
					above = nil
				}
				continue
			case atom.Figure, atom.Picture, atom.Img:
				if li, ok := heroOf(c, base); ok {
					if sawH1 {
						hero, done = li, true
						return
					}
					above = &li
				}
				continue
			case atom.A:
				if isHomeLink(c, base) {
					continue // the site's logo, whatever it is called
				}
			}
			walk(c)
		}
	}
	walk(doc)
	if !done && sawH1 && above != nil {
		hero = *above
	}
	return hero
}

// isSiteHeader reports whether e is the site's header (a <header> or
// role=banner holding the navigation), not a story's.
func isSiteHeader(e *nethtml.Node) bool {
	if e.DataAtom != atom.Header && !strings.EqualFold(normalize.Attr(e, "role"), "banner") {
		return false
	}
	return len(normalize.FindAll(e, atom.Nav)) > 0
}

// isHomeLink reports whether a links to the site's home page, as its logo
// does.
func isHomeLink(a *nethtml.Node, base *url.URL) bool {
	href := strings.TrimSpace(normalize.Attr(a, "href"))
	if href == "" {
		return false
	}
	u := normalize.ParseBase(normalize.ResolveURL(base, nil, href, false))
	return u != nil && base != nil && strings.EqualFold(u.Host, base.Host) && strings.Trim(u.Path, "/") == "" && u.RawQuery == ""
}

// heroOf returns the lead image e (a <figure>, <picture> or <img>) shows,
// and false when it shows none or only a logo, an icon or a pixel. The
// markup keeps the caption, without a credit line marked as one.
func heroOf(e *nethtml.Node, base *url.URL) (leadImage, bool) {
	img := e
	if e.DataAtom != atom.Img {
		imgs := normalize.FindAll(e, atom.Img)
		if len(imgs) == 0 {
			return leadImage{}, false
		}
		img = imgs[0]
	}
	for n := img; n != nil; n = n.Parent {
		if isChrome(n) {
			return leadImage{}, false
		}
		if n == e {
			break
		}
	}
	if tiny(img) {
		return leadImage{}, false
	}
	raw := strings.TrimSpace(normalize.Attr(img, "src"))
	if raw == "" || strings.HasPrefix(strings.ToLower(raw), "data:") {
		raw = firstSrcsetURL(normalize.Attr(img, "srcset"))
	}
	u := normalize.ResolveURL(base, nil, raw, false)
	if u == "" || chromeURL(u) {
		return leadImage{}, false
	}
	var b strings.Builder
	if err := nethtml.Render(&b, e); err != nil {
		return leadImage{}, false // a strings.Builder does not fail
	}
	return leadImage{url: u, html: withoutCredits(b.String())}, true
}

// creditWords are the class and id words of a picture's credit line
// ("Photograph: …/The Gazette"): the site's fixed credit, which learned
// boilerplate cannot see in a caption that differs in every article.
var creditWords = map[string]bool{"credit": true, "credits": true, "photocredit": true, "copyright": true}

// withoutCredits returns the HTML of a hero figure without the elements
// marked as its credit line; the caption itself stays.
func withoutCredits(fragment string) string {
	root := fragmentRoot(fragment)
	if root == nil {
		return fragment
	}
	var marked []*nethtml.Node
	var walk func(n *nethtml.Node)
	walk = func(n *nethtml.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != nethtml.ElementNode {
				continue
			}
			if hasWord(c, creditWords) {
				marked = append(marked, c)
				continue
			}
			walk(c)
		}
	}
	walk(root)
	if len(marked) == 0 {
		return fragment
	}
	for _, m := range marked {
		m.Parent.RemoveChild(m)
	}
	return normalize.RenderChildren(root)
}

// chromeWords are the class, id and alt words of a site's chrome: logos,
// sprites, icons, avatars, badges, advertisements.
var chromeWords = map[string]bool{
	"logo": true, "sitelogo": true, "sprite": true, "icon": true, "icons": true, "avatar": true, "gravatar": true,
	"badge": true, "emoji": true, "spinner": true, "ad": true, "ads": true, "advert": true, "sponsor": true, "brand": true,
}

// isChrome reports whether e is marked as part of the site's chrome.
func isChrome(e *nethtml.Node) bool {
	if hasWord(e, chromeWords) {
		return true
	}
	for w := range strings.FieldsSeq(strings.ToLower(normalize.Attr(e, "alt"))) {
		if w == "logo" {
			return true
		}
	}
	return false
}

// chromeURL reports whether an image URL names a logo, sprite, icon or
// avatar, or a tracking pixel.
func chromeURL(u string) bool {
	p, err := url.Parse(u)
	if err != nil {
		return true
	}
	name := strings.ToLower(path.Base(p.Path))
	for _, w := range []string{"logo", "sprite", "favicon", "icon", "avatar", "pixel", "spacer", "blank", "placeholder"} {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// tiny reports whether img says it is smaller than 50 pixels in a
// dimension: an icon, a pixel.
func tiny(img *nethtml.Node) bool {
	for _, k := range []string{"width", "height"} {
		v := strings.TrimSuffix(strings.TrimSpace(normalize.Attr(img, k)), "px")
		if n, err := strconv.Atoi(v); err == nil && n < 50 {
			return true
		}
	}
	return false
}

// metaLead is the lead image a page's metadata names: its og:image (or
// Twitter card), else its JSON-LD article's image; never a logo.
func metaLead(m Meta) leadImage {
	for _, u := range []string{m.ogImage, m.ldImage} {
		if u != "" && !chromeURL(u) {
			return leadImage{url: u, html: `<figure><img src="` + html.EscapeString(u) + `" alt=""></figure>`}
		}
	}
	return leadImage{}
}

// sizeSuffix is the size a CMS writes into a resized image's file name
// ("harbour-1024x683.jpg", "harbour@2x.jpg").
var sizeSuffix = regexp.MustCompile(`(?i)(?:-[0-9]{2,5}x[0-9]{2,5}|@[23]x)(\.[a-z0-9]+)$`)

// sizeParams are query parameters that choose a size or a format of the
// same picture.
var sizeParams = map[string]bool{
	"w": true, "h": true, "width": true, "height": true, "resize": true, "fit": true, "crop": true,
	"quality": true, "q": true, "size": true, "format": true, "fm": true, "auto": true, "dpr": true,
	"s": true, "strip": true, "zoom": true, "itok": true, "ssl": true, "im": true, "impolicy": true,
}

// imageKey is an image URL compared for "the same picture": without
// scheme, "www.", fragment, the size a CMS writes into the file name and
// the query parameters that choose a size or a format.
func imageKey(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return s
	}
	q := u.Query()
	for k := range q {
		if sizeParams[strings.ToLower(k)] {
			q.Del(k)
		}
	}
	key := strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.") + sizeSuffix.ReplaceAllString(u.EscapedPath(), "$1")
	if len(q) > 0 {
		key += "?" + q.Encode()
	}
	return key
}

// showsImage reports whether the HTML content shows the picture at u: an
// <img> or <source> whose src or any srcset candidate is the same
// picture (imageKey).
func showsImage(content, u string) bool {
	want := imageKey(u)
	root := fragmentRoot(content)
	if root == nil {
		return false
	}
	for _, a := range []atom.Atom{atom.Img, atom.Source} {
		for _, e := range normalize.FindAll(root, a) {
			cands := []string{normalize.Attr(e, "src")}
			for c := range strings.SplitSeq(normalize.Attr(e, "srcset"), ",") {
				f, _, _ := strings.Cut(strings.TrimSpace(c), " ")
				cands = append(cands, f)
			}
			for _, c := range cands {
				if strings.TrimSpace(c) != "" && imageKey(c) == want {
					return true
				}
			}
		}
	}
	return false
}

// fragmentRoot parses an HTML fragment into the children of a <div>, nil
// when it cannot be parsed.
func fragmentRoot(fragment string) *nethtml.Node {
	ctx := &nethtml.Node{Type: nethtml.ElementNode, Data: "div", DataAtom: atom.Div}
	nodes, err := nethtml.ParseFragment(strings.NewReader(fragment), ctx)
	if err != nil {
		return nil
	}
	for _, n := range nodes {
		ctx.AppendChild(n)
	}
	return ctx
}
