package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/feedmill/feedmill/internal/feed"
)

// Postgres is a store in a PostgreSQL database, for setups where several
// feedmill instances share one store. Its methods other than Close and
// Listen are shared with SQLite: the same code, the same behaviour, pinned
// by the same conformance suite.
// It is safe for concurrent use, and any number of Postgres values, in any
// number of processes, may share one database, or one schema of it chosen
// by the DSN (search_path).
//
// Data is stored as in SQLite: times as BIGINT microseconds, hashes as
// BYTEA, lists as JSON text. Unlike SQLite, PostgreSQL text holds only
// valid UTF-8 without NUL bytes: an item carrying others is refused with
// an error, and nothing of its batch is written.
type Postgres struct {
	engine
	pool *pgxpool.Pool
	dsn  string // the DSN with its passwords redacted, for messages
}

// OpenPostgres opens the store in the PostgreSQL database dsn names (a
// postgres:// URL or key=value pairs, as libpq takes them, environment
// variables included) and migrates its schema to the current version.
// Connections come from a pool (pgxpool; pool_max_conns in the DSN sets
// its size) and run in the schema the DSN's search_path selects. Errors
// name the DSN with its passwords redacted. A nil logger discards.
func OpenPostgres(ctx context.Context, dsn string, logger *slog.Logger) (*Postgres, error) {
	if strings.TrimSpace(dsn) == "" {
		return nil, errors.New("open store: empty PostgreSQL DSN")
	}
	shown := redactDSN(dsn)
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", shown, err)
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "feedmill"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", shown, err)
	}
	p := newPostgres(pool, shown, logger)
	if err := p.migrate(ctx, schemaSteps); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open store %s: %w", shown, err)
	}
	return p, nil
}

// newPostgres wraps an open pool; a nil logger discards.
func newPostgres(pool *pgxpool.Pool, dsn string, logger *slog.Logger) *Postgres {
	p := &Postgres{pool: pool, dsn: dsn}
	p.engine = newEngine(pgQuerier{pool}, p.write, &postgresDialect, logger)
	return p
}

// Close closes the pool, waiting for the connections in use to be
// returned. Calls after Close fail.
func (p *Postgres) Close() error {
	p.pool.Close()
	return nil
}

// pgTables are the tables of the store, the version table included
// (TestPostgresSize checks that the schema has no other).
var pgTables = []string{"feedmill_schema", "items", "source_state", "articles", "hub_subscriptions",
	"source_subscriptions", "item_counts", "claims", "changes", "fetches"}

// Size returns how many bytes the store occupies: the total size
// (pg_total_relation_size: the table, its indexes and its TOAST data) of
// each of the store's tables in the schema the store uses, the first of
// the search_path. Other schemas and tables of the same database are not
// counted, so that stores sharing a database each report their own.
func (p *Postgres) Size(ctx context.Context) (int64, error) {
	var n int64
	if err := p.pool.QueryRow(ctx, `SELECT CAST(coalesce(sum(pg_total_relation_size(c.oid)), 0) AS BIGINT)
		FROM pg_class AS c JOIN pg_namespace AS s ON s.oid = c.relnamespace
		WHERE s.nspname = current_schema() AND c.relkind = 'r' AND c.relname = ANY($1)`,
		pgTables).Scan(&n); err != nil {
		return 0, fmt.Errorf("size of store %s: %w", p.dsn, err)
	}
	return n, nil
}

// write is the engine's write transaction (see writeFunc).
func (p *Postgres) write(ctx context.Context, fn func(q querier) error) error {
	return p.transact(ctx, func(tx pgx.Tx) error { return fn(pgQuerier{tx}) })
}

// pgAttempts bounds the runs of a transaction that PostgreSQL aborted to
// break a deadlock (or a serialization failure): the store takes rows in a
// fixed order, so these are rare, and the next run usually succeeds.
const pgAttempts = 3

