// Command refresh measures a refresh of many feeds against the cost of
// merely downloading them. It starts a farm of feeds (default 1,000 feeds of
// 50 items on the five host names 127.0.0.1 to 127.0.0.5, each answering
// after 20 ms and honouring If-None-Match) in a child process, then, in this
// process, measures in turn:
//
//   - the bare baseline: plain net/http GETs of every feed with the same
//     concurrency limits and no processing;
//   - for each store of -drivers (SQLite in a temporary directory,
//     PostgreSQL in a schema of its own, dropped after): a cold refresh
//     (feedmill's real fetch client, normalizer and Refresher, all items
//     new); after 10% of the feeds changed, the warm baseline (conditional
//     GETs with the ETags the bare client last got) and a warm refresh;
//     then both again with nothing changed.
//
// Each refresh is the daemon's pass over its due sources (RefreshAll with
// onlyDue), taking a lease on each source as the daemon does on either
// store; the refresher's clock moves an hour on between passes, so every
// source is due again.
//
// With PostgreSQL and -instances k >= 2, k instances (processes of this
// program) then share one new store and the same sources, all due: a cold
// pass and, after 10% of the feeds changed, a warm one, all started
// together. The farm counts requests per feed, so the output says whether
// any feed was fetched twice; their wall time is compared with one
// instance run the same way (a process of this program on a new store of
// its own). Each side runs twice, in the order one, k, k, one, and is
// judged by the mean of its two.
//
// The refreshes run with the daemon's heap floor (internal/heapfloor), as
// cmd/feedmill sets it.
//
// It prints wall time, CPU time (getrusage of this process only: the farm's
// CPU is its own; PostgreSQL's backends serving the store are read from
// /proc as "server CPU"), allocations (runtime.MemStats), bytes stored and
// what the farm saw, and the ratios beside their targets (warm ≤ 1.2×,
// cold ≤ 2× the bare GETs; PostgreSQL's warm refresh ≤ 1.3× SQLite's; k
// instances no slower than one, no feed fetched twice).
//
//	go run ./bench/refresh [-feeds 1000] [-items 50] [-delay 20ms] [-cpuprofile bench/out/refresh.cpu.prof]
//	    [-drivers sqlite|postgres|sqlite,postgres] [-postgres DSN] [-instances 3]
//
// The PostgreSQL DSN defaults to $FEEDMILL_BENCH_POSTGRES, else
// $FEEDMILL_TEST_POSTGRES (for example
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable); -probe-postgres
// only checks that the server answers.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"time"

	"github.com/feedmill/feedmill/bench/internal/benchenv"
	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/heapfloor"
	"github.com/feedmill/feedmill/internal/refresh"
)

// Targets: a refresh may take at most this multiple of the bare
// baseline's wall and CPU time.
const (
	TargetWarm = 1.2
	TargetCold = 2.5
)

// Targets of the PostgreSQL driver: its warm refresh may take at most
// this multiple of SQLite's wall time; instances sharing its sources may
// together take at most this multiple of one instance's wall time, and
// fetch no feed twice.
const (
	TargetPostgresWarm = 1.3
	TargetShared       = 1.0
)

// The fetch limits of both clients: feedmill's defaults (fetch.concurrency
// and fetch.per_host of the config).
const (
	concurrency = 8
	perHost     = 2
)

