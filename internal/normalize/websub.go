package normalize

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"

	"github.com/mmcdole/gofeed/atom"
	gjson "github.com/mmcdole/gofeed/json"
	"github.com/mmcdole/gofeed/rss"
)

// ianaRelations is the prefix that makes a registered link relation name a
// URI; RFC 4287 §4.2.7.2 makes "hub" and this prefix + "hub" the same.
const ianaRelations = "http://www.iana.org/assignments/relation/"

// isRel reports whether a link's rel attribute names want. A rel is one
// relation in Atom, but HTML habits put several space-separated ones there,
// and registered names are matched without case.
func isRel(attr, want string) bool {
	for r := range strings.FieldsSeq(attr) {
		r = strings.TrimPrefix(strings.ToLower(r), ianaRelations)
		if r == want {
			return true
		}
	}
	return false
}

// webSubLinks returns the WebSub hub and self URL the feed advertises (see
// Feed.Hub), resolved against base, the URL the feed was fetched from.
// body is the document, for what gofeed does not read (JSON Feed hubs).
func webSubLinks(orig any, body []byte, base *url.URL) (hub, self string) {
	// take keeps the first usable URL of each kind.
	take := func(rel, href string) {
		switch {
		case hub == "" && isRel(rel, "hub"):
			hub = resolveURL(base, nil, href, false)
		case self == "" && isRel(rel, "self"):
			self = resolveURL(base, nil, href, false)
		}
	}
	switch f := orig.(type) {
	case *atom.Feed:
		for _, l := range f.Links {
			if l != nil {
				take(l.Rel, l.Href)
			}
		}
	case *rss.Feed:
		// gofeed files extension elements under a canonical prefix for
		// namespaces it knows, whatever prefix the feed binds: atom:link,
		// atom10:link and a default-namespaced Atom <link> all land under
		// "atom". The other keys catch undeclared prefixes gofeed keeps as
		// they are, as its own translator does.
		for _, prefix := range []string{"atom", "atom10", "atom03"} {
			for _, l := range f.Extensions[prefix]["link"] {
				take(l.Attrs["rel"], l.Attrs["href"])
			}
		}
	case *gjson.Feed:
		hub = jsonHub(body, base)
		self = resolveURL(base, nil, f.FeedURL, false)
	}
	return hub, self
}

// jsonHubs is the part of a JSON Feed that gofeed does not read.
type jsonHubs struct {
	Hubs []struct {
		Type string `json:"type"`
		URL  string `json:"url"`
	} `json:"hubs"`
}

// jsonHub returns the first WebSub hub of a JSON Feed's hubs, resolved
// against base, or "". A malformed hubs member (not an array, an entry with
// a number for a URL) is no hub; the rest of the feed was already read by
// gofeed.
func jsonHub(body []byte, base *url.URL) string {
	// Most JSON Feeds name no hub, and a second decode of the whole
	// document costs an eighth of the parse: a feed without the member's
	// name, as JSON Feed spells it, has none (one spelling it in another
	// case or with escapes, which encoding/json would match, is out of the
	// spec and its hub is not read).
	if !bytes.Contains(body, []byte(`"hubs"`)) {
		return ""
	}
	var doc jsonHubs
	// encoding/json fills what it can before it reports a type mismatch,
	// so the error is ignored: what decoded is what there is.
	_ = json.Unmarshal(bytes.TrimPrefix(body, utf8BOM), &doc)
	for _, h := range doc.Hubs {
		// "PubSubHubbub" is WebSub's former name; the protocol is the same.
		t := strings.TrimSpace(h.Type)
		if !strings.EqualFold(t, "WebSub") && !strings.EqualFold(t, "PubSubHubbub") {
			continue
		}
		if u := resolveURL(base, nil, h.URL, false); u != "" {
			return u
		}
	}
	return ""
}
