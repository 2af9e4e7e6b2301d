// Package feed holds the domain types every other package of feedmill
// speaks: a configured Source, a normalized Item, the HTTP Validators kept per
// source, and the persisted SourceState. It imports nothing outside the
// standard library and holds no behaviour beyond pure helpers on these types.
package feed

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// DefaultRetention is how many items per source a store keeps when the
// source does not say otherwise.
const DefaultRetention = 500

// Source is one configured source, as the pipeline sees it.
type Source struct {
	Name       string   // unique, stable: part of every item key
	URL        string   // absolute http(s) URL of the feed
	Title      string   // optional display title; the feed's own title otherwise
	Categories []string // user-given categories, used to select published feeds
	Schedule   string   // cron spec; empty means the config's default
	Retention  int      // newest items kept; 0 means DefaultRetention

	// FullText makes feedmill fetch each new item's article page and
	// publish the extracted article as the item's content.
	FullText bool
	// Content holds the selectors that say where the article is on a page,
	// for sites where readability guesses wrong.
	Content ContentRules
	// Rewrites are regular-expression replacements applied to the item's
	// title or content, in order, for the odd site.
	Rewrites []Rewrite
	// Priority decides whose copy of a story carried by several sources is
	// published: the highest wins, ties go to the copy seen first.
	Priority int
	// IgnoreCache makes refreshes follow the schedule alone, ignoring the
	// server's and the feed's hints (Cache-Control, Expires, <ttl>,
	// skipHours, skipDays, sy:updatePeriod) that otherwise set a lower
	// bound on the interval. Config: respect_cache: false.
	IgnoreCache bool

	// Type is what the source URL serves: TypeFeed, TypeHTML (a web page
	// whose listing becomes items) or TypeJSON (a JSON API); empty means
	// detected from the response.
	Type string
	// Items, when set, says where the items are on a TypeHTML page (CSS
	// selectors) or in a TypeJSON document (gjson paths); without it an
	// HTML listing is found automatically.
	Items *ItemRules
}

// Source types.
const (
	TypeFeed = "feed"
	TypeHTML = "html"
	TypeJSON = "json"
)

// ItemRules locate items in a page or a JSON document. For HTML each field
// is a goquery CSS selector relative to the Each element, optionally
// ending in @attribute to take an attribute instead of the text
// ("h2 a@href", "time@datetime"); an empty selector before @ means the
// Each element itself. For JSON each field is a gjson path, Each the path
// of the array of items and the others relative to one item.
type ItemRules struct {
	Each       string
	Title      string
	Link       string
	Date       string
	DateFormat string // Go time layout for Date; empty parses leniently
	Summary    string
	Content    string
	Image      string
	Author     string
}

// ContentRules locate the article on a page with CSS selectors (goquery).
type ContentRules struct {
	Select string   // the article element(s); empty lets readability find it
	Remove []string // elements removed from inside it
}

// IsZero reports whether there are no rules.
func (r ContentRules) IsZero() bool { return r.Select == "" && len(r.Remove) == 0 }

// Rewrite is one regular-expression replacement.
type Rewrite struct {
	Field   string // "title", "summary" or "content"
	Pattern string // Go regexp syntax (RE2)
	Replace string // replacement, with $1-style group references
}

// Rewrite fields.
const (
	FieldTitle   = "title"
	FieldSummary = "summary"
	FieldContent = "content"
)

