package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The behaviour of the store is written once, in engine methods, against
// the small querier interface below; each driver supplies an adapter for
// it (database/sql for SQLite, pgx for PostgreSQL) and a dialect holding
// the few statements whose SQL differs. Statements are written with ?
// placeholders, as SQLite takes them; the PostgreSQL adapter numbers them
// ($1, $2, ...), so no statement of this package may contain a ? that is
// not a placeholder.

// querier runs statements on a pool or inside a transaction, whichever the
// driver.
type querier interface {
	// exec runs a statement and returns how many rows it changed.
	exec(ctx context.Context, query string, args ...any) (int64, error)
	// execEach runs query once for each of n argument lists: as one
	// prepared statement (SQLite) or one batch, sent in one round trip
	// (PostgreSQL). On failure it returns the index of the failing list,
	// or -1 when the failure belongs to none of them.
	execEach(ctx context.Context, query string, n int, args func(i int) []any) (int, error)
	query(ctx context.Context, query string, args ...any) (rowIter, error)
	queryRow(ctx context.Context, query string, args ...any) rowScanner
}

// rowIter is a result set being read; both drivers' row types fit it through
// their adapters.
type rowIter interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

type rowScanner interface{ Scan(dest ...any) error }

// writeFunc runs fn in one write transaction and commits it when fn
// succeeds; on any error, including an ended ctx, nothing fn did is kept.
// fn may run more than once (PostgreSQL retries a transaction a deadlock
// aborted), so it must compute everything it writes from what it reads
// through q, and reset what it reports.
type writeFunc func(ctx context.Context, fn func(q querier) error) error

// isNoRows reports whether err says a query returned no row, for either
// driver (pgx.ErrNoRows also matches sql.ErrNoRows; both are named for
// clarity).
func isNoRows(err error) bool {
	return errors.Is(err, sql.ErrNoRows) || errors.Is(err, pgx.ErrNoRows)
}

// sqlRunner is what *sql.DB and *sql.Tx share.
type sqlRunner interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// sqlQuerier adapts database/sql to querier. r is the database or, with
// tx set, the transaction; with stmts, the statements run are the kept
// prepared ones where there are (see stmtCache). With ctx set, statements
// run on it, whatever context their caller passes (see SQLite.transact).
type sqlQuerier struct {
	r     sqlRunner
	tx    *sql.Tx
	stmts *stmtCache
	ctx   context.Context
}

// on is the context a statement runs on.
func (q sqlQuerier) on(ctx context.Context) context.Context {
	if q.ctx != nil {
		return q.ctx
	}
	return ctx
}

// stmt returns the kept statement of query, moved into the transaction
// when there is one, or nil when none is kept (yet): query then runs as
// is.
func (q sqlQuerier) stmt(ctx context.Context, query string) *sql.Stmt {
	ctx = q.on(ctx)
	st := q.stmts.get(query)
	if st != nil && q.tx != nil {
		// Prepared again on the transaction's connection the first time
		// only; closed with the transaction.
		return q.tx.StmtContext(ctx, st)
	}
	return st
}

