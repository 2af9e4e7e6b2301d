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

	"github.com/feedmill/feedmill/internal/batch"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// busyTimeout is how long a statement waits for another connection or
// process holding the write lock before it fails with SQLITE_BUSY. It is
// generous on purpose: the other holder is feedmill too (a `feedmill fetch`
// beside `serve`, a second handle), its transactions are short, and on a
// busy machine a wait of a few seconds is normal, while a failed write
// loses a refresh's state.
const busyTimeout = 30 * time.Second

// SQLite is a store in one SQLite database file. It is safe for concurrent
// use, and several SQLite values, in one process or several, may share a
// file: the database runs in WAL mode, so readers never wait for a writer,
// and writers queue on the file's write lock for up to busyTimeout. Its
// methods other than Close are shared with Postgres: the same code, the
// same behaviour.
type SQLite struct {
	engine
	// db is the pool of readers; w holds the one connection that writes.
	// A connection of its own keeps the pages a write reads (the indexes'
	// leaves, the source's rows) in its cache from one write to the
	// next: SQLite drops a connection's cache whenever another connection
	// has written since it last read, so writes taking turns on the
	// pool's connections read those pages from the file every time.
	db   *sql.DB
	w    *sql.DB
	path string
	// wal is the absolute path of the write-ahead log, for Size.
	wal string
	// writes serializes this handle's write transactions and gathers
	// those that wait into one (see transact). SQLite allows one writer
	// per file anyway; queueing here rather than in SQLite's busy handler,
	// which polls with sleeps, keeps in-process writers in order.
	writes batch.Group[writeCall, error]
	// stmts keeps the readers' statements prepared, wstmts the writer's;
	// their new ones are prepared when a write transaction ends.
	stmts, wstmts *stmtCache
}

// newSQLite wraps an open database: db for reading, w for writing (the
// same handle for both will do); a nil logger discards.
func newSQLite(db, w *sql.DB, path string, logger *slog.Logger) *SQLite {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path // only Size uses it, and would then fail to find the log
	}
	s := &SQLite{db: db, w: w, path: path, wal: abs + "-wal",
		stmts: newStmtCache(db), wstmts: newStmtCache(w)}
	s.engine = newEngine(sqlQuerier{r: db, stmts: s.stmts}, s.write, &sqliteDialect, logger)
	return s
}

// OpenSQLite opens the store in the database file at path, creating the
// file when it does not exist and migrating its schema to the current
// version. The directory that holds path must exist: the store does not
// create directories, so that a mistyped path fails instead of scattering
// databases. Every connection runs with WAL journaling, synchronous=FULL
// (every committed transaction survives a power cut), foreign keys on, a
// busy timeout, and BEGIN IMMEDIATE transactions, so that a write
// transaction takes the write lock at once instead of failing on a lock
// upgrade; the writing one has a larger page cache (see writerPragmas).
// A nil logger discards.
func OpenSQLite(ctx context.Context, path string, logger *slog.Logger) (*SQLite, error) {
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

	w, err := sql.Open("sqlite", sqliteDSN(abs, true))
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	// One connection, never closed while the store is open (see SQLite.w).
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	db, err := sql.Open("sqlite", sqliteDSN(abs, false))
	if err != nil {
		return nil, errors.Join(fmt.Errorf("open store %s: %w", path, err), w.Close())
	}
	// Idle readers are kept rather than closed and opened again (each
	// new connection reads the schema anew): as many as the refresh's
	// workers and the server's requests usually read at once.
	db.SetMaxIdleConns(readersKept)
	s := newSQLite(db, w, path, logger)
	if err := s.init(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("open store %s: %w", path, err), db.Close(), w.Close())
	}
	return s, nil
}

// writerCache is the page cache of the writing connection, in KiB:
// enough for the inner pages of the item indexes and the pages a refresh
// pass writes again and again (each index's newest leaves), at a size
// that does not count against a small install. Readers keep SQLite's
// default (2 MiB).
const writerCache = 16 << 10

// writerPragmas are the settings of the writing connection beyond those
// every connection has: its page cache, and the undo records of the
// savepoints of a shared transaction (see transact) kept in memory rather
// than in a temporary file (a few hundred KiB at most: the pages one
// writer changes).
var writerPragmas = []string{fmt.Sprintf("cache_size(-%d)", writerCache), "temp_store(MEMORY)"}

// readersKept is how many idle reading connections the pool keeps.
const readersKept = 8

// sqliteDSN builds the connection string for the database file at the
// absolute path abs, for the writing connection (see writerPragmas) or a
// reading one. It is a file: URI so that a path containing '?', '#' or
// '%' names the file it says instead of being cut at the '?'.
func sqliteDSN(abs string, writer bool) string {
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
	if writer {
		q["_pragma"] = writerPragmas
	}
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
	return s.migrate(ctx, schemaSteps)
}

// Close closes the database. Calls after Close fail.
func (s *SQLite) Close() error {
	if err := errors.Join(s.stmts.close(), s.wstmts.close(), s.db.Close(), s.w.Close()); err != nil {
		return fmt.Errorf("close store %s: %w", s.path, err)
	}
	return nil
}

// Size returns how many bytes the store occupies: its pages as the
// database counts them (page_count times page_size, the changes still in
// the log included) plus the write-ahead log file, which keeps its size
// after a checkpoint for reuse, so together they are what the store takes
// on disk, give or take the small shared-memory index (-shm), not counted.
func (s *SQLite) Size(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.QueryRowContext(ctx, `SELECT p.page_count * s.page_size
		FROM pragma_page_count() AS p, pragma_page_size() AS s`).Scan(&n); err != nil {
		return 0, fmt.Errorf("size of store %s: %w", s.path, err)
	}
	fi, err := os.Stat(s.wal)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// No log: the last connection to close checkpointed it away.
	case err != nil:
		return 0, fmt.Errorf("size of store %s: %w", s.path, err)
	default:
		n += fi.Size()
	}
	return n, nil
}

