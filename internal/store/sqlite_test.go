package store

import (
	"bufio"
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
)

func sqliteOpener(t *testing.T) opener {
	path := filepath.Join(t.TempDir(), "feedmill.db")
	return func(ctx context.Context) (conformanceStore, error) { return OpenSQLite(ctx, path, nil) }
}

func TestSQLiteConformance(t *testing.T) { testConformance(t, sqliteOpener) }

func openSQLite(t testing.TB, path string) *SQLite {
	t.Helper()
	s, err := OpenSQLite(context.Background(), path, nil)
	if err != nil {
		t.Fatalf("OpenSQLite: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// rawDB opens the file without the store, as another tool would.
func rawDB(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatalf("open raw database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestOpenSQLiteErrors(t *testing.T) {
	dir := t.TempDir()
	notDB := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notDB, []byte(strings.Repeat("not a database\n", 100)), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		path    string
		wantErr []string
		wantIs  error
	}{
		{"empty path", "", []string{"empty path"}, nil},
		{"missing directory", filepath.Join(dir, "missing", "feedmill.db"),
			[]string{"directory " + filepath.Join(dir, "missing") + " does not exist"}, fs.ErrNotExist},
		{"parent is a file", filepath.Join(file, "feedmill.db"), []string{file, "not a directory"}, nil},
		{"path is a directory", dir, []string{dir, "is a directory"}, nil},
		{"not a database", notDB, []string{notDB, "not a database"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := OpenSQLite(context.Background(), tc.path, nil)
			if err == nil {
				s.Close()
				t.Fatal("no error")
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("error %v is not %v", err, tc.wantIs)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a failed open created the missing directory: %v", err)
	}
}

// TestOpenSQLiteSettings pins the connection settings the store relies on,
// on more than one pooled reading connection and on the writing one: they
// come from the DSN, which the driver applies to every connection it
// opens. Only the writer's page cache and temporary store differ.
func TestOpenSQLiteSettings(t *testing.T) {
	s := openSQLite(t, filepath.Join(t.TempDir(), "feedmill.db"))
	ctx := context.Background()
	conn := func(db *sql.DB) *sql.Conn {
		c, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	for i, c := range []struct {
		conn         *sql.Conn
		cache, store string
	}{
		{conn(s.db), "-2000", "0"}, // SQLite's defaults
		{conn(s.db), "-2000", "0"},
		{conn(s.w), strconv.Itoa(-writerCache), "2"}, // MEMORY
	} {
		for _, p := range []struct{ pragma, want string }{
			{"journal_mode", "wal"},
			{"synchronous", "2"}, // FULL
			{"foreign_keys", "1"},
			{"busy_timeout", strconv.FormatInt(busyTimeout.Milliseconds(), 10)},
			{"user_version", strconv.Itoa(len(schemaSteps))},
			{"cache_size", c.cache},
			{"temp_store", c.store},
		} {
			var got string
			if err := c.conn.QueryRowContext(ctx, "PRAGMA "+p.pragma).Scan(&got); err != nil {
				t.Fatalf("conn %d: PRAGMA %s: %v", i, p.pragma, err)
			}
			if got != p.want {
				t.Errorf("conn %d: PRAGMA %s = %q, want %q", i, p.pragma, got, p.want)
			}
		}
	}
	if n := s.w.Stats().MaxOpenConnections; n != 1 {
		t.Errorf("the writer may open %d connections, want 1", n)
	}
}

// TestSQLiteImmediateTransactions pins that a write transaction takes the
// write lock when it begins (_txlock=immediate): a deferred one would take
// it at its first write, and two of them could deadlock on the upgrade.
func TestSQLiteImmediateTransactions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "feedmill.db")
	s := openSQLite(t, path)
	ctx := context.Background()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	other := rawDB(t, path) // no busy timeout: fails at once
	_, err = other.ExecContext(ctx, "BEGIN IMMEDIATE; ROLLBACK")
	if err == nil || !strings.Contains(err.Error(), "locked") {
		t.Errorf("second writer: error = %v, want the database to be locked", err)
	}
}

func TestOpenSQLiteOddPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a?b#c%20d e")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "feed?mill.db")
	s := openSQLite(t, path)
	mustSave(t, s, "src", dated(1), 10, at(2))
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file not at the given path: %v", err)
	}
	// A relative path names the same file.
	t.Chdir(dir)
	s2 := openSQLite(t, "feed?mill.db")
	mustItem(t, s2, "src", "d1")
}

func TestSQLiteMigrations(t *testing.T) {
	ctx := context.Background()
	version := func(t *testing.T, db *sql.DB) int {
		t.Helper()
		var v int
		if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	hasTable := func(t *testing.T, db *sql.DB, name string) bool {
		t.Helper()
		var n int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema WHERE name = ?", name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n > 0
	}
	createT := step{name: "t", sqlite: execAll(`CREATE TABLE t (x INTEGER)`)}
	failing := step{name: "failing", sqlite: func(ctx context.Context, tx *sql.Tx) error { return errors.New("boom") }}

	t.Run("reopen keeps data and version", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "feedmill.db")
		s, err := OpenSQLite(ctx, path, nil)
		if err != nil {
			t.Fatal(err)
		}
		mustSave(t, s, "src", dated(1), 10, at(2))
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s2 := openSQLite(t, path)
		mustItem(t, s2, "src", "d1")
		if v := version(t, s2.db); v != len(schemaSteps) {
			t.Errorf("user_version = %d, want %d", v, len(schemaSteps))
		}
	})

	t.Run("a later step applies", func(t *testing.T) {
		s := openSQLite(t, filepath.Join(t.TempDir(), "feedmill.db"))
		steps := append(schemaSteps[:len(schemaSteps):len(schemaSteps)], createT)
		if err := s.migrate(ctx, steps); err != nil {
			t.Fatal(err)
		}
		if v := version(t, s.db); v != len(steps) || !hasTable(t, s.db, "t") {
			t.Errorf("user_version = %d, table t = %v; want %d, true", v, hasTable(t, s.db, "t"), len(steps))
		}
	})

	t.Run("a failing step rolls back every pending step", func(t *testing.T) {
		s := openSQLite(t, filepath.Join(t.TempDir(), "feedmill.db"))
		steps := append(schemaSteps[:len(schemaSteps):len(schemaSteps)], createT, failing)
		err := s.migrate(ctx, steps)
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("version %d: boom", len(steps))) {
			t.Fatalf("migrate error = %v, want the failing step named", err)
		}
		if v := version(t, s.db); v != len(schemaSteps) || hasTable(t, s.db, "t") {
			t.Errorf("after a failed migration: user_version = %d, table t = %v; want %d, false",
				v, hasTable(t, s.db, "t"), len(schemaSteps))
		}
	})

	t.Run("a newer schema is refused", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "feedmill.db")
		db := rawDB(t, path)
		if _, err := db.ExecContext(ctx, "PRAGMA user_version = 99"); err != nil {
			t.Fatal(err)
		}
		s, err := OpenSQLite(ctx, path, nil)
		if err == nil {
			s.Close()
			t.Fatal("no error")
		}
		if !strings.Contains(err.Error(), "schema version 99 is newer") {
			t.Errorf("error %q does not explain the version", err)
		}
	})
}

