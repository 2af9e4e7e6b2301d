package publish

import (
	"container/list"
	"context"
	"errors"
	"sync"
)

// Bounds of the cache of the sources' own feeds (see SourceSnapshot). A
// document of 50 items is some 50–150 KiB with its gzip; 512 documents
// hold the feeds most read at once (the three formats of 170 sources)
// within the byte bound, which keeps a large install's memory flat
// whatever its number of sources. Past either bound the least recently
// read document goes.
const (
	sourceCacheEntries = 512
	sourceCacheBytes   = 64 << 20
)

// sourceRenders bounds the renderings of sources' own feeds that run at
// once: a burst of requests for many sources must not read the store and
// gzip at best compression on every core at the same time.
const sourceRenders = 4

// sourceKey names one document of a source's own feed.
type sourceKey struct {
	name string
	f    Format
}

// sourceEntry is a cached document and the generation (the Rebuild) it
// was rendered under; one of an older generation is stale, kept to be
// reused when its next rendering gives the same bytes.
type sourceEntry struct {
	key  sourceKey
	snap *Snapshot
	gen  uint64
	size int
	elem *list.Element
}

// flight is a rendering in progress, which later callers wait for.
type flight struct {
	done    chan struct{}
	snap    *Snapshot
	err     error
	waiters int // callers that joined it; guarded by sourceCache.mu
}

type flightKey struct {
	sourceKey
	gen uint64
}

// sourceCache is a count- and byte-bounded LRU of rendered documents, with
// at most one rendering per document and generation in flight. Its lock
// is never held while rendering.
type sourceCache struct {
	maxEntries, maxBytes int
	slots                chan struct{}

	mu      sync.Mutex
	entries map[sourceKey]*sourceEntry
	lru     *list.List // of *sourceEntry, most recently used first
	bytes   int
	flights map[flightKey]*flight
}

func newSourceCache(maxEntries, maxBytes, renders int) *sourceCache {
	return &sourceCache{
		maxEntries: maxEntries,
		maxBytes:   maxBytes,
		slots:      make(chan struct{}, renders),
		entries:    make(map[sourceKey]*sourceEntry),
		lru:        list.New(),
		flights:    make(map[flightKey]*flight),
	}
}

// get returns the document k of generation gen: the cached one, or the one
// a caller already rendering it returns, or one rendered by render, which
// is given the stale document (nil when none) to reuse when its bytes did
// not change.
func (c *sourceCache) get(ctx context.Context, k sourceKey, gen uint64, render func(ctx context.Context, old *Snapshot) (*Snapshot, error)) (*Snapshot, error) {
	for {
		c.mu.Lock()
		e := c.entries[k]
		if e != nil && e.gen >= gen {
			c.lru.MoveToFront(e.elem)
			c.mu.Unlock()
			return e.snap, nil
		}
		var old *Snapshot
		if e != nil {
			old = e.snap
		}
		fk := flightKey{k, gen}
		fl, joined := c.flights[fk]
		if joined {
			fl.waiters++
		} else {
			fl = &flight{done: make(chan struct{})}
			c.flights[fk] = fl
		}
		c.mu.Unlock()

		if joined {
			select {
			case <-fl.done:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			// The caller that rendered gave up: render again, unless this
			// one gives up too.
			if isContextErr(fl.err) && ctx.Err() == nil {
				continue
			}
			return fl.snap, fl.err
		}

		fl.snap, fl.err = c.render(ctx, old, render)
		c.mu.Lock()
		delete(c.flights, fk)
		if fl.err == nil {
			c.put(k, fl.snap, gen)
		}
		c.mu.Unlock()
		close(fl.done)
		return fl.snap, fl.err
	}
}

// render runs render in one of the slots.
func (c *sourceCache) render(ctx context.Context, old *Snapshot, render func(ctx context.Context, old *Snapshot) (*Snapshot, error)) (*Snapshot, error) {
	select {
	case c.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-c.slots }()
	return render(ctx, old)
}

// put keeps s as document k of generation gen, unless a newer generation's
// is kept already, and evicts the least recently used documents past the
// bounds (s too, when it alone is past the byte bound). c.mu is held.
func (c *sourceCache) put(k sourceKey, s *Snapshot, gen uint64) {
	if e := c.entries[k]; e != nil {
		if e.gen > gen {
			return
		}
		c.remove(e)
	}
	e := &sourceEntry{key: k, snap: s, gen: gen, size: snapshotSize(s)}
	e.elem = c.lru.PushFront(e)
	c.entries[k] = e
	c.bytes += e.size
	for c.lru.Len() > c.maxEntries || c.bytes > c.maxBytes {
		c.remove(c.lru.Back().Value.(*sourceEntry))
	}
}

func (c *sourceCache) remove(e *sourceEntry) {
	c.lru.Remove(e.elem)
	delete(c.entries, e.key)
	c.bytes -= e.size
}

// snapshotSize estimates the memory a cached snapshot holds: its bytes,
// its gzip bytes and the text of its entries.
func snapshotSize(s *Snapshot) int {
	n := len(s.Body) + len(s.Gzip) + len(s.ETag) + len(s.ContentType)
	for _, it := range s.Entries {
		n += len(it.ID) + len(it.Link) + len(it.Title) + len(it.Summary) + len(it.Content) + len(it.Source)
	}
	return n
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// deliveredETags remembers, per WebSub topic of a source's own feed that
// has subscribers, the ETag of the version last handed to the hub and the
// generation it was rendered under, so that a Rebuild reports the
// document only when it changed.
type deliveredETags struct {
	mu   sync.Mutex
	tags map[string]deliveredTag
}

type deliveredTag struct {
	etag string
	gen  uint64
}

// note records etag as delivered for topic unless a newer generation's is
// recorded.
func (d *deliveredETags) note(topic, etag string, gen uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if old, ok := d.tags[topic]; ok && old.gen > gen {
		return
	}
	if d.tags == nil {
		d.tags = make(map[string]deliveredTag)
	}
	d.tags[topic] = deliveredTag{etag: etag, gen: gen}
}

// swap records etag as delivered for topic and reports whether it was the
// one delivered before.
func (d *deliveredETags) swap(topic, etag string, gen uint64) (same bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	old, ok := d.tags[topic]
	if d.tags == nil {
		d.tags = make(map[string]deliveredTag)
	}
	d.tags[topic] = deliveredTag{etag: etag, gen: gen}
	return ok && old.etag == etag
}

// retain forgets the topics without subscribers.
func (d *deliveredETags) retain(topics map[string]bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for t := range d.tags {
		if !topics[t] {
			delete(d.tags, t)
		}
	}
}