// transact runs fn in one transaction (READ COMMITTED) and commits it when
// fn succeeds; on any error, including an ended ctx, nothing fn did is
// kept.
func (p *Postgres) transact(ctx context.Context, fn func(tx pgx.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := p.transactOnce(ctx, fn)
		if err == nil || attempt == pgAttempts || ctx.Err() != nil || !retryable(err) {
			return err
		}
		p.logger.DebugContext(ctx, "store transaction retried", "attempt", attempt, "err", err)
	}
}

// retryable reports whether PostgreSQL aborted a transaction that may
// succeed when run again.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	return pgErr.Code == "40P01" || pgErr.Code == "40001" // deadlock_detected, serialization_failure
}

func (p *Postgres) transactOnce(ctx context.Context, fn func(tx pgx.Tx) error) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err == nil {
			return
		}
		// The rollback gets a context of its own: when ctx has ended, it
		// must still run.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if rerr := tx.Rollback(rctx); rerr != nil && !errors.Is(rerr, pgx.ErrTxClosed) {
			err = errors.Join(err, fmt.Errorf("rollback: %w", rerr))
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Claim is the engine's Claim (see there) with a read first. On
// PostgreSQL a claim that loses still writes: INSERT ... ON CONFLICT DO
// UPDATE locks the row it leaves alone, which takes a transaction id and
// a WAL record that the commit must flush to disk (a few milliseconds),
// and makes any other claim of the same row wait for that commit. With
// several instances sharing the sources, most claims of a pass over them
// lose, so the source's row is read first, and while its lease is plainly
// another owner's, unexpired at now, the claim is refused without a
// write. That answer is the engine's at the moment of the read; any other
// row (none yet, no lease, an expired one, owner's own) goes to the
// engine, which decides in its transaction.
func (p *Postgres) Claim(ctx context.Context, owner, name string, now time.Time, lease time.Duration) (bool, error) {
	if strings.TrimSpace(name) != "" && checkLease(owner, now, lease) == nil {
		held, err := p.heldByOthers(ctx, owner, []string{name}, now)
		switch {
		case err != nil:
			return false, fmt.Errorf("claim source %q for %s: %w", name, owner, err)
		case len(held) > 0:
			return false, nil
		}
	}
	return p.engine.Claim(ctx, owner, name, now, lease)
}

// ClaimAll is the engine's ClaimAll (see there) with Claim's read first:
// the names whose lease is plainly another owner's are left out before
// the engine's transaction, which claims the others (and, when none is
// left, does not run).
func (p *Postgres) ClaimAll(ctx context.Context, owner string, names []string, now time.Time, lease time.Duration) ([]string, error) {
	if len(names) > 0 && checkSources(names) == nil && checkLease(owner, now, lease) == nil {
		held, err := p.heldByOthers(ctx, owner, names, now)
		if err != nil {
			return nil, fmt.Errorf("claim sources for %s: %w", owner, err)
		}
		if len(held) > 0 {
			names = slices.DeleteFunc(slices.Clone(names), func(name string) bool {
				_, ok := slices.BinarySearch(held, name)
				return ok
			})
			if len(names) == 0 {
				return nil, nil
			}
		}
	}
	return p.engine.ClaimAll(ctx, owner, names, now, lease)
}

// heldByOthers returns, sorted, those of names whose source another
// owner than owner holds a lease on that ends after now.
func (p *Postgres) heldByOthers(ctx context.Context, owner string, names []string, now time.Time) ([]string, error) {
	held, err := queryNames(ctx, p.read, "read leases", `SELECT name FROM source_state WHERE `+p.sql.in("name", len(names))+
		` AND lease_owner <> ? AND lease_until > ?`, append(p.sql.inArgs(names), owner, toMicros(now))...)
	if err != nil {
		return nil, err
	}
	// Sorted here, as Go orders strings: the server's collation may not.
	slices.Sort(held)
	return held, nil
}

// pgChannel is the channel on which SaveItems announces changes (see
// Listen).
const pgChannel = "feedmill_changes"

// How Listen keeps its connection.
const (
	listenMinBackoff = 250 * time.Millisecond // first pause before reconnecting
	listenMaxBackoff = 30 * time.Second       // longest pause
	listenQuiet      = 30 * time.Second       // silence after which the connection is checked
	listenTimeout    = 10 * time.Second       // for connecting, and for each check
)

