package publish

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/feedmill/feedmill/internal/feed"
)

// Paging (RFC 5005). A feed's archive is cut from the sequence S of the
// stored items of its sources, oldest first (the exact reverse of the
// store's newest-first order), which the store counts and pages with an
// index instead of the publisher reading it all: with L the feed's limit
// and N = len(S), it has N/L complete archive pages, and page k shows
// S[(k-1)L : kL], newest first, after the feed's patterns and story
// grouping applied within the page. When an item of the rest, S[(N/L)L:],
// is selected but not in the current document (held back by backfill,
// max_age, per_source_limit or pushed out by the limit), a last page holds
// that rest and fills up as items arrive, so that every item the feed
// selects is reachable; K counts it. So a page may show
// fewer than L entries (items the patterns drop, copies grouped into one
// story), and copies of one story on two pages show on both, which
// readers reconcile by id. Pages are counted from the oldest, so a page
// keeps its items as new items arrive; only the store pruning old items
// (retention) shifts them. The current document links to page K, each
// page to the one before, so following "next" from the current document
// reaches every stored item; the items of page K newer than the current
// document's oldest appear on both. max_age, backfill and per_source_limit
// shape the current document only.

// ErrNotFound is returned by Archive for an unknown feed or format and for
// a page outside 1..K.
var ErrNotFound = errors.New("not found")

// ArchiveURL returns the public URL of archive page `page` of a published
// feed: baseURL + "/feeds/" + name + "/archive/" + page + ".rss", ".atom"
// or ".json". Page 1 is the oldest.
func ArchiveURL(baseURL, name string, f Format, page int) string {
	return strings.TrimRight(baseURL, "/") + "/feeds/" + url.PathEscape(name) + "/archive/" + strconv.Itoa(page) + "." + f.String()
}

// archiveCacheSize bounds how many rendered archive pages are kept.
const archiveCacheSize = 64

// Archive returns archive page `page` (1 the oldest) of the named feed in
// format f. It renders the page from the store on first request and keeps
// it until a Rebuild changes the feed; which pages exist (1..K) is decided
// by the last Rebuild, so that the links of the current document hold.
// It returns an error wrapping ErrNotFound for an unknown feed or format,
// before the first Rebuild, for a page outside 1..K, and for a page the
// store no longer holds (pruned since the Rebuild).
//
// Pages are rendered one at a time; a caller waiting for another's
// rendering gives up when ctx ends.
func (p *Publisher) Archive(ctx context.Context, name string, f Format, page int) (*Snapshot, error) {
	set := p.cur.Load()
	var fs *feedState
	if set != nil {
		fs = set.feeds[name]
	}
	switch {
	case fs == nil:
		return nil, fmt.Errorf("publish: archive of %q: unknown feed: %w", name, ErrNotFound)
	case f < 0 || f >= numFormats:
		return nil, fmt.Errorf("publish: archive of %q: unknown format %d: %w", name, int(f), ErrNotFound)
	case page < 1 || page > fs.pages:
		return nil, fmt.Errorf("publish: archive of %q: no page %d (it has %d): %w", name, page, fs.pages, ErrNotFound)
	}
	key := archiveKey{fs: fs, f: f, page: page}
	if s := p.archives.get(key); s != nil {
		return s, nil
	}

	select {
	case p.archives.fill <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("publish: archive of %q: %w", name, ctx.Err())
	}
	defer func() { <-p.archives.fill }()
	// Another caller may have rendered it while this one waited.
	if s := p.archives.get(key); s != nil {
		return s, nil
	}
	stories, err := p.archivePage(ctx, fs, page)
	if err != nil {
		return nil, fmt.Errorf("publish: archive of %q: %w", name, err)
	}
	d := p.document(fs.spec, stories, set.srcs)
	d.hub, d.page, d.pages = p.hub, page, fs.pages
	body, err := render(d, f)
	if err != nil {
		return nil, fmt.Errorf("publish: archive of %q: render %s: %w", name, f, err)
	}
	s, err := reuseOrNew(nil, body, d.updated, f.ContentType(), len(d.entries))
	if err != nil {
		return nil, fmt.Errorf("publish: archive of %q: %s: %w", name, f, err)
	}
	s.Entries = make([]feed.Item, len(stories))
	for i, st := range stories {
		s.Entries[i] = st.shown
	}
	p.archives.put(key, s, p.isCurrent)
	return s, nil
}

