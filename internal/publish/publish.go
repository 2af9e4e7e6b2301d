// Package publish renders stored items into the feeds feedmill republishes:
// RSS 2.0, Atom 1.0 and JSON Feed 1.1 per configured feed, their RFC 5005
// archive pages, and OPML 2.0 lists of the sources (all of them, and per
// feed).
//
// A feed carries each story once. The copies several sources carry of one
// article (same id, link or canonical URL, or with FeedSpec.Dedupe "title"
// a near-identical title; with "none" nothing) are merged: the copy of the source with the
// highest priority is shown, under the id of the copy seen first, and the
// other sources are named in a footer of its content and in the JSON
// Feed's "_feedmill" extension.
//
// Serving is reading a snapshot: Rebuild renders every feed once into an
// immutable Snapshot (body, gzip body, ETag, Last-Modified) and swaps the
// whole set in atomically, so a request for a current document never
// touches the store or the renderer; archive pages and the sources' own
// feeds are rendered on first request and cached (see SourceSnapshot). Neither depends on how many items the store holds:
// a Rebuild reads a window of each feed's newest items and counts the
// rest, and an archive page reads its own items only. The bytes of a feed
// depend only on its items, the source metadata and the number of its
// archive pages, and on the wall
// clock only through FeedSpec.MaxAge (see Publisher.Expires), so an
// unchanged feed keeps its ETag across rebuilds and restarts and readers
// get their 304s.
package publish

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"log/slog"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
)

// Format is one of the published feed formats.
type Format int

// The published formats. Their order is the order of Snapshot arrays.
const (
	RSS Format = iota
	Atom
	JSON
	numFormats
)

var formatNames = [numFormats]string{RSS: "rss", Atom: "atom", JSON: "json"}

// ParseFormat maps a file extension ("rss", "atom" or "json", with or
// without a leading dot) to its Format. It reports false for anything else,
// including other letter cases, so one feed has exactly one URL per format.
func ParseFormat(ext string) (Format, bool) {
	ext = strings.TrimPrefix(ext, ".")
	for f, name := range formatNames {
		if ext == name {
			return Format(f), true
		}
	}
	return 0, false
}

// String returns the format's extension: "rss", "atom" or "json".
func (f Format) String() string {
	if f < 0 || f >= numFormats {
		return fmt.Sprintf("Format(%d)", int(f))
	}
	return formatNames[f]
}

// ContentType returns the media type the format is served with.
func (f Format) ContentType() string {
	switch f {
	case RSS:
		return "application/rss+xml; charset=utf-8"
	case Atom:
		return "application/atom+xml; charset=utf-8"
	case JSON:
		return "application/feed+json; charset=utf-8"
	}
	return "application/octet-stream"
}

// OPMLContentType is the media type of the OPML snapshot.
const OPMLContentType = "text/x-opml; charset=utf-8"

// FeedURL returns the public URL of a published feed: baseURL (with or
// without a trailing slash) + "/feeds/" + name + ".rss", ".atom" or ".json".
func FeedURL(baseURL, name string, f Format) string {
	return strings.TrimRight(baseURL, "/") + "/feeds/" + url.PathEscape(name) + "." + f.String()
}

// DefaultLimit is how many items a published feed carries when its spec
// gives no positive Limit.
const DefaultLimit = 50

// How a published feed recognizes one story carried several times
// (FeedSpec.Dedupe).
const (
	// DedupeLink merges items with the same public id, link or canonical
	// URL (see groupStories for what makes two links the same).
	DedupeLink = "link"
	// DedupeTitle also merges items of different sources whose titles are
	// near-identical and whose dates lie within DedupeWindow of each other.
	DedupeTitle = "title"
	// DedupeNone merges nothing: every stored item is its own entry. "off"
	// is taken for it.
	DedupeNone = "none"
)

