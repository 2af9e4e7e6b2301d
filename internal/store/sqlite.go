package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/feedmill/feedmill/internal/feed"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// busyTimeout is how long a statement waits for another connection or
// process holding the write lock before it fails with SQLITE_BUSY.
const busyTimeout = 5 * time.Second

// SQLite is a store in one SQLite database file. It is safe for concurrent
// use, and several SQLite values, in one process or several, may share a
// file: the database runs in WAL mode, so readers never wait for a writer,
// and writers queue on the file's write lock for up to busyTimeout.
type SQLite struct {
	db     *sql.DB
	path   string
	logger *slog.Logger
	// writeSlot serializes this handle's write transactions. SQLite allows
	// one writer per file anyway; queueing here rather than in SQLite's
	// busy handler, which polls with sleeps, keeps in-process writers fair
	// and lets a waiting writer give up when its context ends.
	writeSlot chan struct{}

	// articleMaxAge and articleMaxRows bound the article cache; they are
	// the constants of the same names except in tests, which lower them.
	articleMaxAge  time.Duration
	articleMaxRows int
}

// OpenSQLite opens the store in the database file at path, creating the
// file when it does not exist and migrating its schema to the current
// version. The directory that holds path must exist: the store does not
// create directories, so that a mistyped path fails instead of scattering
// databases. The connection runs with WAL journaling, synchronous=FULL
// (every committed transaction survives a power cut), foreign keys on, a
// busy timeout, and BEGIN IMMEDIATE transactions, so that a write
// transaction takes the write lock at once instead of failing on a lock
// upgrade. A nil logger discards.
func OpenSQLite(ctx context.Context, path string, logger *slog.Logger) (*SQLite, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if path == "" {
		return nil, errors.New("open store: empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	dir := filepath.Dir(abs)
	if fi, err := os.Stat(dir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("open store %s: directory %s does not exist: %w", path, dir, err)
		}
		return nil, fmt.Errorf("open store %s: %w", path, err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("open store %s: %s is not a directory", path, dir)
	}
	if fi, err := os.Stat(abs); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("open store %s: is a directory", path)
	}

	db, err := sql.Open("sqlite", sqliteDSN(abs))
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s := &SQLite{
		db:             db,
		path:           path,
		logger:         logger,
		writeSlot:      make(chan struct{}, 1),
		articleMaxAge:  articleMaxAge,
		articleMaxRows: articleMaxRows,
	}
	if err := s.init(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("open store %s: %w", path, err), db.Close())
	}
	return s, nil
}

// sqliteDSN builds the connection string for the database file at the
// absolute path abs. It is a file: URI so that a path containing '?', '#'
// or '%' names the file it says instead of being cut at the '?'.
func sqliteDSN(abs string) string {
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows drive path: file:///C:/...
	}
	q := url.Values{}
	q.Set("_busy_timeout", fmt.Sprint(busyTimeout.Milliseconds()))
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "FULL")
	q.Set("_foreign_keys", "1")
	q.Set("_txlock", "immediate")
	u := url.URL{Scheme: "file", Path: p, RawQuery: q.Encode()}
	return u.String()
}

// init checks that the file is a usable database in WAL mode and migrates
// it.
func (s *SQLite) init(ctx context.Context) error {
	var mode string
	if err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("read journal mode: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		// WAL can be refused, for example on a network file system; the
		// store would then block readers during writes, so say so.
		return fmt.Errorf("journal mode is %q, want wal", mode)
	}
	return s.migrate(ctx, sqliteMigrations)
}

// Close closes the database. Calls after Close fail.
func (s *SQLite) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close store %s: %w", s.path, err)
	}
	return nil
}

// write runs fn in one write transaction and commits it when fn succeeds;
// on any error, including an ended ctx, nothing fn did is kept.
func (s *SQLite) write(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	// Checked first because select picks at random between a free slot
	// and an ended context.
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case s.writeSlot <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.writeSlot }()

	tx, err := s.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE, from the DSN
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err == nil {
			return
		}
		// database/sql has already rolled back when ctx ended.
		if rerr := tx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
			err = errors.Join(err, fmt.Errorf("rollback: %w", rerr))
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
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
func (s *SQLite) SaveItems(ctx context.Context, source string, items []feed.Item, keep int, now time.Time) (feed.SaveResult, error) {
	batch, err := prepareBatch(source, items, now)
	if err != nil {
		return feed.SaveResult{}, fmt.Errorf("save items of source %q: %w", source, err)
	}
	now = storedTime(now)
	var p savePlan
	err = s.write(ctx, func(tx *sql.Tx) error {
		stored, err := loadStoredRows(ctx, tx, source)
		if err != nil {
			return err
		}
		p = plan(batch, stored, keep, now)
		return applyPlan(ctx, tx, source, p)
	})
	if err != nil {
		return feed.SaveResult{}, fmt.Errorf("save items of source %q: %w", source, err)
	}
	res := p.result()
	s.logger.DebugContext(ctx, "items saved", "source", source, "items", len(items),
		"new", res.New, "updated", res.Updated, "pruned", res.Pruned, "dropped", p.dropped,
		"silent", len(p.silent))
	return res, nil
}

