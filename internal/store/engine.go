package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
)

// engine is the behaviour both drivers share. SQLite and Postgres embed
// it, so they have its methods, and with them the same semantics, by
// construction; each supplies its reads, its write transactions and its
// dialect.
type engine struct {
	read  querier   // outside any transaction
	write writeFunc // one write transaction
	sql   *dialect
	// logger is never nil.
	logger *slog.Logger

	// articleMaxAge and articleMaxRows bound the article cache; they are
	// the constants of the same names except in tests, which lower them.
	articleMaxAge  time.Duration
	articleMaxRows int
}

// newEngine returns an engine with the default article bounds; a nil
// logger discards.
func newEngine(read querier, write writeFunc, d *dialect, logger *slog.Logger) engine {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return engine{
		read:           read,
		write:          write,
		sql:            d,
		logger:         logger,
		articleMaxAge:  articleMaxAge,
		articleMaxRows: articleMaxRows,
	}
}

// SaveItems stores a batch of the items of one source in one transaction:
// it upserts them by (source, id) and keeps the newest keep items of the
// source (feed.DefaultRetention when keep <= 0), as the package
// documentation describes. now is the time of the save: the FirstSeen of
// new items and the Published of undated ones. An item's Source must be
// empty or equal to source. On a bad batch (empty source or id, a time
// outside the years 1 to 9999) nothing is written and the error names the
// culprit; on any error nothing of the batch is written.
//
// The result counts the items a reader sees as new or updated: an item
// whose Canonical, RawSummary or RawContent alone changed is rewritten
// without being counted and keeps its Updated time. Text fields read back
// byte for byte. Times read back in UTC, truncated to the microsecond: a
// caller comparing times compares them with a stored copy, not with the
// time it saved.
//
// Saves of one source by several processes are serialized (SQLite: the
// file's write lock; PostgreSQL: an advisory lock on the source), so each
// plans against what the previous one stored and nothing is counted twice.
// A save that writes anything also bumps Version and, on PostgreSQL,
// notifies listeners (see Postgres.Listen), in the same transaction.
func (e *engine) SaveItems(ctx context.Context, source string, items []feed.Item, keep int, now time.Time) (feed.SaveResult, error) {
	batch, err := prepareBatch(source, items, now)
	if err != nil {
		return feed.SaveResult{}, fmt.Errorf("save items of source %q: %w", source, err)
	}
	now = storedTime(now)
	var p savePlan
	err = e.write(ctx, func(q querier) error {
		if e.sql.lockSource != "" {
			if _, err := q.exec(ctx, e.sql.lockSource, source); err != nil {
				return fmt.Errorf("lock source: %w", err)
			}
		}
		stored, err := loadStoredRows(ctx, q, e.sql.loadStored, source)
		if err != nil {
			return err
		}
		p = plan(batch, stored, keep, now)
		return e.applyPlan(ctx, q, source, p)
	})
	if err != nil {
		return feed.SaveResult{}, fmt.Errorf("save items of source %q: %w", source, err)
	}
	res := p.result()
	e.logger.DebugContext(ctx, "items saved", "source", source, "items", len(items),
		"new", res.New, "updated", res.Updated, "pruned", res.Pruned, "dropped", p.dropped,
		"silent", len(p.silent))
	return res, nil
}

