// Command scale measures how feedmill's start-up, rendering and status page
// grow with the size of the store (issue 17, "big installs"). It fills
// SQLite stores of 10,000 sources (default 1M and 5M items: 100 and 500
// short items per source, every source publishing hourly, each at its own
// minute) by direct batched inserts in big transactions (the secondary
// indexes dropped during the fill and built again after, item counts and
// source states written as the store keeps them), and caches each file in
// bench/out/scale-v<schema version>/ so that later runs skip the filling.
// Then a child process per store, so that its peak RSS is its own:
//
//   - opens the store and runs the first publisher Rebuild of the whole
//     configuration (10,000 sources with their own feeds, and feeds over
//     100, 1,000 and 10,000 of them): what `feedmill serve` does before it
//     answers (start-up);
//   - saves one changed item and runs Rebuild again (rebuild after a change);
//   - for each feed alone (a publisher configured with only that feed),
//     saves one changed item of one of its sources and renders it again
//     (render of one feed at 100, 1k and 10k sources);
//   - times GET / (the status page) and GET /status.json for the 10,000
//     sources;
//   - reports its peak RSS (VmHWM, under the daemon's heap floor,
//     internal/heapfloor) and writes a CPU profile of the rebuild
//     after a change to bench/out/scale-<items>.cpu.prof.
//
// The targets: start-up < 2 s, peak RSS < 300 MB, the render of a feed the
// same at 1M and 5M items and at most logarithmic in its sources, the
// status page < 200 ms.
//
//	go run ./bench/scale [-items 1000000,5000000] [-sources 10000]
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the driver the store uses, for the fill

	"github.com/feedmill/feedmill/bench/internal/benchenv"
	"github.com/feedmill/feedmill/bench/internal/gen"
	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/heapfloor"
	"github.com/feedmill/feedmill/internal/publish"
	"github.com/feedmill/feedmill/internal/server"
	"github.com/feedmill/feedmill/internal/store"
)

// Targets.
const (
	TargetStartup = 2 * time.Second
	TargetRSS     = 300 << 20
	TargetStatus  = 200 * time.Millisecond
)

// feedSizes are the source counts of the feeds measured.
var feedSizes = []int{100, 1000, 10000}

// now is the fill's clock: after every generated date.
var now = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)

// result is what the child measures, as JSON on its stdout.
type result struct {
	Items      int                   `json:"items"`
	Sources    int                   `json:"sources"`
	Open       time.Duration         `json:"open"`
	Startup    time.Duration         `json:"startup"`     // open + first Rebuild
	Rebuild    time.Duration         `json:"rebuild"`     // whole Rebuild after one change
	FeedRender map[int]time.Duration `json:"feed_render"` // one feed of that many sources, after a change
	Status     time.Duration         `json:"status"`      // GET /
	StatusJSON time.Duration         `json:"status_json"` // GET /status.json
	StatusSize int                   `json:"status_size"` // bytes of GET /
	// PerDayCount is how long the status page waited for its first count
	// of items per day, which the server makes in the background.
	PerDayCount time.Duration `json:"per_day_count"`
	PeakRSS     int64         `json:"peak_rss"`

	// Filled by the parent.
	StoreBytes int64  `json:"-"`
	Failed     string `json:"-"`
}

func main() {
	items := flag.String("items", "1000000,5000000", "store sizes in items, comma-separated")
	nsrc := flag.Int("sources", 10000, "sources in every store")
	cache := flag.String("cache", "", "where filled stores are kept between runs (default bench/out/scale-v<schema version>)")
	measureDB := flag.String("measure", "", "measure the store at this path (internal: the child process)")
	profile := flag.String("profile", "", "profile path prefix (internal)")
	limit := flag.Duration("limit", 150*time.Second, "give up measuring one store after this long, so the suite stays bounded")
	flag.Parse()
	ctx := context.Background()
	var err error
	if *measureDB != "" {
		// The child stands for the daemon: it runs under its collector
		// settings, as cmd/feedmill sets them, and its peak RSS with them.
		heapfloor.Set(heapfloor.Default)
		err = measure(ctx, *measureDB, *nsrc, *profile)
	} else {
		err = run(ctx, *items, *nsrc, *cache, *limit)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "scale bench:", err)
		os.Exit(1)
	}
}

func sourceName(i int) string { return fmt.Sprintf("src%05d", i) }

func sourceNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = sourceName(i)
	}
	return names
}

