// Package store keeps normalized items, per-source fetch state and a
// bounded cache of extracted articles between runs, and coordinates the
// feedmill instances that share them. There are two drivers: SQLite, one
// file for one daemon, and PostgreSQL, for several instances. Both
// implement the same behaviour, written once (engine.go, history.go,
// claims.go, articles.go, websub.go) over the few statements whose SQL
// differs (dialect.go), and pinned by one conformance suite
// (conformance_test.go, coordination_test.go, history_test.go):
//
//   - Items are upserted by (source, id). A new item gets FirstSeen = now and,
//     when it carries no date, a Published time taken from the save time, so
//     an undated item never jumps on later refreshes.
//   - An existing item is rewritten only when its visible content changed
//     (compared through a content hash, which covers the image too), so a
//     refresh that finds nothing new writes nothing, not even a timestamp.
//     The fields a reader never sees
//     (Canonical, RawSummary, RawContent) have a hash of their own: a change
//     in them alone is written silently, without moving Updated and without
//     being counted, because a reader would see nothing new.
//   - At most keep items per source remain, the newest by Published; a batch
//     is cut to its newest keep items first, so the same old items are not
//     inserted and pruned again on every refresh.
//   - Saving a source's state that records a new attempt (another
//     LastFetch) also appends the attempt to the source's fetch history,
//     which keeps the newest 50, in the same transaction: the history
//     costs no commit of its own.
//   - Instances share work through leases: ClaimDue hands each due source
//     to one instance at a time, ClaimKey any other piece of work. Version
//     tells a reader whether items changed since it last read them, and
//     on PostgreSQL, Listen tells it as soon as they do.
//
// The driver-independent parts of saving (validation, encoding, hashing and
// the retention plan) live in this file so that no driver can drift from
// the others.
package store

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"slices"
	"strings"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
)

// Times are stored as integer microseconds since the Unix epoch, UTC. An
// int64 of microseconds spans every year a feed can carry, whereas
// nanoseconds overflow after 2262 and text needs a fixed width to sort. The
// accepted range is the one RFC 3339 (and so RSS, Atom and JSON Feed) can
// write: years 1 to 9999.
var (
	minTime = time.Date(1, time.January, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(9999, time.December, 31, 23, 59, 59, 999999000, time.UTC)
)

// toMicros encodes t for storage. Callers have checked the range.
func toMicros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros decodes a stored time.
func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

// storedTime returns t as it will read back from the store: UTC, truncated
// to the microsecond, without a monotonic clock reading. Every comparison the
// store makes uses such times, so a value never differs from itself after a
// round trip.
func storedTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return fromMicros(toMicros(t))
}

// checkTime reports whether a non-zero t can be stored.
func checkTime(t time.Time) error {
	if t.IsZero() || (!t.Before(minTime) && !t.After(maxTime)) {
		return nil
	}
	return fmt.Errorf("time %s outside the years 1 to 9999", t.UTC().Format(time.RFC3339))
}

// record is one item prepared for storage: validated, its lists encoded as
// JSON and its times normalized with storedTime. Before planning, published
// and updated are the incoming values (zero when the feed gave none) and
// firstSeen and hash are unset.
type record struct {
	id         string
	link       string
	title      string
	summary    string
	content    string
	canonical  string
	rawSummary string
	// rawContent is stored as '' with rawIsContent set when it is the
	// content (see encodeItem).
	rawContent   string
	rawIsContent bool
	authors      string // JSON array, "" when there are none
	categories   string // JSON array, "" when there are none
	enclosures   string // JSON array, "" when there are none
	image        string
	published    time.Time
	updated      time.Time
	firstSeen    time.Time
	hash         []byte // contentHash: what a reader sees
	hiddenHash   []byte // hiddenHash: what only feedmill uses
	pos          int    // position in the de-duplicated batch, 0 = first
}

// Lists are stored as JSON columns rather than child tables: they are always
// read and written with their item and never queried on their own, so one
// row per item keeps an upsert one statement and pruning one DELETE. The
// JSON field names are fixed here, not taken from the feed types, so that
// renaming a Go field never makes stored data unreadable.
type personJSON struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	URI   string `json:"uri,omitempty"`
}