// TestSQLiteQueryPlans pins that listings and the retention scan read an
// index in order instead of scanning and sorting the table, and that the
// fetch history and the counts of recent items read only their slice of
// an index.
func TestSQLiteQueryPlans(t *testing.T) {
	s := openSQLite(t, filepath.Join(t.TempDir(), "feedmill.db"))
	tests := []struct {
		name      string
		query     string
		args      []any
		wantIndex string // after "INDEX " or "USING "
		sortOK    string // the one temporary B-tree the plan may use
	}{
		{"items of one source", itemsQuery(1, false, false), []any{"a", 10, 0}, "items_by_source_date", ""},
		{"items of several sources", itemsQuery(3, true, false), []any{"a", "b", "c", 10, 0}, "items_by_date", ""},
		{"oldest items of one source", itemsQuery(1, true, true), []any{"a", 10, 20}, "items_by_source_date", ""},
		{"oldest items of several sources", itemsQuery(3, true, true), []any{"a", "b", "c", 10, 20}, "items_by_date", ""},
		{"count of one source", countQuery(1), []any{"a"}, "sqlite_autoindex_item_counts_1", ""},
		{"count of several sources", countQuery(3), []any{"a", "b", "c"}, "sqlite_autoindex_item_counts_1", ""},
		{"stored rows of a source", loadStoredQuery, []any{"a"}, "items_by_source_date", ""},
		{"article lookup", getArticleQuery, []any{"https://example.com/", "k"}, "sqlite_autoindex_articles_1", ""},
		{"expired articles", expireArticlesQuery, []any{0}, "articles_by_fetched", ""},
		{"articles over the limit", pruneArticlesQuery, []any{10}, "articles_by_fetched", ""},
		{"last fetch times", sqliteDialect.lastFetchQuery(3), []any{"a", "b", "c"}, "sqlite_autoindex_source_state_1 (name=?)", ""},
		{"fetch history of a source", fetchesQuery, []any{"a", 10}, "PRIMARY KEY (source=?)", ""},
		{"fetch history beyond the kept", pruneFetchesSQL, []any{"a", "a", 50}, "PRIMARY KEY (source=? AND at<?)", ""},
		// Only the recent range of the index is read; the few rows found
		// are then grouped.
		{"recent item counts", recentCountsQuery, []any{0}, "COVERING INDEX items_by_first_seen (first_seen>?)",
			"USE TEMP B-TREE FOR GROUP BY"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := s.db.Query("EXPLAIN QUERY PLAN "+tc.query, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			text := strings.Join(plan, "; ")
			sorts := strings.Count(text, "TEMP B-TREE")
			if tc.sortOK != "" && strings.Contains(text, tc.sortOK) {
				sorts--
			}
			if !(strings.Contains(text, "INDEX "+tc.wantIndex) || strings.Contains(text, "USING "+tc.wantIndex)) || sorts > 0 {
				t.Errorf("plan %q: want index %s and no sort", text, tc.wantIndex)
			}
		})
	}
}

// TestSQLiteUnchangedWritesNothing checks that a refresh finding nothing new
// leaves the database file untouched: PRAGMA data_version, read on another
// connection, changes whenever a commit modified the database.
func TestSQLiteUnchangedWritesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "feedmill.db")
	s := openSQLite(t, path)
	ctx := context.Background()
	watcher, err := rawDB(t, path).Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer watcher.Close()
	dataVersion := func() int64 {
		t.Helper()
		var v int64
		if err := watcher.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	batch := append(dated(3, 2, 1), undated("u")...)
	batch[1] = withHidden(batch[1])
	mustSave(t, s, "src", batch, 10, at(5))

	v0 := dataVersion()
	checkResult(t, "unchanged refresh", mustSave(t, s, "src", batch, 10, at(6)), feed.SaveResult{})
	if v := dataVersion(); v != v0 {
		t.Errorf("an unchanged refresh modified the database (data_version %d -> %d)", v0, v)
	}
	// A hidden change is written, though not counted.
	batch[1].RawContent = "<p>other raw content</p>"
	checkResult(t, "hidden refresh", mustSave(t, s, "src", batch, 10, at(7)), feed.SaveResult{})
	v1 := dataVersion()
	if v1 == v0 {
		t.Error("a change of hidden fields was not written (data_version unchanged)")
	}
	checkResult(t, "unchanged again", mustSave(t, s, "src", batch, 10, at(8)), feed.SaveResult{})
	if v := dataVersion(); v != v1 {
		t.Errorf("an unchanged refresh after a hidden change modified the database (data_version %d -> %d)", v1, v)
	}
	batch[0].Title = "changed"
	checkResult(t, "changed refresh", mustSave(t, s, "src", batch, 10, at(9)), feed.SaveResult{Updated: 1})
	if v := dataVersion(); v == v1 {
		t.Error("data_version did not change after a write: the checks above prove nothing")
	}
}

