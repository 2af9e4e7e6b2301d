package store

import (
	"context"
	"database/sql"
	"errors"
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

// sqlQuerier adapts database/sql to querier.
type sqlQuerier struct{ r sqlRunner }

func (q sqlQuerier) exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := q.r.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (q sqlQuerier) execEach(ctx context.Context, query string, n int, args func(i int) []any) (int, error) {
	if n == 0 {
		return 0, nil
	}
	stmt, err := q.r.PrepareContext(ctx, query)
	if err != nil {
		return -1, err
	}
	defer stmt.Close()
	for i := range n {
		if _, err := stmt.ExecContext(ctx, args(i)...); err != nil {
			return i, err
		}
	}
	return n, nil
}

func (q sqlQuerier) query(ctx context.Context, query string, args ...any) (rowIter, error) {
	r, err := q.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{r}, nil
}

func (q sqlQuerier) queryRow(ctx context.Context, query string, args ...any) rowScanner {
	return q.r.QueryRowContext(ctx, query, args...)
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
