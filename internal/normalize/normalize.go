// Package normalize turns the body of a fetched feed (RSS 0.9x/1.0/2.0,
// Atom 0.3/1.0, JSON Feed 1.0/1.1) into de-duplicated feed.Items whose
// text is plain, whose HTML is sanitized and clean to read, whose URLs are
// absolute and free of tracking parameters, and whose dates are UTC and
// sane. It also extracts the article from an article page (Extract), for
// sources whose feeds carry summaries only.
//
// Parsing is gofeed's, article finding goquery's or readability's; this
// package decides everything they leave open: which id an item keeps for
// ever, which base a relative URL is resolved against, what survives
// sanitizing, which images and players are real, which URL a story is
// known by (Canonical), and which dates are believed. It also reads what a
// feed says about how often to fetch it (Hints), refuses, before any
// parser sees them, feeds shaped to exhaust memory (MaxDepth, MaxElements,
// MaxItems), and caps what one item may carry (MaxTitleBytes and the
// rest of limits.go). Nothing a feed carries comes out executable: not in HTML,
// not in URLs, and not in text taken for HTML by a careless reader.
package normalize

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"runtime"
	"sync"
	"time"

	"github.com/microcosm-cc/bluemonday"
	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/atom"
	gjson "github.com/mmcdole/gofeed/json"
	"github.com/mmcdole/gofeed/rss"
	nethtml "golang.org/x/net/html"

	"github.com/feedmill/feedmill/internal/feed"
)

// ErrNotAFeed reports a body that is not a feed in any format gofeed reads,
// typically an HTML page: the caller may try feed autodiscovery on it. It
// wraps gofeed.ErrFeedTypeNotDetected.
var ErrNotAFeed = fmt.Errorf("not a feed: %w", gofeed.ErrFeedTypeNotDetected)

// Normalizer parses and normalizes feeds.
// It is safe for concurrent use; the zero value is not usable, call New.
type Normalizer struct {
	log      *slog.Logger
	policy   *bluemonday.Policy // built once: building it compiles regexps
	tracking *trackingParams

	// Scratch buffers of sanitizeTree (*scratch), reused across items.
	bufs sync.Pool

	// Compiled rewrite patterns, by their source text. They come from the
	// configuration, so the cache stays as small as it is.
	patterns sync.Map // string -> *regexp.Regexp
}

// Options configure a Normalizer.
type Options struct {
	// Logger receives debug lines about what was dropped; nil discards.
	Logger *slog.Logger
	// TrackingParams are query parameter names stripped from links in
	// addition to the built-in list (utm_*, fbclid, gclid, ...). A trailing
	// '*' makes a name a prefix ("utm_*"); names are matched without case.
	TrackingParams []string
}

// New returns a Normalizer configured by opts.
func New(opts Options) *Normalizer {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Normalizer{log: logger, policy: newPolicy(), tracking: newTrackingParams(opts.TrackingParams)}
}

// Feed is a normalized feed.
type Feed struct {
	Title string // plain text; may be empty
	Link  string // the source site's page, absolute http(s); may be empty

	// Hub is the WebSub hub the feed advertises, and Self the URL it gives
	// for itself (the WebSub topic): from Atom <link rel="hub|self">, an RSS
	// channel's atom:link, or a JSON Feed's hubs (of type WebSub) and
	// feed_url. Both are absolute http(s) URLs, resolved against the URL
	// the feed was fetched from, or empty when the feed gives none; the
	// first one given wins. A caller wanting a topic for a feed without
	// Self uses the URL it fetched.
	Hub  string
	Self string

	// Hints are what the feed says about how often to fetch it (RSS
	// <ttl>, <skipHours>, <skipDays>, sy:updatePeriod); zero when it says
	// nothing usable.
	Hints Hints

	Items []feed.Item
	// Duplicates counts the items dropped for repeating the id of an
	// earlier item of the feed.
	Duplicates int

	// Trees holds the trees the items' contents were rendered from, by
	// Content, each the tree ParseFragment builds of it, so that a caller
	// reading the contents as trees (boilerplate learning) parses none of
	// them again. A content changed after Normalize finds none. The trees
	// are the caller's, to read or to change.
	Trees map[string]*nethtml.Node `json:"-"`
}

