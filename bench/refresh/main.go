// Command refresh measures a refresh of many feeds against the cost of
// merely downloading them. It starts a farm of feeds (default 1,000 feeds of
// 50 items on the five host names 127.0.0.1 to 127.0.0.5, each answering
// after 20 ms and honouring If-None-Match) in a child process, then, in this
// process, measures in turn:
//
//   - the bare baseline: plain net/http GETs of every feed with the same
//     concurrency limits and no processing;
//   - a cold refresh: feedmill's real fetch client, normalizer, Refresher and
//     a SQLite store in a temporary directory, all items new;
//   - after 10% of the feeds changed, the warm baseline (conditional GETs
//     with the ETags the cold baseline got) and a warm refresh.
//
// It prints wall time, CPU time (getrusage of this process only: the farm's
// CPU is its own), allocations (runtime.MemStats), bytes stored and what the
// farm saw, and the ratios beside their targets (warm ≤ 1.2×, cold ≤ 2×).
//
//	go run ./bench/refresh [-feeds 1000] [-items 50] [-delay 20ms] [-cpuprofile bench/out/refresh.cpu.prof]
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
	"sync"
	"time"

	"github.com/feedmill/feedmill/bench/internal/benchenv"
	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/fetch"
	"github.com/feedmill/feedmill/internal/normalize"
	"github.com/feedmill/feedmill/internal/refresh"
	"github.com/feedmill/feedmill/internal/scrape"
	"github.com/feedmill/feedmill/internal/store"
)

// Targets: a refresh may take at most this multiple of the bare
// baseline's wall and CPU time.
const (
	TargetWarm = 1.2
	TargetCold = 2.0
)

// The fetch limits of both clients: feedmill's defaults (fetch.concurrency
// and fetch.per_host of the config).
const (
	concurrency = 8
	perHost     = 2
)

func main() {
	isFarm := flag.Bool("farm", false, "serve the farm (internal: the child process)")
	n := flag.Int("feeds", 1000, "feeds in the farm")
	items := flag.Int("items", 50, "items per feed")
	delay := flag.Duration("delay", 20*time.Millisecond, "how long the farm takes to answer")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the cold and warm refreshes to this file (prefix .cold/.warm)")
	flag.Parse()
	var err error
	if *isFarm {
		err = serveFarm(*n, *items, *delay)
	} else {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		err = run(ctx, *n, *items, *delay, *cpuprofile)
		stop()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "refresh bench:", err)
		os.Exit(1)
	}
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

// refreshAll runs one RefreshAll of every source and sums the results.
func refreshAll(ctx context.Context, r *refresh.Refresher) measure {
	var m measure
	for _, res := range r.RefreshAll(ctx, false) {
		if res.Err != nil {
			m.errs++
			if m.firstErr == "" {
				m.firstErr = res.Err.Error()
			}
		}
		if res.NotModified {
			m.notModified++
		}
		m.newItems += res.New
		m.updatedItems += res.Updated
	}
	return m
}

func dirSize(dir string) int64 {
	var n int64
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if fi, err := e.Info(); err == nil {
			n += fi.Size()
		}
	}
	return n
}