func loadStoredRows(ctx context.Context, q querier, query, source string) ([]storedRow, error) {
	rows, err := q.query(ctx, query, source)
	if err != nil {
		return nil, fmt.Errorf("load stored items: %w", err)
	}
	defer rows.Close()
	var stored []storedRow
	for rows.Next() {
		var r storedRow
		var pub, upd, first int64
		if err := rows.Scan(&r.id, &pub, &upd, &first, &r.hash, &r.hiddenHash); err != nil {
			return nil, fmt.Errorf("load stored items: %w", err)
		}
		r.published, r.updated, r.firstSeen = fromMicros(pub), fromMicros(upd), fromMicros(first)
		stored = append(stored, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load stored items: %w", err)
	}
	return stored, nil
}

// The statements applying a plan; both drivers run them as they are.
const (
	insertItemSQL = `INSERT INTO items
	(source, id, link, title, summary, content, authors, categories, enclosures,
	 published, updated, first_seen, hash,
	 canonical, raw_summary, raw_content, raw_is_content, hidden_hash, image)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	updateItemSQL = `UPDATE items SET
	link = ?, title = ?, summary = ?, content = ?, authors = ?, categories = ?, enclosures = ?,
	published = ?, updated = ?, hash = ?,
	canonical = ?, raw_summary = ?, raw_content = ?, raw_is_content = ?, hidden_hash = ?, image = ?
	WHERE source = ? AND id = ?`
	// Only the hidden fields: the visible ones and the times are the
	// stored ones already.
	updateHiddenSQL = `UPDATE items SET
	canonical = ?, raw_summary = ?, raw_content = ?, raw_is_content = ?, hidden_hash = ?
	WHERE source = ? AND id = ?`
	deleteItemSQL = `DELETE FROM items WHERE source = ? AND id = ?`
	// The source's count, kept so that counting (for the archive pages
	// and the status page) does not step through every stored item of
	// every source; one source's items are few.
	countItemsSQL = `INSERT INTO item_counts (source, items)
	VALUES (?, (SELECT count(*) FROM items WHERE source = ?))
	ON CONFLICT (source) DO UPDATE SET items = excluded.items`
	// The change counter (see Version). It is the last statement of a
	// save, so that PostgreSQL holds the lock on its one row for as
	// little as possible: every save that writes queues on it.
	bumpVersionSQL = `UPDATE changes SET version = version + 1 WHERE id = 1`
)

// itemError names the record at index i of recs in an error of execEach.
func itemError(what string, recs []record, i int, err error) error {
	if i < 0 || i >= len(recs) {
		return fmt.Errorf("%s: %w", what, err)
	}
	return fmt.Errorf("%s item %q: %w", what, recs[i].id, err)
}

func (e *engine) applyPlan(ctx context.Context, q querier, source string, p savePlan) error {
	if i, err := q.execEach(ctx, insertItemSQL, len(p.inserts), func(i int) []any {
		r := p.inserts[i]
		return []any{source, r.id, r.link, r.title, r.summary, r.content,
			nullString(r.authors), nullString(r.categories), nullString(r.enclosures),
			toMicros(r.published), toMicros(r.updated), toMicros(r.firstSeen), r.hash,
			r.canonical, r.rawSummary, r.rawContent, r.rawIsContent, r.hiddenHash, r.image}
	}); err != nil {
		return itemError("insert", p.inserts, i, err)
	}
	if i, err := q.execEach(ctx, updateItemSQL, len(p.updates), func(i int) []any {
		r := p.updates[i]
		return []any{r.link, r.title, r.summary, r.content,
			nullString(r.authors), nullString(r.categories), nullString(r.enclosures),
			toMicros(r.published), toMicros(r.updated), r.hash,
			r.canonical, r.rawSummary, r.rawContent, r.rawIsContent, r.hiddenHash, r.image, source, r.id}
	}); err != nil {
		return itemError("update", p.updates, i, err)
	}
	if i, err := q.execEach(ctx, updateHiddenSQL, len(p.silent), func(i int) []any {
		r := p.silent[i]
		return []any{r.canonical, r.rawSummary, r.rawContent, r.rawIsContent, r.hiddenHash, source, r.id}
	}); err != nil {
		return itemError("update hidden fields of", p.silent, i, err)
	}
	if i, err := q.execEach(ctx, deleteItemSQL, len(p.deletes), func(i int) []any {
		return []any{source, p.deletes[i]}
	}); err != nil {
		if i >= 0 && i < len(p.deletes) {
			return fmt.Errorf("delete item %q: %w", p.deletes[i], err)
		}
		return fmt.Errorf("delete: %w", err)
	}
	if len(p.inserts) > 0 || len(p.deletes) > 0 {
		if _, err := q.exec(ctx, countItemsSQL, source, source); err != nil {
			return fmt.Errorf("count items: %w", err)
		}
	}
	if len(p.inserts)+len(p.updates)+len(p.silent)+len(p.deletes) == 0 {
		return nil // nothing written: no new version, no notification
	}
	return e.bumpVersion(ctx, q)
}

// bumpVersion increments the version in the transaction q, and on
// PostgreSQL notifies the listeners when it commits.
func (e *engine) bumpVersion(ctx context.Context, q querier) error {
	if _, err := q.exec(ctx, e.sql.bumpVersion); err != nil {
		return fmt.Errorf("bump version: %w", err)
	}
	return nil
}

// Version returns a number that changes whenever what published feeds
// show changes, by this process or any other sharing the database: every
// SaveItems that writes (new, updated or pruned items, or hidden fields
// rewritten) increments it in its own transaction, so a reader that sees
// a version also sees the items written with it, and so does a
// SaveState(s) that changes a source's feed title, feed link or first
// success. A save that writes nothing of these leaves it alone. A caller caching what it read compares it with
// the version it read before: an equal version means the same items.
func (e *engine) Version(ctx context.Context) (int64, error) {
	var v int64
	if err := e.read.queryRow(ctx, `SELECT version FROM changes WHERE id = 1`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read version: %w", err)
	}
	return v, nil
}

// nullString stores "" as NULL, for the optional JSON columns.
func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// itemColumns are the columns scanItem reads, in its order; itemColumnsNoRaw
// reads empty strings in place of the raw fields (Query.NoRaw).
const (
	itemColumns = `source, id, link, title, summary, content, authors, categories, enclosures,
	published, updated, first_seen, canonical, raw_summary, raw_content, raw_is_content, image`
	itemColumnsNoRaw = `source, id, link, title, summary, content, authors, categories, enclosures,
	published, updated, first_seen, canonical, '', '', FALSE, image`
)

func scanItem(sc rowScanner) (feed.Item, error) {
	var it feed.Item
	var authors, categories, enclosures sql.NullString
	var pub, upd, first int64
	var rawIsContent bool
	if err := sc.Scan(&it.Source, &it.ID, &it.Link, &it.Title, &it.Summary, &it.Content,
		&authors, &categories, &enclosures, &pub, &upd, &first,
		&it.Canonical, &it.RawSummary, &it.RawContent, &rawIsContent, &it.Image); err != nil {
		return feed.Item{}, err
	}
	if rawIsContent {
		it.RawContent = it.Content
	}
	if err := decodeLists(&it, authors.String, categories.String, enclosures.String); err != nil {
		return feed.Item{}, err
	}
	it.Published, it.Updated, it.FirstSeen = fromMicros(pub), fromMicros(upd), fromMicros(first)
	return it, nil
}

// Items returns the stored items of the sources q.Sources names, newest
// first: by Published, then FirstSeen (both descending), then source and id
// (ascending, byte order), so equal dates still list in a stable order. It
// returns at most q.Limit items, all when q.Limit is 0, after skipping the
// first q.Offset. With q.Oldest the order is exactly reversed (Published,
// FirstSeen ascending, then source and id descending), so that an offset
// counted from the oldest item names the same items as newer ones arrive.
// No source selects no items; an empty source name, a negative limit or a
// negative offset is an error. Items
// come with every stored field, Canonical and the raw fields included, so
// that a caller can clean them again or group them by story.
func (e *engine) Items(ctx context.Context, q feed.Query) ([]feed.Item, error) {
	if q.Limit < 0 {
		return nil, fmt.Errorf("list items: negative limit %d", q.Limit)
	}
	if q.Offset < 0 {
		return nil, fmt.Errorf("list items: negative offset %d", q.Offset)
	}
	if err := checkSources(q.Sources); err != nil {
		return nil, fmt.Errorf("list items: %w", err)
	}
	if len(q.Sources) == 0 {
		return nil, nil
	}
	var limit any = int64(q.Limit)
	if q.Limit == 0 {
		limit = e.sql.noLimit
	}
	args := append(e.sql.inArgs(q.Sources), limit, int64(q.Offset))
	rows, err := e.read.query(ctx, e.sql.itemsQuery(len(q.Sources), q.NoRaw, q.Oldest), args...)
	if err != nil {
		return nil, fmt.Errorf("list items: %w", err)
	}
	defer rows.Close()
	var items []feed.Item
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return nil, fmt.Errorf("list items: %w", err)
		}
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list items: %w", err)
	}
	return items, nil
}

// maxQuerySources bounds the sources of one listing, below SQLite's limit
// on bound parameters (32766).
const maxQuerySources = 10000

// checkSources refuses empty source names and more sources than one query
// may bind.
func checkSources(sources []string) error {
	for i, src := range sources {
		if strings.TrimSpace(src) == "" {
			return fmt.Errorf("source %d: empty name", i)
		}
	}
	if len(sources) > maxQuerySources {
		return fmt.Errorf("%d sources, at most %d", len(sources), maxQuerySources)
	}
	return nil
}

// CountItems returns how many items the named sources have stored; a
// repeated name counts once. No source counts none; an empty source name
// is an error.
func (e *engine) CountItems(ctx context.Context, sources []string) (int, error) {
	if err := checkSources(sources); err != nil {
		return 0, fmt.Errorf("count items: %w", err)
	}
	if len(sources) == 0 {
		return 0, nil
	}
	var n int
	if err := e.read.queryRow(ctx, e.sql.countQuery(len(sources)), e.sql.inArgs(sources)...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count items: %w", err)
	}
	return n, nil
}

// Item returns the stored item k names and whether there is one.
func (e *engine) Item(ctx context.Context, k feed.Key) (feed.Item, bool, error) {
	if err := checkKey(k); err != nil {
		return feed.Item{}, false, fmt.Errorf("get item: %w", err)
	}
	it, err := scanItem(e.read.queryRow(ctx,
		`SELECT `+itemColumns+` FROM items WHERE source = ? AND id = ?`, k.Source, k.ID))
	if isNoRows(err) {
		return feed.Item{}, false, nil
	}
	if err != nil {
		return feed.Item{}, false, fmt.Errorf("get item %q of source %q: %w", k.ID, k.Source, err)
	}
	return it, true, nil
}

func checkKey(k feed.Key) error {
	if strings.TrimSpace(k.Source) == "" {
		return fmt.Errorf("item %q: empty source name", k.ID)
	}
	if strings.TrimSpace(k.ID) == "" {
		return fmt.Errorf("item of source %q: empty id", k.Source)
	}
	return nil
}

// stateColumns are the columns scanState reads, in its order, for a query
// joining the names n to source_state s.
const stateColumns = `n.name, coalesce(s.etag, ''), coalesce(s.last_modified, ''),
	s.last_fetch, s.next_fetch, s.last_success, coalesce(s.last_error, ''),
	coalesce(s.last_status, 0), coalesce(s.feed_title, ''), coalesce(s.feed_link, ''),
	coalesce(s.url, ''), coalesce(s.furniture, ''), coalesce(s.rules, ''), s.first_success,
	coalesce(s.failures, 0), coalesce(s.moved, ''), coalesce(s.discovered, ''), coalesce(s.gone, false),
	coalesce(s.last_duration, 0), coalesce(s.last_new, 0), coalesce(s.last_updated, 0),
	coalesce(s.last_cause, ''), coalesce(s.next_reason, ''),
	coalesce((SELECT c.items FROM item_counts c WHERE c.source = n.name), 0)`

func scanState(sc rowScanner) (feed.SourceState, error) {
	var st feed.SourceState
	var lastFetch, nextFetch, lastSuccess, firstSuccess sql.NullInt64
	var duration int64
	if err := sc.Scan(&st.Name, &st.Validators.ETag, &st.Validators.LastModified,
		&lastFetch, &nextFetch, &lastSuccess, &st.LastError, &st.LastStatus,
		&st.FeedTitle, &st.FeedLink, &st.URL, &st.Furniture, &st.Rules, &firstSuccess,
		&st.Failures, &st.Moved, &st.Discovered, &st.Gone,
		&duration, &st.LastNew, &st.LastUpdated, &st.LastCause, &st.NextReason, &st.ItemCount); err != nil {
		return feed.SourceState{}, err
	}
	st.LastDuration = fromDurationMicros(duration)
	st.LastFetch, st.NextFetch, st.LastSuccess = nullTime(lastFetch), nullTime(nextFetch), nullTime(lastSuccess)
	st.FirstSuccess = nullTime(firstSuccess)
	return st, nil
}

func nullTime(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMicros(v.Int64)
}

func nullMicros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: toMicros(t), Valid: true}
}

// State returns what is stored about fetching source, with ItemCount set to
// the number of its stored items. A source the store has never seen gets
// the zero state with Name set.
func (e *engine) State(ctx context.Context, source string) (feed.SourceState, error) {
	if strings.TrimSpace(source) == "" {
		return feed.SourceState{}, errors.New("get state: empty source name")
	}
	// The cast tells PostgreSQL the type of the lone parameter.
	st, err := scanState(e.read.queryRow(ctx, `SELECT `+stateColumns+`
		FROM (SELECT CAST(? AS TEXT) AS name) AS n LEFT JOIN source_state AS s ON s.name = n.name`, source))
	if err != nil {
		return feed.SourceState{}, fmt.Errorf("get state of source %q: %w", source, err)
	}
	return st, nil
}

// SaveState stores st, replacing what was stored for st.Name. Times are
// kept in UTC to the microsecond, and LastDuration to the microsecond;
// ItemCount is not stored, the store counts items itself. A negative
// Failures is an error: it would hide a backoff; so are a negative
// LastDuration, LastNew or LastUpdated. A lease on the source (see
// ClaimDue) is not part of the state: saving keeps it.
//
// When st records a new attempt (a non-zero LastFetch other than the one
// stored), the attempt is also appended to the source's fetch history
// (see Fetches), in the same transaction.
func (e *engine) SaveState(ctx context.Context, st feed.SourceState) error {
	return e.SaveStates(ctx, []feed.SourceState{st})
}

// SaveStates stores several states in one transaction: a refresh pass in
// which most sources answered 304 records them with one commit (and one
// fsync) instead of one each. Either all are stored or none, with their
// fetch history. When a name repeats, the last of its states is stored,
// and each of them that records a new attempt, compared with the one
// before it, is appended to the history.
func (e *engine) SaveStates(ctx context.Context, sts []feed.SourceState) error {
	return e.SaveStatesAndRelease(ctx, "", sts, nil)
}

// SaveStatesAndRelease is SaveStates followed, in the same transaction, by
// the end of owner's leases on the sources release names (see Release): a
// coordinated refresher records what it found about a group of sources
// and hands them back with one commit, and no other instance can take one
// of them before its state is stored. A name owner holds no lease on is
// left alone. With no names to release, owner may be empty.
func (e *engine) SaveStatesAndRelease(ctx context.Context, owner string, sts []feed.SourceState, release []string) error {
	if len(release) > 0 && strings.TrimSpace(owner) == "" {
		return errors.New("save states: release with an empty owner")
	}
	for _, name := range release {
		if strings.TrimSpace(name) == "" {
			return errors.New("save states: release of an empty source name")
		}
	}
	release = slices.Clone(release)
	slices.Sort(release)
	release = slices.Compact(release)
	for _, st := range sts {
		if err := checkState(st); err != nil {
			return err
		}
	}
	// Rows are written in name order, the order every transaction of the
	// store takes source rows in, so that two of them never wait for each
	// other's rows in opposite orders (a deadlock on PostgreSQL). The sort
	// is stable: of repeated names the last still wins.
	sorted := slices.Clone(sts)
	slices.SortStableFunc(sorted, func(a, b feed.SourceState) int { return cmp.Compare(a.Name, b.Name) })
	var appended int
	err := e.write(ctx, func(q querier) error {
		// Read before the states are overwritten: what tells a new
		// attempt from a state saved again.
		stored, pub, err := e.lastFetches(ctx, q, sorted)
		if err != nil {
			return err
		}
		if shownChanged(sorted, pub) {
			// Other instances render the feeds from the store: they must
			// learn of this as of new items (see Version).
			if err := e.bumpVersion(ctx, q); err != nil {
				return err
			}
		}
		i, err := q.execEach(ctx, saveStateSQL, len(sorted), func(i int) []any {
			st := sorted[i]
			return []any{st.Name, st.Validators.ETag, st.Validators.LastModified,
				nullMicros(st.LastFetch), nullMicros(st.NextFetch), nullMicros(st.LastSuccess),
				st.LastError, st.LastStatus, st.FeedTitle, st.FeedLink, st.URL, st.Furniture, st.Rules,
				nullMicros(st.FirstSuccess), st.Failures, st.Moved, st.Discovered, st.Gone,
				st.LastDuration.Microseconds(), st.LastNew, st.LastUpdated, string(st.LastCause), st.NextReason}
		})
		if err != nil {
			if i >= 0 && i < len(sorted) {
				return fmt.Errorf("source %q: %w", sorted[i].Name, err)
			}
			return err
		}
		if appended, err = appendFetches(ctx, q, newAttempts(sorted, stored)); err != nil {
			return err
		}
		if i, err := q.execEach(ctx, releaseSQL, len(release), func(i int) []any {
			return []any{release[i], owner}
		}); err != nil {
			if i >= 0 && i < len(release) {
				return fmt.Errorf("release source %q: %w", release[i], err)
			}
			return fmt.Errorf("release: %w", err)
		}
		return nil
	})
	if err != nil {
		if len(sts) == 0 {
			return fmt.Errorf("release %d sources for %s: %w", len(release), owner, err)
		}
		if len(sts) == 1 {
			return fmt.Errorf("save state of source %q: %w", sts[0].Name, err)
		}
		return fmt.Errorf("save %d states: %w", len(sts), err)
	}
	if appended > 0 {
		e.logger.DebugContext(ctx, "fetch history appended", "states", len(sts), "attempts", appended)
	}
	return nil
}

// saveStateSQL upserts a state. The lease columns are not in it: a new row
// has none, and an existing one keeps its own.
const saveStateSQL = `INSERT INTO source_state
	(name, etag, last_modified, last_fetch, next_fetch, last_success,
	 last_error, last_status, feed_title, feed_link, url, furniture, rules, first_success,
	 failures, moved, discovered, gone, last_duration, last_new, last_updated,
	 last_cause, next_reason)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (name) DO UPDATE SET
	etag = excluded.etag, last_modified = excluded.last_modified,
	last_fetch = excluded.last_fetch, next_fetch = excluded.next_fetch,
	last_success = excluded.last_success, last_error = excluded.last_error,
	last_status = excluded.last_status, feed_title = excluded.feed_title,
	feed_link = excluded.feed_link, url = excluded.url,
	furniture = excluded.furniture, rules = excluded.rules,
	first_success = excluded.first_success,
	failures = excluded.failures, moved = excluded.moved,
	discovered = excluded.discovered, gone = excluded.gone,
	last_duration = excluded.last_duration, last_new = excluded.last_new,
	last_updated = excluded.last_updated,
	last_cause = excluded.last_cause, next_reason = excluded.next_reason`

// checkState refuses a state the store cannot keep faithfully.
func checkState(st feed.SourceState) error {
	if strings.TrimSpace(st.Name) == "" {
		return errors.New("save state: empty source name")
	}
	switch {
	case st.Failures < 0:
		return fmt.Errorf("save state of source %q: negative failure count %d", st.Name, st.Failures)
	case st.LastDuration < 0:
		return fmt.Errorf("save state of source %q: negative duration %s", st.Name, st.LastDuration)
	case st.LastNew < 0 || st.LastUpdated < 0:
		return fmt.Errorf("save state of source %q: negative item counts %d new, %d updated", st.Name, st.LastNew, st.LastUpdated)
	}
	for _, t := range []struct {
		name string
		t    time.Time
	}{{"last fetch", st.LastFetch}, {"next fetch", st.NextFetch}, {"last success", st.LastSuccess}, {"first success", st.FirstSuccess}} {
		if err := checkTime(t.t); err != nil {
			return fmt.Errorf("save state of source %q: %s: %w", st.Name, t.name, err)
		}
	}
	return nil
}

// statesQuery lists every source with a state or items (item_counts knows
// the sources that have items without a scan of them).
const statesQuery = `SELECT ` + stateColumns + `
	FROM (SELECT name FROM source_state
		UNION SELECT source FROM item_counts WHERE items > 0) AS n
	LEFT JOIN source_state AS s ON s.name = n.name
	ORDER BY n.name`

// States returns the state of every source the store knows, by a saved
// state, by stored items or by a lease taken on it (a source claimed but
// never fetched lists with an empty state), ordered by name, each with
// ItemCount set.
func (e *engine) States(ctx context.Context) ([]feed.SourceState, error) {
	rows, err := e.read.query(ctx, statesQuery)
	if err != nil {
		return nil, fmt.Errorf("list states: %w", err)
	}
	defer rows.Close()
	var states []feed.SourceState
	for rows.Next() {
		st, err := scanState(rows)
		if err != nil {
			return nil, fmt.Errorf("list states: %w", err)
		}
		states = append(states, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list states: %w", err)
	}
	return states, nil
}