// TestContentHashStable pins the content hash of stored items: every
// database in the field holds hashes made by it, so any change in its output
// makes every stored item look changed once and be republished as updated.
// Such a change needs a new hashVersion and a migration recomputing hashes.
func TestContentHashStable(t *testing.T) {
	tests := []struct {
		name      string
		item      feed.Item
		published time.Time
		want      string
	}{
		{"full item", feed.Item{
			ID: "x", Title: "Title", Link: "https://example.com/x", Summary: "<p>s</p>", Content: "<p>c</p>",
			Authors:    []feed.Person{{Name: "Ann"}},
			Categories: []string{"go"},
			Enclosures: []feed.Enclosure{{URL: "https://example.com/a.mp3"}},
			// Hidden fields are not part of it.
			Canonical: "https://example.com/c", RawSummary: "raw", RawContent: "raw",
		}, t0, "e7d9dd2f7be2a3dc3fba827ebe5718b7fd5e32ff767830c580fef22f45ff538c"},
		{"empty item before 1970", feed.Item{ID: "x"}, time.Date(1969, 7, 20, 20, 17, 40, 0, time.UTC),
			"b231b6111df8c21a358cdcf834d1e3bee88a6665a43143eb549b2d6e006a6ae6"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := encodeItem(tc.item, 0)
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprintf("%x", contentHash(r, tc.published)); got != tc.want {
				t.Errorf("contentHash = %s, want %s", got, tc.want)
			}
		})
	}
}

// TestHiddenHashOfEmptyFields pins what makes the upgrade to schema 3 free:
// items without hidden fields hash to the empty blob the migration gives
// every stored row, and it is not nil, which the driver would store as NULL.
func TestHiddenHashOfEmptyFields(t *testing.T) {
	r, err := encodeItem(testItem("x", at(1)), 0)
	if err != nil {
		t.Fatal(err)
	}
	if r.hiddenHash == nil || len(r.hiddenHash) != 0 {
		t.Errorf("hidden hash of an item without hidden fields = %#v, want []byte{}", r.hiddenHash)
	}
	for _, it := range []feed.Item{{ID: "x", Canonical: "c"}, {ID: "x", RawSummary: "s"}, {ID: "x", RawContent: "c"}} {
		r, err := encodeItem(it, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.hiddenHash) == 0 {
			t.Errorf("hidden hash of %+v is empty", it)
		}
	}
}