// DefaultDedupeWindow is the DedupeWindow of a feed that gives none.
const DefaultDedupeWindow = 48 * time.Hour

// FeedSpec is one published feed.
//
// The items of its current document are chosen in this order: the
// patterns select among the newest stored items of its sources; the
// survivors are grouped into stories, newest first; the current document
// then takes, of the stories younger than MaxAge, at most Backfill of each
// source's backlog, at most PerSourceLimit per source and at most Limit in
// all. Its archive pages are cut from all its stored items instead (see
// Archive).
type FeedSpec struct {
	Name        string   // URL name: /feeds/NAME.rss; unique
	Title       string   // feed title
	Description string   // subtitle; RSS falls back to the title
	Sources     []string // source names, already resolved from categories
	Limit       int      // newest items published; <= 0 means DefaultLimit

	// Dedupe is DedupeLink (also when empty), DedupeTitle or DedupeNone.
	Dedupe string
	// DedupeWindow bounds, for DedupeTitle, how far apart the dates of two
	// items may be for their titles to make them one story; <= 0 means
	// DefaultDedupeWindow.
	DedupeWindow time.Duration

	// Include, when not empty, keeps only the items that one of its
	// patterns matches; Exclude drops the items that any of its patterns
	// matches. A pattern is matched against the item's title, the plain
	// text of its summary and of its content, each author's name and each
	// of the item's own categories, one at a time. The caller compiles
	// them (and decides their case sensitivity); they are shared, not
	// copied.
	Include, Exclude []*regexp.Regexp

	// MaxAge, when positive, leaves out of the current document the
	// stories whose shown copy is MaxAge old or older (by its Date). The
	// archive pages keep them: they hold every stored item.
	MaxAge time.Duration
	// PerSourceLimit, when positive, is how many stories of each source
	// (the shown copy's) the current document carries at most, the newest.
	PerSourceLimit int
	// Backfill is how many of a source's items dated before its first
	// successful fetch (its backlog, SourceState.FirstSuccess) the feed
	// publishes: the newest of them. A negative value publishes all of
	// them. Zero publishes none: callers pass their default (feedmill's is
	// 10) explicitly.
	Backfill int
}

func (s FeedSpec) limit() int {
	if s.Limit > 0 {
		return s.Limit
	}
	return DefaultLimit
}

func (s FeedSpec) dedupeWindow() time.Duration {
	if s.DedupeWindow > 0 {
		return s.DedupeWindow
	}
	return DefaultDedupeWindow
}

// Options configures a Publisher.
type Options struct {
	BaseURL string       // absolute public URL of the server, e.g. https://news.example.org
	Version string       // feedmill version, written into the generator elements
	Logger  *slog.Logger // nil discards

	// Hub is the WebSub hub every document advertises (Atom link
	// rel="hub", RSS atom:link rel="hub", JSON Feed hubs); "" advertises
	// none.
	Hub string
	// Now is the clock for MaxAge and the OPML dates; nil means time.Now.
	Now func() time.Time
	// Redactor decides what is secret in a source's URL: the documents
	// name each source by its URL without user information and without
	// secret query parameters (Redactor.Public), so that no password or
	// key is published and the names stay the same when a secret
	// rotates. The zero value knows the default secret parameter names.
	Redactor feed.Redactor
	// OnPublish, when not nil, is called at the end of every Rebuild but
	// the first with the current documents whose bytes changed (the first
	// Rebuild is a start, not new content). It is called synchronously,
	// in Rebuild order, after the new snapshots are visible to Snapshot
	// and before Rebuild returns; it must not call Rebuild and should hand
	// slow work (deliveries) off rather than do it.
	OnPublish func(changed []Change)
	// Subscribed, when not nil, lists the WebSub topics that have
	// subscribers (the built-in hub's). The sources' own feeds are
	// rendered on request, not by Rebuild (see SourceSnapshot); at the end
	// of every Rebuild those of them listed here are rendered and passed
	// to OnPublish when they changed since they were last delivered. Nil
	// renders none of them at a Rebuild and reports none of them changed.
	Subscribed func(ctx context.Context) ([]string, error)
}