// write is the engine's write transaction (see writeFunc). Its statements
// run on the transaction's context (see transact), whatever ctx fn passes.
func (s *SQLite) write(ctx context.Context, fn func(q querier) error) error {
	return s.do(s.querierCall(ctx, fn))
}

// querierCall is the write call of the engine's fn.
func (s *SQLite) querierCall(ctx context.Context, fn func(q querier) error) writeCall {
	return writeCall{ctx, func(txCtx context.Context, tx *sql.Tx) error {
		return fn(sqlQuerier{r: tx, tx: tx, stmts: s.wstmts, ctx: txCtx})
	}}
}

// writeCall is a write transaction waiting for its turn (see transact).
type writeCall struct {
	ctx context.Context
	fn  func(ctx context.Context, tx *sql.Tx) error
}

// transact runs fn in a write transaction and commits it when fn
// succeeds; on any error, including an ended ctx, nothing fn did is kept.
//
// The writes that arrive while another is under way wait for it, then run
// together in one transaction (a group commit, see batch.Group): one
// commit, one sync, and one write to the log of each page they all change
// (an index's newest leaves, the change counter) instead of one each.
// Each fn but a lone one runs in a savepoint of its own, so that its
// failure undoes its own work only.
//
// fn must run its statements on the context it is given, which is never
// cancelled: SQLite answers a write statement interrupted half way by
// rolling back the whole transaction, the other writers' work with it. A
// fn whose ctx ends while it runs is undone once it returns; one whose ctx
// has ended before its turn does not run. The wait for another process's
// write lock is bounded by busyTimeout.
func (s *SQLite) transact(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	return s.do(writeCall{ctx, fn})
}

// do runs c as transact says.
func (s *SQLite) do(c writeCall) error {
	if err := c.ctx.Err(); err != nil {
		return err
	}
	errs, err := s.writes.Do(c, s.commitGroup)
	return errors.Join(err, errs)
}

// commitGroup runs the calls in one transaction and returns each one's
// error.
func (s *SQLite) commitGroup(calls []writeCall) ([]error, error) {
	errs := make([]error, len(calls))
	var live []int
	for i, c := range calls {
		if errs[i] = c.ctx.Err(); errs[i] == nil {
			live = append(live, i)
		}
	}
	if len(live) == 0 {
		return errs, nil
	}
	// The statements first asked for in this transaction are prepared
	// once it has ended, before the next begins (see stmtCache).
	ctx := context.WithoutCancel(calls[live[0]].ctx)
	defer s.stmts.prepare(ctx)
	defer s.wstmts.prepare(ctx)

	tx, err := s.w.BeginTx(ctx, nil) // BEGIN IMMEDIATE, from the DSN
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	// A write that panics must not leave the writer's one connection in
	// its transaction; after a commit or a rollback this does nothing.
	defer tx.Rollback() //nolint:errcheck // ErrTxDone once ended
	shared := len(live) > 1
	done := 0
	for _, i := range live {
		var abort error
		errs[i], abort = runCall(ctx, tx, calls[i], shared)
		if abort != nil {
			// The transaction is in a state no savepoint describes:
			// nothing of the group is kept.
			abort = fmt.Errorf("write transaction shared by %d writers: %w", len(live), abort)
			if rerr := tx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
				abort = errors.Join(abort, fmt.Errorf("rollback: %w", rerr))
			}
			for _, i := range live {
				errs[i] = errors.Join(errs[i], abort)
			}
			return errs, nil
		}
		if errs[i] == nil {
			done++
		}
	}
	if done == 0 {
		if rerr := tx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
			for _, i := range live {
				errs[i] = errors.Join(errs[i], fmt.Errorf("rollback: %w", rerr))
			}
		}
		return errs, nil
	}
	if err := tx.Commit(); err != nil {
		for _, i := range live {
			if errs[i] == nil {
				errs[i] = fmt.Errorf("commit: %w", err)
			}
		}
	}
	return errs, nil
}

// sharedSavepoint is the savepoint each call of a shared transaction runs
// in.
const sharedSavepoint = "feedmill_write"

// runCall runs c in tx on ctx, in a savepoint when the transaction is
// shared, undoing its work when it fails or its own context ended
// meanwhile: err is c's outcome. abort is an error leaving the
// transaction unusable for the others.
func runCall(ctx context.Context, tx *sql.Tx, c writeCall, shared bool) (err, abort error) {
	if shared {
		if _, err := tx.ExecContext(ctx, "SAVEPOINT "+sharedSavepoint); err != nil {
			return nil, fmt.Errorf("savepoint: %w", err)
		}
	}
	err = c.fn(ctx, tx)
	if err == nil {
		err = c.ctx.Err()
	}
	if !shared {
		return err, nil // a lone call's failure rolls the transaction back
	}
	if err != nil {
		if _, rerr := tx.ExecContext(ctx, "ROLLBACK TO "+sharedSavepoint); rerr != nil {
			return err, fmt.Errorf("roll back to savepoint: %w", rerr)
		}
	}
	if _, rerr := tx.ExecContext(ctx, "RELEASE "+sharedSavepoint); rerr != nil {
		return err, fmt.Errorf("release savepoint: %w", rerr)
	}
	return err, nil
}