// schemaVersion is the user_version a freshly migrated store has: a cached
// store of another version is rebuilt.
func schemaVersion(ctx context.Context) (int, error) {
	dir, err := os.MkdirTemp("", "feedmill-bench-schema-")
	if err != nil {
		return 0, fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "v.db")
	st, err := store.OpenSQLite(ctx, path, nil)
	if err != nil {
		return 0, err
	}
	if err := st.Close(); err != nil {
		return 0, fmt.Errorf("close store: %w", err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", path, err)
	}
	defer db.Close()
	var v int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// fillSQL inserts the items of the sources numbered ?1 to ?2 (inclusive),
// ?3 items each, item k of source i published k hours after ?4 plus i's own
// minute and second, all first seen at ?5. The values match what gen.Items
// and SaveItems would store for short items but the hash, which only a
// later save of the same id compares.
const fillSQL = `INSERT INTO items (source, id, link, title, summary, content, authors, categories,
	published, updated, first_seen, hash, canonical, raw_summary)
	WITH RECURSIVE s(i) AS (SELECT ?1 UNION ALL SELECT i + 1 FROM s WHERE i < ?2),
	k(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM k WHERE k < ?3 - 1),
	r AS (SELECT i, k, printf('https://src%05d.example.org/posts/%d', i, k) AS link,
		?4 + k * 3600000000 + ((i * 7919) % 3600) * 1000000 AS pub FROM s, k)
	SELECT printf('src%05d', i), link, link,
		printf('Notes on building things, part %d: %s', k, 'kites'),
		printf('A short note, number %d, about maps and clocks.', k), '',
		'[{"name":"Ada Byron"}]', '["maps","clocks"]',
		pub, pub, ?5, zeroblob(32), link, printf('A short note, number %d, about maps and clocks.', k)
	FROM r`

// fill builds the store of n sources × per items at path, unless it is
// already there, and says how long it took (zero when cached).
func fill(ctx context.Context, path string, n, per int) (time.Duration, error) {
	if _, err := os.Stat(path); err == nil {
		return 0, nil
	}
	tmp := path + ".filling"
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(tmp + suffix)
	}
	start := time.Now()
	// The real store creates the schema, and writes the states.
	st, err := store.OpenSQLite(ctx, tmp, nil)
	if err != nil {
		return 0, err
	}
	if err := st.SaveStates(ctx, states(n)); err != nil {
		st.Close()
		return 0, fmt.Errorf("save states: %w", err)
	}
	if err := st.Close(); err != nil {
		return 0, fmt.Errorf("close store: %w", err)
	}
	db, err := sql.Open("sqlite", tmp)
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", tmp, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if err := fillItems(ctx, db, n, per, start); err != nil {
		return 0, fmt.Errorf("fill %s: %w", tmp, err)
	}
	if err := db.Close(); err != nil {
		return 0, fmt.Errorf("close %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return 0, fmt.Errorf("keep store: %w", err)
	}
	return time.Since(start), nil
}

func fillItems(ctx context.Context, db *sql.DB, n, per int, start time.Time) error {
	exec := func(q string, args ...any) error {
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("%.60s: %w", q, err)
		}
		return nil
	}
	for _, q := range []string{"PRAGMA journal_mode = OFF", "PRAGMA synchronous = OFF", "PRAGMA cache_size = -512000"} {
		if err := exec(q); err != nil {
			return err
		}
	}
	// The secondary indexes are built once at the end, by a sort, rather
	// than kept during millions of inserts in date order.
	rows, err := db.QueryContext(ctx, `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'items' AND sql IS NOT NULL`)
	if err != nil {
		return fmt.Errorf("list indexes: %w", err)
	}
	var names, defs []string
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			rows.Close()
			return fmt.Errorf("list indexes: %w", err)
		}
		names, defs = append(names, name), append(defs, def)
	}
	rows.Close()
	for _, name := range names {
		if err := exec(`DROP INDEX ` + name); err != nil {
			return err
		}
	}
	const chunk = 500 // sources per transaction
	for first := 0; first < n; first += chunk {
		last := min(first+chunk, n) - 1
		if err := exec("BEGIN"); err != nil {
			return err
		}
		if err := exec(fillSQL, first, last, per, gen.Epoch.UnixMicro(), now.UnixMicro()); err != nil {
			return err
		}
		if err := exec("COMMIT"); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "  filled %d of %d sources (%v)\n", last+1, n, time.Since(start).Round(time.Second))
	}
	for _, def := range defs {
		if err := exec(def); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "  indexed (%v)\n", time.Since(start).Round(time.Second))
	if err := exec(`INSERT INTO item_counts (source, items) SELECT source, count(*) FROM items GROUP BY source
		ON CONFLICT (source) DO UPDATE SET items = excluded.items`); err != nil {
		return err
	}
	return exec("PRAGMA journal_mode = WAL")
}