// RulesKey is a stable fingerprint of everything that decides how an article
// page of the source is turned into content; a cached extraction made under
// other rules is stale.
func (s Source) RulesKey() string {
	h := sha256.New()
	fmt.Fprintf(h, "v1\x00%s\x00", s.Content.Select)
	for _, r := range s.Content.Remove {
		fmt.Fprintf(h, "remove\x00%s\x00", r)
	}
	for _, r := range s.Rewrites {
		if r.Field == FieldContent || r.Field == "" {
			fmt.Fprintf(h, "rewrite\x00%s\x00%s\x00", r.Pattern, r.Replace)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Keep returns how many items of the source a store keeps.
func (s Source) Keep() int {
	if s.Retention > 0 {
		return s.Retention
	}
	return DefaultRetention
}

// Validators are the HTTP cache validators of the last successful fetch,
// sent back on the next one as If-None-Match / If-Modified-Since.
type Validators struct {
	ETag         string
	LastModified string
}

// IsZero reports whether there is nothing to send.
func (v Validators) IsZero() bool { return v.ETag == "" && v.LastModified == "" }

// Person is an author.
type Person struct {
	Name  string
	Email string
	URI   string
}

// Enclosure is an attached media file (podcast audio, images).
type Enclosure struct {
	URL    string
	Type   string
	Length int64
}

// Item is one normalized article. The pair (Source, ID) identifies it for
// ever: a store upserts by it and publishers derive the public id from it.
type Item struct {
	Source string // name of the source that carried it
	ID     string // stable id inside the source; see ItemID

	Link    string // absolute URL of the article
	Title   string // plain text
	Summary string // sanitized HTML as published; may be empty
	Content string // sanitized HTML as published; may be empty

	// Canonical is the story's canonical URL: the rel=canonical of its
	// fetched page, else its link with tracking parameters removed and
	// scheme, host, port and fragment normalized. Items of different
	// sources with the same Canonical are one story.
	Canonical string

	// RawSummary and RawContent are Summary and Content before the
	// source's learned boilerplate was removed. The store keeps them so
	// that items can be cleaned again when what was learned changes.
	RawSummary string
	RawContent string

	Authors    []Person
	Categories []string
	Enclosures []Enclosure

	// Image is the item's lead picture, an absolute http(s) URL; may be
	// empty. It comes from the feed (media:thumbnail, media:content of an
	// image, an image enclosure, JSON Feed image) or from the article
	// page (a hero figure, og:image, JSON-LD image). Publishers write it
	// as JSON Feed image and media:thumbnail/media:content.
	Image string

	// Published and Updated are UTC. A normalizer leaves Published zero when
	// the feed gives no date; the store then uses the first-seen time and
	// keeps it across refreshes, so an undated item never jumps.
	Published time.Time
	Updated   time.Time

	// FirstSeen is set by the store when the item is first stored.
	FirstSeen time.Time
}

// Key is the identity of an item across the whole store.
type Key struct {
	Source string
	ID     string
}

// Key returns the item's identity.
func (it Item) Key() Key { return Key{Source: it.Source, ID: it.ID} }

// ItemID derives the stable id of an item inside its source: the feed's own
// guid/id when it has one, else its link, else a hash of its title and date.
// The same inputs always give the same id, so a reader never sees an item
// twice after a refresh or a restart. A caller with an item that has no
// title either may pass other text of the item (its summary) in its place,
// so that untitled items do not all share one id.
func ItemID(guid, link, title string, date time.Time) string {
	if g := strings.TrimSpace(guid); g != "" {
		return g
	}
	if l := strings.TrimSpace(link); l != "" {
		return l
	}
	h := sha256.New()
	h.Write([]byte(strings.TrimSpace(title)))
	h.Write([]byte{0})
	if !date.IsZero() {
		h.Write([]byte(date.UTC().Format(time.RFC3339)))
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))[:32]
}

// PublicID is the id under which the item is published (as an Atom id,
// which must be a valid IRI, and as the RSS guid and JSON Feed id). An id
// that already is a valid absolute URI for its scheme is kept, so a reader
// that also follows the original feed recognizes the item: an http(s) URL
// with a host, a tag: URI as RFC 4151 writes it, a urn:uuid: with a UUID
// and any other URN of RFC 2141 syntax. Any other id (a bare guid such as
// "1234", a malformed urn:uuid: or tag:, another scheme) is made into a URN
// that names the source, "urn:feedmill:SOURCE:ID" with every character
// a URN may not hold percent-encoded: stable, because it depends on the
// source name and the original id alone, and distinct across sources,
// where bare guids collide.
func (it Item) PublicID() string {
	if validIDURI(it.ID) {
		return it.ID
	}
	return "urn:feedmill:" + urnEscape(it.Source) + ":" + urnEscape(it.ID)
}

// Date is the item's publication date, falling back to its update and
// first-seen times.
func (it Item) Date() time.Time {
	switch {
	case !it.Published.IsZero():
		return it.Published
	case !it.Updated.IsZero():
		return it.Updated
	default:
		return it.FirstSeen
	}
}

// LastUpdate is the item's update time, falling back to Date.
func (it Item) LastUpdate() time.Time {
	if !it.Updated.IsZero() && it.Updated.After(it.Date()) {
		return it.Updated
	}
	return it.Date()
}

// The syntax of the ids PublicID keeps. urnNSS is RFC 2141's (the one feed
// validators check), tagURI RFC 4151's: an authority (a DNS name or an
// e-mail address), a date (YYYY, YYYY-MM or YYYY-MM-DD, checked apart),
// the specific part and an optional fragment.
var (
	urnRE  = regexp.MustCompile(`^(?i:urn):([A-Za-z0-9][A-Za-z0-9-]{1,31}):((?:[A-Za-z0-9()+,\-.:=@;$_!*']|%[0-9A-Fa-f]{2})+)$`)
	uuidRE = regexp.MustCompile(`^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$`)
	tagRE  = regexp.MustCompile(`^(?i:tag):((?:[A-Za-z0-9._%+-]+@)?[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*),(\d{4}(?:-\d{2}(?:-\d{2})?)?):(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*(?:#(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*)?$`)
)

// IRIForbidden are the characters that may not appear in an IRI
// reference; a link or an id holding one would make Atom invalid and
// confuse readers.
const IRIForbidden = " \t\r\n<>\"{}|\\^`"

// validIDURI reports whether s is an absolute URI that PublicID may
// publish as it is.
func validIDURI(s string) bool {
	if s == "" || strings.ContainsAny(s, IRIForbidden) || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return false
	}
	scheme, _, ok := strings.Cut(s, ":")
	if !ok {
		return false
	}
	switch strings.ToLower(scheme) {
	case "http", "https":
		u, err := url.Parse(s)
		return err == nil && u.Host != ""
	case "tag":
		m := tagRE.FindStringSubmatch(s)
		return m != nil && validTagDate(m[2])
	case "urn":
		m := urnRE.FindStringSubmatch(s)
		if m == nil {
			return false
		}
		if strings.EqualFold(m[1], "uuid") {
			return uuidRE.MatchString(m[2])
		}
		return true
	}
	return false
}

// validTagDate reports whether a tag: URI's date is a real one.
func validTagDate(d string) bool {
	layout := map[int]string{4: "2006", 7: "2006-01", 10: "2006-01-02"}[len(d)]
	if layout == "" {
		return false
	}
	_, err := time.Parse(layout, d)
	return err == nil
}

// urnEscape percent-encodes every byte of s that the specific part of a
// URN may not hold (RFC 2141).
func urnEscape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("()+,-.:=@;$_!*'", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// SourceState is what feedmill remembers about fetching a source between
// runs and restarts.
type SourceState struct {
	Name string
	// URL is the source URL the validators belong to: when the config
	// points a source elsewhere, the old validators must not be sent.
	URL        string
	Validators Validators

	LastFetch   time.Time // last attempt, successful or not
	NextFetch   time.Time // when the next attempt is due
	LastSuccess time.Time // last attempt that got a 200 or a 304
	// FirstSuccess is when the source was first fetched successfully: its
	// items dated before it are its backlog, of which published feeds
	// show only a few.
	FirstSuccess time.Time
	LastError    string // empty after a success
	LastStatus   int    // HTTP status of the last attempt, 0 if none
	// LastCause classes the last attempt's failure (see Cause): empty
	// after a success and for failures of no class.
	LastCause Cause

	FeedTitle string // the source feed's own title
	FeedLink  string // the source feed's own site link

	// Furniture fingerprints the learned boilerplate the source's stored
	// items were last cleaned with; when learning yields another one, the
	// stored items are cleaned again.
	Furniture string

	// Rules is the Source.RulesKey the source's items were last extracted
	// under; when the rules change, the feed is fetched in full again so
	// its items are re-extracted even if it did not change.
	Rules string

	// Failures counts consecutive failed attempts (0 after a success);
	// NextFetch then holds the backed-off time of the next attempt.
	Failures int
	// NextReason says why NextFetch is when it is: one of the Next*
	// values (the schedule, the server's cache hints, a backoff, a
	// Retry-After, a pause of the host); empty when not known.
	NextReason string
	// Moved is where a permanent redirect (301, 308) took the feed; it is
	// fetched there from then on, and the status page suggests updating
	// the config. Empty when the feed has not moved.
	Moved string
	// Discovered is the feed found by autodiscovery (<link rel=alternate>)
	// when the source URL is a web page rather than a feed.
	Discovered string
	// Gone is set when the server answered 410 Gone: the source is not
	// polled any more until its URL changes in the config.
	Gone bool

	// LastDuration, LastNew and LastUpdated describe the last attempt:
	// how long it took and how many items it added and changed. With
	// LastFetch, LastStatus and LastError they are one entry of the
	// source's fetch history, which the store appends to as it saves the
	// state (see Fetch).
	LastDuration time.Duration
	LastNew      int
	LastUpdated  int

	ItemCount int // filled by the store when listing states
}

// Fetch is one attempt in a source's fetch history.
type Fetch struct {
	At       time.Time
	Duration time.Duration
	Status   int    // HTTP status, 0 when no response arrived
	Err      string // empty on success
	New      int
	Updated  int
}

// Condition is how a source is doing, judged from its stored state.
type Condition int

// The conditions, in the order Condition tries them: the first that
// applies is the source's.
const (
	NeverFetched Condition = iota // no attempt yet, or none at the URL the source has now
	Gone                          // the feed answered 410 and is not polled any more
	Paused                        // the last answer was 429 and the wait the server asked for is not over
	Failing                       // the last attempt failed; retried with backoff
	Moved                         // fetched fine where a permanent redirect led: the config should say so
	Discovered                    // the URL is a page; fetched fine at the feed it advertises
	Healthy                       // fetched fine from the configured URL
)

// For returns what st says about the source as it is configured now, at
// url. A state recorded under another URL (the config pointed the source
// elsewhere since, or an old feedmill stored none) belongs to that URL:
// its validators, moves, failures, errors and times say nothing about the
// new one, which is fetched at once as if never fetched. Only the count
// of stored items stays: the items stay with the source.
func (st SourceState) For(url string) SourceState {
	if st.URL == url {
		return st
	}
	return SourceState{Name: st.Name, URL: url, ItemCount: st.ItemCount}
}

// Condition says how the source configured at url is doing at now, by
// what st recorded for that URL (see For). Views word the conditions, and
// may fold some together (a 429 pause is a failure too).
func (st SourceState) Condition(url string, now time.Time) Condition {
	switch {
	case st.URL != url || st.LastFetch.IsZero():
		return NeverFetched
	case st.Gone:
		return Gone
	case st.LastStatus == 429 && st.NextFetch.After(now): // 429 Too Many Requests
		return Paused
	case st.LastError != "":
		return Failing
	case st.Moved != "":
		return Moved
	case st.Discovered != "":
		return Discovered
	}
	return Healthy
}

// FetchURL is where the source's feed is fetched from: where it moved,
// else the feed discovered on its page, else the configured URL.
func (st SourceState) FetchURL(configured string) string {
	switch {
	case st.Moved != "":
		return st.Moved
	case st.Discovered != "":
		return st.Discovered
	}
	return configured
}

// Query selects stored items for publishing.
type Query struct {
	Sources []string // source names; empty selects none
	Limit   int      // at most this many, newest first; 0 means no limit
	// NoRaw leaves RawSummary and RawContent empty: publishing never
	// needs them, and they are as large as the published text.
	NoRaw bool
	// Offset skips this many items of the ordered selection before the
	// first one returned (with Limit, a page of it); negative is an error.
	Offset int
	// Oldest lists oldest first instead: the exact reverse of the
	// newest-first order, so Offset counts from the oldest item and a
	// page keeps its items as newer ones arrive.
	Oldest bool
}

// SaveResult counts what a store did with a batch of items.
type SaveResult struct {
	New     int
	Updated int
	Pruned  int
}

// Changed reports whether anything visible changed.
func (r SaveResult) Changed() bool { return r.New > 0 || r.Updated > 0 || r.Pruned > 0 }

// Article is a cached full-text extraction of an article page.
type Article struct {
	URL      string // the page requested (the item's link)
	RulesKey string // Source.RulesKey at extraction time

	FinalURL  string // after redirects
	Canonical string // the page's rel=canonical, absolute; may be empty
	Title     string // plain text
	Content   string // sanitized HTML of the article
	// Published, Updated and Author are what the page says about its
	// article (zero when nothing): they date and credit items taken from
	// web pages rather than from a feed.
	Published time.Time
	Updated   time.Time
	Author    string
	Image     string // the article's lead picture, absolute http(s); may be empty
	ItemHash  string // fingerprint of the feed item the page was fetched for
	Err       string // non-empty when fetching or extracting failed
	Fetched   time.Time
}

// HubSubscription is a subscriber of one of our published feeds, held by
// the built-in WebSub hub. The pair (Topic, Callback) identifies it.
type HubSubscription struct {
	Topic    string // URL of the published document subscribed to
	Callback string // where content is delivered
	// Secret keys the HMAC signature of each delivery; empty means
	// deliveries are not signed.
	Secret  string
	Lease   time.Duration // as granted, in whole seconds
	Expires time.Time     // the subscription is void from this instant on
	Created time.Time     // when it was first verified
	// Client names who asked for it, for the hub's per-client limits: the
	// IPv4 address, or the IPv6 /64 network, the request came from; empty
	// for subscriptions stored before clients were recorded.
	Client string
}

// CallbackHost is the host the subscription's deliveries go to, lower
// case and without a port, as the hub's per-callback-host limits count
// it; empty when the callback is not a URL with a host.
func (s HubSubscription) CallbackHost() string {
	return URLHost(s.Callback)
}

// URLHost returns the lower-case host name of rawURL, without port or
// brackets; empty when rawURL has none.
func URLHost(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}

// HubCounts are the unexpired subscriptions of the built-in hub that its
// limits weigh a new one against.
type HubCounts struct {
	Total        int // to every topic
	Client       int // asked for by one client (HubSubscription.Client)
	CallbackHost int // delivered to one host (HubSubscription.CallbackHost)
}

// SourceSubscription is our WebSub subscription to a source's hub; a source
// has at most one.
type SourceSubscription struct {
	Source string // the source's name
	Hub    string // the hub subscribed at
	Topic  string // the source's self URL
	// Secret keys the HMAC signature the hub must put on each push.
	Secret string
	State  string // one of the Subscription* states
	// Reason says why the hub denied the subscription, or why the last
	// request to it failed; empty otherwise.
	Reason string
	// Lease is the lease the hub granted once it verified the
	// subscription, the one requested before; whole seconds.
	Lease   time.Duration
	Expires time.Time // end of the granted lease; zero until verified
	Updated time.Time // last change of the subscription
}

// The states of a SourceSubscription.
const (
	SubscriptionRequested    = "requested"    // asked for, not yet verified
	SubscriptionActive       = "active"       // verified by the hub
	SubscriptionDenied       = "denied"       // refused by the hub
	SubscriptionUnsubscribed = "unsubscribed" // given up by us
)