// loadStoredQuery reads what plan needs about the stored items of a source.
const loadStoredQuery = `SELECT id, published, updated, first_seen, hash, hidden_hash FROM items
	INDEXED BY items_by_source_date WHERE source = ?`

func loadStoredRows(ctx context.Context, tx *sql.Tx, source string) ([]storedRow, error) {
	rows, err := tx.QueryContext(ctx, loadStoredQuery, source)
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

func applyPlan(ctx context.Context, tx *sql.Tx, source string, p savePlan) error {
	if len(p.inserts) > 0 {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO items
			(source, id, link, title, summary, content, authors, categories, enclosures,
			 published, updated, first_seen, hash,
			 canonical, raw_summary, raw_content, hidden_hash)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return fmt.Errorf("prepare insert: %w", err)
		}
		defer stmt.Close()
		for _, r := range p.inserts {
			if _, err := stmt.ExecContext(ctx, source, r.id, r.link, r.title, r.summary, r.content,
				nullString(r.authors), nullString(r.categories), nullString(r.enclosures),
				toMicros(r.published), toMicros(r.updated), toMicros(r.firstSeen), r.hash,
				r.canonical, r.rawSummary, r.rawContent, r.hiddenHash); err != nil {
				return fmt.Errorf("insert item %q: %w", r.id, err)
			}
		}
	}
	if len(p.updates) > 0 {
		stmt, err := tx.PrepareContext(ctx, `UPDATE items SET
			link = ?, title = ?, summary = ?, content = ?, authors = ?, categories = ?, enclosures = ?,
			published = ?, updated = ?, hash = ?,
			canonical = ?, raw_summary = ?, raw_content = ?, hidden_hash = ?
			WHERE source = ? AND id = ?`)
		if err != nil {
			return fmt.Errorf("prepare update: %w", err)
		}
		defer stmt.Close()
		for _, r := range p.updates {
			if _, err := stmt.ExecContext(ctx, r.link, r.title, r.summary, r.content,
				nullString(r.authors), nullString(r.categories), nullString(r.enclosures),
				toMicros(r.published), toMicros(r.updated), r.hash,
				r.canonical, r.rawSummary, r.rawContent, r.hiddenHash, source, r.id); err != nil {
				return fmt.Errorf("update item %q: %w", r.id, err)
			}
		}
	}
	if len(p.silent) > 0 {
		// Only the hidden fields: the visible ones and the times are
		// the stored ones already.
		stmt, err := tx.PrepareContext(ctx, `UPDATE items SET
			canonical = ?, raw_summary = ?, raw_content = ?, hidden_hash = ?
			WHERE source = ? AND id = ?`)
		if err != nil {
			return fmt.Errorf("prepare hidden update: %w", err)
		}
		defer stmt.Close()
		for _, r := range p.silent {
			if _, err := stmt.ExecContext(ctx, r.canonical, r.rawSummary, r.rawContent, r.hiddenHash,
				source, r.id); err != nil {
				return fmt.Errorf("update hidden fields of item %q: %w", r.id, err)
			}
		}
	}
	if len(p.deletes) > 0 {
		stmt, err := tx.PrepareContext(ctx, `DELETE FROM items WHERE source = ? AND id = ?`)
		if err != nil {
			return fmt.Errorf("prepare delete: %w", err)
		}
		defer stmt.Close()
		for _, id := range p.deletes {
			if _, err := stmt.ExecContext(ctx, source, id); err != nil {
				return fmt.Errorf("delete item %q: %w", id, err)
			}
		}
	}
	if len(p.inserts) > 0 || len(p.deletes) > 0 {
		// The source's count, kept so that counting (for the archive
		// pages and the status page) does not step through every stored
		// item of every source; one source's items are few.
		if _, err := tx.ExecContext(ctx, `INSERT INTO item_counts (source, items)
			VALUES (?, (SELECT count(*) FROM items WHERE source = ?))
			ON CONFLICT (source) DO UPDATE SET items = excluded.items`, source, source); err != nil {
			return fmt.Errorf("count items: %w", err)
		}
	}
	return nil
}