type enclosureJSON struct {
	URL    string `json:"url"`
	Type   string `json:"type,omitempty"`
	Length int64  `json:"length,omitempty"`
}

// encodeList encodes a list as a JSON array. An empty list is stored as ""
// (NULL in the database), so nil and empty slices are the same content and
// both read back as nil.
func encodeList[T any](list []T) (string, error) {
	if len(list) == 0 {
		return "", nil
	}
	b, err := json.Marshal(list)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func decodeList[T any](s string) ([]T, error) {
	if s == "" {
		return nil, nil
	}
	var list []T
	if err := json.Unmarshal([]byte(s), &list); err != nil {
		return nil, err
	}
	return list, nil
}

// encodeItem turns it into a record. It does not validate.
func encodeItem(it feed.Item, pos int) (record, error) {
	r := record{
		id:         it.ID,
		link:       it.Link,
		title:      it.Title,
		summary:    it.Summary,
		content:    it.Content,
		canonical:  it.Canonical,
		rawSummary: it.RawSummary,
		rawContent: it.RawContent,
		image:      it.Image,
		published:  storedTime(it.Published),
		updated:    storedTime(it.Updated),
		pos:        pos,
	}
	r.hiddenHash = hiddenHash(r)
	// The raw content is the content for as long as nothing is learned
	// about the source's furniture: it is stored once, and scanItem reads
	// it back from the content. The hidden hash covers it as given, so
	// rows stored in full before are not rewritten for this.
	if r.rawContent != "" && r.rawContent == r.content {
		r.rawContent, r.rawIsContent = "", true
	}
	var err error
	if len(it.Authors) > 0 {
		ps := make([]personJSON, len(it.Authors))
		for i, p := range it.Authors {
			ps[i] = personJSON(p)
		}
		if r.authors, err = encodeList(ps); err != nil {
			return record{}, fmt.Errorf("encode authors: %w", err)
		}
	}
	if r.categories, err = encodeList(it.Categories); err != nil {
		return record{}, fmt.Errorf("encode categories: %w", err)
	}
	if len(it.Enclosures) > 0 {
		es := make([]enclosureJSON, len(it.Enclosures))
		for i, e := range it.Enclosures {
			es[i] = enclosureJSON(e)
		}
		if r.enclosures, err = encodeList(es); err != nil {
			return record{}, fmt.Errorf("encode enclosures: %w", err)
		}
	}
	return r, nil
}

// decodeLists fills the list fields of it from their stored JSON.
func decodeLists(it *feed.Item, authors, categories, enclosures string) error {
	ps, err := decodeList[personJSON](authors)
	if err != nil {
		return fmt.Errorf("decode authors of item %q: %w", it.ID, err)
	}
	for _, p := range ps {
		it.Authors = append(it.Authors, feed.Person(p))
	}
	if it.Categories, err = decodeList[string](categories); err != nil {
		return fmt.Errorf("decode categories of item %q: %w", it.ID, err)
	}
	es, err := decodeList[enclosureJSON](enclosures)
	if err != nil {
		return fmt.Errorf("decode enclosures of item %q: %w", it.ID, err)
	}
	for _, e := range es {
		it.Enclosures = append(it.Enclosures, feed.Enclosure(e))
	}
	return nil
}

// describeItem names an item of a batch in an error message.
func describeItem(i int, it feed.Item) string {
	switch {
	case it.ID != "":
		return fmt.Sprintf("item %d (id %q)", i, it.ID)
	case it.Link != "":
		return fmt.Sprintf("item %d (link %q)", i, it.Link)
	case it.Title != "":
		return fmt.Sprintf("item %d (title %q)", i, it.Title)
	default:
		return fmt.Sprintf("item %d", i)
	}
}

// prepareBatch validates a batch of one source's items and encodes it. It
// rejects the whole batch on the first bad item, before anything is written,
// so stored data is never half-replaced by a bad batch. Items repeating an
// id already seen in the batch are dropped: the first occurrence wins, as a
// feed lists its current version of an entry first.
func prepareBatch(source string, items []feed.Item, now time.Time) ([]record, error) {
	if strings.TrimSpace(source) == "" {
		return nil, errors.New("empty source name")
	}
	if now.IsZero() {
		return nil, errors.New("zero save time")
	}
	if err := checkTime(now); err != nil {
		return nil, fmt.Errorf("save time: %w", err)
	}
	seen := make(map[string]bool, len(items))
	recs := make([]record, 0, len(items))
	for i, it := range items {
		if strings.TrimSpace(it.ID) == "" {
			return nil, fmt.Errorf("%s: empty id", describeItem(i, it))
		}
		if it.Source != "" && it.Source != source {
			return nil, fmt.Errorf("%s: belongs to source %q", describeItem(i, it), it.Source)
		}
		if err := checkTime(it.Published); err != nil {
			return nil, fmt.Errorf("%s: published: %w", describeItem(i, it), err)
		}
		if err := checkTime(it.Updated); err != nil {
			return nil, fmt.Errorf("%s: updated: %w", describeItem(i, it), err)
		}
		if seen[it.ID] {
			continue
		}
		seen[it.ID] = true
		r, err := encodeItem(it, len(recs))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", describeItem(i, it), err)
		}
		recs = append(recs, r)
	}
	return recs, nil
}

