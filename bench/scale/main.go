// Command scale measures how feedmill's start-up and rendering grow with
// the size of the store. For each size (default 10k, 100k and 1M items:
// 100, 1,000 and 10,000 sources of 100 items each) it fills a SQLite store
// with the real SaveItems, one call per source, and caches the file under
// $TMPDIR/feedmill-bench-scale/v<schema version>/ so that later runs skip
// the filling. Then a child process, so that its peak RSS is its own:
//
//   - opens the store and runs the first publisher Rebuild of a feed of
//     limit 50 over every source: what `feedmill serve` does before it
//     answers (start-up);
//   - saves one changed item and runs Rebuild again: what every refresh
//     that changes something costs (render);
//   - reads the newest 50 items over every source with Items (query);
//   - reports its peak RSS (VmHWM) and writes a CPU and an allocation
//     profile of the second Rebuild to bench/out/scale-<size>.{cpu,alloc}.prof.
//
// The targets: start-up < 2 s and peak RSS < 300 MB at 1M items, and render
// time independent of the store's size.
//
//	go run ./bench/scale [-sizes 10000,100000,1000000] [-cache DIR]
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the driver the store uses, to read its schema version

	"github.com/feedmill/feedmill/bench/internal/benchenv"
	"github.com/feedmill/feedmill/bench/internal/gen"
	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/publish"
	"github.com/feedmill/feedmill/internal/store"
)

// perSource is how many items each source holds.
const perSource = 100

// Targets at the largest size.
const (
	TargetStartup = 2 * time.Second
	TargetRSS     = 300 << 20
)

// now is the fill's clock: after every generated date.
var now = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)

// result is what the child measures, as JSON on its stdout.
type result struct {
	Items    int           `json:"items"`
	Open     time.Duration `json:"open"`
	Startup  time.Duration `json:"startup"` // open + first Rebuild
	Render   time.Duration `json:"render"`  // Rebuild after one change
	Query    time.Duration `json:"query"`   // Items, newest 50 of all sources
	PeakRSS  int64         `json:"peak_rss"`
	Rendered int           `json:"rendered"` // bytes of the Atom document

	// Filled by the parent.
	StoreBytes int64  `json:"-"`
	Failed     string `json:"-"`
}

func main() {
	sizes := flag.String("sizes", "10000,100000,1000000", "store sizes in items, comma-separated")
	cache := flag.String("cache", filepath.Join(os.TempDir(), "feedmill-bench-scale"), "where filled stores are kept between runs")
	measureDB := flag.String("measure", "", "measure the store at this path (internal: the child process)")
	sources := flag.Int("sources", 0, "sources in the store to measure (internal)")
	profile := flag.String("profile", "", "profile path prefix (internal)")
	limit := flag.Duration("limit", 150*time.Second, "give up measuring one size after this long, so the suite stays bounded")
	flag.Parse()
	ctx := context.Background()
	var err error
	if *measureDB != "" {
		err = measure(ctx, *measureDB, *sources, *profile)
	} else {
		err = run(ctx, *sizes, *cache, *limit)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "scale bench:", err)
		os.Exit(1)
	}
}

func sourceNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("src%05d", i)
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

// fill builds the store of n sources at path, unless it is already there.
func fill(ctx context.Context, path string, n int) (time.Duration, error) {
	if _, err := os.Stat(path); err == nil {
		return 0, nil
	}
	tmp := path + ".filling"
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(tmp + suffix)
	}
	start := time.Now()
	st, err := store.OpenSQLite(ctx, tmp, nil)
	if err != nil {
		return 0, err
	}
	for i, name := range sourceNames(n) {
		if _, err := st.SaveItems(ctx, name, gen.Items(name, 0, perSource, false), 0, now); err != nil {
			st.Close()
			return 0, fmt.Errorf("fill %s: %w", name, err)
		}
		if i%1000 == 999 {
			fmt.Fprintf(os.Stderr, "  filled %d of %d sources (%v)\n", i+1, n, time.Since(start).Round(time.Second))
		}
	}
	if err := st.Close(); err != nil {
		return 0, fmt.Errorf("close store: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return 0, fmt.Errorf("keep store: %w", err)
	}
	return time.Since(start), nil
}