// publicSources copies sources with their URLs as they may be published.
// The publisher never fetches: it has no use for the secrets.
func publicSources(sources []feed.Source, secrets feed.Redactor) []feed.Source {
	out := append([]feed.Source(nil), sources...)
	for i := range out {
		out[i].URL = secrets.Public(out[i].URL)
	}
	return out
}

// Change is a current document that a Rebuild changed.
type Change struct {
	Name     string // the published feed, or the source when Source
	Source   bool   // a source's own feed (SourceFeedURL)
	Format   Format
	URL      string // the document's public URL (its WebSub topic)
	Snapshot *Snapshot
}

// Snapshot is one rendered document. It is immutable: callers share it and
// must not modify its slices.
type Snapshot struct {
	Body         []byte
	Gzip         []byte    // Body gzipped at best compression
	ETag         string    // strong, quoted: a hash of Body
	LastModified time.Time // UTC, whole seconds
	ContentType  string
	Items        int // number of items (outlines for OPML)
	// Entries are the items the feed document holds (of each story, the
	// copy shown), newest first, for the HTML view of the feed. They are
	// shared: do not modify them.
	Entries []feed.Item

	// memo holds what consumers derive from the snapshot once and reuse
	// for as long as it is served (see Memo): the server's response
	// headers and metric series.
	memo atomic.Pointer[memoEntry]
}

// itemStore is what the publisher needs from a store. Items must honour
// every field of feed.Query (the order, Offset and Oldest define the
// archive pages), and CountItems must count what Items would list.
type itemStore interface {
	Items(ctx context.Context, q feed.Query) ([]feed.Item, error)
	CountItems(ctx context.Context, sources []string) (int, error)
	States(ctx context.Context) ([]feed.SourceState, error)
}

// Publisher renders the configured feeds and holds their current snapshots.
// Its methods are safe for concurrent use.
type Publisher struct {
	base      string // BaseURL without a trailing slash
	version   string
	hub       string
	log       *slog.Logger
	specs     []FeedSpec
	sources   []feed.Source  // in configuration order, for the OPML
	prio      map[string]int // source name -> Priority
	store     itemStore
	now       func() time.Time
	onPublish func([]Change)
	seed      maphash.Seed // for fingerprints

	mu      sync.Mutex // serializes Rebuild
	rebuilt bool       // a Rebuild has published; guarded by mu
	cur     atomic.Pointer[snapshotSet]

	archives archiveCache

	// The sources' own feeds: rendered on request into sourceDocs; topics
	// maps every current document's public URL to what it names;
	// subscribed and delivered decide which of them a Rebuild reports.
	sourceDocs *sourceCache
	topics     map[string]topic
	subscribed func(ctx context.Context) ([]string, error)
	delivered  deliveredETags
	// onSourceRender, when not nil, is told of every rendering of a
	// source's own feed (for tests).
	onSourceRender func(name string, f Format)
}

// snapshotSet is everything one Rebuild published; it is never modified
// after being stored.
type snapshotSet struct {
	feeds   map[string]*feedState
	opml    *Snapshot
	srcs    map[string]sourceInfo // as of that Rebuild, for archive pages and the sources' own feeds
	expires time.Time             // earliest Expires of the feeds
	// gen counts the Rebuilds: a source's own feed rendered under an
	// older one is stale (see SourceSnapshot).
	gen uint64
}

// feedState is one published feed as a Rebuild left it. A Rebuild that
// changes nothing of a feed keeps its feedState (the same pointer), and
// with it the feed's cached archive pages.
type feedState struct {
	spec    FeedSpec
	snaps   [numFormats]*Snapshot
	opml    *Snapshot
	stored  int       // stored items of its sources (N)
	pages   int       // archive pages (K, see archivePages)
	fp      uint64    // fingerprint of the window read, N and the sources' attribution
	expires time.Time // when a story of the current document ages out; zero if none
}

