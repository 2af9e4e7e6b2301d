package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/fetch"
	"github.com/feedmill/feedmill/internal/normalize"
	"github.com/feedmill/feedmill/internal/refresh"
	"github.com/feedmill/feedmill/internal/scrape"
	"github.com/feedmill/feedmill/internal/store"
)

// The environment variables naming the PostgreSQL server the bench may
// use, the first set winning: the bench's own, then the test suite's.
const (
	pgBenchEnv = "FEEDMILL_BENCH_POSTGRES"
	pgTestEnv  = "FEEDMILL_TEST_POSTGRES"
)

// pgDSNFromEnv returns the DSN of the PostgreSQL server the environment
// names, or "".
func pgDSNFromEnv() string {
	if dsn := os.Getenv(pgBenchEnv); dsn != "" {
		return dsn
	}
	return os.Getenv(pgTestEnv)
}

// adminConnect opens one connection to the server dsn names, outside any
// pool: the pool's own parameters a DSN may carry (pool_max_conns...)
// are read as such, not sent to the server.
func adminConnect(ctx context.Context, dsn string) (*pgx.Conn, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL DSN: %w", err)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	return conn, nil
}

// probePostgres checks that the server dsn names answers, within a few
// seconds.
func probePostgres(dsn string) error {
	if dsn == "" {
		return errNoPostgres
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := adminConnect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("PostgreSQL does not answer: %w", err)
	}
	defer conn.Close(context.Background())
	if err := conn.Ping(ctx); err != nil {
		return fmt.Errorf("PostgreSQL does not answer: %w", err)
	}
	return nil
}

// benchStore is what the bench needs of a store, which both drivers
// have: what the refresher reads and writes, the leases the daemon takes
// (refresh.Coordinator), and the store's size.
type benchStore interface {
	SaveItems(ctx context.Context, source string, items []feed.Item, keep int, now time.Time) (feed.SaveResult, error)
	Items(ctx context.Context, q feed.Query) ([]feed.Item, error)
	State(ctx context.Context, source string) (feed.SourceState, error)
	States(ctx context.Context) ([]feed.SourceState, error)
	SaveState(ctx context.Context, st feed.SourceState) error
	SaveStates(ctx context.Context, sts []feed.SourceState) error
	GetArticle(ctx context.Context, url, rulesKey string) (feed.Article, bool, error)
	PutArticle(ctx context.Context, a feed.Article) error
	refresh.Coordinator
	Size(ctx context.Context) (int64, error)
	Close() error
}

// openSQLite opens a SQLite store in a new temporary directory; the
// returned function closes it and removes the directory.
func openSQLite(ctx context.Context) (benchStore, func(), error) {
	dir, err := os.MkdirTemp("", "feedmill-bench-refresh-")
	if err != nil {
		return nil, nil, fmt.Errorf("temp dir: %w", err)
	}
	st, err := store.OpenSQLite(ctx, filepath.Join(dir, "feedmill.db"), nil)
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	return st, func() { st.Close(); os.RemoveAll(dir) }, nil
}

// pgSchema is a schema of its own on the bench's PostgreSQL server,
// created empty for one run of the bench and dropped after it, so that
// the bench neither sees nor touches anything else in the database.
type pgSchema struct {
	admin string // the server's DSN, as given
	name  string
	DSN   string // the DSN whose connections use the schema
}

// newPGSchema creates an empty schema on the server dsn names.
func newPGSchema(ctx context.Context, dsn string) (*pgSchema, error) {
	var b [6]byte
	rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	s := &pgSchema{admin: dsn, name: "feedmill_bench_" + hex.EncodeToString(b[:])}
	var err error
	// The connections name themselves after the schema too, so that the
	// server's backends serving them can be told from others (backendCPU).
	if s.DSN, err = withParam(dsn, "search_path", s.name); err != nil {
		return nil, err
	}
	if s.DSN, err = withParam(s.DSN, "application_name", s.name); err != nil {
		return nil, err
	}
	if err := s.exec(ctx, "CREATE SCHEMA "+s.name); err != nil {
		return nil, err
	}
	return s, nil
}

// Drop drops the schema and everything in it, even after ctx ended (an
// interrupted bench must not leave it behind).
func (s *pgSchema) Drop(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	return s.exec(ctx, "DROP SCHEMA "+s.name+" CASCADE")
}

// checkpoint has the server write every dirty page out and start its
// write-ahead log afresh (CHECKPOINT), before a measured pass: otherwise
// a pass may pay for the pages an earlier one left dirty, when the
// server's own checkpoint (every 5 minutes, or after 1 GB of log by
// default) falls in it, and not another.
func (s *pgSchema) checkpoint(ctx context.Context) error {
	return s.exec(ctx, "CHECKPOINT")
}

func (s *pgSchema) exec(ctx context.Context, stmt string) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := adminConnect(cctx, s.admin)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("%s: %w", stmt, err)
	}
	return nil
}

// cpuSnapshot is the CPU time each of a server's processes (by pid) had
// used when it was taken.
type cpuSnapshot map[int]time.Duration