// archivePage returns the stories of archive page `page` of a feed,
// newest first: the ones computed for the last page request when it was
// this page of this feed state (a reader fetching a page in several
// formats reads the store once), else those of its L stored items, read
// from the store by their position counted from the oldest. A page the
// store no longer holds whole (pruned since the Rebuild that published fs)
// is ErrNotFound.
func (p *Publisher) archivePage(ctx context.Context, fs *feedState, page int) ([]story, error) {
	if stories, ok := p.archives.page(fs, page); ok {
		return stories, nil
	}
	l := fs.spec.limit()
	items, err := p.store.Items(ctx, feed.Query{Sources: fs.spec.Sources, Limit: l, Offset: (page - 1) * l, Oldest: true, NoRaw: true})
	if err != nil {
		return nil, fmt.Errorf("read items: %w", err)
	}
	// The newest page may be one not yet complete (see archivePages).
	if len(items) < min(l, fs.stored-(page-1)*l) {
		return nil, fmt.Errorf("page %d no longer stored: %w", page, ErrNotFound)
	}
	stories := p.history(fs.spec, items)
	p.archives.keepPage(fs, page, stories, p.isCurrent)
	return stories, nil
}

// isCurrent reports whether fs is the feed state currently published.
func (p *Publisher) isCurrent(fs *feedState) bool {
	set := p.cur.Load()
	return set != nil && set.feeds[fs.spec.Name] == fs
}

type archiveKey struct {
	fs   *feedState // the feed as a Rebuild published it: a new one means new pages
	f    Format
	page int
}

type archiveEntry struct {
	key  archiveKey
	snap *Snapshot
}

// archiveCache keeps the most recently used archive pages and the stories
// of the page last read. Entries of a feed state no longer published are
// dropped by retain and never added.
type archiveCache struct {
	fill chan struct{} // one slot: renderings are made one at a time

	mu      sync.Mutex
	size    int
	entries []archiveEntry // most recently used first
	pageFS  *feedState
	pageNum int
	stories []story
}

func newArchiveCache(size int) archiveCache {
	return archiveCache{fill: make(chan struct{}, 1), size: size}
}

func (c *archiveCache) get(k archiveKey) *Snapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, e := range c.entries {
		if e.key == k {
			copy(c.entries[1:i+1], c.entries[:i])
			c.entries[0] = e
			return e.snap
		}
	}
	return nil
}

// put adds a page unless its feed state is no longer current; current is
// asked under the cache's lock, so a retain that follows cannot miss it.
func (c *archiveCache) put(k archiveKey, s *Snapshot, current func(*feedState) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !current(k.fs) {
		return
	}
	c.entries = slices.Insert(c.entries, 0, archiveEntry{key: k, snap: s})
	if len(c.entries) > c.size {
		c.entries[c.size] = archiveEntry{} // let the evicted page go
		c.entries = c.entries[:c.size]
	}
}

func (c *archiveCache) page(fs *feedState, page int) ([]story, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if fs == nil || c.pageFS != fs || c.pageNum != page {
		return nil, false
	}
	return c.stories, true
}

func (c *archiveCache) keepPage(fs *feedState, page int, stories []story, current func(*feedState) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if current(fs) {
		c.pageFS, c.pageNum, c.stories = fs, page, stories
	}
}

// retain drops what belongs to feed states that set no longer publishes.
func (c *archiveCache) retain(set *snapshotSet) {
	c.mu.Lock()
	defer c.mu.Unlock()
	live := func(fs *feedState) bool { return set.feeds[fs.spec.Name] == fs }
	c.entries = slices.DeleteFunc(c.entries, func(e archiveEntry) bool { return !live(e.key.fs) })
	if c.pageFS != nil && !live(c.pageFS) {
		c.pageFS, c.pageNum, c.stories = nil, 0, nil
	}
}
