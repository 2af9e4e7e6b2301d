// Package publish renders stored items into the feeds feedmill republishes:
// RSS 2.0, Atom 1.0 and JSON Feed 1.1 per configured feed, plus an OPML 2.0
// list of the sources.
//
// A feed carries each story once. The copies several sources carry of one
// article (same id, link or canonical URL, or with FeedSpec.Dedupe "title"
// a near-identical title) are merged: the copy of the source with the
// highest priority is shown, under the id of the copy seen first, and the
// other sources are named in a footer of its content and in the JSON
// Feed's "_feedmill" extension.
//
// Serving is reading a snapshot: Rebuild renders every feed once into an
// immutable Snapshot (body, gzip body, ETag, Last-Modified) and swaps the
// whole set in atomically, so a request never touches the store or the
// renderer. The bytes of a feed depend only on its items and the source
// metadata, never on the wall clock, so an unchanged feed keeps its ETag
// across rebuilds and restarts and readers get their 304s.
package publish

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
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

// How many times a feed's limit is asked of the store. Grouping collapses
// the copies of a story into one entry, and a feed should still come out
// full: a story has at most one copy per source in practice, so a feed of k
// sources needs up to k times its limit when every source carries every
// story. The factor is the number of sources, at least minQueryFactor (which
// leaves room for a source repeating its own items) and at most
// maxQueryFactor, which bounds what one rebuild reads (500 items for a
// default feed). A feed of many sources that all carry every story may then
// come out short of its limit; it is never wrong.
const (
	minQueryFactor = 3
	maxQueryFactor = 10
)

// How a published feed recognizes one story carried several times
// (FeedSpec.Dedupe).
const (
	// DedupeLink merges items with the same public id, link or canonical
	// URL.
	DedupeLink = "link"
	// DedupeTitle also merges items of different sources whose titles are
	// near-identical and whose dates lie within DedupeWindow of each other.
	DedupeTitle = "title"
)

// DefaultDedupeWindow is the DedupeWindow of a feed that gives none.
const DefaultDedupeWindow = 48 * time.Hour

// FeedSpec is one published feed.
type FeedSpec struct {
	Name        string   // URL name: /feeds/NAME.rss; unique
	Title       string   // feed title
	Description string   // subtitle; RSS falls back to the title
	Sources     []string // source names, already resolved from categories
	Limit       int      // newest items published; <= 0 means DefaultLimit

	// Dedupe is DedupeLink (also when empty) or DedupeTitle.
	Dedupe string
	// DedupeWindow bounds, for DedupeTitle, how far apart the dates of two
	// items may be for their titles to make them one story; <= 0 means
	// DefaultDedupeWindow.
	DedupeWindow time.Duration
}

func (s FeedSpec) limit() int {
	if s.Limit > 0 {
		return s.Limit
	}
	return DefaultLimit
}

// queryLimit is how many items the store is asked for; see minQueryFactor.
func (s FeedSpec) queryLimit() int {
	return s.limit() * min(max(len(s.Sources), minQueryFactor), maxQueryFactor)
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
}

// itemStore is what the publisher needs from a store.
type itemStore interface {
	Items(ctx context.Context, q feed.Query) ([]feed.Item, error)
	States(ctx context.Context) ([]feed.SourceState, error)
}

// Publisher renders the configured feeds and holds their current snapshots.
// Its methods are safe for concurrent use.
type Publisher struct {
	base    string // BaseURL without a trailing slash
	version string
	log     *slog.Logger
	specs   []FeedSpec
	sources []feed.Source  // in configuration order, for the OPML
	prio    map[string]int // source name -> Priority
	store   itemStore
	now     func() time.Time // only dates the OPML; feeds never read the clock

	mu  sync.Mutex // serializes Rebuild
	cur atomic.Pointer[snapshotSet]
}

// snapshotSet is everything one Rebuild published; it is never modified
// after being stored.
type snapshotSet struct {
	feeds map[string]*[numFormats]*Snapshot
	opml  *Snapshot
}