func main() {
	isFarm := flag.Bool("farm", false, "serve the farm (internal: the child process)")
	isInstance := flag.Bool("instance", false, "be one of the instances sharing a PostgreSQL store (internal: a child process)")
	owner := flag.String("owner", "", "the instance's lease owner name (internal, with -instance)")
	portsArg := flag.String("ports", "", "the farm's ports (internal, with -instance)")
	n := flag.Int("feeds", 1000, "feeds in the farm")
	items := flag.Int("items", 50, "items per feed")
	delay := flag.Duration("delay", 20*time.Millisecond, "how long the farm takes to answer")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the cold and warm refreshes to this file (suffixes .cold/.warm; .postgres.cold/.postgres.warm for PostgreSQL)")
	drivers := flag.String("drivers", "sqlite", "the stores to measure, in order: sqlite, postgres, or sqlite,postgres (PostgreSQL in a schema of its own, dropped after)")
	pgDSN := flag.String("postgres", pgDSNFromEnv(), "the PostgreSQL server's DSN (default $"+pgBenchEnv+", else $"+pgTestEnv+")")
	instances := flag.Int("instances", 3, "with postgres: instances (processes) sharing one store and the sources, measured against one; below 2 none")
	probe := flag.Bool("probe-postgres", false, "only check that the PostgreSQL server (-postgres) answers: exit status 0 if so, else 1 and why")
	flag.Parse()
	if !*isFarm {
		// The refreshes run under the daemon's collector settings, as
		// cmd/feedmill sets them; the farm stands for other servers.
		heapfloor.Set(heapfloor.Default)
	}
	var err error
	switch {
	case *probe:
		err = probePostgres(*pgDSN)
	case *isFarm:
		err = serveFarm(*n, *items, *delay)
	case *isInstance:
		err = serveInstance(*n, *portsArg, *owner)
	default:
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		err = run(ctx, config{
			feeds: *n, items: *items, delay: *delay, cpuprofile: *cpuprofile,
			drivers: strings.Split(*drivers, ","), pgDSN: *pgDSN, instances: *instances,
		})
		stop()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "refresh bench:", err)
		os.Exit(1)
	}
}

// farmSources are the sources of the farm's n feeds, given its ports.
func farmSources(ports []string, n int) []feed.Source {
	sources := make([]feed.Source, n)
	for i := range n {
		sources[i] = feed.Source{Name: fmt.Sprintf("site%04d", i), URL: feedURL(ports, i), Schedule: "*/15 * * * *"}
	}
	return sources
}

// measure is what one phase cost this process.
type measure struct {
	wall, cpu    time.Duration
	mallocs      uint64
	allocBytes   uint64
	farm         farmStats
	errs         int
	firstErr     string
	notModified  int
	newItems     int
	storedBytes  int64
	updatedItems int
	refreshed    int // sources refreshed by this process
	skipped      int // left to another instance
	// serverCPU is what PostgreSQL's backends serving the store spent
	// (serverKnown: when it could be read); SQLite works in this process.
	serverCPU   time.Duration
	serverKnown bool
}

// serverCPUText shows m's server CPU in a table cell.
func (m measure) serverCPUText() string {
	if !m.serverKnown {
		return ""
	}
	return m.serverCPU.Round(time.Millisecond).String()
}

// phase runs fn and measures it; admin is the farm's control URL.
func phase(ctx context.Context, admin string, fn func() measure) (measure, error) {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	cpu0, t0 := benchenv.CPUTime(), time.Now()
	m := fn()
	m.wall, m.cpu = time.Since(t0), benchenv.CPUTime()-cpu0
	runtime.ReadMemStats(&after)
	m.mallocs, m.allocBytes = after.Mallocs-before.Mallocs, after.TotalAlloc-before.TotalAlloc
	st, err := stats(ctx, admin)
	m.farm = st
	return m, err
}

func stats(ctx context.Context, admin string) (farmStats, error) {
	var st farmStats
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, admin+"/stats", nil)
	if err != nil {
		return st, fmt.Errorf("farm stats: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return st, fmt.Errorf("farm stats: %w", err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return st, fmt.Errorf("farm stats: %w", err)
	}
	return st, nil
}

func bump(ctx context.Context, admin string, mod int) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, fmt.Sprintf("%s/bump?mod=%d", admin, mod), nil)
	if err != nil {
		return fmt.Errorf("farm bump: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("farm bump: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("farm bump: %s", resp.Status)
	}
	return nil
}

// bare GETs every URL with the same limits as feedmill's fetcher (8 in
// flight, 2 per host) and does nothing with the bodies but read them.
// etags holds each URL's last ETag: sent as If-None-Match when present,
// updated from each 200.
type bare struct {
	client *http.Client
	mu     sync.Mutex
	etags  map[string]string
}

func newBare() *bare {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = perHost
	return &bare{client: &http.Client{Transport: tr, Timeout: 30 * time.Second}, etags: make(map[string]string)}
}

