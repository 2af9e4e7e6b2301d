package fetch

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/feedmill/feedmill/internal/feed"
)

// feedTypes are the media types of <link rel="alternate"> elements that
// advertise a feed. The value says whether the type names feeds only:
// plain application/json is also what WordPress advertises for its REST
// API on every page, so links of that type come after all the others.
var feedTypes = map[string]bool{
	"application/rss+xml":   true,
	"application/atom+xml":  true,
	"application/rdf+xml":   true,
	"application/feed+json": true,
	"application/json":      false,
}

// maxDiscovered bounds what Discover returns: a real page advertises a
// handful of feeds, and a hostile one must not make a caller try thousands.
const maxDiscovered = 20

// Discover returns the feeds the HTML page advertises with
// <link rel="alternate" type="..." href="...">, where rel contains the token
// "alternate" among others and type is an RSS, Atom, RDF or JSON Feed media
// type (parameters and case ignored). The URLs are resolved against the
// page's <base href> and baseURL (the page's final URL) and kept only when
// absolute http(s); empty hrefs and duplicates are skipped. At most 20 are
// returned, in document order, except that links typed plain
// application/json come last (the type is not specific to feeds). It
// returns nil when the page advertises none; it never fails, whatever the
// bytes.
func Discover(page []byte, baseURL string) []string {
	base, err := url.Parse(baseURL)
	if err != nil {
		base = nil
	}
	var specific, generic []string
	seen := make(map[string]bool)
	baseSeen := false
	z := html.NewTokenizer(bytes.NewReader(page))
	for len(specific)+len(generic) < maxDiscovered {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		name, hasAttr := z.TagName()
		switch atom.Lookup(name) {
		case atom.Base:
			attrs := readAttrs(z, hasAttr)
			// Only the first <base href> counts (HTML §4.2.3).
			if href, ok := attrs["href"]; ok && !baseSeen {
				baseSeen = true
				if ref, err := url.Parse(strings.TrimSpace(href)); err == nil {
					if base != nil {
						ref = base.ResolveReference(ref)
					}
					if ref.IsAbs() {
						base = ref
					}
				}
			}
		case atom.Link:
			attrs := readAttrs(z, hasAttr)
			if !hasToken(attrs["rel"], "alternate") {
				continue
			}
			only, ok := feedTypes[mediaType(attrs["type"])]
			if !ok {
				continue
			}
			// A missing or empty href would name the page itself, which
			// is not a feed: it was just found not to be one.
			href := strings.TrimSpace(attrs["href"])
			if href == "" {
				continue
			}
			target := resolveLink(base, href)
			if target == "" || seen[target] {
				continue
			}
			seen[target] = true
			if only {
				specific = append(specific, target)
			} else {
				generic = append(generic, target)
			}
		}
	}
	return append(specific, generic...)
}

// MaxTriedFeeds bounds how many of the feeds a web page advertises
// FirstFeed tries: a page listing many broken feeds costs a few requests,
// not dozens.
const MaxTriedFeeds = 3

// PageFetcher fetches a URL found in content, through the address guard;
// *Client is one.
type PageFetcher interface {
	FetchPage(ctx context.Context, rawURL string, trustedHost string) (*Response, error)
}

// FirstFeed is autodiscovery: it tries the feeds the web page page
// advertises (Discover), in that order, and returns the first that can be
// fetched and that read accepts, with its response. The feeds are links
// in content, so they are fetched with f.FetchPage, trusting only the host
// of trusted (the URL the operator configured or gave). A link to the page
// itself is skipped: it was just found to be no feed. It stops after
// MaxTriedFeeds failures; tried holds them, in order, each as "advertised
// feed URL: error" with the URL's secrets hidden by secrets, and is empty
// when the page advertises no feed. read is given each link and its
// response, to parse the body and keep what it made of it.
func FirstFeed(ctx context.Context, f PageFetcher, page *Response, trusted string, secrets feed.Redactor, read func(link string, resp *Response) error) (link string, resp *Response, tried []error) {
	for _, link := range Discover(page.Body, page.URL) {
		if len(tried) == MaxTriedFeeds {
			break
		}
		if link == page.URL {
			continue
		}
		resp, err := f.FetchPage(ctx, link, trusted)
		if err == nil {
			if err = read(link, resp); err == nil {
				return link, resp, tried
			}
		}
		tried = append(tried, fmt.Errorf("advertised feed %s: %w", secrets.URL(link), err))
	}
	return "", nil, tried
}

// readAttrs returns the tag's attributes, the first of each name.
func readAttrs(z *html.Tokenizer, hasAttr bool) map[string]string {
	attrs := make(map[string]string)
	for hasAttr {
		var key, val []byte
		key, val, hasAttr = z.TagAttr()
		if _, dup := attrs[string(key)]; !dup {
			attrs[string(key)] = string(val)
		}
	}
	return attrs
}

// hasToken reports whether the space-separated list has tok, ignoring
// case.
func hasToken(list, tok string) bool {
	for f := range strings.FieldsSeq(list) {
		if strings.EqualFold(f, tok) {
			return true
		}
	}
	return false
}