// New returns a Publisher for the given feeds and sources. Specs and sources
// are expected to be validated by the configuration (unique names, absolute
// URLs); a spec repeating an earlier name is ignored with a warning, an
// unknown Dedupe is taken for DedupeLink with a warning, and nil patterns
// are dropped. Nothing is rendered until the first Rebuild.
func New(opts Options, specs []FeedSpec, sources []feed.Source, st itemStore) *Publisher {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	p := &Publisher{
		base:      strings.TrimRight(opts.BaseURL, "/"),
		version:   opts.Version,
		hub:       strings.TrimSpace(opts.Hub),
		log:       log,
		sources:   publicSources(sources, opts.Redactor),
		prio:      make(map[string]int, len(sources)),
		store:     st,
		now:       now,
		onPublish: opts.OnPublish,
		seed:      maphash.MakeSeed(),
		archives:  newArchiveCache(archiveCacheSize),

		sourceDocs: newSourceCache(sourceCacheEntries, sourceCacheBytes, sourceRenders),
		subscribed: opts.Subscribed,
	}
	for _, s := range sources {
		p.prio[s.Name] = s.Priority
	}
	seen := make(map[string]bool, len(specs))
	for _, s := range specs {
		if seen[s.Name] {
			log.Warn("duplicate published feed ignored", "feed", s.Name)
			continue
		}
		seen[s.Name] = true
		switch s.Dedupe {
		case DedupeLink, DedupeTitle, DedupeNone:
		case "":
			s.Dedupe = DedupeLink
		case "off":
			s.Dedupe = DedupeNone
		default:
			log.Warn("unknown dedupe mode, using link", "feed", s.Name, "dedupe", s.Dedupe)
			s.Dedupe = DedupeLink
		}
		s.Sources = uniqueNames(s.Sources)
		s.Include = slices.DeleteFunc(slices.Clone(s.Include), isNilRegexp)
		s.Exclude = slices.DeleteFunc(slices.Clone(s.Exclude), isNilRegexp)
		p.specs = append(p.specs, s)
	}
	p.topics = topicMap(p.base, p.specs, p.sources)
	return p
}

func isNilRegexp(re *regexp.Regexp) bool { return re == nil }