// New returns a Publisher for the given feeds and sources. Specs and sources
// are expected to be validated by the configuration (unique names, absolute
// URLs); a spec repeating an earlier name is ignored with a warning, and an
// unknown Dedupe is taken for DedupeLink with a warning. Nothing is rendered
// until the first Rebuild.
func New(opts Options, specs []FeedSpec, sources []feed.Source, st itemStore) *Publisher {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Publisher{
		base:    strings.TrimRight(opts.BaseURL, "/"),
		version: opts.Version,
		log:     log,
		sources: append([]feed.Source(nil), sources...),
		prio:    make(map[string]int, len(sources)),
		store:   st,
		now:     time.Now,
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
		case DedupeLink, DedupeTitle:
		case "":
			s.Dedupe = DedupeLink
		default:
			log.Warn("unknown dedupe mode, using link", "feed", s.Name, "dedupe", s.Dedupe)
			s.Dedupe = DedupeLink
		}
		s.Sources = append([]string(nil), s.Sources...)
		p.specs = append(p.specs, s)
	}
	return p
}

// Feeds returns the published feeds, in configuration order.
func (p *Publisher) Feeds() []FeedSpec {
	out := make([]FeedSpec, len(p.specs))
	for i, s := range p.specs {
		s.Sources = append([]string(nil), s.Sources...)
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
	snaps, ok := set.feeds[name]
	if !ok || snaps[f] == nil {
		return nil, false
	}
	return snaps[f], true
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

// Rebuild renders every feed and the OPML from the store and publishes them
// together. Concurrent calls are serialized. A snapshot whose bytes did not
// change is kept as it is (same pointer, same ETag and Last-Modified).
//
// When the source states cannot be read nothing changes. When one feed's
// items cannot be read, that feed keeps its previous snapshots while the
// others are updated; the error names every feed that failed.
func (p *Publisher) Rebuild(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()

	start := time.Now()
	states, err := p.store.States(ctx)
	if err != nil {
		return fmt.Errorf("publish: read source states: %w", err)
	}
	srcs := p.sourceInfos(states)
	prev := p.cur.Load()
	next := &snapshotSet{feeds: make(map[string]*[numFormats]*Snapshot, len(p.specs))}

	var errs []error
	changed := 0
	for _, spec := range p.specs {
		var old *[numFormats]*Snapshot
		if prev != nil {
			old = prev.feeds[spec.Name]
		}
		snaps, n, err := p.rebuildFeed(ctx, spec, srcs, old)
		if err != nil {
			errs = append(errs, fmt.Errorf("publish %s: %w", spec.Name, err))
			if old != nil {
				next.feeds[spec.Name] = old
			}
			continue
		}
		changed += n
		next.feeds[spec.Name] = snaps
	}

	var oldOPML *Snapshot
	if prev != nil {
		oldOPML = prev.opml
	}
	body, err := renderOPML(p.sources, srcs)
	if err != nil {
		errs = append(errs, fmt.Errorf("publish opml: %w", err))
		next.opml = oldOPML
	} else {
		next.opml, err = reuseOrNew(oldOPML, body, p.now(), OPMLContentType, len(p.sources))
		if err != nil {
			errs = append(errs, fmt.Errorf("publish opml: %w", err))
			next.opml = oldOPML
		}
	}

	p.cur.Store(next)
	p.log.Debug("feeds rebuilt", "feeds", len(p.specs), "changed", changed,
		"failed", len(errs), "duration", time.Since(start))
	return errors.Join(errs...)
}

// rebuildFeed renders one feed in every format and returns its snapshots
// and how many of them changed.
func (p *Publisher) rebuildFeed(ctx context.Context, spec FeedSpec, srcs map[string]sourceInfo, old *[numFormats]*Snapshot) (*[numFormats]*Snapshot, int, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	var items []feed.Item
	if len(spec.Sources) > 0 {
		var err error
		items, err = p.store.Items(ctx, feed.Query{
			Sources: spec.Sources,
			Limit:   spec.queryLimit(),
		})
		if err != nil {
			return nil, 0, fmt.Errorf("read items: %w", err)
		}
	}
	stories := groupStories(items, grouping{
		priority: p.priority,
		byTitle:  spec.Dedupe == DedupeTitle,
		window:   spec.dedupeWindow(),
	}, spec.limit())
	d := p.document(spec, stories, srcs)
	shown := make([]feed.Item, len(stories))
	for i, s := range stories {
		shown[i] = s.shown
	}

	snaps := new([numFormats]*Snapshot)
	changed := 0
	for f := range numFormats {
		body, err := render(d, f)
		if err != nil {
			return nil, 0, fmt.Errorf("render %s: %w", f, err)
		}
		var o *Snapshot
		if old != nil {
			o = old[f]
		}
		s, err := reuseOrNew(o, body, d.updated, f.ContentType(), len(d.entries))
		if err == nil && s != o {
			s.Entries = shown
		}
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", f, err)
		}
		if s != o {
			changed++
		}
		snaps[f] = s
	}
	return snaps, changed, nil
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