func run(ctx context.Context, sizesFlag, cache string, limit time.Duration) error {
	var sizes []int
	for f := range strings.SplitSeq(sizesFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < perSource {
			return fmt.Errorf("bad size %q: want a number of items ≥ %d", f, perSource)
		}
		sizes = append(sizes, n)
	}
	v, err := schemaVersion(ctx)
	if err != nil {
		return err
	}
	dir := filepath.Join(cache, fmt.Sprintf("v%d", v))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cache dir: %w", err)
	}
	root, err := benchenv.RepoRoot()
	if err != nil {
		return err
	}
	out := filepath.Join(root, "bench", "out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("profile dir: %w", err)
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own executable: %w", err)
	}
	fmt.Printf("Machine: %s\nStores cached in %s (schema version %d)\n\n", benchenv.Machine(), dir, v)
	var results []result
	var fills []string
	for _, size := range sizes {
		n := size / perSource
		path := filepath.Join(dir, fmt.Sprintf("items-%d.db", n*perSource))
		took, err := fill(ctx, path, n)
		if err != nil {
			return err
		}
		if took > 0 {
			fills = append(fills, fmt.Sprintf("filled %d items with SaveItems in %v (%.0f items/s)", n*perSource, took.Round(time.Millisecond), float64(n*perSource)/took.Seconds()))
		}
		prefix := filepath.Join(out, fmt.Sprintf("scale-%d", n*perSource))
		r := measureChild(ctx, self, path, n, prefix, limit)
		r.Items = n * perSource
		if fi, err := os.Stat(path); err == nil {
			r.StoreBytes = fi.Size()
		}
		results = append(results, r)
	}
	for _, f := range fills {
		fmt.Println(f)
	}
	fmt.Println()
	fmt.Println("| items | store file | open | start-up (open + first Rebuild) | render (Rebuild after a change) | Items query (50 newest) | peak RSS |")
	fmt.Println("|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range results {
		if r.Failed != "" {
			fmt.Printf("| %d | %s | %s |\n", r.Items, benchenv.MiB(r.StoreBytes), r.Failed)
			continue
		}
		fmt.Printf("| %d | %s | %v | %v | %v | %v | %s |\n", r.Items, benchenv.MiB(r.StoreBytes), r.Open.Round(time.Millisecond), r.Startup.Round(time.Millisecond),
			r.Render.Round(time.Millisecond), r.Query.Round(time.Millisecond), benchenv.MiB(r.PeakRSS))
	}
	if len(results) > 1 && results[0].Failed == "" && results[len(results)-1].Failed == "" {
		first, last := results[0], results[len(results)-1]
		growth := float64(last.Items) / float64(first.Items)
		fmt.Printf("\nGrowth over %.0f× the items: start-up %.1f×, render %.1f×, query %.1f×, peak RSS %.1f× (flat or logarithmic wanted, not %.0f×)\n",
			growth, ratio(last.Startup, first.Startup), ratio(last.Render, first.Render), ratio(last.Query, first.Query),
			float64(last.PeakRSS)/float64(first.PeakRSS), growth)
		fmt.Printf("At %d items: start-up %v (target < %v %s), peak RSS %s (target < %s %s)\n", last.Items,
			last.Startup.Round(time.Millisecond), TargetStartup, verdict(last.Startup < TargetStartup),
			benchenv.MiB(last.PeakRSS), benchenv.MiB(TargetRSS), verdict(last.PeakRSS < TargetRSS))
	}
	fmt.Printf("Profiles of the render: %s/scale-<items>.{cpu,alloc}.prof\n", out)
	return nil
}

// measureChild measures one store in a child process, killed after limit:
// a store too big to render in time is a result, not a reason to stop.
func measureChild(ctx context.Context, self, path string, n int, prefix string, limit time.Duration) result {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, self, "-measure", path, "-sources", strconv.Itoa(n), "-profile", prefix)
	cmd.Stderr = os.Stderr
	data, err := cmd.Output()
	var r result
	switch {
	case ctx.Err() != nil:
		r.Failed = fmt.Sprintf("gave up after %v (start-up and render did not finish)", limit)
	case err != nil:
		r.Failed = fmt.Sprintf("measuring failed: %v", err)
	default:
		if err := json.Unmarshal(data, &r); err != nil {
			r.Failed = fmt.Sprintf("measuring failed: %v", err)
		}
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

// measure is the child: start-up, render and query of the store at path,
// printed as JSON.
func measure(ctx context.Context, path string, n int, profile string) error {
	var r result
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
		srcs[i] = feed.Source{Name: name, URL: "https://" + name + ".example.org/feed.xml", Schedule: "*/15 * * * *"}
	}
	spec := publish.FeedSpec{Name: "all", Title: "Everything", Sources: names, Limit: publish.DefaultLimit, Backfill: -1}
	p := publish.New(publish.Options{BaseURL: "http://127.0.0.1:8080"}, []publish.FeedSpec{spec}, srcs, st)
	if err := p.Rebuild(ctx); err != nil {
		return fmt.Errorf("first rebuild: %w", err)
	}
	r.Startup = time.Since(start)

	// One changed item, as a refresh brings: the same id every run, so
	// the cached store does not grow.
	probe := gen.Items(names[0], 1_000_000, 1, false)[0]
	probe.Title = "Probe " + time.Now().Format(time.RFC3339Nano)
	if _, err := st.SaveItems(ctx, names[0], []feed.Item{probe}, 0, now); err != nil {
		return fmt.Errorf("save probe: %w", err)
	}
	cpu, err := os.Create(profile + ".cpu.prof")
	if err != nil {
		return fmt.Errorf("create profile: %w", err)
	}
	defer cpu.Close()
	runtime.MemProfileRate = 64 << 10
	if err := pprof.StartCPUProfile(cpu); err != nil {
		return fmt.Errorf("start profile: %w", err)
	}
	t := time.Now()
	err = p.Rebuild(ctx)
	r.Render = time.Since(t)
	pprof.StopCPUProfile()
	if err != nil {
		return fmt.Errorf("rebuild: %w", err)
	}
	if err := writeHeap(profile + ".alloc.prof"); err != nil {
		return err
	}
	if snap, ok := p.Snapshot("all", publish.Atom); ok {
		r.Rendered = len(snap.Body)
	}

	t = time.Now()
	if _, err := st.Items(ctx, feed.Query{Sources: names, Limit: publish.DefaultLimit}); err != nil {
		return fmt.Errorf("items: %w", err)
	}
	r.Query = time.Since(t)
	if r.PeakRSS, err = benchenv.PeakRSS(); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}

func writeHeap(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create profile: %w", err)
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return fmt.Errorf("write profile: %w", err)
	}
	return f.Close()
}