// uniqueNames returns names without repeats, in their first order.
func uniqueNames(names []string) []string {
	out := make([]string, 0, len(names))
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// Feeds returns the published feeds, in configuration order.
func (p *Publisher) Feeds() []FeedSpec {
	out := make([]FeedSpec, len(p.specs))
	for i, s := range p.specs {
		s.Sources = slices.Clone(s.Sources)
		s.Include = slices.Clone(s.Include)
		s.Exclude = slices.Clone(s.Exclude)
		out[i] = s
	}
	return out
}

// Snapshot returns the current rendering of the named feed in format f. It
// reports false for an unknown feed or format and before the first
// Rebuild that rendered the feed.
func (p *Publisher) Snapshot(name string, f Format) (*Snapshot, bool) {
	set := p.cur.Load()
	if set == nil || f < 0 || f >= numFormats {
		return nil, false
	}
	fs, ok := set.feeds[name]
	if !ok {
		return nil, false
	}
	return fs.snaps[f], true
}

// OPML returns the current OPML 2.0 list of all sources, or nil before the
// first successful Rebuild. Its LastModified is the time of the Rebuild that
// first produced these bytes, since a source list has no date of its own.
func (p *Publisher) OPML() *Snapshot {
	set := p.cur.Load()
	if set == nil {
		return nil
	}
	return set.opml
}

// FeedOPML returns the OPML 2.0 list of the sources of the named feed, in
// configuration order, with the outlines of OPML. It reports false for an
// unknown feed and before the first Rebuild that rendered it.
func (p *Publisher) FeedOPML(name string) (*Snapshot, bool) {
	set := p.cur.Load()
	if set == nil {
		return nil, false
	}
	fs, ok := set.feeds[name]
	if !ok {
		return nil, false
	}
	return fs.opml, true
}

// Expires returns the earliest moment a story of a current document ages
// out of its feed (see FeedSpec.MaxAge), or the zero time when none will.
// Nothing else changes the documents while the store does not, so the
// caller should Rebuild at that moment.
func (p *Publisher) Expires() time.Time {
	set := p.cur.Load()
	if set == nil {
		return time.Time{}
	}
	return set.expires
}

// Rebuild renders every feed and the OPML lists from the store and
// publishes them together. Concurrent calls are serialized. A snapshot
// whose bytes did not change is kept as it is (same pointer, same ETag and
// Last-Modified).
//
// Each feed reads a window of the newest items of its sources (see
// readFeed) and counts the others, so the cost of a Rebuild depends on the
// feeds' limits, not on how much the store holds; a feed whose patterns or
// cuts drop most items reads a wider window, up to all its items.
//
// When the source states cannot be read nothing changes. When the items
// cannot be read, or one feed fails to render, the feeds concerned keep
// their previous snapshots while the others are updated; the error names
// every feed that failed.
func (p *Publisher) Rebuild(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()

	start := time.Now()
	states, err := p.store.States(ctx)
	if err != nil {
		return fmt.Errorf("publish: read source states: %w", err)
	}
	srcs := p.sourceInfos(states)
	now := p.now()
	prev := p.cur.Load()
	next := &snapshotSet{feeds: make(map[string]*feedState, len(p.specs)), srcs: srcs, gen: 1}
	if prev != nil {
		next.gen = prev.gen + 1
	}

	var errs []error
	var changes []Change
	for _, spec := range p.specs {
		var old *feedState
		if prev != nil {
			old = prev.feeds[spec.Name]
		}
		v, err := p.readFeed(ctx, spec, srcs, now)
		if err == nil {
			err = ctx.Err()
		}
		var fs *feedState
		if err == nil {
			fs, err = p.buildFeed(spec, v, srcs, old, now)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("publish %s: %w", spec.Name, err))
			if old != nil {
				next.feeds[spec.Name] = old
			}
			continue
		}
		next.feeds[spec.Name] = fs
		if !p.rebuilt {
			continue
		}
		for f := range numFormats {
			if old == nil || fs.snaps[f] != old.snaps[f] {
				changes = append(changes, Change{Name: spec.Name, Format: f, URL: FeedURL(p.base, spec.Name, f), Snapshot: fs.snaps[f]})
			}
		}
	}
	for _, fs := range next.feeds {
		if !fs.expires.IsZero() && (next.expires.IsZero() || fs.expires.Before(next.expires)) {
			next.expires = fs.expires
		}
	}

	var oldOPML *Snapshot
	if prev != nil {
		oldOPML = prev.opml
	}
	next.opml, err = p.opml(allSourcesTitle, p.sources, srcs, oldOPML, now)
	if err != nil {
		errs = append(errs, fmt.Errorf("publish opml: %w", err))
		next.opml = oldOPML
	}

	p.cur.Store(next)
	first := !p.rebuilt
	p.rebuilt = true
	p.archives.retain(next)
	changes = append(changes, p.sourceChanges(ctx, next, first)...)
	p.log.Debug("feeds rebuilt", "feeds", len(p.specs), "changed", len(changes),
		"failed", len(errs), "duration", time.Since(start))
	if len(changes) > 0 && p.onPublish != nil {
		p.onPublish(changes)
	}
	return errors.Join(errs...)
}

// The window of newest items a Rebuild reads of a feed is at least
// windowMin items and windowFactor times its limit: room for the copies
// that story grouping merges and the items the patterns and cuts drop.
const (
	windowFactor = 4
	windowMin    = 200
)