func run(ctx context.Context, n, items int, delay time.Duration, cpuprofile string) error {
	fmt.Printf("Machine: %s\n", benchenv.Machine())
	fmt.Printf("Farm: %d feeds × %d items on %d host names, %v per answer; limits: %d in flight, %d per host, no gap\n\n", n, items, len(hosts), delay, concurrency, perHost)
	ports, stopFarm, err := startFarm(n, items, delay)
	if err != nil {
		return err
	}
	defer stopFarm()
	admin := "http://" + hosts[0] + ":" + ports[0]
	urls := make([]string, n)
	sources := make([]feed.Source, n)
	for i := range n {
		urls[i] = feedURL(ports, i)
		sources[i] = feed.Source{Name: fmt.Sprintf("site%04d", i), URL: urls[i], Schedule: "*/15 * * * *"}
	}

	dir, err := os.MkdirTemp("", "feedmill-bench-refresh-")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	st, err := store.OpenSQLite(ctx, filepath.Join(dir, "feedmill.db"), nil)
	if err != nil {
		return err
	}
	defer st.Close()
	client := fetch.New(fetch.Options{Concurrency: concurrency, PerHost: perHost, MinGap: -1})
	defer client.CloseIdleConnections()
	// Leases as the daemon and `feedmill fetch` always take them.
	opts := refresh.Options{Workers: concurrency, Coordinator: st, Owner: "bench"}
	r, err := refresh.New(sources, client, scrape.New(normalize.New(normalize.Options{}), nil), st, opts)
	if err != nil {
		return fmt.Errorf("refresher: %w", err)
	}
	b := newBare()
	if _, err := stats(ctx, admin); err != nil { // reset the counters
		return err
	}

	profiled := func(name string, fn func() measure) func() measure {
		if cpuprofile == "" {
			return fn
		}
		return func() measure {
			path := cpuprofile + "." + name
			os.MkdirAll(filepath.Dir(path), 0o755)
			f, err := os.Create(path)
			if err != nil {
				return measure{errs: 1, firstErr: err.Error()}
			}
			defer f.Close()
			if err := pprof.StartCPUProfile(f); err != nil {
				return measure{errs: 1, firstErr: err.Error()}
			}
			defer pprof.StopCPUProfile()
			return fn()
		}
	}

	bareCold, err := phase(ctx, admin, func() measure { return b.getAll(ctx, urls) })
	if err != nil {
		return err
	}
	cold, err := phase(ctx, admin, profiled("cold", func() measure { return refreshAll(ctx, r) }))
	if err != nil {
		return err
	}
	cold.storedBytes = dirSize(dir)
	if err := bump(ctx, admin, 10); err != nil {
		return err
	}
	bareWarm, err := phase(ctx, admin, func() measure { return b.getAll(ctx, urls) })
	if err != nil {
		return err
	}
	warm, err := phase(ctx, admin, profiled("warm", func() measure { return refreshAll(ctx, r) }))
	if err != nil {
		return err
	}
	warm.storedBytes = dirSize(dir)
	// Nothing changed since: every answer is a 304 for both, which shows
	// feedmill's own cost per unchanged source (state read, validators,
	// one transaction for the pass) without any parsing in either.
	bareIdle, err := phase(ctx, admin, func() measure { return b.getAll(ctx, urls) })
	if err != nil {
		return err
	}
	idle, err := phase(ctx, admin, func() measure { return refreshAll(ctx, r) })
	if err != nil {
		return err
	}

	fmt.Println("| phase | wall | CPU | allocs | alloc bytes | requests | with validators | 304 | body bytes | new items | errors | stored |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	row := func(name string, m measure) {
		stored := ""
		if m.storedBytes > 0 {
			stored = benchenv.MiB(m.storedBytes)
		}
		fmt.Printf("| %s | %v | %v | %d | %s | %d | %d | %d | %s | %d | %d | %s |\n", name, m.wall.Round(time.Millisecond), m.cpu.Round(time.Millisecond),
			m.mallocs, benchenv.MiB(int64(m.allocBytes)), m.farm.Requests, m.farm.Conditional, m.farm.NotModified, benchenv.MiB(m.farm.BodyBytes), m.newItems, m.errs, stored)
	}
	row("bare GET, cold", bareCold)
	row("feedmill refresh, cold", cold)
	row("bare GET, warm (10% changed)", bareWarm)
	row("feedmill refresh, warm (10% changed)", warm)
	row("bare GET, nothing changed", bareIdle)
	row("feedmill refresh, nothing changed", idle)
	for _, m := range []measure{bareCold, cold, bareWarm, warm, bareIdle, idle} {
		if m.firstErr != "" {
			fmt.Printf("\nfirst error: %s\n", m.firstErr)
		}
	}
	fmt.Println()
	ratio := func(name string, m, base measure, target float64) {
		w := m.wall.Seconds() / base.wall.Seconds()
		c := m.cpu.Seconds() / base.cpu.Seconds()
		fmt.Printf("%s: wall %.2f× (target ≤ %.1f× %s), CPU %.2f× (target ≤ %.1f× %s)\n", name, w, target, verdict(w, target), c, target, verdict(c, target))
	}
	ratio("cold refresh vs bare GET", cold, bareCold, TargetCold)
	ratio("warm refresh vs bare GET", warm, bareWarm, TargetWarm)
	w, c := idle.wall.Seconds()/bareIdle.wall.Seconds(), idle.cpu.Seconds()/bareIdle.cpu.Seconds()
	fmt.Printf("nothing changed (all 304) vs bare GET: wall %.2f×, CPU %.2f× (no target: feedmill's cost per unchanged source)\n", w, c)
	fmt.Printf("warm refresh: %d of %d requests carried validators, %d answered 304; %d new items stored\n", warm.farm.Conditional, warm.farm.Requests, warm.farm.NotModified, warm.newItems)
	if cpuprofile != "" {
		fmt.Printf("CPU profiles: %s.cold, %s.warm\n", cpuprofile, cpuprofile)
	}
	return nil
}

func verdict(ratio, target float64) string {
	if ratio <= target {
		return "met"
	}
	return "**missed**"
}