// Listen calls fn each time items change in the store, by a commit of
// this process or of any other using the same database and schema, until
// ctx ends; then it returns nil. Every SaveItems that writes sends, in its
// transaction, a notification on the channel feedmill_changes (with
// pg_notify, so it is delivered at commit) carrying its schema; Listen
// LISTENs on a connection of its own, apart from the pool, and ignores
// the notifications of other schemas.
//
// fn runs on the goroutine that called Listen, one call at a time;
// changes committed while it runs are coalesced into one more call. It is
// also called once each time a connection starts listening, the first
// included, since changes committed while none listened were missed: a
// caller may load what it serves from fn alone. A lost connection (or one
// silent for 30s that fails a check) is replaced after a pause doubling
// from 250ms to 30s; each loss is logged as a warning. Only a nil fn is an
// error. Close does not stop Listen: its context does.
func (p *Postgres) Listen(ctx context.Context, fn func()) error {
	if fn == nil {
		return errors.New("listen for changes: nil function")
	}
	wake := make(chan struct{}, 1)
	signal := func() {
		select {
		case wake <- struct{}{}:
		default: // a call is pending already
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.listen(ctx, signal)
	}()
	defer func() { <-done }()
	for {
		// Checked first because select picks at random between a
		// pending call and an ended context.
		if ctx.Err() != nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
			fn()
		}
	}
}

// listen keeps a listening connection until ctx ends, reconnecting with
// backoff.
func (p *Postgres) listen(ctx context.Context, signal func()) {
	backoff := listenMinBackoff
	for {
		started := time.Now()
		err := p.listenOnce(ctx, signal)
		if ctx.Err() != nil {
			return
		}
		if time.Since(started) > listenMaxBackoff {
			backoff = listenMinBackoff // it was a healthy connection
		}
		p.logger.WarnContext(ctx, "store change listener lost its connection",
			"dsn", p.dsn, "err", err, "retry_in", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, listenMaxBackoff)
	}
}

// listenOnce connects, listens and signals until the connection fails or
// ctx ends.
func (p *Postgres) listenOnce(ctx context.Context, signal func()) error {
	cctx, cancel := context.WithTimeout(ctx, listenTimeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(cctx, p.pool.Config().ConnConfig)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		conn.Close(closeCtx)
	}()
	// The schema the connection resolves tables in, as SaveItems sends it.
	var schema string
	if err := conn.QueryRow(cctx, `SELECT coalesce(current_schema(), '')`).Scan(&schema); err != nil {
		return fmt.Errorf("read schema: %w", err)
	}
	if _, err := conn.Exec(cctx, `LISTEN `+pgChannel); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	signal() // whatever changed before now was missed
	for {
		wctx, cancel := context.WithTimeout(ctx, listenQuiet)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			if n.Payload == schema {
				p.logger.DebugContext(ctx, "store change noticed")
				signal()
			}
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, context.DeadlineExceeded) && !conn.IsClosed():
			// Silence: make sure the server is still there, since a
			// connection whose peer vanished may otherwise wait for
			// ever.
			pctx, cancel := context.WithTimeout(ctx, listenTimeout)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				return fmt.Errorf("check connection: %w", err)
			}
		default:
			return fmt.Errorf("wait for notification: %w", err)
		}
	}
}

// kvPasswordRE finds the passwords of a key=value DSN: a password or
// sslpassword pair, its value quoted or not.
var kvPasswordRE = regexp.MustCompile(`(?i)\b((?:ssl)?password\s*=\s*)('(?:[^'\\]|\\.)*'|\S*)`)

// redactDSN returns dsn with its secrets replaced by xxxxx, to name the
// database in messages and logs: a key=value DSN's passwords here, a URL's
// user information and secret parameters (password, sslpassword, and the
// names every URL's are) by feed.Redactor, which also copes with URLs Go
// does not parse (several hosts).
func redactDSN(dsn string) string {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return kvPasswordRE.ReplaceAllString(dsn, "${1}xxxxx")
	}
	return feed.NewRedactor("sslpassword").URL(dsn)
}