func (b *bare) getAll(ctx context.Context, urls []string) measure {
	var m measure
	var mu sync.Mutex
	global := make(chan struct{}, concurrency)
	hostSem := make(map[string]chan struct{})
	for _, h := range hosts {
		hostSem[h] = make(chan struct{}, perHost)
	}
	var wg sync.WaitGroup
	for i, u := range urls {
		host := hosts[i%len(hosts)]
		// Take the host slot first, as a worker waiting on a busy host
		// must not hold one of the global slots.
		hostSem[host] <- struct{}{}
		global <- struct{}{}
		wg.Go(func() {
			defer func() { <-global; <-hostSem[host] }()
			err := b.get(ctx, u, &m, &mu)
			if err != nil {
				mu.Lock()
				m.errs++
				if m.firstErr == "" {
					m.firstErr = err.Error()
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return m
}

func (b *bare) get(ctx context.Context, u string, m *measure, mu *sync.Mutex) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	b.mu.Lock()
	if tag := b.etags[u]; tag != "" {
		req.Header.Set("If-None-Match", tag)
	}
	b.mu.Unlock()
	resp, err := b.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	switch resp.StatusCode {
	case http.StatusNotModified:
		mu.Lock()
		m.notModified++
		mu.Unlock()
	case http.StatusOK:
		_ = body
		b.mu.Lock()
		b.etags[u] = resp.Header.Get("ETag")
		b.mu.Unlock()
	default:
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return nil
}

// refreshAll runs one pass of the refresher over every due source, as
// the daemon's pass at start-up does (RefreshAll with onlyDue: each source
// is claimed, found still due, refreshed and released), and sums the
// results.
func refreshAll(ctx context.Context, r *refresh.Refresher) measure {
	var m measure
	for _, res := range r.RefreshAll(ctx, true) {
		if res.Err != nil {
			m.errs++
			if m.firstErr == "" {
				m.firstErr = res.Err.Error()
			}
		}
		if res.Skipped != "" {
			m.skipped++
			continue
		}
		m.refreshed++
		if res.NotModified {
			m.notModified++
		}
		m.newItems += res.New
		m.updatedItems += res.Updated
	}
	return m
}

// config is what a run measures.
type config struct {
	feeds, items int
	delay        time.Duration
	cpuprofile   string
	drivers      []string // "sqlite", "postgres", in the order run
	pgDSN        string
	instances    int // instances sharing one PostgreSQL store; < 2: none
}

// driverRun is what the passes of one driver cost, beside the bare GETs
// taken just before each.
type driverRun struct {
	driver                               string
	cold, bareWarm, warm, bareIdle, idle measure
}

func run(ctx context.Context, cfg config) error {
	n := cfg.feeds
	fmt.Printf("Machine: %s\n", benchenv.Machine())
	fmt.Printf("Farm: %d feeds × %d items on %d host names, %v per answer; limits: %d in flight, %d per host, no gap\n", n, cfg.items, len(hosts), cfg.delay, concurrency, perHost)
	fmt.Printf("Stores: %s; refreshers take leases (owner per instance) as the daemon does\n\n", strings.Join(cfg.drivers, ", "))
	ports, stopFarm, err := startFarm(n, cfg.items, cfg.delay)
	if err != nil {
		return err
	}
	defer stopFarm()
	admin := "http://" + hosts[0] + ":" + ports[0]
	sources := farmSources(ports, n)
	urls := make([]string, n)
	for i, src := range sources {
		urls[i] = src.URL
	}
	b := newBare()
	if _, err := stats(ctx, admin); err != nil { // reset the counters
		return err
	}
	bareCold, err := phase(ctx, admin, func() measure { return b.getAll(ctx, urls) })
	if err != nil {
		return err
	}
	var runs []driverRun
	for _, driver := range cfg.drivers {
		dr, err := runDriver(ctx, cfg, driver, sources, admin, b, urls)
		if err != nil {
			return fmt.Errorf("%s: %w", driver, err)
		}
		runs = append(runs, dr)
	}

	fmt.Println("| phase | wall | CPU | server CPU | allocs | alloc bytes | requests | with validators | 304 | body bytes | new items | errors | stored |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	row := func(name string, m measure) {
		stored := ""
		if m.storedBytes > 0 {
			stored = benchenv.MiB(m.storedBytes)
		}
		fmt.Printf("| %s | %v | %v | %s | %d | %s | %d | %d | %d | %s | %d | %d | %s |\n", name, m.wall.Round(time.Millisecond), m.cpu.Round(time.Millisecond),
			m.serverCPUText(), m.mallocs, benchenv.MiB(int64(m.allocBytes)), m.farm.Requests, m.farm.Conditional, m.farm.NotModified, benchenv.MiB(m.farm.BodyBytes), m.newItems, m.errs, stored)
	}
	all := []measure{bareCold}
	row("bare GET, cold", bareCold)
	for _, dr := range runs {
		row("feedmill refresh, cold ("+dr.driver+")", dr.cold)
		row("bare GET, warm (10% changed)", dr.bareWarm)
		row("feedmill refresh, warm (10% changed, "+dr.driver+")", dr.warm)
		row("bare GET, nothing changed", dr.bareIdle)
		row("feedmill refresh, nothing changed ("+dr.driver+")", dr.idle)
		all = append(all, dr.cold, dr.bareWarm, dr.warm, dr.bareIdle, dr.idle)
	}
	for _, m := range all {
		if m.firstErr != "" {
			fmt.Printf("\nfirst error: %s\n", m.firstErr)
			break
		}
	}
	fmt.Println()
	ratio := func(name string, m, base measure, target float64) {
		w := m.wall.Seconds() / base.wall.Seconds()
		c := m.cpu.Seconds() / base.cpu.Seconds()
		fmt.Printf("%s: wall %.2f× (target ≤ %.1f× %s), CPU %.2f× (target ≤ %.1f× %s)\n", name, w, target, verdict(w, target), c, target, verdict(c, target))
	}
	for _, dr := range runs {
		ratio("cold refresh vs bare GET ("+dr.driver+")", dr.cold, bareCold, TargetCold)
		ratio("warm refresh vs bare GET ("+dr.driver+")", dr.warm, dr.bareWarm, TargetWarm)
		w, c := dr.idle.wall.Seconds()/dr.bareIdle.wall.Seconds(), dr.idle.cpu.Seconds()/dr.bareIdle.cpu.Seconds()
		fmt.Printf("nothing changed (all 304) vs bare GET (%s): wall %.2f×, CPU %.2f× (no target: feedmill's cost per unchanged source)\n", dr.driver, w, c)
		fmt.Printf("warm refresh (%s): %d of %d requests carried validators, %d answered 304; %d new items stored\n", dr.driver, dr.warm.farm.Conditional, dr.warm.farm.Requests, dr.warm.farm.NotModified, dr.warm.newItems)
	}
	sqlite, pg := findRun(runs, "sqlite"), findRun(runs, "postgres")
	if sqlite != nil && pg != nil {
		w := pg.warm.wall.Seconds() / sqlite.warm.wall.Seconds()
		fmt.Printf("PostgreSQL vs SQLite, warm refresh: wall %.2f× (%v against %v; target ≤ %.1f× %s), CPU %s\n",
			w, pg.warm.wall.Round(time.Millisecond), sqlite.warm.wall.Round(time.Millisecond), TargetPostgresWarm, verdict(w, TargetPostgresWarm),
			cpuRatio(pg.warm, sqlite.warm))
		fmt.Printf("PostgreSQL vs SQLite, cold refresh: wall %.2f×, CPU %s (no target)\n",
			pg.cold.wall.Seconds()/sqlite.cold.wall.Seconds(), cpuRatio(pg.cold, sqlite.cold))
		fmt.Printf("PostgreSQL vs SQLite, nothing changed: wall %.2f×, CPU %s (no target)\n",
			pg.idle.wall.Seconds()/sqlite.idle.wall.Seconds(), cpuRatio(pg.idle, sqlite.idle))
	}
	if cfg.cpuprofile != "" {
		fmt.Printf("CPU profiles: %s.cold, %s.warm (SQLite), %s.postgres.cold, %s.postgres.warm\n", cfg.cpuprofile, cfg.cpuprofile, cfg.cpuprofile, cfg.cpuprofile)
	}
	if pg != nil && cfg.instances > 1 {
		fmt.Println()
		if err := runShared(ctx, cfg, ports, admin, pg); err != nil {
			return fmt.Errorf("%d instances: %w", cfg.instances, err)
		}
	}
	return nil
}

// cpuRatio compares the CPU time of a PostgreSQL pass with a SQLite one:
// this process's alone, and with the server's backends, which do the
// work SQLite does in this process.
func cpuRatio(pg, sqlite measure) string {
	r := fmt.Sprintf("%.2f× in this process", pg.cpu.Seconds()/sqlite.cpu.Seconds())
	if pg.serverKnown {
		r += fmt.Sprintf(", %.2f× with the server's backends", (pg.cpu+pg.serverCPU).Seconds()/sqlite.cpu.Seconds())
	}
	return r
}

func findRun(runs []driverRun, driver string) *driverRun {
	for i := range runs {
		if runs[i].driver == driver {
			return &runs[i]
		}
	}
	return nil
}

// runDriver measures, on a new store of driver, a cold pass over every
// source, then (after 10% of the feeds changed) the bare conditional GETs
// and a warm pass, then both again with nothing changed. Each pass runs
// with the clock moved on, so every source is due as it is for a daemon
// whose sources' next times have come.
func runDriver(ctx context.Context, cfg config, driver string, sources []feed.Source, admin string, b *bare, urls []string) (driverRun, error) {
	dr := driverRun{driver: driver}
	var st benchStore
	var schema *pgSchema
	var closeStore func()
	var err error
	switch driver {
	case "sqlite":
		st, closeStore, err = openSQLite(ctx)
	case "postgres":
		st, schema, closeStore, err = openPostgres(ctx, cfg.pgDSN)
	default:
		err = fmt.Errorf("unknown driver %q (want sqlite or postgres)", driver)
	}
	if err != nil {
		return dr, err
	}
	defer closeStore()
	clock := new(benchClock)
	r, client, err := newRefresher(sources, st, fmt.Sprintf("bench-%d-%s", os.Getpid(), driver), clock)
	if err != nil {
		return dr, err
	}
	defer client.CloseIdleConnections()
	prefix := cfg.cpuprofile
	if prefix != "" && driver != "sqlite" {
		prefix += "." + driver
	}
	size := func(m *measure) {
		if n, err := st.Size(ctx); err == nil {
			m.storedBytes = n
		}
	}
	pass := func() measure { return refreshAll(ctx, r) }
	if dr.cold, err = serverPhase(ctx, admin, schema, profiled(prefix, "cold", pass)); err != nil {
		return dr, err
	}
	size(&dr.cold)
	if err := bump(ctx, admin, 10); err != nil {
		return dr, err
	}
	if dr.bareWarm, err = phase(ctx, admin, func() measure { return b.getAll(ctx, urls) }); err != nil {
		return dr, err
	}
	clock.advance(phaseStep)
	if dr.warm, err = serverPhase(ctx, admin, schema, profiled(prefix, "warm", pass)); err != nil {
		return dr, err
	}
	size(&dr.warm)
	// Nothing changed since: every answer is a 304 for both, which shows
	// feedmill's own cost per unchanged source (state read, lease,
	// validators, state write) without any parsing in either.
	if dr.bareIdle, err = phase(ctx, admin, func() measure { return b.getAll(ctx, urls) }); err != nil {
		return dr, err
	}
	clock.advance(phaseStep)
	if dr.idle, err = serverPhase(ctx, admin, schema, pass); err != nil {
		return dr, err
	}
	return dr, nil
}

// profiled returns fn writing a CPU profile to prefix.name while it runs,
// and the allocation profile to prefix.name.allocs when it ends; fn itself
// when prefix is empty.
func profiled(prefix, name string, fn func() measure) func() measure {
	if prefix == "" {
		return fn
	}
	return func() measure {
		path := prefix + "." + name
		os.MkdirAll(filepath.Dir(path), 0o755)
		f, err := os.Create(path)
		if err != nil {
			return measure{errs: 1, firstErr: err.Error()}
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return measure{errs: 1, firstErr: err.Error()}
		}
		m := fn()
		pprof.StopCPUProfile()
		// The allocations since the program started, at the end of the
		// phase: mostly the phase's own for the cold one.
		if err := writeAllocs(path + ".allocs"); err != nil {
			fmt.Fprintln(os.Stderr, "refresh bench:", err) // the measure stands without it
		}
		return m
	}
}

// writeAllocs writes the allocation profile to path.
func writeAllocs(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("allocation profile: %w", err)
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return fmt.Errorf("allocation profile %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("allocation profile %s: %w", path, err)
	}
	return nil
}

func verdict(ratio, target float64) string {
	if ratio <= target {
		return "met"
	}
	return "**missed**"
}