// Normalize parses body (any RSS 0.9x/1.0/2.0, Atom 0.3/1.0, JSON Feed
// 1.0/1.1, already converted to UTF-8) fetched from baseURL (the final URL
// after redirects) for src. now is the clock: dates more than a day after it
// are treated as missing, so the store clamps them to the item's first-seen
// time.
//
// Every returned item has Source set to src.Name and a non-empty ID unique
// in the feed (later duplicates are dropped and counted in Duplicates). An
// Atom Entry Document reads as a feed of its one entry. The feed's WebSub
// Hub and Self are set when it advertises them. Title is plain text; Summary
// and Content are sanitized, hygienic HTML (see sanitizeHTML) whose URLs are
// absolute http(s) or mailto; src.Rewrites have been applied to title,
// summary and content, in order; an item whose feed gives no summary gets
// one derived from its content (DeriveSummary). Link has lost its tracking
// parameters but kept its fragment, and Canonical is Canonical(Link), empty
// without a link. The ID is derived from the link as the feed gives it, so
// ids stored before tracking parameters were stripped stay the same. All
// dates are UTC. Image is the item's picture as the feed carries it
// (media:thumbnail, media:content, an image enclosure, JSON Feed image,
// itunes:image: see itemBuilder.image), an absolute http(s) URL without
// user information, or empty; never one taken from the content's HTML.
// Items keep the order of the feed. Hints holds the feed's
// advice on how often to fetch it. No field holds a character XML forbids:
// one in an XML body is dropped before parsing rather than failing the
// feed (fixXMLChars). Every item fits the caps of limits.go
// (MaxTitleBytes and the rest); what was cut is logged once, as a warning
// naming the source. A feed without items is not an error. A body that
// is no feed gives an error wrapping ErrNotAFeed, one nested deeper than
// MaxDepth or holding more than MaxElements elements or MaxItems items an
// error wrapping ErrTooComplex; every error names the source.
//
// A source of type json with item rules (src.Type == feed.TypeJSON and
// src.Items set) is no feed but a JSON API, which internal/scrape reads
// (scrape.Scraper's Normalize sends it there): given one, Normalize
// returns an error saying so. Without rules a json source must be a JSON
// Feed: another JSON document is an error saying so (gofeed would read any
// object as an empty feed). Every other source (no type, feed or html) is
// read as a feed: a web page gives ErrNotAFeed, and a caller that wants
// its items scrapes it (internal/scrape).
func (n *Normalizer) Normalize(src feed.Source, body []byte, baseURL string, now time.Time) (*Feed, error) {
	if src.Type == feed.TypeJSON {
		if src.Items != nil {
			return nil, fmt.Errorf("parse %s: a json source with items: rules is a JSON API, not a feed: read it with internal/scrape", src.Name)
		}
		if err := checkJSONFeed(body); err != nil {
			return nil, fmt.Errorf("parse %s: %w", src.Name, err)
		}
	}
	source := src.Name
	rewrites, err := n.compileRewrites(src)
	if err != nil {
		return nil, err
	}
	parsed, err := parse(body, n.log.With("source", source))
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", source, err)
	}

	base := publicBase(parseBase(baseURL))
	out := &Feed{Title: cleanText(parsed.Title)}
	out.Link = resolveURL(base, nil, parsed.Link, false)
	out.Hub, out.Self = webSubLinks(parsed.orig, body, base)
	out.Hints = feedHints(parsed.orig)

	// Relative URLs in items resolve against the feed's own site link first:
	// that is where the publisher's relative links point, whereas the feed's
	// URL may live elsewhere (a /feeds/ directory, a feed host). Without a
	// site link, the feed's URL is the base.
	itemBase := base
	if l := parseBase(out.Link); l != nil {
		itemBase = l
	}
	if out.Link == "" && base != nil {
		out.Link = (&url.URL{Scheme: base.Scheme, Host: base.Host, Path: "/"}).String()
	}

	b := itemBuilder{n: n, source: source, base: itemBase, now: now.UTC(), orig: parsed.orig, rewrites: rewrites}
	seen := make(map[string]bool, len(parsed.Items))
	out.Items = make([]feed.Item, 0, len(parsed.Items))
	for i, gi := range parsed.Items {
		if gi == nil {
			continue
		}
		it, tree := b.build(i, gi)
		if seen[it.ID] {
			n.log.Debug("duplicate item id dropped", "source", source, "id", it.ID)
			out.Duplicates++
			continue
		}
		seen[it.ID] = true
		out.Items = append(out.Items, it)
		if tree != nil && it.Content != "" {
			if out.Trees == nil {
				out.Trees = make(map[string]*nethtml.Node, len(parsed.Items))
			}
			// Rendering leaves the text of a removed element's two
			// sides in two nodes, which a parse of the content makes one.
			mergeText(tree)
			out.Trees[it.Content] = tree
		}
		// Building an item parses and sanitizes its HTML: in a daemon
		// that serves while it refreshes, let waiting requests in between
		// items rather than behind a whole feed.
		runtime.Gosched()
	}
	n.bound(source, out)
	return out, nil
}