// TestSQLiteUpgradeFromVersion2 opens a database as the previous release
// left it and checks that its items and states read back unchanged, that a
// refresh bringing the same items writes nothing, and that the new fields
// then fill in silently.
func TestSQLiteUpgradeFromVersion2(t *testing.T) {
	ctx := context.Background()
	_, db, path := oldSQLite(t, 2)
	// Rows as version 2 wrote them: planned by the same code, written
	// with the columns version 2 had.
	batch := append(undated("u"), dated(3, 2)...)
	recs, err := prepareBatch("src", batch, at(5))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range plan(recs, nil, 10, at(5)).inserts {
		if _, err := db.ExecContext(ctx, `INSERT INTO items
			(source, id, link, title, summary, content, authors, categories, enclosures,
			 published, updated, first_seen, hash)
			VALUES ('src', ?, ?, ?, ?, ?, NULL, NULL, NULL, ?, ?, ?, ?)`,
			r.id, r.link, r.title, r.summary, r.content,
			toMicros(r.published), toMicros(r.updated), toMicros(r.firstSeen), r.hash); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO source_state
		(name, etag, last_modified, last_error, last_status, feed_title, feed_link, url)
		VALUES ('src', '"e"', '', '', 200, 'Src', '', 'https://example.com/feed')`); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s := openSQLite(t, path)
	var v int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil || v != len(schemaSteps) {
		t.Fatalf("user_version = %d, %v; want %d", v, err, len(schemaSteps))
	}
	st, err := s.State(ctx, "src")
	if err != nil {
		t.Fatal(err)
	}
	wantState := feed.SourceState{Name: "src", URL: "https://example.com/feed", Validators: feed.Validators{ETag: `"e"`},
		LastStatus: 200, FeedTitle: "Src", ItemCount: 3}
	if st != wantState {
		t.Errorf("State = %+v, want %+v", st, wantState)
	}
	before := mustItems(t, s, feed.Query{Sources: []string{"src"}})
	checkItems(t, before, []feed.Item{
		stored("src", batch[0], at(5)), stored("src", batch[1], at(5)), stored("src", batch[2], at(5)),
	})

	watcher, err := rawDB(t, path).Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer watcher.Close()
	var v0, v1 int64
	if err := watcher.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v0); err != nil {
		t.Fatal(err)
	}
	checkResult(t, "same items after the upgrade", mustSave(t, s, "src", batch, 10, at(6)), feed.SaveResult{})
	if err := watcher.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v1); err != nil {
		t.Fatal(err)
	}
	if v1 != v0 {
		t.Errorf("a refresh after the upgrade rewrote unchanged items (data_version %d -> %d)", v0, v1)
	}

	for i := range batch {
		batch[i] = withHidden(batch[i])
	}
	checkResult(t, "hidden fields after the upgrade", mustSave(t, s, "src", batch, 10, at(7)), feed.SaveResult{})
	after := mustItems(t, s, feed.Query{Sources: []string{"src"}})
	for i := range before {
		checkItem(t, after[i], withHidden(before[i]))
	}
}

// TestSQLiteUpgradeFromVersion4 opens a store written before sources had
// a backoff, a move or a gone mark: its states read back healthy, and the
// new fields are stored from then on.
func TestSQLiteUpgradeFromVersion4(t *testing.T) {
	ctx := context.Background()
	_, db, path := oldSQLite(t, 4)
	if _, err := db.ExecContext(ctx, `INSERT INTO source_state
		(name, etag, last_modified, last_error, last_status, feed_title, feed_link, url, next_fetch)
		VALUES ('src', '', '', 'fetch: 503', 503, '', '', 'https://example.com/feed', ?)`, toMicros(at(2))); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s := openSQLite(t, path)
	st, err := s.State(ctx, "src")
	if err != nil {
		t.Fatal(err)
	}
	want := feed.SourceState{Name: "src", URL: "https://example.com/feed", NextFetch: at(2), LastError: "fetch: 503", LastStatus: 503}
	if st != want {
		t.Errorf("State = %+v, want %+v", st, want)
	}
	st.Failures, st.Moved, st.Gone = 2, "https://example.com/moved", true
	if err := s.SaveState(ctx, st); err != nil {
		t.Fatal(err)
	}
	if got, err := s.State(ctx, "src"); err != nil || got != st {
		t.Errorf("State after saving the new fields = %+v, %v; want %+v", got, err, st)
	}
}

// TestSQLiteUpgradeFromVersion6 opens a store written before the leases
// and the change counter: its states read back unchanged, its sources can
// be claimed, and its version starts counting.
func TestSQLiteUpgradeFromVersion6(t *testing.T) {
	ctx := context.Background()
	_, db, path := oldSQLite(t, 6)
	if _, err := db.ExecContext(ctx, `INSERT INTO source_state
		(name, etag, last_modified, last_error, last_status, feed_title, feed_link, url, next_fetch, gone)
		VALUES ('src', '', '', '', 200, 'Src', '', 'https://example.com/feed', ?, 1)`, toMicros(at(2))); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s := openSQLite(t, path)
	want := feed.SourceState{Name: "src", URL: "https://example.com/feed", NextFetch: at(2), LastStatus: 200, FeedTitle: "Src", Gone: true}
	if st, err := s.State(ctx, "src"); err != nil || st != want {
		t.Errorf("State = %+v, %v; want %+v", st, err, want)
	}
	checkClaimed(t, "claim an old source", mustClaimDue(t, s, "x", []string{"src"}, at(2), time.Hour, 1), "src")
	v0, err := s.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mustSave(t, s, "src", dated(1), 10, at(3))
	if v1, err := s.Version(ctx); err != nil || v1 <= v0 {
		t.Errorf("Version after a save = %d, %v; want more than %d", v1, err, v0)
	}
}

// TestSQLiteUpgradeFromVersion7: a store from before the fetch history
// (see testUpgradeFromVersion7).
func TestSQLiteUpgradeFromVersion7(t *testing.T) {
	upgradeSQLite(t, 7, testUpgradeFromVersion7)
}

// TestSQLiteSize: once every handle has closed (and the last one has
// checkpointed the log away), Size is what the files take on disk; while
// a handle is open, the log counts too.
func TestSQLiteSize(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "feedmill.db")
	fileSize := func(name string) int64 {
		t.Helper()
		fi, err := os.Stat(name)
		if errors.Is(err, fs.ErrNotExist) {
			return 0
		}
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	s, err := OpenSQLite(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	items := make([]feed.Item, 200)
	for i := range items {
		items[i] = testItem(fmt.Sprint(i), at(i))
		items[i].Content = strings.Repeat("<p>some content</p>", 100)
	}
	mustSave(t, s, "src", items, 1000, at(300))
	n, err := s.Size(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if wal := fileSize(path + "-wal"); wal == 0 || n <= wal {
		t.Errorf("Size with an open handle = %d, log %d bytes: want the log and the pages", n, wal)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if wal := fileSize(path + "-wal"); wal != 0 {
		t.Fatalf("the log is still there after the last close: %d bytes", wal)
	}
	onDisk := fileSize(path)

	// A relative path names the same files, whatever the working
	// directory later.
	t.Chdir(filepath.Dir(path))
	s = openSQLite(t, filepath.Base(path))
	t.Chdir(t.TempDir())
	n, err = s.Size(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := onDisk + fileSize(path+"-wal"); n != want {
		t.Errorf("Size after reopening = %d, want %d (the file, %d bytes, and its log)", n, want, onDisk)
	}
}

// TestSQLiteUpgradeCountsItems: a store from before the kept item counts
// (schema 5) gets them from its items, so the counts are right at once.
func TestSQLiteUpgradeCountsItems(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "feedmill.db")
	s := openSQLite(t, path)
	mustSave(t, s, "a", dated(3, 2, 1), 10, at(5))
	mustSave(t, s, "b", dated(1), 10, at(5))
	// Back to schema 5: the counts (and what later steps added) never
	// existed.
	for _, q := range []string{
		`ALTER TABLE items DROP COLUMN raw_is_content`,
		`ALTER TABLE source_state DROP COLUMN last_cause`,
		`ALTER TABLE source_state DROP COLUMN next_reason`,
		`ALTER TABLE items DROP COLUMN image`,
		`ALTER TABLE articles DROP COLUMN image`,
		`ALTER TABLE hub_subscriptions DROP COLUMN client`,
		`ALTER TABLE hub_subscriptions DROP COLUMN callback_host`,
		`DROP TABLE item_counts`,
		`ALTER TABLE articles DROP COLUMN published`,
		`ALTER TABLE articles DROP COLUMN updated`,
		`ALTER TABLE articles DROP COLUMN author`,
		`DROP TABLE fetches`,
		`DROP INDEX items_by_first_seen`,
		`ALTER TABLE source_state DROP COLUMN last_duration`,
		`ALTER TABLE source_state DROP COLUMN last_new`,
		`ALTER TABLE source_state DROP COLUMN last_updated`,
		`DROP TABLE claims`,
		`DROP TABLE changes`,
		`ALTER TABLE source_state DROP COLUMN lease_owner`,
		`ALTER TABLE source_state DROP COLUMN lease_until`,
		`PRAGMA user_version = 5`,
	} {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openSQLite(t, path)
	if n, err := s.CountItems(ctx, []string{"a", "b"}); err != nil || n != 4 {
		t.Errorf("CountItems after the upgrade = %d, %v; want 4", n, err)
	}
	st, err := s.State(ctx, "a")
	if err != nil || st.ItemCount != 3 {
		t.Errorf("State(a).ItemCount = %d, %v; want 3", st.ItemCount, err)
	}
}

// TestSQLiteArticlePruning checks the bounds of the article cache with
// small ones: an age of 10 hours and 3 entries.
func TestSQLiteArticlePruning(t *testing.T) {
	s := openSQLite(t, filepath.Join(t.TempDir(), "feedmill.db"))
	s.articleMaxAge, s.articleMaxRows = 10*time.Hour, 3
	ctx := context.Background()
	steps := []struct {
		name string
		url  string
		hour int // fetched at(hour)
		want []string
	}{
		{"first", "a", 0, []string{"a"}},
		{"second", "b", 1, []string{"a", "b"}},
		{"at the limit", "c", 2, []string{"a", "b", "c"}},
		{"over the limit: the oldest goes", "d", 3, []string{"b", "c", "d"}},
		{"an overwrite makes an entry new again", "b", 4, []string{"b", "c", "d"}},
		{"and the oldest then is another", "e", 5, []string{"b", "d", "e"}},
		{"an entry older than the rest is the one dropped", "old", -5, []string{"b", "d", "e"}},
		// b was put at hour 4, d at hour 3.
		{"exactly the maximum age is kept", "f", 14, []string{"b", "e", "f"}},
		{"older than the maximum age goes", "g", 16, []string{"f", "g"}},
		{"everything expired", "h", 100, []string{"h"}},
	}
	for _, st := range steps {
		a := feed.Article{URL: "https://example.com/" + st.url, RulesKey: "k", Title: st.name, Fetched: at(st.hour)}
		if err := s.PutArticle(ctx, a); err != nil {
			t.Fatalf("%s: PutArticle: %v", st.name, err)
		}
		rows, err := s.db.QueryContext(ctx, `SELECT url FROM articles ORDER BY url`)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var u string
			if err := rows.Scan(&u); err != nil {
				t.Fatal(err)
			}
			got = append(got, strings.TrimPrefix(u, "https://example.com/"))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		if !slices.Equal(got, st.want) {
			t.Errorf("%s: cache holds %q, want %q", st.name, got, st.want)
		}
	}
}

// TestSQLiteArticleDefaults pins the bounds a store opens with.
func TestSQLiteArticleDefaults(t *testing.T) {
	s := openSQLite(t, filepath.Join(t.TempDir(), "feedmill.db"))
	if s.articleMaxAge != 90*24*time.Hour || s.articleMaxRows != 50000 {
		t.Errorf("article bounds = %v, %d; want 90 days, 50000", s.articleMaxAge, s.articleMaxRows)
	}
}

// TestSQLiteOddText pins what the driver does with text a sanitizer
// should never let through: it is stored byte for byte.
func TestSQLiteOddText(t *testing.T) {
	s := openSQLite(t, filepath.Join(t.TempDir(), "feedmill.db"))
	it := testItem("odd\x00id", at(1))
	it.Title = "nul \x00 inside"
	it.Summary = "invalid \xff\xfe utf-8"
	it.Content = "\u0000\uFFFD\U0010FFFF"
	mustSave(t, s, "src", []feed.Item{it}, 10, at(2))
	checkItem(t, mustItem(t, s, "src", it.ID), stored("src", it, at(2)))
}

// The crash test re-executes the test binary as a child that saves batches
// in a loop and prints "committed N" after each commit, kills it with
// SIGKILL mid-write, and checks the store it leaves.
const (
	crashEnv      = "FEEDMILL_STORE_CRASH_CHILD" // path of the child's store
	crashPerBatch = 40
	crashSource   = "crash"
)

func TestMain(m *testing.M) {
	if path := os.Getenv(crashEnv); path != "" {
		os.Exit(crashChild(path))
	}
	os.Exit(m.Run())
}

func crashBatch(n int) []feed.Item {
	items := make([]feed.Item, crashPerBatch)
	for i := range items {
		items[i] = testItem(fmt.Sprintf("b%06d-%02d", n, i), at(n))
		// Big enough that a batch spans many pages.
		items[i].Content = strings.Repeat(fmt.Sprintf("<p>batch %d item %d</p>", n, i), 100)
		items[i].RawContent = items[i].Content + "<p>Support us</p>"
	}
	return items
}

// crashChild writes batches until it is killed.
func crashChild(path string) int {
	ctx := context.Background()
	s, err := OpenSQLite(ctx, path, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	for n := 0; ; n++ {
		if _, err := s.SaveItems(ctx, crashSource, crashBatch(n), 1<<30, at(n)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		fmt.Printf("committed %d\n", n)
	}
}

func TestSQLiteCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	path := filepath.Join(t.TempDir(), "feedmill.db")
	// A safety net: the child is killed after a dozen commits.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	// Kill the child at different points of a transaction over the
	// batches: after a few commits, then a growing pause.
	const killAfter = 12
	committed := map[int]bool{}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		n, err := strconv.Atoi(strings.TrimPrefix(sc.Text(), "committed "))
		if err != nil {
			t.Fatalf("child said %q", sc.Text())
		}
		committed[n] = true
		if len(committed) == killAfter {
			time.Sleep(time.Duration(time.Now().UnixNano()%3) * time.Millisecond)
			if err := cmd.Process.Kill(); err != nil { // SIGKILL on Unix
				t.Fatal(err)
			}
		}
	}
	err = cmd.Wait()
	if len(committed) < killAfter {
		t.Fatalf("child stopped after %d commits: %v\n%s", len(committed), err, stderr.String())
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Exited() {
		t.Fatalf("child was not killed: %v\n%s", err, stderr.String())
	}

	s := openSQLite(t, path)
	var check string
	if err := s.db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check = %q, %v", check, err)
	}
	items := mustItems(t, s, feed.Query{Sources: []string{crashSource}})
	perBatch := map[int]int{}
	for _, it := range items {
		n, err := strconv.Atoi(it.ID[1:7])
		if err != nil {
			t.Fatalf("unexpected item %q", it.ID)
		}
		perBatch[n]++
		i, err := strconv.Atoi(it.ID[8:])
		if err != nil || i >= crashPerBatch {
			t.Fatalf("unexpected item %q", it.ID)
		}
		if want := crashBatch(n)[i]; it.Content != want.Content || it.RawContent != want.RawContent {
			t.Errorf("item %q: content damaged", it.ID)
		}
	}
	for n := range committed {
		if perBatch[n] != crashPerBatch {
			t.Errorf("committed batch %d: %d of %d items present", n, perBatch[n], crashPerBatch)
		}
	}
	for n, c := range perBatch {
		if c != crashPerBatch {
			t.Errorf("batch %d is half-present: %d of %d items", n, c, crashPerBatch)
		}
		if !committed[n] && n != len(committed) {
			// Only the batch in flight may have committed unreported.
			t.Errorf("batch %d present but neither reported nor the one in flight", n)
		}
	}
	t.Logf("%d batches reported, %d present", len(committed), len(perBatch))
}

func BenchmarkSaveItems(b *testing.B) {
	const perBatch = 50
	benchmarks := []struct {
		name  string
		batch func(n int) []feed.Item
	}{
		// Every save brings perBatch new items and prunes as many.
		{"new items", func(n int) []feed.Item {
			items := make([]feed.Item, perBatch)
			for i := range items {
				items[i] = testItem(fmt.Sprintf("%d-%d", n, i), t0.Add(time.Duration(n*perBatch+i)*time.Second))
				items[i].Content = strings.Repeat("<p>content</p>", 50)
			}
			return items
		}},
		// A source's first refresh (a cold pass): perBatch new items of
		// about 2 KB each into a source of their own, beside the others.
		{"new source", func(n int) []feed.Item {
			items := make([]feed.Item, perBatch)
			for i := range items {
				items[i] = testItem(fmt.Sprintf("%d-%d", n, i), t0.Add(time.Duration(n*perBatch+i)*time.Second))
				items[i].Source = fmt.Sprintf("src%d", n)
				items[i].Content = strings.Repeat("<p>content</p>", 150)
			}
			return items
		}},
		// The common refresh: nothing changed.
		{"unchanged", func(int) []feed.Item {
			items := make([]feed.Item, perBatch)
			for i := range items {
				items[i] = testItem(fmt.Sprint(i), t0.Add(time.Duration(i)*time.Second))
				items[i].Content = strings.Repeat("<p>content</p>", 50)
			}
			return items
		}},
	}
	for _, bm := range benchmarks {
		b.Run(bm.name, func(b *testing.B) {
			s := openSQLite(b, filepath.Join(b.TempDir(), "feedmill.db"))
			ctx := context.Background()
			for n := range feed.DefaultRetention / perBatch {
				batch := bm.batch(n)
				mustSave(b, s, cmp.Or(batch[0].Source, "src"), batch, 0, at(n))
			}
			n := feed.DefaultRetention / perBatch
			for b.Loop() {
				batch := bm.batch(n)
				if _, err := s.SaveItems(ctx, cmp.Or(batch[0].Source, "src"), batch, 0, at(n)); err != nil {
					b.Fatal(err)
				}
				n++
			}
		})
	}
}

func BenchmarkItems(b *testing.B) {
	const sources, perSource = 20, 250
	s := openSQLite(b, filepath.Join(b.TempDir(), "feedmill.db"))
	ctx := context.Background()
	var names []string
	for src := range sources {
		name := fmt.Sprintf("source%02d", src)
		names = append(names, name)
		items := make([]feed.Item, perSource)
		for i := range items {
			items[i] = testItem(fmt.Sprint(i), t0.Add(time.Duration(i*sources+src)*time.Minute))
			items[i].Content = strings.Repeat("<p>content</p>", 50)
		}
		mustSave(b, s, name, items, 0, at(1))
	}
	benchmarks := []struct {
		name string
		q    feed.Query
	}{
		{"all sources, newest 100", feed.Query{Sources: names, Limit: 100}},
		{"one source, all", feed.Query{Sources: names[:1]}},
		{"two sources, newest 50", feed.Query{Sources: names[:2], Limit: 50}},
	}
	for _, bm := range benchmarks {
		b.Run(bm.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := s.Items(ctx, bm.q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPutArticle puts new articles into a full cache: every put also
// prunes one entry, the cost a busy full-text source pays per article.
func BenchmarkPutArticle(b *testing.B) {
	s := openSQLite(b, filepath.Join(b.TempDir(), "feedmill.db"))
	ctx := context.Background()
	content := strings.Repeat("<p>article text</p>", 200)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	for i := range articleMaxRows {
		if _, err := tx.ExecContext(ctx, `INSERT INTO articles
			(url, rules_key, final_url, canonical, title, content, item_hash, err, fetched)
			VALUES (?, 'k', '', '', 'T', ?, 'h', '', ?)`,
			fmt.Sprintf("https://example.com/old/%d", i), content, toMicros(t0.Add(time.Duration(i)*time.Second))); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	n := 0
	for b.Loop() {
		a := feed.Article{URL: fmt.Sprintf("https://example.com/new/%d", n), RulesKey: "k",
			Content: content, Fetched: at(24 * 20).Add(time.Duration(n) * time.Second)}
		if err := s.PutArticle(ctx, a); err != nil {
			b.Fatal(err)
		}
		n++
	}
}

// TestSQLiteUpgradeArticleDates opens a store at schema 8, whose article
// cache had no dates: its entries stay, undated.
func TestSQLiteUpgradeArticleDates(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "feedmill.db")
	s := openSQLite(t, path)
	a := feed.Article{URL: "https://news.example/a", RulesKey: "k", Title: "A", Content: "<p>A</p>", Fetched: at(1)}
	if err := s.PutArticle(ctx, a); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`ALTER TABLE items DROP COLUMN raw_is_content`,
		`ALTER TABLE source_state DROP COLUMN last_cause`,
		`ALTER TABLE source_state DROP COLUMN next_reason`,
		`ALTER TABLE items DROP COLUMN image`,
		`ALTER TABLE articles DROP COLUMN image`,
		`ALTER TABLE hub_subscriptions DROP COLUMN client`,
		`ALTER TABLE hub_subscriptions DROP COLUMN callback_host`,
		`ALTER TABLE articles DROP COLUMN published`,
		`ALTER TABLE articles DROP COLUMN updated`,
		`ALTER TABLE articles DROP COLUMN author`,
		`PRAGMA user_version = 8`,
	} {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openSQLite(t, path)
	got, ok, err := s.GetArticle(ctx, a.URL, a.RulesKey)
	if err != nil || !ok || !reflect.DeepEqual(got, a) {
		t.Fatalf("after the upgrade: %+v, %v, %v; want %+v", got, ok, err, a)
	}
	a.Published, a.Author = at(-2), "Someone"
	if err := s.PutArticle(ctx, a); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.GetArticle(ctx, a.URL, a.RulesKey); !reflect.DeepEqual(got, a) {
		t.Errorf("dated entry after the upgrade: %+v, want %+v", got, a)
	}
}

// TestSQLiteUpgradeBeforeImages: a store from before images (see
// testUpgradeBeforeImages).
func TestSQLiteUpgradeBeforeImages(t *testing.T) {
	upgradeSQLite(t, 10, testUpgradeBeforeImages)
}

// TestSQLiteRawContentStoredOnce: see testRawContentStoredOnce.
func TestSQLiteRawContentStoredOnce(t *testing.T) {
	s := openSQLite(t, filepath.Join(t.TempDir(), "feedmill.db"))
	testRawContentStoredOnce(t, s, &s.engine)
}

// TestSQLiteUpgradeRawContentTwice: a store from before the raw content
// was kept once (see testUpgradeRawContentTwice).
func TestSQLiteUpgradeRawContentTwice(t *testing.T) {
	upgradeSQLite(t, 12, testUpgradeRawContentTwice)
}

// upgradeSQLite runs test, an upgrade test shared by the drivers, on a
// store file left by a release with the first steps of schemaSteps.
func upgradeSQLite(t *testing.T, steps int, test upgradeTest) {
	old, db, path := oldSQLite(t, steps)
	test(t, &old.engine, func() {
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}, func(ctx context.Context) (conformanceStore, error) { return OpenSQLite(ctx, path, nil) })
}

// oldSQLite opens a new store file as a release with the first steps of
// schemaSteps left it, for an upgrade test: the store, its database
// handle (for writing rows as that release did) and the file's path.
func oldSQLite(t *testing.T, steps int) (*SQLite, *sql.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "feedmill.db")
	db, err := sql.Open("sqlite", sqliteDSN(path, false))
	if err != nil {
		t.Fatal(err)
	}
	old := newSQLite(db, db, path, nil)
	if err := old.migrate(context.Background(), schemaSteps[:steps]); err != nil {
		t.Fatal(err)
	}
	return old, db, path
}

// TestSQLiteSharedTransaction runs writes in one shared transaction, as
// transact gathers those that wait (see commitGroup), and checks that each
// keeps or loses its own work only: a failing write, a write whose context
// ended before its turn and one whose context ended while it ran are
// undone; the others are committed; a write whose statements run on its
// ended context through the querier is not interrupted half way (which
// would roll back everything).
func TestSQLiteSharedTransaction(t *testing.T) {
	ctx := context.Background()
	insert := func(keys ...string) func(ctx context.Context, tx *sql.Tx) error {
		return func(ctx context.Context, tx *sql.Tx) error {
			for _, k := range keys {
				if _, err := tx.ExecContext(ctx, `INSERT INTO scratch (k) VALUES (?)`, k); err != nil {
					return err
				}
			}
			return nil
		}
	}
	boom := errors.New("boom")
	ended, cancel := context.WithCancel(ctx)
	cancel()
	tests := []struct {
		name string
		// calls build the group's writes; want are the keys kept after
		// it, and wantErr each call's error (nil for none).
		calls   func(s *SQLite) []writeCall
		want    []string
		wantErr []error
	}{
		{
			name: "all kept",
			calls: func(*SQLite) []writeCall {
				return []writeCall{{ctx, insert("a")}, {ctx, insert("b", "c")}}
			},
			want:    []string{"a", "b", "c"},
			wantErr: []error{nil, nil},
		},
		{
			name: "a failure undoes its own work only",
			calls: func(*SQLite) []writeCall {
				fail := func(ctx context.Context, tx *sql.Tx) error {
					if err := insert("x")(ctx, tx); err != nil {
						return err
					}
					return boom
				}
				return []writeCall{{ctx, insert("a")}, {ctx, fail}, {ctx, insert("b")}}
			},
			want:    []string{"a", "b"},
			wantErr: []error{nil, boom, nil},
		},
		{
			name: "a statement's error undoes its own work only",
			calls: func(*SQLite) []writeCall {
				return []writeCall{{ctx, insert("a")}, {ctx, insert("x", "a")}, {ctx, insert("b")}}
			},
			want:    []string{"a", "b"},
			wantErr: []error{nil, errAny, nil},
		},
		{
			name: "an ended context: not run, or undone",
			calls: func(s *SQLite) []writeCall {
				mid, cancelMid := context.WithCancel(ctx)
				// Through the querier, as the engine writes: its
				// statements are passed the caller's context.
				endsMidway := s.querierCall(mid, func(q querier) error {
					if _, err := q.exec(mid, `INSERT INTO scratch (k) VALUES ('y')`); err != nil {
						return err
					}
					cancelMid()
					_, err := q.exec(mid, `INSERT INTO scratch (k) VALUES ('z')`)
					return err
				})
				return []writeCall{{ended, insert("x")}, {ctx, insert("a")}, endsMidway, {ctx, insert("b")}}
			},
			want:    []string{"a", "b"},
			wantErr: []error{context.Canceled, nil, context.Canceled, nil},
		},
		{
			name: "all fail: nothing committed",
			calls: func(*SQLite) []writeCall {
				fail := func(context.Context, *sql.Tx) error { return boom }
				return []writeCall{{ctx, fail}, {ended, insert("x")}}
			},
			wantErr: []error{boom, context.Canceled},
		},
		{
			name: "a lone write's failure",
			calls: func(*SQLite) []writeCall {
				return []writeCall{{ctx, insert("x", "x")}}
			},
			wantErr: []error{errAny},
		},
		{
			name: "a write that ends the transaction aborts the group",
			calls: func(*SQLite) []writeCall {
				rollback := func(ctx context.Context, tx *sql.Tx) error {
					_, err := tx.ExecContext(ctx, `ROLLBACK`)
					return err
				}
				return []writeCall{{ctx, insert("x")}, {ctx, rollback}, {ctx, insert("y")}}
			},
			wantErr: []error{errAny, errAny, errAny},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := scratchSQLite(t)
			calls := tt.calls(s)
			errs, err := s.commitGroup(calls)
			if err != nil {
				t.Fatalf("commitGroup: %v", err)
			}
			for i, want := range tt.wantErr {
				switch got := errs[i]; {
				case want == nil && got != nil:
					t.Errorf("call %d: error %v, want none", i, got)
				case want == errAny && got == nil:
					t.Errorf("call %d: no error, want one", i)
				case want != nil && want != errAny && !errors.Is(got, want):
					t.Errorf("call %d: error %v, want %v", i, got, want)
				}
			}
			var got []string
			rows, err := s.db.QueryContext(ctx, `SELECT k FROM scratch ORDER BY k`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			for rows.Next() {
				var k string
				if err := rows.Scan(&k); err != nil {
					t.Fatal(err)
				}
				got = append(got, k)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("kept %q, want %q", got, tt.want)
			}
			// The store writes on after any of these.
			if err := s.transact(ctx, insert("after")); err != nil {
				t.Errorf("a write after the group: %v", err)
			}
		})
	}
}

// scratchSQLite is a new store with a table scratch (k TEXT PRIMARY KEY)
// for writes of the tests' own.
func scratchSQLite(t *testing.T) *SQLite {
	t.Helper()
	s := openSQLite(t, filepath.Join(t.TempDir(), "feedmill.db"))
	if err := s.transact(t.Context(), func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE scratch (k TEXT PRIMARY KEY) STRICT`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return s
}

// errAny stands for any error in TestSQLiteSharedTransaction.
var errAny = errors.New("any error")

// TestSQLiteConcurrentWrites: writes from many goroutines at once, which
// transact gathers into shared transactions, each keep exactly their own
// work, whether they succeed, fail or are cancelled; and the engine's
// saves keep theirs.
func TestSQLiteConcurrentWrites(t *testing.T) {
	ctx := context.Background()
	s := scratchSQLite(t)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	const n = 90
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			key := fmt.Sprintf("k%02d", i)
			wctx := ctx
			if i%3 == 2 { // cancelled before its turn
				c, cancel := context.WithCancel(ctx)
				cancel()
				wctx = c
			}
			errs[i] = s.transact(wctx, func(ctx context.Context, tx *sql.Tx) error {
				for j := range 3 {
					if _, err := tx.ExecContext(ctx, `INSERT INTO scratch (k) VALUES (?)`, fmt.Sprintf("%s-%d", key, j)); err != nil {
						return err
					}
				}
				if i%3 == 1 { // fails after its inserts: a key twice
					_, err := tx.ExecContext(ctx, `INSERT INTO scratch (k) VALUES (?)`, key+"-0")
					return err
				}
				return nil
			})
		})
		wg.Go(func() {
			src := fmt.Sprintf("s%02d", i)
			items := []feed.Item{{ID: src + "-1", Link: "https://example.org/" + src, Title: src, Published: now}}
			if _, err := s.SaveItems(ctx, src, items, 0, now); err != nil {
				t.Errorf("save %s: %v", src, err)
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		key := fmt.Sprintf("k%02d", i)
		var kept int
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM scratch WHERE k LIKE ?`, key+"-%").Scan(&kept); err != nil {
			t.Fatal(err)
		}
		if ok := i%3 == 0; (kept == 3) != ok || (kept != 0 && !ok) || (err == nil) != ok {
			t.Errorf("write %s (case %d): %d rows kept, error %v", key, i%3, kept, err)
		}
		src := fmt.Sprintf("s%02d", i)
		if got, err := s.Items(ctx, feed.Query{Sources: []string{src}}); err != nil || len(got) != 1 {
			t.Errorf("source %s: %d items stored, %v; want 1", src, len(got), err)
		}
	}
}

// TestSQLiteWritePanic: a write that panics (a bug) leaves the store
// writing: its transaction is rolled back and the next write runs.
func TestSQLiteWritePanic(t *testing.T) {
	ctx := context.Background()
	s := openSQLite(t, filepath.Join(t.TempDir(), "feedmill.db"))
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the write's panic did not reach its caller")
			}
		}()
		s.transact(ctx, func(ctx context.Context, tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `CREATE TABLE lost (k TEXT) STRICT`); err != nil {
				return err
			}
			panic("bug")
		})
	}()
	if err := s.transact(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE kept (k TEXT) STRICT`)
		return err
	}); err != nil {
		t.Fatalf("a write after a panic: %v", err)
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE name IN ('lost', 'kept')`).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d of the tables lost and kept exist (%v), want kept alone", n, err)
	}
}
