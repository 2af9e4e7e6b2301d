package publish

import (
	"encoding/binary"
	"hash/maphash"
	"regexp"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
)

// A feed's current document is made in these steps, in this order:
//
//  1. include/exclude patterns, on the newest stored items (the window a
//     Rebuild reads, see readFeed);
//  2. story grouping, newest first;
//  3. max_age, the backfill cap, per_source_limit and limit.
//
// max_age is judged on the stories rather than on the items, unlike the
// patterns: dropping an aged copy before grouping would hand a story whose
// first copy aged out to a younger copy, under that copy's id, and readers
// would see it again as new just before it leaves the feed. A story leaves
// when the copy shown (whose date the feed displays) is MaxAge old.
//
// max_age, backfill and per_source_limit shape only the current document:
// the archive pages are cut from every stored item (see Archive), through
// which a reader or a crawler can walk back to everything the store holds
// (a new source's backlog included: backfill keeps it from flooding the
// feed readers poll, not from the history), and a cut by age would shift
// every page each time an item aged out. An item they keep out of the
// current document is on an archive page at once: the newest page may be
// one not yet complete (see archivePages).

// history returns the stories of the given items, newest first: the items
// that pass the feed's patterns, grouped.
func (p *Publisher) history(spec FeedSpec, items []feed.Item) []story {
	items = matching(items, spec.Include, spec.Exclude)
	return groupStories(items, grouping{
		priority: p.priority,
		none:     spec.Dedupe == DedupeNone,
		byTitle:  spec.Dedupe == DedupeTitle,
		window:   spec.dedupeWindow(),
	}, len(items))
}

// current returns the stories of the feed's current document, newest first,
// and the earliest moment one of them ages out (zero when the feed has no
// MaxAge or no stories): of hist (newest first), those younger than MaxAge, at most
// Backfill of each source's backlog (stories whose shown copy is dated
// before its source was first fetched), at most PerSourceLimit of each
// shown copy's source, at most the feed's limit.
func current(spec FeedSpec, hist []story, srcs map[string]sourceInfo, now time.Time) ([]story, time.Time) {
	limit := spec.limit()
	out := make([]story, 0, min(len(hist), limit))
	var perSource map[string]int
	if spec.PerSourceLimit > 0 {
		perSource = make(map[string]int)
	}
	backlog := make(map[string]int)
	var expires time.Time
	for _, s := range hist {
		if len(out) == limit {
			break
		}
		var ages time.Time
		if spec.MaxAge > 0 {
			// An item exactly MaxAge old is out, so that a Rebuild at
			// Expires() removes it.
			if ages = s.shown.Date().Add(spec.MaxAge); !ages.After(now) {
				continue
			}
		}
		if spec.Backfill >= 0 {
			// The backlog is what the first successful fetch found: items
			// dated at or before it. An undated item of that fetch is
			// dated at it (see the store's undated times), and is backlog
			// too, or a new source of undated items would flood the feed.
			first := source(srcs, s.shown.Source).firstSuccess
			if !first.IsZero() && !s.shown.Date().After(first) {
				if backlog[s.shown.Source] >= spec.Backfill {
					continue
				}
				backlog[s.shown.Source]++
			}
		}
		if perSource != nil {
			if perSource[s.shown.Source] >= spec.PerSourceLimit {
				continue
			}
			perSource[s.shown.Source]++
		}
		if !ages.IsZero() && (expires.IsZero() || ages.Before(expires)) {
			expires = ages
		}
		out = append(out, s)
	}
	return out, expires
}

// matching returns the items that match at least one include pattern (when
// any is given) and no exclude pattern. A pattern matches an item when it
// matches one of its texts (see itemText) on its own, so ^ and $ anchor to
// a whole title, category or author name. It returns items itself when
// there are no patterns.
func matching(items []feed.Item, include, exclude []*regexp.Regexp) []feed.Item {
	if len(include) == 0 && len(exclude) == 0 {
		return items
	}
	out := make([]feed.Item, 0, len(items))
	for i := range items {
		t := itemText{it: &items[i]}
		if len(include) > 0 && !t.matchesAny(include) {
			continue
		}
		if t.matchesAny(exclude) {
			continue
		}
		out = append(out, items[i])
	}
	return out
}