// parse runs gofeed on body. gofeed detects the format from the first 4 KB
// only, so a feed whose root element follows a long comment, doctype or
// whitespace preamble is "not detected"; for those, parse finds the root
// itself and calls the format's own parser and translator. An Atom Entry
// Document, which gofeed does not read, is read as a feed of its one entry.
// The result always keeps the original format-specific feed (OriginalFeed),
// which holds what the universal gofeed.Feed loses (content types, author
// URIs, content_text). A body beyond the limits of checkShape is refused
// before gofeed sees it, with an error wrapping ErrTooComplex.
func parse(body []byte, log *slog.Logger) (*parsedFeed, error) {
	// The body is UTF-8, so a byte order mark says nothing; gofeed's JSON
	// parser chokes on one.
	body = fixDeclaredEncoding(bytes.TrimPrefix(body, utf8BOM))
	if !looksJSON(body) {
		// JSON has its own escapes, and encoding/json reads "\u0000" as
		// the character: what JSON carries is cleaned from the fields
		// (bound), not from the body.
		var fixed int
		if body, fixed = fixXMLChars(body); fixed > 0 {
			log.Debug("dropped characters XML forbids", "count", fixed)
		}
	}
	if err := checkShape(body); err != nil {
		if kind, _ := sniff(body); kind == kindUnknown {
			// A page too complex to be a feed is still a page: the caller
			// may look for the feeds it advertises.
			return nil, ErrNotAFeed
		}
		return nil, err
	}

	p := gofeed.NewParser()
	p.KeepOriginalFeed = true
	p.RSSTranslator = newRSSTranslator()
	f, err := guard(func() (*parsedFeed, error) {
		f, err := p.Parse(bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		return &parsedFeed{Feed: f, orig: f.OriginalFeed()}, nil
	})
	if err == nil || !errors.Is(err, gofeed.ErrFeedTypeNotDetected) {
		return f, err
	}

	kind, root := sniff(body)
	log.Debug("gofeed did not detect the feed type; sniffed the root", "root", kind.String())
	return guard(func() (*parsedFeed, error) {
		switch kind {
		case kindRSS:
			orig, err := (&rss.Parser{}).Parse(bytes.NewReader(body))
			if err != nil {
				return nil, err
			}
			return translate(newRSSTranslator(), orig)
		case kindAtom:
			orig, err := (&atom.Parser{}).Parse(bytes.NewReader(body))
			if err != nil {
				return nil, err
			}
			return translate(&gofeed.DefaultAtomTranslator{}, orig)
		case kindAtomEntry:
			orig, err := (&atom.Parser{}).Parse(bytes.NewReader(wrapEntry(body, root)))
			if err != nil {
				return nil, err
			}
			return translate(&gofeed.DefaultAtomTranslator{}, orig)
		case kindJSON:
			orig, err := (&gjson.Parser{}).Parse(bytes.NewReader(body))
			if err != nil {
				return nil, err
			}
			return translate(&gofeed.DefaultJSONTranslator{}, orig)
		}
		return nil, ErrNotAFeed
	})
}

// newRSSTranslator returns gofeed's RSS translator without its scan of every
// item's HTML for a first image (a full HTML parse per item), whose result
// feedmill does not use.
func newRSSTranslator() gofeed.Translator {
	return &gofeed.DefaultRSSTranslator{DisableContentImageScan: true}
}

// parsedFeed is gofeed's universal feed with the format-specific feed it was
// translated from (*rss.Feed, *atom.Feed or *json.Feed). gofeed translates
// items one to one and in order, so Items[i] comes from the original's i-th
// item.
type parsedFeed struct {
	*gofeed.Feed
	orig any
}

// translate converts a format-specific feed to the universal one, keeping the
// original beside it as gofeed.Parser does with KeepOriginalFeed.
func translate(t gofeed.Translator, orig any) (*parsedFeed, error) {
	f, err := t.Translate(orig)
	if err != nil {
		return nil, err
	}
	return &parsedFeed{Feed: f, orig: orig}, nil
}

// guard runs a gofeed call and turns a panic inside gofeed into an error: a
// parser bug triggered by one hostile feed must not take the daemon down.
// Only third-party parsing runs under it, so that a panic in this package's
// own code still fails its tests and fuzzing.
func guard(parse func() (*parsedFeed, error)) (f *parsedFeed, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("gofeed panicked: %v", r)
		}
	}()
	f, err = parse()
	if err == nil && (f == nil || f.Feed == nil) {
		err = errors.New("gofeed returned no feed")
	}
	return f, err
}

// publicBase returns the URL a feed was fetched from as a base for the
// URLs it carries: without user information, query or fragment. Those are
// the source's secrets (a password, an API key in the query), and a
// relative link, enclosure or image resolved against the full URL would
// publish them: "/post" inherits the user information, "#top" the query
// too. A relative reference with a path never needs the base's query.
func publicBase(u *url.URL) *url.URL {
	if u == nil {
		return nil
	}
	c := *u
	c.User, c.RawQuery, c.ForceQuery, c.Fragment, c.RawFragment = nil, "", false, "", ""
	return &c
}

// parseBase returns s as a base URL when it is an absolute http(s) URL, else
// nil: a base that is not absolute would leave every "resolved" URL
// relative.
func parseBase(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil
	}
	return u
}
