package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/testkit"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The PostgreSQL tests run against the server whose DSN is in
// FEEDMILL_TEST_POSTGRES, each test in a schema of its own, dropped when
// it ends. Without the variable they skip.
const pgTestEnv = "FEEDMILL_TEST_POSTGRES"

// pgTestDSN returns the DSN of the test server, or skips t.
func pgTestDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(pgTestEnv)
	if dsn == "" {
		t.Skipf("no PostgreSQL server: set %s to run this test, for example %s=postgres://postgres@127.0.0.1:5432/test?sslmode=disable",
			pgTestEnv, pgTestEnv)
	}
	return dsn
}

// withParam adds a connection parameter to a DSN of either form.
func withParam(dsn, key, value string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			panic(err)
		}
		q := u.Query()
		q.Set(key, value)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " " + key + "=" + value
}

// pgAdmin runs statements on the test server outside any test schema.
func pgAdmin(t testing.TB, stmts ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, pgTestDSN(t))
	if err != nil {
		t.Fatalf("connect to the test server: %v", err)
	}
	defer conn.Close(ctx)
	for _, q := range stmts {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// pgFreshSchema creates an empty schema for t and returns a DSN whose
// connections use it (and name themselves after it, so that a test can
// find its own connections on the server).
func pgFreshSchema(t testing.TB) string {
	t.Helper()
	dsn := pgTestDSN(t)
	var b [6]byte
	rand.Read(b[:])
	schema := "feedmill_test_" + hex.EncodeToString(b[:])
	pgAdmin(t, "CREATE SCHEMA "+schema)
	t.Cleanup(func() { pgAdmin(t, "DROP SCHEMA "+schema+" CASCADE") })
	return withParam(withParam(dsn, "search_path", schema), "application_name", schema)
}

func pgOpener(t *testing.T) opener {
	dsn := pgFreshSchema(t)
	return func(ctx context.Context) (conformanceStore, error) { return OpenPostgres(ctx, dsn, nil) }
}

func pgWebSubOpener(t *testing.T) websubOpener {
	dsn := pgFreshSchema(t)
	return func(ctx context.Context) (websubStore, error) { return OpenPostgres(ctx, dsn, nil) }
}

func TestPostgresConformance(t *testing.T) {
	pgTestDSN(t)
	testConformance(t, pgOpener)
}

func TestPostgresWebSubConformance(t *testing.T) {
	pgTestDSN(t)
	testWebSubConformance(t, pgWebSubOpener)
}

func openPostgres(t testing.TB, dsn string) *Postgres {
	t.Helper()
	p, err := OpenPostgres(context.Background(), dsn, nil)
	if err != nil {
		t.Fatalf("OpenPostgres: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// pgVersion reads the schema version a database records.
func pgVersion(t testing.TB, p *Postgres) int {
	t.Helper()
	var v int
	if err := p.pool.QueryRow(context.Background(), `SELECT version FROM feedmill_schema`).Scan(&v); err != nil {
		t.Fatalf("read schema version: %v", err)
	}
	return v
}

func pgHasTable(t testing.TB, p *Postgres, name string) bool {
	t.Helper()
	var ok bool
	if err := p.pool.QueryRow(context.Background(), `SELECT to_regclass($1) IS NOT NULL`, name).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestPostgresMigrations(t *testing.T) {
	pgTestDSN(t)
	ctx := context.Background()
	createT := step{name: "t", postgres: pgExecAll(`CREATE TABLE t (x INTEGER)`)}
	failing := step{name: "failing", postgres: func(context.Context, pgx.Tx) error { return errors.New("boom") }}

	t.Run("an empty database gets every step", func(t *testing.T) {
		p := openPostgres(t, pgFreshSchema(t))
		if v := pgVersion(t, p); v != len(schemaSteps) {
			t.Errorf("version = %d, want %d", v, len(schemaSteps))
		}
		for _, table := range []string{"items", "source_state", "articles", "hub_subscriptions",
			"source_subscriptions", "item_counts", "claims", "changes", "fetches"} {
			if !pgHasTable(t, p, table) {
				t.Errorf("table %s missing", table)
			}
		}
	})

	t.Run("reopen keeps data and version", func(t *testing.T) {
		dsn := pgFreshSchema(t)
		p, err := OpenPostgres(ctx, dsn, nil)
		if err != nil {
			t.Fatal(err)
		}
		mustSave(t, p, "src", dated(1), 10, at(2))
		p.Close()
		p2 := openPostgres(t, dsn)
		mustItem(t, p2, "src", "d1")
		if v := pgVersion(t, p2); v != len(schemaSteps) {
			t.Errorf("version = %d, want %d", v, len(schemaSteps))
		}
	})

	t.Run("a later step applies", func(t *testing.T) {
		p := openPostgres(t, pgFreshSchema(t))
		steps := append(schemaSteps[:len(schemaSteps):len(schemaSteps)], createT)
		if err := p.migrate(ctx, steps); err != nil {
			t.Fatal(err)
		}
		if v := pgVersion(t, p); v != len(steps) || !pgHasTable(t, p, "t") {
			t.Errorf("version = %d, table t = %v; want %d, true", v, pgHasTable(t, p, "t"), len(steps))
		}
	})

	t.Run("a failing step rolls back every pending step", func(t *testing.T) {
		p := openPostgres(t, pgFreshSchema(t))
		steps := append(schemaSteps[:len(schemaSteps):len(schemaSteps)], createT, failing)
		err := p.migrate(ctx, steps)
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("version %d: boom", len(steps))) {
			t.Fatalf("migrate error = %v, want the failing step named", err)
		}
		if v := pgVersion(t, p); v != len(schemaSteps) || pgHasTable(t, p, "t") {
			t.Errorf("after a failed migration: version = %d, table t = %v; want %d, false",
				v, pgHasTable(t, p, "t"), len(schemaSteps))
		}
	})

	t.Run("a newer schema is refused", func(t *testing.T) {
		dsn := pgFreshSchema(t)
		p := openPostgres(t, dsn)
		if _, err := p.pool.Exec(ctx, `UPDATE feedmill_schema SET version = 99`); err != nil {
			t.Fatal(err)
		}
		p2, err := OpenPostgres(ctx, dsn, nil)
		if err == nil {
			p2.Close()
			t.Fatal("no error")
		}
		if !strings.Contains(err.Error(), "schema version 99 is newer") {
			t.Errorf("error %q does not explain the version", err)
		}
	})

	t.Run("instances starting at once migrate once", func(t *testing.T) {
		for round := range 3 {
			dsn := pgFreshSchema(t)
			var logs testkit.SyncBuffer
			logger := logs.Logger(slog.LevelInfo)
			const instances = 4
			var wg sync.WaitGroup
			start := make(chan struct{})
			for range instances {
				wg.Go(func() {
					<-start
					p, err := OpenPostgres(ctx, dsn, logger)
					if err != nil {
						t.Errorf("round %d: OpenPostgres: %v", round, err)
						return
					}
					if _, err := p.Version(ctx); err != nil {
						t.Errorf("round %d: Version: %v", round, err)
					}
					p.Close()
				})
			}
			close(start)
			wg.Wait()
			if n := strings.Count(logs.String(), "store schema migrated"); n != 1 {
				t.Errorf("round %d: %d migrations logged, want 1:\n%s", round, n, logs.String())
			}
		}
	})
}

// TestPostgresUpgradeFromVersion6 opens a database as the release before
// the leases left it: its items and states read back unchanged, a
// refresh bringing the same items writes nothing, and its sources can be
// claimed.
func TestPostgresUpgradeFromVersion6(t *testing.T) {
	ctx := context.Background()
	_, pool, dsn := oldPostgres(t, 6)
	// Rows as version 6 wrote them: planned by the same code.
	batch := append(undated("u"), dated(3, 2)...)
	batch[1] = withHidden(batch[1])
	recs, err := prepareBatch("src", batch, at(5))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range plan(recs, nil, 10, at(5)).inserts {
		if _, err := pool.Exec(ctx, rebind(insertItemBeforeImagesSQL), "src", r.id, r.link, r.title, r.summary, r.content,
			nullString(r.authors), nullString(r.categories), nullString(r.enclosures),
			toMicros(r.published), toMicros(r.updated), toMicros(r.firstSeen), r.hash,
			r.canonical, r.rawSummary, r.rawContent, r.hiddenHash); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{
		`INSERT INTO item_counts (source, items) VALUES ('src', 3)`,
		`INSERT INTO source_state (name, etag, last_modified, last_error, last_status, feed_title, feed_link, url, next_fetch, gone)
		VALUES ('src', '"e"', '', '', 200, 'Src', '', 'https://example.com/feed', ` + fmt.Sprint(toMicros(at(4))) + `, true)`,
	} {
		if _, err := pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	pool.Close()

	p := openPostgres(t, dsn)
	if v := pgVersion(t, p); v != len(schemaSteps) {
		t.Fatalf("version = %d, want %d", v, len(schemaSteps))
	}
	st, err := p.State(ctx, "src")
	if err != nil {
		t.Fatal(err)
	}
	wantState := feed.SourceState{Name: "src", URL: "https://example.com/feed", Validators: feed.Validators{ETag: `"e"`},
		LastStatus: 200, FeedTitle: "Src", NextFetch: at(4), Gone: true, ItemCount: 3}
	if st != wantState {
		t.Errorf("State = %+v, want %+v", st, wantState)
	}
	checkItems(t, mustItems(t, p, feed.Query{Sources: []string{"src"}}), []feed.Item{
		stored("src", batch[0], at(5)), stored("src", batch[1], at(5)), stored("src", batch[2], at(5)),
	})
	v0, err := p.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, "same items after the upgrade", mustSave(t, p, "src", batch, 10, at(6)), feed.SaveResult{})
	if v1, err := p.Version(ctx); err != nil || v1 != v0 {
		t.Errorf("an unchanged refresh after the upgrade: version %d -> %d (%v)", v0, v1, err)
	}
	checkClaimed(t, "claim an old source", mustClaimDue(t, p, "x", []string{"src"}, at(4), time.Hour, 1), "src")
	mustSave(t, p, "src", dated(9), 10, at(9))
	if v2, err := p.Version(ctx); err != nil || v2 <= v0 {
		t.Errorf("Version after a save = %d, %v; want more than %d", v2, err, v0)
	}
}

// TestPostgresUpgradeFromVersion7: a database from before the fetch
// history (see testUpgradeFromVersion7).
func TestPostgresUpgradeFromVersion7(t *testing.T) {
	upgradePostgres(t, 7, testUpgradeFromVersion7)
}

// TestPostgresSize: Size counts every table of the store, and only the
// store's: another store in another schema of the same database does not
// change it.
func TestPostgresSize(t *testing.T) {
	ctx := context.Background()
	p := openPostgres(t, pgFreshSchema(t))
	other := openPostgres(t, pgFreshSchema(t))
	rows, err := p.pool.Query(ctx, `SELECT c.relname FROM pg_class AS c
		JOIN pg_namespace AS s ON s.oid = c.relnamespace
		WHERE s.nspname = current_schema() AND c.relkind = 'r' ORDER BY c.relname`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Sorted(slices.Values(pgTables))
	if !slices.Equal(tables, want) {
		t.Errorf("tables of the store %q, Size counts %q", tables, want)
	}

	n0, err := p.Size(ctx)
	if err != nil {
		t.Fatal(err)
	}
	items := make([]feed.Item, 200)
	for i := range items {
		items[i] = testItem(fmt.Sprint(i), at(i))
		items[i].Content = strings.Repeat("<p>some content</p>", 100)
	}
	mustSave(t, other, "src", items, 1000, at(300))
	if n, err := p.Size(ctx); err != nil || n != n0 {
		t.Errorf("Size after items were saved in another schema = %d, %v; want %d", n, err, n0)
	}
	mustSave(t, p, "src", items, 1000, at(300))
	if n, err := p.Size(ctx); err != nil || n <= n0 {
		t.Errorf("Size after items were saved = %d, %v; want more than %d", n, err, n0)
	}
}

// TestPostgresListen: a change committed by another handle calls fn, a
// save that writes nothing does not, nor does a change in another
// schema, and Listen returns when its context ends.
func TestPostgresListen(t *testing.T) {
	dsn := pgFreshSchema(t)
	listener, writer := openPostgres(t, dsn), openPostgres(t, dsn)
	other := openPostgres(t, pgFreshSchema(t))
	calls := make(chan struct{}, 100)
	ctx, cancel := context.WithCancel(context.Background())
	returned := make(chan error, 1)
	go func() { returned <- listener.Listen(ctx, func() { calls <- struct{}{} }) }()
	defer func() {
		cancel()
		select {
		case err := <-returned:
			if err != nil {
				t.Errorf("Listen returned %v, want nil", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("Listen did not return after its context ended")
		}
	}()

	waitCall := func(what string) {
		t.Helper()
		select {
		case <-calls:
		case <-time.After(30 * time.Second): // a safety net
			t.Fatalf("%s: fn not called within 30s", what)
		}
	}
	noCall := func(what string) {
		t.Helper()
		select {
		case <-calls:
			t.Errorf("%s: fn called", what)
		case <-time.After(300 * time.Millisecond):
		}
	}
	waitCall("listening starts") // the first call, once listening
	mustSave(t, writer, "src", dated(2, 1), 10, at(5))
	waitCall("new items")
	mustSave(t, writer, "src", dated(2, 1), 10, at(6))
	noCall("unchanged items")
	mustSave(t, other, "src", dated(2, 1), 10, at(5))
	noCall("new items in another schema")
	if err := writer.SaveState(context.Background(), feed.SourceState{Name: "src", LastStatus: 200}); err != nil {
		t.Fatal(err)
	}
	noCall("a saved state")
	mustSave(t, listener, "src", dated(3), 10, at(7))
	waitCall("new items from the listening handle")
}

// TestPostgresListenCoalesces: changes committed while fn runs make one
// more call, not one each.
func TestPostgresListenCoalesces(t *testing.T) {
	dsn := pgFreshSchema(t)
	// The listener says when it has read a notice of this schema's
	// changes: the test waits for those events rather than for some time
	// it hopes is enough.
	logs := &testkit.SyncBuffer{}
	listener, err := OpenPostgres(t.Context(), dsn, logs.Logger(slog.LevelDebug))
	if err != nil {
		t.Fatalf("OpenPostgres: %v", err)
	}
	t.Cleanup(func() { listener.Close() })
	writer := openPostgres(t, dsn)
	var calls atomic.Int32
	first, release := make(chan struct{}), make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		listener.Listen(ctx, func() {
			if calls.Add(1) == 1 {
				close(first)
				<-release // a slow first call
			}
		})
	}()
	<-first
	for i := range 5 {
		mustSave(t, writer, "src", dated(i), 10, at(10+i))
	}
	// All five notices are read while the first call still runs.
	testkit.WaitFor(t, "the listener to read the five notices", func() bool {
		return strings.Count(logs.String(), "store change noticed") >= 5
	})
	close(release)
	testkit.WaitFor(t, "the second call", func() bool { return calls.Load() >= 2 })
	time.Sleep(300 * time.Millisecond) // room for a wrong third call, never a wait for a right one
	if n := calls.Load(); n != 2 {
		t.Errorf("fn called %d times, want 2: the first, then one for the 5 changes", n)
	}
	cancel()
	<-done
}

// TestPostgresListenReconnects: when the listening connection is killed,
// Listen connects again and calls fn, since changes may have been missed.
func TestPostgresListenReconnects(t *testing.T) {
	dsn := pgFreshSchema(t)
	listener, writer := openPostgres(t, dsn), openPostgres(t, dsn)
	var logs testkit.SyncBuffer
	listener.logger = logs.Logger(slog.LevelInfo)
	calls := make(chan struct{}, 100)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		listener.Listen(ctx, func() { calls <- struct{}{} })
	}()
	defer func() { cancel(); <-done }()
	waitCall := func(what string) {
		t.Helper()
		select {
		case <-calls:
		case <-time.After(30 * time.Second): // a safety net
			t.Fatalf("%s: fn not called within 30s", what)
		}
	}
	waitCall("listening starts")

	var killed int
	appName := listener.pool.Config().ConnConfig.RuntimeParams["application_name"]
	if err := writer.pool.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid))
		FROM pg_stat_activity WHERE application_name = $1 AND query = 'LISTEN `+pgChannel+`'`, appName).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	if killed != 1 {
		t.Fatalf("killed %d listening connections, want 1", killed)
	}
	waitCall("reconnected")
	if !strings.Contains(logs.String(), "lost its connection") {
		t.Errorf("the lost connection was not logged:\n%s", logs.String())
	}
	mustSave(t, writer, "src", dated(1), 10, at(2))
	waitCall("a change after the reconnection")
}

// TestPostgresQueryPlans pins that listings and the pruning of the
// article cache read an index in order instead of sorting, on data shaped
// like a real store. (A listing of all the items of one source may sort
// them: they are few, and the planner rightly prefers that.)
func TestPostgresQueryPlans(t *testing.T) {
	p := openPostgres(t, pgFreshSchema(t))
	ctx := context.Background()
	const sources, perSource = 20, 100
	var names []string
	for src := range sources {
		name := fmt.Sprintf("source%02d", src)
		names = append(names, name)
		items := make([]feed.Item, perSource)
		for i := range items {
			items[i] = testItem(fmt.Sprint(i), t0.Add(time.Duration(i*sources+src)*time.Minute))
		}
		mustSave(t, p, name, items, 0, at(1))
	}
	for i := range 500 {
		if err := p.PutArticle(ctx, feed.Article{URL: fmt.Sprintf("https://example.com/%d", i), Fetched: at(i)}); err != nil {
			t.Fatal(err)
		}
	}
	// A full history for every source, and a few items seen lately.
	var pass []feed.SourceState
	for _, name := range names {
		for i := range fetchHistoryKeep {
			pass = append(pass, attempt(name, at(i), 200, 0, 0))
		}
	}
	mustSaveState(t, p, pass...)
	mustSave(t, p, names[0], dated(200, 201), 0, at(2))
	if _, err := p.pool.Exec(ctx, `ANALYZE`); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		query     string
		args      []any
		wantIndex string
		// sortOK allows a sort, of rows the index selected: the
		// attempts of one source (at most fetchHistoryKeep+1, which
		// the planner rightly sorts rather than walk the index for),
		// or the items seen lately, grouped by source.
		sortOK bool
	}{
		{"items of one source", pgItemsQuery(1, false, false), []any{"source01", 10, 0}, "items_by_source_date", false},
		{"oldest items of one source", pgItemsQuery(1, true, true), []any{"source01", 10, 20}, "items_by_source_date", false},
		{"newest items of every source", pgItemsQuery(sources, true, false), []any{names, 100, 0}, "items_by_date", false},
		{"oldest items of every source", pgItemsQuery(sources, true, true), []any{names, 100, 0}, "items_by_date", false},
		{"stored rows of a source", pgLoadStoredQuery, []any{"source01"}, "items_by_source_date", false},
		{"the newest article over the limit", pgArticlesCutoffQuery, []any{100}, "articles_by_fetched", false},
		{"articles over the limit", pgPruneArticlesQuery, []any{toMicros(at(10)), "https://example.com/10", ""}, "articles_by_fetched", false},
		{"last fetch times", postgresDialect.lastFetchQuery(2), []any{names[:2]}, "source_state_pkey", false},
		{"fetch history of a source", fetchesQuery, []any{"source01", 10}, "fetches_pkey", false},
		{"fetch history beyond the kept", pruneFetchesSQL, []any{"source01", "source01", fetchHistoryKeep}, "fetches_pkey", true},
		{"recent item counts", pgRecentCountsQuery, []any{toMicros(at(2))}, "items_by_first_seen", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := p.pool.Query(ctx, "EXPLAIN "+rebind(tc.query), tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			var plan []string
			for rows.Next() {
				var line string
				if err := rows.Scan(&line); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, strings.TrimSpace(line))
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			text := strings.Join(plan, "; ")
			if !(strings.Contains(text, "using "+tc.wantIndex+" on") || strings.Contains(text, "Scan on "+tc.wantIndex+" ")) ||
				(!tc.sortOK && strings.Contains(text, "Sort")) || strings.Contains(text, "Seq Scan") {
				t.Errorf("plan %q: want index %s, no sort and no sequential scan", text, tc.wantIndex)
			}
		})
	}
}

// TestPostgresOddText pins what PostgreSQL does with text a sanitizer
// should never let through (SQLite stores it byte for byte): a NUL byte or
// invalid UTF-8 fails the batch, which writes nothing.
func TestPostgresOddText(t *testing.T) {
	p := openPostgres(t, pgFreshSchema(t))
	mustSave(t, p, "src", dated(1), 10, at(1))
	for _, it := range []feed.Item{
		{ID: "nul", Title: "nul \x00 inside"},
		{ID: "invalid", Summary: "invalid \xff\xfe utf-8"},
		{ID: "nul\x00id"},
	} {
		batch := append(dated(2), it)
		if res, err := p.SaveItems(context.Background(), "src", batch, 10, at(2)); err == nil {
			t.Errorf("item %q saved: %+v", it.ID, res)
		}
		checkIDs(t, mustItems(t, p, feed.Query{Sources: []string{"src"}}), "d1")
	}
}

// TestPostgresLosingClaimWritesNothing: a claim of a source whose lease
// another owner holds leaves its row alone, not even locked (a row lock is
// a write PostgreSQL flushes at commit, paid by every losing claim when
// instances share the sources), while the answers stay the engine's; the
// same for a source of ClaimAll, which the refresher's grouped claims use.
func TestPostgresLosingClaimWritesNothing(t *testing.T) {
	const lease = 10 * time.Minute
	claimers := []struct {
		name  string
		claim func(t *testing.T, p *Postgres, owner string, now time.Time) bool
	}{
		{"Claim", func(t *testing.T, p *Postgres, owner string, now time.Time) bool {
			return mustClaim(t, p, owner, "src", now, lease)
		}},
		{"ClaimAll", func(t *testing.T, p *Postgres, owner string, now time.Time) bool {
			t.Helper()
			got, err := p.ClaimAll(context.Background(), owner, []string{"src"}, now, lease)
			if err != nil {
				t.Fatalf("ClaimAll(%s): %v", owner, err)
			}
			return slices.Equal(got, []string{"src"})
		}},
	}
	steps := []struct {
		name  string
		owner string
		now   time.Time
		want  bool
		wrote bool // whether the claim may write the row
	}{
		{"a new source", "x", at(1), true, true},
		{"held by another owner", "y", at(1).Add(time.Minute), false, false},
		{"held by another owner, at the end of its lease", "y", at(1).Add(lease), true, true},
		{"held by another owner again", "x", at(1).Add(lease), false, false},
		{"renewed by its owner", "y", at(1).Add(lease + time.Minute), true, true},
	}
	for _, c := range claimers {
		t.Run(c.name, func(t *testing.T) {
			p := openPostgres(t, pgFreshSchema(t))
			// xmax is the transaction that last deleted or locked a row
			// version; 0 when none did.
			xmax := func() string {
				t.Helper()
				var x string
				if err := p.pool.QueryRow(context.Background(), `SELECT xmax::text FROM source_state WHERE name = 'src'`).Scan(&x); err != nil {
					t.Fatalf("read xmax: %v", err)
				}
				return x
			}
			for i, st := range steps {
				was := ""
				if i > 0 { // the first claim creates the row
					was = xmax()
				}
				if got := c.claim(t, p, st.owner, st.now); got != st.want {
					t.Errorf("%s: %s(%s) = %v, want %v", st.name, c.name, st.owner, got, st.want)
				}
				if now := xmax(); !st.wrote && now != was {
					t.Errorf("%s: the losing claim locked or wrote the row (xmax %s, was %s)", st.name, now, was)
				}
			}
		})
	}
}

// TestPostgresClaimAllLeavesOthersOut: of a group, ClaimAll leases the
// sources no other owner holds and leaves out those another holds, in
// whatever order the names come.
func TestPostgresClaimAllLeavesOthersOut(t *testing.T) {
	p := openPostgres(t, pgFreshSchema(t))
	ctx := context.Background()
	const lease = 10 * time.Minute
	if got, err := p.ClaimAll(ctx, "x", []string{"b", "d"}, at(1), lease); err != nil || !slices.Equal(got, []string{"b", "d"}) {
		t.Fatalf("x's claim = %v, %v; want [b d]", got, err)
	}
	got, err := p.ClaimAll(ctx, "y", []string{"e", "d", "c", "b", "a"}, at(1).Add(time.Minute), lease)
	if err != nil || !slices.Equal(got, []string{"a", "c", "e"}) {
		t.Errorf("y's claim = %v, %v; want [a c e]", got, err)
	}
	if got, err := p.ClaimAll(ctx, "y", []string{"b", "d"}, at(1).Add(2*time.Minute), lease); err != nil || len(got) != 0 {
		t.Errorf("y's claim of x's sources = %v, %v; want none", got, err)
	}
}

// TestPostgresArticleDefaults pins the bounds a store opens with.
func TestPostgresArticleDefaults(t *testing.T) {
	p := openPostgres(t, pgFreshSchema(t))
	if p.articleMaxAge != 90*24*time.Hour || p.articleMaxRows != 50000 {
		t.Errorf("article bounds = %v, %d; want 90 days, 50000", p.articleMaxAge, p.articleMaxRows)
	}
}

// TestOpenPostgresErrors needs no server: each DSN fails before one is
// reached, or reaches none, and no error shows a password.
func TestOpenPostgresErrors(t *testing.T) {
	tests := []struct {
		name    string
		dsn     string
		wantErr []string
	}{
		{"empty", " ", []string{"empty PostgreSQL DSN"}},
		{"not a DSN", "postgres://user:s3cret@[::1/db", []string{"open store", "xxxxx"}},
		{"unknown sslmode", "postgres://user:s3cret@127.0.0.1:1/db?sslmode=sometimes", []string{"postgres://xxxxx@127.0.0.1:1/db", "sslmode"}},
		{"no server, URL", "postgres://user:s3cret@127.0.0.1:1/db?sslmode=disable&connect_timeout=5",
			[]string{"postgres://xxxxx@127.0.0.1:1/db", "connect"}},
		{"no server, key=value", "host=127.0.0.1 port=1 user=u password=s3cret dbname=db sslmode=disable connect_timeout=5",
			[]string{"password=xxxxx", "connect"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			p, err := OpenPostgres(ctx, tc.dsn, nil)
			if err == nil {
				p.Close()
				t.Fatal("no error")
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}

func TestRedactDSN(t *testing.T) {
	tests := []struct{ dsn, want string }{
		{"postgres://u:pw@h:5432/db?sslmode=disable", "postgres://xxxxx@h:5432/db?sslmode=disable"},
		{"postgresql://u@h/db", "postgresql://xxxxx@h/db"},
		{"postgres://h/db?sslmode=disable", "postgres://h/db?sslmode=disable"},
		{"postgres://h/db?password=pw&user=u", "postgres://h/db?password=xxxxx&user=u"},
		{"postgres://h/db?sslpassword=pw", "postgres://h/db?sslpassword=xxxxx"},
		{"postgres://u:p%40w@h1:5432,h2:5432/db?password=pw", "postgres://xxxxx@h1:5432,h2:5432/db?password=xxxxx"},
		{"postgres://u:p@w@h/db?sslpassword=pw&sslkey=/k", "postgres://xxxxx@h/db?sslpassword=xxxxx&sslkey=/k"},
		{"host=h user=u password=pw dbname=db", "host=h user=u password=xxxxx dbname=db"},
		{"host=h password = 'p w\\'x' dbname=db", "host=h password = xxxxx dbname=db"},
		{"host=h PASSWORD=pw", "host=h PASSWORD=xxxxx"},
		{"host=h dbname=db", "host=h dbname=db"},
	}
	for _, tc := range tests {
		if got := redactDSN(tc.dsn); got != tc.want {
			t.Errorf("redactDSN(%q) = %q, want %q", tc.dsn, got, tc.want)
		}
	}
}

// TestPostgresUpgradeBeforeImages: a database from before images (see
// testUpgradeBeforeImages).
func TestPostgresUpgradeBeforeImages(t *testing.T) {
	upgradePostgres(t, 10, testUpgradeBeforeImages)
}

// TestPostgresRawContentStoredOnce: see testRawContentStoredOnce.
func TestPostgresRawContentStoredOnce(t *testing.T) {
	p := openPostgres(t, pgFreshSchema(t))
	testRawContentStoredOnce(t, p, &p.engine)
}

// TestPostgresUpgradeRawContentTwice: a database from before the raw
// content was kept once (see testUpgradeRawContentTwice).
func TestPostgresUpgradeRawContentTwice(t *testing.T) {
	upgradePostgres(t, 12, testUpgradeRawContentTwice)
}

// upgradePostgres runs test, an upgrade test shared by the drivers, on a
// database left by a release with the first steps of schemaSteps.
func upgradePostgres(t *testing.T, steps int, test upgradeTest) {
	old, pool, dsn := oldPostgres(t, steps)
	test(t, &old.engine, pool.Close,
		func(ctx context.Context) (conformanceStore, error) { return OpenPostgres(ctx, dsn, nil) })
}

// oldPostgres creates the store in a fresh schema as a release with the
// first steps of schemaSteps left it, for an upgrade test: the store, its
// pool (for writing rows as that release did) and the schema's DSN.
func oldPostgres(t *testing.T, steps int) (*Postgres, *pgxpool.Pool, string) {
	t.Helper()
	dsn := pgFreshSchema(t)
	pool, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	old := newPostgres(pool, "old", nil)
	if err := old.migrate(context.Background(), schemaSteps[:steps]); err != nil {
		t.Fatal(err)
	}
	return old, pool, dsn
}
