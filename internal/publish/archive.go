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

// Paging (RFC 5005). A feed's history E is every story its stored items
// make once its patterns and backfill cap are applied, oldest first; with
// L its limit and N = len(E), it has K = N/L complete archive pages, and
// page k (1 <= k <= K) holds E[(k-1)L : kL], newest first. Pages are
// counted from the oldest, so a page keeps its stories as new items
// arrive; only the store pruning old items (retention) shifts them. The
// current document links to page K, each page to the one before, so
// following "next" from the current document reaches every stored story;
// the stories of page K newer than the current document's oldest appear
// on both, which readers reconcile by id.

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
	hist, err := p.archiveHistory(ctx, set, fs)
	if err != nil {
		return nil, fmt.Errorf("publish: archive of %q: %w", name, err)
	}
	l := fs.spec.limit()
	if page*l > len(hist) {
		return nil, fmt.Errorf("publish: archive of %q: page %d no longer stored: %w", name, page, ErrNotFound)
	}
	// hist is newest first: page k is E[(k-1)L : kL] of the oldest-first E.
	stories := hist[len(hist)-page*l : len(hist)-(page-1)*l]
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

// archiveHistory returns the history of a feed for its archive pages: the
// one computed for its last page request when the feed has not changed
// since, else computed from the store's items and the source information
// of the Rebuild that published fs. A crawler walks every page of a feed
// in a row, and each would otherwise read all of the feed's items.
func (p *Publisher) archiveHistory(ctx context.Context, set *snapshotSet, fs *feedState) ([]story, error) {
	if hist, ok := p.archives.history(fs); ok {
		return hist, nil
	}
	items, err := p.store.Items(ctx, feed.Query{Sources: fs.spec.Sources, NoRaw: true})
	if err != nil {
		return nil, fmt.Errorf("read items: %w", err)
	}
	hist := p.history(fs.spec, items)
	p.archives.keepHistory(fs, hist, p.isCurrent)
	return hist, nil
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

// archiveCache keeps the most recently used archive pages and the history
// of the feed last paged. Entries of a feed state no longer published are
// dropped by retain and never added.
type archiveCache struct {
	fill chan struct{} // one slot: renderings are made one at a time

	mu      sync.Mutex
	size    int
	entries []archiveEntry // most recently used first
	histFS  *feedState
	hist    []story
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

func (c *archiveCache) history(fs *feedState) ([]story, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if fs == nil || c.histFS != fs {
		return nil, false
	}
	return c.hist, true
}

func (c *archiveCache) keepHistory(fs *feedState, hist []story, current func(*feedState) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if current(fs) {
		c.histFS, c.hist = fs, hist
	}
}

// retain drops what belongs to feed states that set no longer publishes.
func (c *archiveCache) retain(set *snapshotSet) {
	c.mu.Lock()
	defer c.mu.Unlock()
	live := func(fs *feedState) bool { return set.feeds[fs.spec.Name] == fs }
	c.entries = slices.DeleteFunc(c.entries, func(e archiveEntry) bool { return !live(e.key.fs) })
	if c.histFS != nil && !live(c.histFS) {
		c.histFS, c.hist = nil, nil
	}
}