// feedView is what a Rebuild reads of one feed.
type feedView struct {
	stored  int       // stored items of its sources (N)
	pages   int       // archive pages (K, see archivePages)
	window  []story   // the stories of the newest items read, newest first
	stories []story   // of them, the current document's
	expires time.Time // see current
}

// readFeed reads the newest items of a feed's sources, W = max(4×limit,
// 200) of them, and computes its current document from them as from all
// of them, but for one edge case: a story with copies beyond the window's
// old edge is grouped from the copies inside it (its id is then the
// first-seen inside copy's). When that leaves the document short of the limit
// and more items are stored, it doubles W and reads again: a selective
// include pattern costs more reads, never a wrong document.
func (p *Publisher) readFeed(ctx context.Context, spec FeedSpec, srcs map[string]sourceInfo, now time.Time) (feedView, error) {
	if len(spec.Sources) == 0 {
		return feedView{}, nil
	}
	n, err := p.store.CountItems(ctx, spec.Sources)
	if err != nil {
		return feedView{}, fmt.Errorf("count items: %w", err)
	}
	limit := spec.limit()
	for w := max(windowFactor*limit, windowMin); ; w *= 2 {
		items, err := p.store.Items(ctx, feed.Query{Sources: spec.Sources, Limit: w, NoRaw: true})
		if err != nil {
			return feedView{}, fmt.Errorf("read items: %w", err)
		}
		window := p.history(spec, items)
		stories, expires := current(spec, window, srcs, now)
		// w >= n also ends the loop when items arrived since the count:
		// the next Rebuild sees them.
		if len(stories) >= limit || len(items) < w || w >= n {
			return feedView{stored: n, pages: archivePages(n, limit, items, window, stories), window: window, stories: stories, expires: expires}, nil
		}
	}
}

// archivePages returns how many archive pages a feed of n stored items
// has (K, see Archive): its complete pages of limit items, and one more,
// not yet complete, when one of the newest n mod limit items (the ones no
// complete page holds) is selected by the feed's patterns but left out of
// its current document (by backfill, max_age, per_source_limit or the
// limit), so that every item the feed selects is reachable. items are the
// newest stored items, newest first; window their stories and cur the
// current document's.
func archivePages(n, limit int, items []feed.Item, window, cur []story) int {
	pages, tail := n/limit, n%limit
	if tail == 0 || len(items) < tail {
		return pages
	}
	shown := make(map[string]bool, len(cur))
	for _, s := range cur {
		shown[s.id] = true
	}
	storyOf := make(map[feed.Key]string)
	for _, s := range window {
		for _, k := range s.members {
			storyOf[k] = s.id
		}
	}
	for _, it := range items[:tail] {
		if id, selected := storyOf[it.Key()]; selected && !shown[id] {
			return pages + 1
		}
	}
	return pages
}

// buildFeed renders one feed: its current document in every format and
// its OPML. It returns old itself when nothing of the feed changed.
func (p *Publisher) buildFeed(spec FeedSpec, v feedView, srcs map[string]sourceInfo, old *feedState, now time.Time) (*feedState, error) {
	stories := v.stories
	pages := v.pages
	d := p.document(spec, stories, srcs)
	d.hub, d.pages = p.hub, pages
	shown := make([]feed.Item, len(stories))
	for i, s := range stories {
		shown[i] = s.shown
	}

	fs := &feedState{spec: spec, stored: v.stored, pages: pages, expires: v.expires}
	same, err := renderSnapshots(d, shown, old, fs)
	if err != nil {
		return nil, err
	}
	same = same && old != nil

	var oldOPML *Snapshot
	if old != nil {
		oldOPML = old.opml
	}
	title := firstNonBlank(spec.Title, spec.Name)
	if fs.opml, err = p.opml(title, p.sourcesOf(spec), srcs, oldOPML, now); err != nil {
		return nil, fmt.Errorf("opml: %w", err)
	}

	infos := make([]sourceInfo, len(spec.Sources))
	for i, name := range spec.Sources {
		infos[i] = source(srcs, name)
	}
	// Keeping old keeps its cached archive pages: only when neither N nor
	// anything of the window read (a superset of the current document)
	// nor the sources' attribution changed. An edit to an item older than
	// the window alone is not seen until one of those changes.
	fs.fp = fingerprint(p.seed, v.stored, v.window, infos)
	if same && fs.opml == old.opml && fs.pages == old.pages && fs.fp == old.fp && fs.expires.Equal(old.expires) {
		return old, nil
	}
	return fs, nil
}