// states are the sources' fetch states: every source fetched an hour ago,
// one in fifty failing, one in two hundred gone.
func states(n int) []feed.SourceState {
	out := make([]feed.SourceState, n)
	last := now.Add(-time.Hour)
	for i := range out {
		st := feed.SourceState{Name: sourceName(i), URL: sourceURL(i), LastFetch: last, LastSuccess: last,
			FirstSuccess: gen.Epoch, NextFetch: now.Add(time.Duration(i%900) * time.Second), LastStatus: 200,
			FeedTitle: fmt.Sprintf("Site number %d", i), FeedLink: fmt.Sprintf("https://src%05d.example.org/", i)}
		switch {
		case i%200 == 7:
			st.Gone, st.LastStatus, st.LastError = true, 410, "410 Gone"
		case i%50 == 3:
			st.LastSuccess, st.LastStatus, st.LastError, st.Failures = last.Add(-24*time.Hour), 503, "503 Service Unavailable", 3
		}
		out[i] = st
	}
	return out
}

func sourceURL(i int) string { return "https://" + sourceName(i) + ".example.org/feed.xml" }

func run(ctx context.Context, itemsFlag string, nsrc int, cache string, limit time.Duration) error {
	var sizes []int
	for f := range strings.SplitSeq(itemsFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < nsrc {
			return fmt.Errorf("bad size %q: want a number of items ≥ the %d sources", f, nsrc)
		}
		sizes = append(sizes, n)
	}
	v, err := schemaVersion(ctx)
	if err != nil {
		return err
	}
	root, err := benchenv.RepoRoot()
	if err != nil {
		return err
	}
	out := filepath.Join(root, "bench", "out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("output dir: %w", err)
	}
	if cache == "" {
		cache = filepath.Join(out, fmt.Sprintf("scale-v%d", v))
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return fmt.Errorf("cache dir: %w", err)
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own executable: %w", err)
	}
	fmt.Printf("Machine: %s\nStores cached in %s (schema version %d)\n\n", benchenv.Machine(), cache, v)
	var results []result
	var fills []string
	for _, size := range sizes {
		per := size / nsrc
		path := filepath.Join(cache, fmt.Sprintf("sources-%d-items-%d.db", nsrc, nsrc*per))
		took, err := fill(ctx, path, nsrc, per)
		if err != nil {
			return err
		}
		if took > 0 {
			fills = append(fills, fmt.Sprintf("filled %d items of %d sources in %v (%.0f items/s)", nsrc*per, nsrc, took.Round(time.Millisecond), float64(nsrc*per)/took.Seconds()))
		}
		prefix := filepath.Join(out, fmt.Sprintf("scale-%d", nsrc*per))
		r := measureChild(ctx, self, path, nsrc, prefix, limit)
		r.Items, r.Sources = nsrc*per, nsrc
		if fi, err := os.Stat(path); err == nil {
			r.StoreBytes = fi.Size()
		}
		results = append(results, r)
	}
	for _, f := range fills {
		fmt.Println(f)
	}
	report(results, out)
	return nil
}