func (q sqlQuerier) exec(ctx context.Context, query string, args ...any) (int64, error) {
	ctx = q.on(ctx)
	var res sql.Result
	var err error
	if st := q.stmt(ctx, query); st != nil {
		res, err = st.ExecContext(ctx, args...)
	} else {
		res, err = q.r.ExecContext(ctx, query, args...)
	}
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (q sqlQuerier) execEach(ctx context.Context, query string, n int, args func(i int) []any) (int, error) {
	ctx = q.on(ctx)
	if n == 0 {
		return 0, nil
	}
	stmt := q.stmt(ctx, query)
	if stmt == nil {
		var err error
		if stmt, err = q.r.PrepareContext(ctx, query); err != nil {
			return -1, err
		}
		defer stmt.Close()
	}
	for i := range n {
		if _, err := stmt.ExecContext(ctx, args(i)...); err != nil {
			return i, err
		}
	}
	return n, nil
}

func (q sqlQuerier) query(ctx context.Context, query string, args ...any) (rowIter, error) {
	ctx = q.on(ctx)
	var r *sql.Rows
	var err error
	if st := q.stmt(ctx, query); st != nil {
		r, err = st.QueryContext(ctx, args...)
	} else {
		r, err = q.r.QueryContext(ctx, query, args...)
	}
	if err != nil {
		return nil, err
	}
	return sqlRows{r}, nil
}

func (q sqlQuerier) queryRow(ctx context.Context, query string, args ...any) rowScanner {
	ctx = q.on(ctx)
	if st := q.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return q.r.QueryRowContext(ctx, query, args...)
}

// stmtCache keeps the statements of a database/sql store prepared:
// modernc's SQLite driver parses a statement's SQL on every Exec and
// Query, which was a tenth of the cost of storing a feed's items.
// database/sql prepares a kept statement again on each connection it is
// first used on (inside a transaction, on the transaction's own), and
// reuses it there after.
//
// A statement is kept once it has been asked for, and prepared on the
// database only outside any transaction (prepare, called when a write
// transaction has ended): preparing on the database inside one would need
// a second connection while the transaction holds one. The nil *stmtCache
// keeps none.
type stmtCache struct {
	db      *sql.DB
	mu      sync.Mutex
	kept    map[string]*sql.Stmt
	pending map[string]bool // asked for, not prepared yet
}

// maxKeptStmts bounds the statements kept: the store's are a few dozen,
// and a statement built for a list of a given length is one per length.
const maxKeptStmts = 128

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, kept: make(map[string]*sql.Stmt), pending: make(map[string]bool)}
}

// get returns the kept statement of query, or nil, noting it for prepare.
func (c *stmtCache) get(query string) *sql.Stmt {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.kept[query]; st != nil {
		return st
	}
	if len(c.kept)+len(c.pending) < maxKeptStmts {
		c.pending[query] = true
	}
	return nil
}

// prepare prepares the statements asked for since it last ran. It must
// not be called inside a transaction (see stmtCache). A statement that
// fails to prepare is not kept and runs as is, which reports the error.
func (c *stmtCache) prepare(ctx context.Context) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for query := range c.pending {
		delete(c.pending, query)
		if st, err := c.db.PrepareContext(ctx, query); err == nil {
			c.kept[query] = st
		}
	}
}

// close closes the kept statements.
func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for query, st := range c.kept {
		errs = append(errs, st.Close())
		delete(c.kept, query)
	}
	return errors.Join(errs...)
}

// sqlRows drops the error of Close: a failure while reading is reported
// by Err, which every loop of this package checks.
type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { r.Rows.Close() }

// pgRunner is what *pgxpool.Pool and pgx.Tx share.
type pgRunner interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// pgQuerier adapts pgx to querier, numbering the placeholders.
type pgQuerier struct{ r pgRunner }

func (q pgQuerier) exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := q.r.Exec(ctx, rebind(query), args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

func (q pgQuerier) execEach(ctx context.Context, query string, n int, args func(i int) []any) (int, error) {
	if n == 0 {
		return 0, nil
	}
	query = rebind(query)
	b := &pgx.Batch{}
	for i := range n {
		b.Queue(query, args(i)...)
	}
	br := q.r.SendBatch(ctx, b)
	for i := range n {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return i, err
		}
	}
	if err := br.Close(); err != nil {
		return -1, err
	}
	return n, nil
}

func (q pgQuerier) query(ctx context.Context, query string, args ...any) (rowIter, error) {
	return q.r.Query(ctx, rebind(query), args...)
}

func (q pgQuerier) queryRow(ctx context.Context, query string, args ...any) rowScanner {
	return q.r.QueryRow(ctx, rebind(query), args...)
}

// rebound caches rebind: the package runs a fixed set of statements, and
// PostgreSQL forms never vary with the number of arguments (lists are
// passed as one array), so the cache stays small.
var rebound sync.Map // string -> string

// rebind turns the ? placeholders of query into PostgreSQL's $1, $2, ...
func rebind(query string) string {
	if v, ok := rebound.Load(query); ok {
		return v.(string)
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] != '?' {
			b.WriteByte(query[i])
			continue
		}
		n++
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
	}
	out := b.String()
	rebound.Store(query, out)
	return out
}

// queryNames runs query, which selects one text column (source names,
// topics), on q and returns its values in order; what says in errors what
// it selected.
func queryNames(ctx context.Context, q querier, what, query string, args ...any) ([]string, error) {
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		names = append(names, name)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return names, nil
}