// nullString stores "" as NULL, for the optional JSON columns.
func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// itemColumns are the columns scanItem reads, in its order; itemColumnsNoRaw
// reads empty strings in place of the raw fields (Query.NoRaw).
const (
	itemColumns = `source, id, link, title, summary, content, authors, categories, enclosures,
	published, updated, first_seen, canonical, raw_summary, raw_content`
	itemColumnsNoRaw = `source, id, link, title, summary, content, authors, categories, enclosures,
	published, updated, first_seen, canonical, '', ''`
)

type rowScanner interface{ Scan(dest ...any) error }

func scanItem(sc rowScanner) (feed.Item, error) {
	var it feed.Item
	var authors, categories, enclosures sql.NullString
	var pub, upd, first int64
	if err := sc.Scan(&it.Source, &it.ID, &it.Link, &it.Title, &it.Summary, &it.Content,
		&authors, &categories, &enclosures, &pub, &upd, &first,
		&it.Canonical, &it.RawSummary, &it.RawContent); err != nil {
		return feed.Item{}, err
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
func (s *SQLite) Items(ctx context.Context, q feed.Query) ([]feed.Item, error) {
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
	limit := int64(q.Limit)
	if limit == 0 {
		limit = -1 // SQLite: no limit
	}
	args := make([]any, 0, len(q.Sources)+2)
	for _, src := range q.Sources {
		args = append(args, src)
	}
	args = append(args, limit, int64(q.Offset))
	rows, err := s.db.QueryContext(ctx, itemsQuery(len(q.Sources), q.NoRaw, q.Oldest), args...)
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

// sourceList returns the placeholders of n >= 1 source names.
func sourceList(n int) string { return "(?" + strings.Repeat(", ?", n-1) + ")" }

// itemsQuery is the listing query for n >= 1 sources; its arguments are
// the names, then the limit and the offset. Both forms read an index in
// listing order (scanned backwards when oldest) and stop at the limit,
// instead of reading every selected row and sorting: one source walks its
// own slice of items_by_source_date; several walk the global items_by_date
// and skip rows of other sources, which costs little because a published
// feed usually selects most sources and reads only its newest items. An
// offset still steps over the rows it skips, in the index: archive pages
// pay for it once, when first rendered. INDEXED BY makes a missing index
// an error rather than a silent full sort.
func itemsQuery(n int, noRaw, oldest bool) string {
	order := ` ORDER BY published DESC, first_seen DESC, source, id LIMIT ? OFFSET ?`
	if oldest {
		order = ` ORDER BY published, first_seen, source DESC, id DESC LIMIT ? OFFSET ?`
	}
	cols := itemColumns
	if noRaw {
		cols = itemColumnsNoRaw
	}
	if n == 1 {
		return `SELECT ` + cols + ` FROM items INDEXED BY items_by_source_date
		WHERE source = ?` + order
	}
	return `SELECT ` + cols + ` FROM items INDEXED BY items_by_date
		WHERE source IN ` + sourceList(n) + order
}

// countQuery counts the items of n >= 1 sources in items_by_source_date,
// one range of it per source, without reading the table.
func countQuery(n int) string {
	return `SELECT coalesce(sum(items), 0) FROM item_counts WHERE source IN ` + sourceList(n)
}

// CountItems returns how many items the named sources have stored; a
// repeated name counts once. No source counts none; an empty source name
// is an error.
func (s *SQLite) CountItems(ctx context.Context, sources []string) (int, error) {
	if err := checkSources(sources); err != nil {
		return 0, fmt.Errorf("count items: %w", err)
	}
	if len(sources) == 0 {
		return 0, nil
	}
	args := make([]any, len(sources))
	for i, src := range sources {
		args[i] = src
	}
	var n int
	if err := s.db.QueryRowContext(ctx, countQuery(len(sources)), args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count items: %w", err)
	}
	return n, nil
}

// Item returns the stored item k names and whether there is one.
func (s *SQLite) Item(ctx context.Context, k feed.Key) (feed.Item, bool, error) {
	if err := checkKey(k); err != nil {
		return feed.Item{}, false, fmt.Errorf("get item: %w", err)
	}
	it, err := scanItem(s.db.QueryRowContext(ctx,
		`SELECT `+itemColumns+` FROM items WHERE source = ? AND id = ?`, k.Source, k.ID))
	if errors.Is(err, sql.ErrNoRows) {
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
	coalesce(s.failures, 0), coalesce(s.moved, ''), coalesce(s.discovered, ''), coalesce(s.gone, 0),
	coalesce((SELECT c.items FROM item_counts c WHERE c.source = n.name), 0)`

func scanState(sc rowScanner) (feed.SourceState, error) {
	var st feed.SourceState
	var lastFetch, nextFetch, lastSuccess, firstSuccess sql.NullInt64
	if err := sc.Scan(&st.Name, &st.Validators.ETag, &st.Validators.LastModified,
		&lastFetch, &nextFetch, &lastSuccess, &st.LastError, &st.LastStatus,
		&st.FeedTitle, &st.FeedLink, &st.URL, &st.Furniture, &st.Rules, &firstSuccess,
		&st.Failures, &st.Moved, &st.Discovered, &st.Gone, &st.ItemCount); err != nil {
		return feed.SourceState{}, err
	}
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
func (s *SQLite) State(ctx context.Context, source string) (feed.SourceState, error) {
	if strings.TrimSpace(source) == "" {
		return feed.SourceState{}, errors.New("get state: empty source name")
	}
	st, err := scanState(s.db.QueryRowContext(ctx, `SELECT `+stateColumns+`
		FROM (SELECT ? AS name) AS n LEFT JOIN source_state AS s ON s.name = n.name`, source))
	if err != nil {
		return feed.SourceState{}, fmt.Errorf("get state of source %q: %w", source, err)
	}
	return st, nil
}

// SaveState stores st, replacing what was stored for st.Name. Times are
// kept in UTC to the microsecond; ItemCount is not stored, the store counts
// items itself. A negative Failures is an error: it would hide a backoff.
func (s *SQLite) SaveState(ctx context.Context, st feed.SourceState) error {
	return s.SaveStates(ctx, []feed.SourceState{st})
}

// SaveStates stores several states in one transaction: a refresh pass in
// which most sources answered 304 records them with one commit (and one
// fsync) instead of one each. Either all are stored or none.
func (s *SQLite) SaveStates(ctx context.Context, sts []feed.SourceState) error {
	for _, st := range sts {
		if err := checkState(st); err != nil {
			return err
		}
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, saveStateSQL)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, st := range sts {
			if _, err := stmt.ExecContext(ctx,
				st.Name, st.Validators.ETag, st.Validators.LastModified,
				nullMicros(st.LastFetch), nullMicros(st.NextFetch), nullMicros(st.LastSuccess),
				st.LastError, st.LastStatus, st.FeedTitle, st.FeedLink, st.URL, st.Furniture, st.Rules,
				nullMicros(st.FirstSuccess), st.Failures, st.Moved, st.Discovered, st.Gone); err != nil {
				return fmt.Errorf("source %q: %w", st.Name, err)
			}
		}
		return nil
	})
	if err != nil {
		if len(sts) == 1 {
			return fmt.Errorf("save state of source %q: %w", sts[0].Name, err)
		}
		return fmt.Errorf("save %d states: %w", len(sts), err)
	}
	return nil
}

const saveStateSQL = `INSERT INTO source_state
	(name, etag, last_modified, last_fetch, next_fetch, last_success,
	 last_error, last_status, feed_title, feed_link, url, furniture, rules, first_success,
	 failures, moved, discovered, gone)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (name) DO UPDATE SET
	etag = excluded.etag, last_modified = excluded.last_modified,
	last_fetch = excluded.last_fetch, next_fetch = excluded.next_fetch,
	last_success = excluded.last_success, last_error = excluded.last_error,
	last_status = excluded.last_status, feed_title = excluded.feed_title,
	feed_link = excluded.feed_link, url = excluded.url,
	furniture = excluded.furniture, rules = excluded.rules,
	first_success = excluded.first_success,
	failures = excluded.failures, moved = excluded.moved,
	discovered = excluded.discovered, gone = excluded.gone`

// checkState refuses a state the store cannot keep faithfully.
func checkState(st feed.SourceState) error {
	if strings.TrimSpace(st.Name) == "" {
		return errors.New("save state: empty source name")
	}
	if st.Failures < 0 {
		return fmt.Errorf("save state of source %q: negative failure count %d", st.Name, st.Failures)
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
// state or by stored items, ordered by name, each with ItemCount set.
func (s *SQLite) States(ctx context.Context) ([]feed.SourceState, error) {
	rows, err := s.db.QueryContext(ctx, statesQuery)
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