func report(results []result, out string) {
	fmt.Println()
	fmt.Print("| items | sources | store file | open | start-up (open + first Rebuild) | Rebuild after a change |")
	for _, n := range feedSizes {
		fmt.Printf(" render, feed of %d sources |", n)
	}
	fmt.Println(" status page | status.json | peak RSS |")
	fmt.Println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range results {
		fmt.Printf("| %d | %d | %s | %v | %s | %s |", r.Items, r.Sources, benchenv.MiB(r.StoreBytes), ms(r.Open), orFailed(r.Startup, r.Failed), orFailed(r.Rebuild, r.Failed))
		for _, n := range feedSizes {
			fmt.Printf(" %v |", ms(r.FeedRender[n]))
		}
		fmt.Printf(" %v (%s) | %v | %s |\n", ms(r.Status), benchenv.MiB(int64(r.StatusSize)), ms(r.StatusJSON), benchenv.MiB(r.PeakRSS))
	}
	fmt.Println()
	for _, r := range results {
		fmt.Printf("At %d items, %d sources: start-up %s (target < %v: %s), peak RSS %s (target < %s: %s), status page %v (target < %v: %s)\n",
			r.Items, r.Sources, orFailed(r.Startup, r.Failed), TargetStartup, verdict(r.Startup > 0 && r.Startup < TargetStartup),
			benchenv.MiB(r.PeakRSS), benchenv.MiB(TargetRSS), verdict(r.PeakRSS > 0 && r.PeakRSS < TargetRSS),
			ms(r.Status), TargetStatus, verdict(r.Status > 0 && r.Status < TargetStatus))
		if r.PerDayCount > 0 {
			fmt.Printf("  the status page's items per day, counted in the background: first count after %v\n", ms(r.PerDayCount))
		}
		if r.Failed != "" {
			fmt.Printf("  (%s: the steps after the last one shown did not finish)\n", r.Failed)
		}
		// Logarithmic in the sources: from 100 to 10,000 sources (100×),
		// log2 grows 6.6 → 13.3, so at most about 2× (3× allowed for noise).
		lo, hi := r.FeedRender[feedSizes[0]], r.FeedRender[feedSizes[len(feedSizes)-1]]
		growth := ratio(hi, lo)
		logBound := 1.5 * math.Log2(float64(feedSizes[len(feedSizes)-1])) / math.Log2(float64(feedSizes[0]))
		fmt.Printf("  render of a feed, %d → %d sources (%.0f×): %.2f× (target at most logarithmic, ≤ %.1f×: %s)\n",
			feedSizes[0], feedSizes[len(feedSizes)-1], float64(feedSizes[len(feedSizes)-1])/float64(feedSizes[0]), growth, logBound, verdict(growth <= logBound))
	}
	if len(results) > 1 && results[0].FeedRender[feedSizes[0]] > 0 && results[len(results)-1].FeedRender[feedSizes[0]] > 0 {
		first, last := results[0], results[len(results)-1]
		growth := float64(last.Items) / float64(first.Items)
		fmt.Printf("Over %.0f× the items (same sources): render of each feed", growth)
		worst := 0.0
		for _, n := range feedSizes {
			g := ratio(last.FeedRender[n], first.FeedRender[n])
			worst = max(worst, g)
			fmt.Printf(" %.2f×", g)
		}
		// Independent of the items: within the noise of this machine.
		fmt.Printf(" (target independent of the items, ≤ 1.5×: %s); Rebuild %.2f×, start-up %.2f×, peak RSS %.2f×\n",
			verdict(worst <= 1.5), ratio(last.Rebuild, first.Rebuild), ratio(last.Startup, first.Startup), float64(last.PeakRSS)/float64(first.PeakRSS))
	}
	fmt.Printf("Profiles of the Rebuild after a change: %s/scale-<items>.cpu.prof\n", out)
}

// orFailed is a duration measured, or why it was not.
func orFailed(d time.Duration, failed string) string {
	if d == 0 {
		if failed == "" {
			failed = "not measured"
		}
		return "**" + failed + "**"
	}
	return ms(d).String()
}

func ms(d time.Duration) time.Duration {
	if d < 10*time.Millisecond {
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Millisecond)
}

// measureChild measures one store in a child process, killed after limit:
// a store too big to measure in time is a result, not a reason to stop.
func measureChild(ctx context.Context, self, path string, n int, prefix string, limit time.Duration) result {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, self, "-measure", path, "-sources", strconv.Itoa(n), "-profile", prefix)
	cmd.Stderr = os.Stderr
	data, err := cmd.Output()
	// The child prints what it measured so far after each step, one JSON
	// line each: a step that does not finish in time leaves the others.
	var r result
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if last := lines[len(lines)-1]; last != "" {
		if err := json.Unmarshal([]byte(last), &r); err != nil {
			r.Failed = fmt.Sprintf("measuring failed: %v", err)
			return r
		}
	}
	switch {
	case ctx.Err() != nil:
		r.Failed = fmt.Sprintf("gave up after %v", limit)
	case err != nil:
		r.Failed = fmt.Sprintf("measuring failed: %v", err)
	}
	return r
}

func ratio(a, b time.Duration) float64 { return a.Seconds() / b.Seconds() }

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

// probe saves one changed item of the named source, as a refresh brings:
// the same id every time, so the cached store does not grow past one item.
func probe(ctx context.Context, st *store.SQLite, name string, seq int) error {
	it := gen.Items(name, 1_000_000, 1, false)[0]
	it.Title = fmt.Sprintf("Probe %d at %s", seq, time.Now().Format(time.RFC3339Nano))
	if _, err := st.SaveItems(ctx, name, []feed.Item{it}, 1_000_000, now); err != nil {
		return fmt.Errorf("save probe: %w", err)
	}
	return nil
}