// hashVersion starts every content hash. Changing what the hash covers
// needs a migration that recomputes the stored hashes; otherwise every item
// would look changed once and be republished as updated.
const hashVersion = "feedmill-item-v1"

// writeField writes s to a hash prefixed with its length, so that no two
// different sequences of fields hash the same input.
func writeField(h hash.Hash, s string) {
	var buf [binary.MaxVarintLen64]byte
	n := binary.PutUvarint(buf[:], uint64(len(s)))
	h.Write(buf[:n])
	h.Write([]byte(s))
}

// contentHash hashes the visible content of r as it would be stored with
// the given published time.
func contentHash(r record, published time.Time) []byte {
	h := sha256.New()
	field := func(s string) { writeField(h, s) }
	field(hashVersion)
	field(r.title)
	field(r.link)
	field(r.summary)
	field(r.content)
	field(r.authors)
	field(r.categories)
	field(r.enclosures)
	if r.image != "" {
		// Only when there is one: the hashes stored before images were
		// kept stay valid, and an item's hash moves only when it gains,
		// changes or loses its picture. The fields are length-prefixed
		// and the time that follows has a fixed length, so a hash with
		// an image never equals one without.
		field(r.image)
	}
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], uint64(toMicros(published)))
	h.Write(buf[:])
	return h.Sum(nil)
}

// hiddenHashVersion starts every hidden hash; as with hashVersion, changing
// what the hash covers needs a migration that recomputes the stored ones.
const hiddenHashVersion = "feedmill-hidden-v1"

// hiddenHash hashes the fields of r that are stored but never published as
// they are: the canonical URL and the raw summary and content. It is empty
// (not nil: the driver stores a nil blob as NULL) when all of them are
// empty, which is what every item stored before these fields existed holds,
// so the schema upgrade rewrites no stored row and the first refresh after
// it writes only the items that now carry such fields.
func hiddenHash(r record) []byte {
	if r.canonical == "" && r.rawSummary == "" && r.rawContent == "" {
		return []byte{}
	}
	h := sha256.New()
	writeField(h, hiddenHashVersion)
	writeField(h, r.canonical)
	writeField(h, r.rawSummary)
	writeField(h, r.rawContent)
	return h.Sum(nil)
}

// storedRow is what planning needs to know about an item already stored.
type storedRow struct {
	id         string
	published  time.Time
	updated    time.Time
	firstSeen  time.Time
	hash       []byte
	hiddenHash []byte
}

// savePlan is the set of writes that applies a batch.
type savePlan struct {
	inserts []record // complete records: times and hashes set
	updates []record // complete records; firstSeen is the stored one
	// silent are items whose visible content is unchanged but whose
	// hidden fields changed: only those fields are written.
	silent  []record
	deletes []string // ids of stored items that fall out of retention
	dropped int      // batch items not kept (cut, or older than all kept)
}

// result is what the plan reports to the caller. Silent writes are not
// counted: nothing a reader sees changed.
func (p savePlan) result() feed.SaveResult {
	return feed.SaveResult{New: len(p.inserts), Updated: len(p.updates), Pruned: len(p.deletes)}
}