// itemText holds the texts of an item that patterns are matched against:
// its title, the plain text of its summary and of its content, each
// author's name and each of its own categories (not its source's, which
// select sources, not items). The plain texts are extracted once, and only
// when a pattern gets that far: most patterns are decided by the title.
type itemText struct {
	it      *feed.Item
	done    bool // summary and content extracted
	summary string
	content string
}

func (t *itemText) matchesAny(res []*regexp.Regexp) bool {
	for _, re := range res {
		if t.matches(re) {
			return true
		}
	}
	return false
}

func (t *itemText) matches(re *regexp.Regexp) bool {
	it := t.it
	if re.MatchString(collapseSpace(it.Title)) {
		return true
	}
	for _, a := range it.Authors {
		if re.MatchString(a.Name) {
			return true
		}
	}
	for _, c := range it.Categories {
		if re.MatchString(c) {
			return true
		}
	}
	if !t.done {
		t.summary, t.content, t.done = htmlText(it.Summary), htmlText(it.Content), true
	}
	return re.MatchString(t.summary) || re.MatchString(t.content)
}

// fingerprint hashes what a Rebuild knows of a feed's archive pages: the
// number of stored items, the stories of the newest items it read and the
// attribution of its sources. Equal fingerprints let a Rebuild keep the
// cached archive pages. The seed is the Publisher's: fingerprints are
// compared within one process only.
func fingerprint(seed maphash.Seed, stored int, hist []story, srcs []sourceInfo) uint64 {
	h := hasher{}
	h.h.SetSeed(seed)
	h.int(int64(stored))
	h.int(int64(len(srcs)))
	for _, s := range srcs {
		h.str(s.name)
		h.str(s.title)
		h.str(s.url)
		h.str(s.home)
		h.strs(s.categories)
	}
	h.int(int64(len(hist)))
	for _, s := range hist {
		h.str(s.id)
		h.time(s.arrived)
		h.item(&s.shown)
		h.int(int64(len(s.also)))
		for _, c := range s.also {
			h.str(c.Source)
			h.str(c.Link)
		}
	}
	return h.h.Sum64()
}

// hasher writes values unambiguously: every string is length-prefixed.
type hasher struct {
	h   maphash.Hash
	buf [8]byte
}

func (h *hasher) int(n int64) {
	binary.LittleEndian.PutUint64(h.buf[:], uint64(n))
	h.h.Write(h.buf[:])
}

func (h *hasher) str(s string) {
	h.int(int64(len(s)))
	h.h.WriteString(s)
}

func (h *hasher) strs(ss []string) {
	h.int(int64(len(ss)))
	for _, s := range ss {
		h.str(s)
	}
}

func (h *hasher) time(t time.Time) {
	h.int(t.Unix())
	h.int(int64(t.Nanosecond()))
}

// item hashes the fields of an item that a document shows.
func (h *hasher) item(it *feed.Item) {
	h.str(it.Source)
	h.str(it.ID)
	h.str(it.Link)
	h.str(it.Title)
	h.str(it.Summary)
	h.str(it.Content)
	h.int(int64(len(it.Authors)))
	for _, a := range it.Authors {
		h.str(a.Name)
		h.str(a.Email)
		h.str(a.URI)
	}
	h.strs(it.Categories)
	h.int(int64(len(it.Enclosures)))
	for _, e := range it.Enclosures {
		h.str(e.URL)
		h.str(e.Type)
		h.int(e.Length)
	}
	h.str(it.Image)
	h.time(it.Published)
	h.time(it.Updated)
	h.time(it.FirstSeen)
}