// measure is the child: the render of each feed, the status page, the
// start-up and the rebuild of the store at path, printed as one JSON line
// after each step (the parent keeps the last), each step with the peak
// RSS so far.
func measure(ctx context.Context, path string, n int, profile string) error {
	r := result{FeedRender: make(map[int]time.Duration)}
	enc := json.NewEncoder(os.Stdout)
	emit := func() error {
		var err error
		if r.PeakRSS, err = benchenv.PeakRSS(); err != nil {
			return err
		}
		return enc.Encode(r)
	}
	start := time.Now()
	st, err := store.OpenSQLite(ctx, path, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	r.Open = time.Since(start)
	names := sourceNames(n)
	srcs := make([]feed.Source, n)
	for i, name := range names {
		srcs[i] = feed.Source{Name: name, URL: sourceURL(i), Schedule: "*/15 * * * *"}
	}
	var specs []publish.FeedSpec
	for _, k := range feedSizes {
		k = min(k, n)
		// Every (n/k)-th source, so that a small feed's sources are spread
		// among the others, as a category's are.
		var sub []string
		for i := 0; i < n && len(sub) < k; i += n / k {
			sub = append(sub, names[i])
		}
		specs = append(specs, publish.FeedSpec{Name: fmt.Sprintf("f%d", k), Title: fmt.Sprintf("%d sources", k), Sources: sub, Limit: publish.DefaultLimit, Backfill: -1})
	}
	opts := publish.Options{BaseURL: "http://127.0.0.1:8080"}

	// Each feed alone: a publisher that publishes only it (no source's
	// own feed), rebuilt after a change of one of its sources; the best
	// of three.
	seq := 0
	for i, spec := range specs {
		one := publish.New(opts, []publish.FeedSpec{spec}, nil, st)
		if err := one.Rebuild(ctx); err != nil {
			return fmt.Errorf("rebuild %s: %w", spec.Name, err)
		}
		best := time.Duration(math.MaxInt64)
		for range 3 {
			seq++
			if err := probe(ctx, st, spec.Sources[0], seq); err != nil {
				return err
			}
			t := time.Now()
			if err := one.Rebuild(ctx); err != nil {
				return fmt.Errorf("rebuild %s: %w", spec.Name, err)
			}
			best = min(best, time.Since(t))
		}
		r.FeedRender[feedSizes[i]] = best
	}
	if err := emit(); err != nil {
		return err
	}

	// The status page of every source, beside the feeds.
	feeds := publish.New(opts, specs, nil, st)
	if err := feeds.Rebuild(ctx); err != nil {
		return fmt.Errorf("rebuild feeds: %w", err)
	}
	srv := server.New(server.Options{BaseURL: "http://127.0.0.1:8080", Sources: srcs}, feeds, st)
	// The daemon runs the server's background count of items per day;
	// the page is timed once that count is there, as a visitor sees it.
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	go srv.Run(runCtx)
	t0 := time.Now()
	for {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/status.json?page=1", nil))
		if strings.Contains(rec.Body.String(), `"items_per_day"`) {
			break
		}
		if rec.Code != http.StatusOK {
			return fmt.Errorf("GET /status.json?page=1: status %d", rec.Code)
		}
		time.Sleep(100 * time.Millisecond)
	}
	r.PerDayCount = time.Since(t0)
	get := func(target string) (time.Duration, int, error) {
		best, size := time.Duration(math.MaxInt64), 0
		for range 3 {
			rec := httptest.NewRecorder()
			t := time.Now()
			srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
			d := time.Since(t)
			if rec.Code != http.StatusOK {
				return 0, 0, fmt.Errorf("GET %s: status %d", target, rec.Code)
			}
			body, _ := io.ReadAll(rec.Body)
			best, size = min(best, d), len(body)
		}
		return best, size, nil
	}
	if r.Status, r.StatusSize, err = get("/"); err != nil {
		return err
	}
	if r.StatusJSON, _, err = get("/status.json"); err != nil {
		return err
	}
	if err := emit(); err != nil {
		return err
	}

	// Start-up: the whole configuration, every source with its own feed.
	p := publish.New(opts, specs, srcs, st)
	t := time.Now()
	if err := p.Rebuild(ctx); err != nil {
		return fmt.Errorf("first rebuild: %w", err)
	}
	r.Startup = r.Open + time.Since(t)
	if err := emit(); err != nil {
		return err
	}

	seq++
	if err := probe(ctx, st, names[0], seq); err != nil {
		return err
	}
	cpu, err := os.Create(profile + ".cpu.prof")
	if err != nil {
		return fmt.Errorf("create profile: %w", err)
	}
	defer cpu.Close()
	if err := pprof.StartCPUProfile(cpu); err != nil {
		return fmt.Errorf("start profile: %w", err)
	}
	t = time.Now()
	err = p.Rebuild(ctx)
	r.Rebuild = time.Since(t)
	pprof.StopCPUProfile()
	if err != nil {
		return fmt.Errorf("rebuild: %w", err)
	}
	return emit()
}