// undatedTime is the Published time an undated item at position pos of a
// batch saved at now receives. Each later position is one second older, so
// undated items keep the feed's order when listed and in published feeds,
// whose dates have whole seconds (readers sort by them), and no two of them
// tie, which would let retention pick among them differently from the
// feed. None is after now: on a source's first fetch they are all its
// backlog.
func undatedTime(now time.Time, pos int) time.Time {
	return now.Add(-time.Duration(pos) * time.Second)
}

// newer orders items newest first: by published, then first seen, then id.
// Items lists in the same order (source comes before id there, but plans
// are per source), so retention keeps exactly what a listing shows first.
func newer(ap, af time.Time, aid string, bp, bf time.Time, bid string) int {
	if c := bp.Compare(ap); c != 0 {
		return c
	}
	if c := bf.Compare(af); c != 0 {
		return c
	}
	return cmp.Compare(aid, bid)
}

// plan decides how a batch of one source (from prepareBatch) changes what is
// stored for that source, keeping at most keep items. It is pure, so every
// driver applies the same decisions.
//
// The batch is first cut to its newest keep items by the dates the feed
// gives, undated items counting as new in feed order. That cut depends on
// the feed alone, so a feed that does not change yields the same cut on
// every refresh and nothing flaps. The cut items and the stored ones are
// then ranked together, and only the newest keep survive: a batch item that
// would not survive is never written, and a stored item that does not
// survive is deleted.
func plan(batch []record, stored []storedRow, keep int, now time.Time) savePlan {
	if keep <= 0 {
		keep = feed.DefaultRetention
	}
	var p savePlan

	cut := slices.Clone(batch)
	cutDate := func(r record) time.Time {
		if r.published.IsZero() {
			return undatedTime(now, r.pos)
		}
		return r.published
	}
	slices.SortStableFunc(cut, func(a, b record) int { return cutDate(b).Compare(cutDate(a)) })
	if len(cut) > keep {
		p.dropped = len(cut) - keep
		cut = cut[:keep]
	}

	const (
		keptStored = iota // stored, not in the batch or unchanged
		hiddenOnly        // stored, visibly unchanged, hidden fields changed
		changed
		added
	)
	type candidate struct {
		published time.Time
		firstSeen time.Time
		id        string
		kind      int
		rec       record
	}
	byID := make(map[string]storedRow, len(stored))
	for _, s := range stored {
		byID[s.id] = s
	}
	cands := make([]candidate, 0, len(stored)+len(cut))
	inBatch := make(map[string]bool, len(cut))
	for _, r := range cut {
		inBatch[r.id] = true
		s, ok := byID[r.id]
		if !ok {
			if r.published.IsZero() {
				r.published = undatedTime(now, r.pos)
			}
			if r.updated.IsZero() {
				r.updated = r.published
			}
			r.firstSeen = now
			r.hash = contentHash(r, r.published)
			cands = append(cands, candidate{r.published, r.firstSeen, r.id, added, r})
			continue
		}
		if r.published.IsZero() {
			r.published = s.published
		}
		r.hash = contentHash(r, r.published)
		if bytes.Equal(r.hash, s.hash) {
			kind := keptStored
			if !bytes.Equal(r.hiddenHash, s.hiddenHash) {
				kind = hiddenOnly
			}
			cands = append(cands, candidate{s.published, s.firstSeen, s.id, kind, r})
			continue
		}
		if !r.updated.After(s.updated) {
			r.updated = now
		}
		r.firstSeen = s.firstSeen
		cands = append(cands, candidate{r.published, r.firstSeen, r.id, changed, r})
	}
	for _, s := range stored {
		if !inBatch[s.id] {
			cands = append(cands, candidate{s.published, s.firstSeen, s.id, keptStored, record{}})
		}
	}
	slices.SortFunc(cands, func(a, b candidate) int {
		return newer(a.published, a.firstSeen, a.id, b.published, b.firstSeen, b.id)
	})
	for i, c := range cands {
		kept := i < keep
		switch {
		case kept && c.kind == added:
			p.inserts = append(p.inserts, c.rec)
		case kept && c.kind == changed:
			p.updates = append(p.updates, c.rec)
		case kept && c.kind == hiddenOnly:
			p.silent = append(p.silent, c.rec)
		case !kept && c.kind == added:
			p.dropped++
		case !kept:
			// A stored item, changed or not, that no longer fits.
			p.deletes = append(p.deletes, c.id)
		}
	}
	return p
}