// renderSnapshots renders d in every format into fs.snaps, keeping each of
// old's snapshots whose bytes did not change (same ETag, same Last-Modified);
// shown are the items of d, recorded on the snapshots that are new. It
// reports whether every snapshot was kept.
func renderSnapshots(d *document, shown []feed.Item, old, fs *feedState) (bool, error) {
	same := true
	for f := range numFormats {
		body, err := render(d, f)
		if err != nil {
			return false, fmt.Errorf("render %s: %w", f, err)
		}
		var o *Snapshot
		if old != nil {
			o = old.snaps[f]
		}
		s, err := reuseOrNew(o, body, d.updated, f.ContentType(), len(d.entries))
		if err != nil {
			return false, fmt.Errorf("%s: %w", f, err)
		}
		if s != o {
			s.Entries = shown
			same = false
		}
		fs.snaps[f] = s
	}
	return same, nil
}

// sourcesOf returns the configured sources of a feed, in configuration
// order.
func (p *Publisher) sourcesOf(spec FeedSpec) []feed.Source {
	in := make(map[string]bool, len(spec.Sources))
	for _, name := range spec.Sources {
		in[name] = true
	}
	var out []feed.Source
	for _, s := range p.sources {
		if in[s.Name] {
			out = append(out, s)
		}
	}
	return out
}

// opml renders an OPML list, keeping old when its bytes did not change.
func (p *Publisher) opml(title string, sources []feed.Source, srcs map[string]sourceInfo, old *Snapshot, now time.Time) (*Snapshot, error) {
	body, err := renderOPML(title, p.base, sources, srcs)
	if err != nil {
		return nil, err
	}
	return reuseOrNew(old, body, now, OPMLContentType, len(sources))
}

// priority returns the configured priority of a source; a source no longer
// configured has the default, 0.
func (p *Publisher) priority(source string) int { return p.prio[source] }

func render(d *document, f Format) ([]byte, error) {
	switch f {
	case RSS:
		return renderRSS(d)
	case Atom:
		return renderAtom(d)
	case JSON:
		return renderJSON(d)
	}
	return nil, fmt.Errorf("unknown format %d", int(f))
}

// reuseOrNew returns old when it already holds body, so an unchanged
// document keeps its identity, ETag and Last-Modified; else a new Snapshot.
func reuseOrNew(old *Snapshot, body []byte, modified time.Time, contentType string, items int) (*Snapshot, error) {
	if old != nil && bytes.Equal(old.Body, body) {
		return old, nil
	}
	gz, err := gzipBytes(body)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	return &Snapshot{
		Body:         body,
		Gzip:         gz,
		ETag:         `"` + hex.EncodeToString(sum[:16]) + `"`,
		LastModified: modified.UTC().Truncate(time.Second),
		ContentType:  contentType,
		Items:        items,
	}, nil
}

// gzipBytes compresses body at best compression. The gzip header carries no
// name and no time, so equal bodies give equal gzip bytes.
func gzipBytes(body []byte) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(body) / 4)
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	if _, err := io.Copy(zw, bytes.NewReader(body)); err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	return buf.Bytes(), nil
}