// since is the CPU time used between b and a: by the processes of a, less
// what each had used at b (nothing for one that started since).
func (a cpuSnapshot) since(b cpuSnapshot) time.Duration {
	var d time.Duration
	for pid, t := range a {
		d += t - b[pid]
	}
	return d
}

// backendCPU reads the CPU time used so far by the server's backends
// serving the schema's connections (which carry its name as their
// application_name), from /proc: PostgreSQL's work for the store is done
// there, not in the bench's process. It fails when the server runs on
// another machine (no such processes here), or where /proc is not
// readable.
func (s *pgSchema) backendCPU(ctx context.Context) (cpuSnapshot, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := adminConnect(cctx, s.admin)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(cctx, `SELECT pid FROM pg_stat_activity WHERE application_name = $1`, s.name)
	if err != nil {
		return nil, fmt.Errorf("list backends: %w", err)
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, fmt.Errorf("list backends: %w", err)
	}
	snap := make(cpuSnapshot, len(pids))
	for _, pid := range pids {
		t, err := processCPU(int(pid))
		if err != nil {
			return nil, err
		}
		snap[int(pid)] = t
	}
	return snap, nil
}

// processCPU is the user plus system CPU time process pid has used, from
// /proc/PID/stat (in clock ticks of 1/100 s, as on every Linux
// platform Go supports).
func processCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("backend CPU: %w", err)
	}
	// The command name, second, may hold spaces: count fields after it.
	_, rest, ok := strings.Cut(string(data), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		return 0, fmt.Errorf("backend CPU: /proc/%d/stat: unexpected %q", pid, data)
	}
	var ticks int64
	for _, s := range f[11:13] { // utime, stime: fields 14 and 15
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("backend CPU: /proc/%d/stat: %w", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond, nil
}

// withParam adds a connection parameter to a DSN of either form (a URL or
// key=value pairs).
func withParam(dsn, key, value string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("PostgreSQL DSN: %w", err)
		}
		q := u.Query()
		q.Set(key, value)
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	return dsn + " " + key + "=" + value, nil
}

// errNoPostgres says where the bench looks for a PostgreSQL server.
var errNoPostgres = errors.New("no PostgreSQL server: set " + pgBenchEnv + " or " + pgTestEnv +
	", for example postgres://postgres@127.0.0.1:5432/test?sslmode=disable")

// openPostgres opens a PostgreSQL store in a fresh schema on the server
// dsn names; the returned function closes it and drops the schema.
func openPostgres(ctx context.Context, dsn string) (benchStore, *pgSchema, func(), error) {
	if dsn == "" {
		return nil, nil, nil, errNoPostgres
	}
	schema, err := newPGSchema(ctx, dsn)
	if err != nil {
		return nil, nil, nil, err
	}
	st, err := store.OpenPostgres(ctx, schema.DSN, nil)
	if err != nil {
		schema.Drop(ctx)
		return nil, nil, nil, err
	}
	return st, schema, func() {
		st.Close()
		if err := schema.Drop(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "refresh bench: drop schema:", err)
		}
	}, nil
}

// serverPhase runs fn as phase does and, when schema is not nil, adds
// the CPU time its server's backends spent meanwhile (when it can be
// read: see backendCPU).
func serverPhase(ctx context.Context, admin string, schema *pgSchema, fn func() measure) (measure, error) {
	if schema == nil {
		return phase(ctx, admin, fn)
	}
	if err := schema.checkpoint(ctx); err != nil {
		return measure{}, err
	}
	before, cpuErr := schema.backendCPU(ctx)
	m, err := phase(ctx, admin, fn)
	if err != nil || cpuErr != nil {
		return m, err
	}
	if after, err := schema.backendCPU(ctx); err == nil {
		m.serverCPU, m.serverKnown = after.since(before), true
	}
	return m, nil
}

// benchClock is the refreshers' clock: the wall clock moved forward by
// an offset, so that a later phase can find every source due again, as
// a daemon finds them once their next times have come, without waiting.
type benchClock struct{ offset atomic.Int64 }

func (c *benchClock) now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// advance moves the clock d forward.
func (c *benchClock) advance(d time.Duration) { c.offset.Add(int64(d)) }

// phaseStep is how far the clock moves between two passes over the same
// store: more than the sources' schedule (every 15 minutes), so each is
// due again.
const phaseStep = time.Hour

// newRefresher builds a refresher of sources on st the way the daemon
// does (internal/app): feedmill's fetch client (min_gap off), its
// normalizer, and leases taken in st under owner, as every daemon takes
// them on either driver. It returns the client too, whose idle
// connections the caller closes.
func newRefresher(sources []feed.Source, st benchStore, owner string, clock *benchClock) (*refresh.Refresher, *fetch.Client, error) {
	client := fetch.New(fetch.Options{Concurrency: concurrency, PerHost: perHost, MinGap: -1})
	r, err := refresh.New(sources, client, scrape.New(normalize.New(normalize.Options{}), nil), st, refresh.Options{
		Workers:     refresh.Workers(concurrency),
		Coordinator: st,
		Owner:       owner,
		Now:         clock.now,
	})
	if err != nil {
		client.CloseIdleConnections()
		return nil, nil, fmt.Errorf("refresher: %w", err)
	}
	return r, client, nil
}
