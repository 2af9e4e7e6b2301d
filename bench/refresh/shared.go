package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/feedmill/feedmill/bench/internal/benchenv"
	"github.com/feedmill/feedmill/internal/store"
)

// instanceDSNEnv passes the shared store's DSN to the instances: in the
// environment rather than on the command line, where every user of the
// machine could read a password in it.
const instanceDSNEnv = "FEEDMILL_BENCH_INSTANCE_DSN"

// instanceResult is what one instance reports of its pass.
type instanceResult struct {
	Owner       string        `json:"owner"`
	Wall        time.Duration `json:"wall"`
	CPU         time.Duration `json:"cpu"`
	Refreshed   int           `json:"refreshed"`
	Skipped     int           `json:"skipped"`
	NotModified int           `json:"not_modified"`
	New         int           `json:"new"`
	Errors      int           `json:"errors"`
	FirstErr    string        `json:"first_error,omitempty"`
}

// serveInstance is one instance sharing a PostgreSQL store (a child
// process of startInstances): it opens the store the environment names,
// builds its refresher as the daemon does and says "ready"; then, for
// each line on its stdin, it runs one pass over the due sources, as the
// daemon runs pass after pass, and prints what it did as one JSON line.
// Its clock moves phaseStep on before every pass but the first, as the
// bench's own refresher's does. It returns when its stdin closes.
func serveInstance(n int, portsArg, owner string) error {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	ports := strings.Fields(portsArg)
	if len(ports) != len(hosts) {
		return fmt.Errorf("instance: -ports %q, want %d ports", portsArg, len(hosts))
	}
	st, err := store.OpenPostgres(ctx, os.Getenv(instanceDSNEnv), nil)
	if err != nil {
		return fmt.Errorf("instance %s: %w", owner, err)
	}
	defer st.Close()
	clock := new(benchClock)
	r, client, err := newRefresher(farmSources(ports, n), st, owner, clock)
	if err != nil {
		return fmt.Errorf("instance %s: %w", owner, err)
	}
	defer client.CloseIdleConnections()
	fmt.Println("ready")
	in := bufio.NewReader(os.Stdin)
	out := json.NewEncoder(os.Stdout)
	for passes := 0; ; passes++ {
		if _, err := in.ReadString('\n'); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("instance %s: read start signal: %w", owner, err)
		}
		if passes > 0 {
			clock.advance(phaseStep)
		}
		cpu0, t0 := benchenv.CPUTime(), time.Now()
		m := refreshAll(ctx, r)
		res := instanceResult{
			Owner: owner, Wall: time.Since(t0), CPU: benchenv.CPUTime() - cpu0,
			Refreshed: m.refreshed, Skipped: m.skipped, NotModified: m.notModified, New: m.newItems,
			Errors: m.errs, FirstErr: m.firstErr,
		}
		if err := out.Encode(res); err != nil {
			return fmt.Errorf("instance %s: report: %w", owner, err)
		}
	}
}

// sharedRun is what a pass of several instances over one store cost.
type sharedRun struct {
	wall      time.Duration // from the start signal to the last report
	cpu       time.Duration // of all instances together
	serverCPU time.Duration // of the server's backends serving them
	serverOK  bool          // whether serverCPU could be read
	instances []instanceResult
	farm      farmStats
}

// instanceGroup is k instances (processes) sharing one store.
type instanceGroup struct {
	schema   *pgSchema
	children []instanceChild
}

type instanceChild struct {
	owner string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
}

// startInstances starts k instances on the store of schema, each in a
// process of its own named name-1, name-2..., and waits until every one
// is ready. The caller closes the group.
func startInstances(ctx context.Context, k, n int, schema *pgSchema, ports []string, name string) (*instanceGroup, error) {
	g := &instanceGroup{schema: schema}
	self, err := os.Executable()
	if err != nil {
		return g, fmt.Errorf("find own executable: %w", err)
	}
	for i := range k {
		owner := fmt.Sprintf("bench-%d-%s-%d", os.Getpid(), name, i+1)
		cmd := exec.CommandContext(ctx, self, "-instance", "-owner", owner,
			"-ports", strings.Join(ports, " "), "-feeds", strconv.Itoa(n))
		cmd.Env = append(os.Environ(), instanceDSNEnv+"="+schema.DSN)
		cmd.Stderr = os.Stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			return g, fmt.Errorf("instance stdin: %w", err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			return g, fmt.Errorf("instance stdout: %w", err)
		}
		if err := cmd.Start(); err != nil {
			return g, fmt.Errorf("start instance: %w", err)
		}
		g.children = append(g.children, instanceChild{owner: owner, cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)})
	}
	for _, c := range g.children {
		line, err := c.out.ReadString('\n')
		if err != nil || strings.TrimSpace(line) != "ready" {
			return g, fmt.Errorf("instance %s did not start: %q, %v", c.owner, line, err)
		}
	}
	return g, nil
}

// close ends the instances: each returns when its stdin closes.
func (g *instanceGroup) close() {
	for _, c := range g.children {
		c.stdin.Close()
		c.cmd.Wait()
	}
}

// pass starts a pass of every instance at once, after a checkpoint of
// the server, and waits for every report.
func (g *instanceGroup) pass(ctx context.Context, admin string) (sharedRun, error) {
	var sr sharedRun
	if err := g.schema.checkpoint(ctx); err != nil {
		return sr, err
	}
	if _, err := stats(ctx, admin); err != nil { // reset the counters
		return sr, err
	}
	before, cpuErr := g.schema.backendCPU(ctx)
	t0 := time.Now()
	for _, c := range g.children {
		if _, err := io.WriteString(c.stdin, "go\n"); err != nil {
			return sr, fmt.Errorf("start instance %s: %w", c.owner, err)
		}
	}
	sr.instances = make([]instanceResult, len(g.children))
	errs := make([]error, len(g.children))
	var wg sync.WaitGroup
	for i, c := range g.children {
		wg.Go(func() {
			line, err := c.out.ReadString('\n')
			if err != nil {
				errs[i] = fmt.Errorf("instance %s: no report: %w", c.owner, err)
				return
			}
			if err := json.Unmarshal([]byte(line), &sr.instances[i]); err != nil {
				errs[i] = fmt.Errorf("instance %s: report %q: %w", c.owner, line, err)
			}
		})
	}
	wg.Wait()
	sr.wall = time.Since(t0)
	if err := errors.Join(errs...); err != nil {
		return sr, err
	}
	for _, res := range sr.instances {
		sr.cpu += res.CPU
	}
	// The instances' connections are still open: their backends' CPU
	// time can be read.
	if cpuErr == nil {
		if after, err := g.schema.backendCPU(ctx); err == nil {
			sr.serverCPU, sr.serverOK = after.since(before), true
		}
	}
	var err error
	sr.farm, err = stats(ctx, admin)
	return sr, err
}

// runShared measures cfg.instances instances sharing one PostgreSQL
// store and the farm's sources, every source due, against one instance
// run the same way: each instance a process of this program, the one on
// a new store of its own, the k on another. The same processes do a cold
// pass on their empty store, then, after 10% of the feeds changed, a warm
// one, as a daemon runs pass after pass; the one instance's pass and the
// k instances' take turns, so that both see the farm as it is. It judges
// the targets: no feed fetched twice, and the instances together no
// slower than one. The passes of pg (measured in this process, which has
// run the bare GETs and any other store before) are shown beside them.
func runShared(ctx context.Context, cfg config, ports []string, admin string, pg *driverRun) error {
	// The stores are created (migrated) here, once, so that the
	// instances' timings hold no migration (and they would only wait for
	// each other's).
	newStore := func() (*pgSchema, error) {
		schema, err := newPGSchema(ctx, cfg.pgDSN)
		if err != nil {
			return nil, err
		}
		st, err := store.OpenPostgres(ctx, schema.DSN, nil)
		if err != nil {
			return schema, err
		}
		return schema, st.Close()
	}
	drop := func(schema *pgSchema) {
		if schema == nil {
			return
		}
		if err := schema.Drop(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "refresh bench: drop schema:", err)
		}
	}
	single, err := newStore()
	defer drop(single)
	if err != nil {
		return err
	}
	shared, err := newStore()
	defer drop(shared)
	if err != nil {
		return err
	}
	k := cfg.instances
	one, err := startInstances(ctx, 1, cfg.feeds, single, ports, "one")
	defer one.close()
	if err != nil {
		return err
	}
	many, err := startInstances(ctx, k, cfg.feeds, shared, ports, "shared")
	defer many.close()
	if err != nil {
		return err
	}
	oneCold, err := one.pass(ctx, admin)
	if err != nil {
		return err
	}
	cold, err := many.pass(ctx, admin)
	if err != nil {
		return err
	}
	if err := bump(ctx, admin, 10); err != nil {
		return err
	}
	oneWarm, err := one.pass(ctx, admin)
	if err != nil {
		return err
	}
	warm, err := many.pass(ctx, admin)
	if err != nil {
		return err
	}

	fmt.Printf("%d instances (processes) sharing one PostgreSQL store and the %d sources, all due, started together, against one instance (a process) on a store of its own, started the same way; the PostgreSQL passes above (in this process) beside them:\n\n", k, cfg.feeds)
	fmt.Println("| pass | instances | wall | CPU (all) | server CPU | requests | feeds fetched | most requests of one feed | feeds fetched twice | refreshed per instance | left to another | new items | errors |")
	fmt.Println("|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|")
	inProcess := func(name string, m measure) {
		fmt.Printf("| %s | 1, in this process | %v | %v | %s | %d | %d | %d | %d | %d | %d | %d | %d |\n", name, m.wall.Round(time.Millisecond), m.cpu.Round(time.Millisecond),
			m.serverCPUText(), m.farm.Requests, m.farm.Feeds, m.farm.MaxPerFeed, m.farm.Doubles, m.refreshed, m.skipped, m.newItems, m.errs)
	}
	processes := func(name string, sr sharedRun) {
		per := make([]string, len(sr.instances))
		var skipped, newItems, errs int
		for i, res := range sr.instances {
			per[i] = strconv.Itoa(res.Refreshed)
			skipped += res.Skipped
			newItems += res.New
			errs += res.Errors
		}
		server := ""
		if sr.serverOK {
			server = sr.serverCPU.Round(time.Millisecond).String()
		}
		fmt.Printf("| %s | %d | %v | %v | %s | %d | %d | %d | %d | %s | %d | %d | %d |\n", name, len(sr.instances), sr.wall.Round(time.Millisecond), sr.cpu.Round(time.Millisecond),
			server, sr.farm.Requests, sr.farm.Feeds, sr.farm.MaxPerFeed, sr.farm.Doubles, strings.Join(per, " + "), skipped, newItems, errs)
	}
	inProcess("cold", pg.cold)
	processes("cold", oneCold)
	processes("cold", cold)
	inProcess("warm (10% changed)", pg.warm)
	processes("warm (10% changed)", oneWarm)
	processes("warm (10% changed)", warm)
	for _, sr := range []sharedRun{oneCold, cold, oneWarm, warm} {
		for _, res := range sr.instances {
			if res.FirstErr != "" {
				fmt.Printf("\nfirst error (%s): %s\n", res.Owner, res.FirstErr)
			}
		}
	}
	fmt.Println()
	for _, c := range []struct {
		name      string
		one, many sharedRun
		inProcess measure
	}{{"cold", oneCold, cold, pg.cold}, {"warm", oneWarm, warm, pg.warm}} {
		w := c.many.wall.Seconds() / c.one.wall.Seconds()
		fetchedTwice := "met"
		if c.many.farm.Doubles > 0 || c.one.farm.Doubles > 0 {
			fetchedTwice = "**missed**"
		}
		fmt.Printf("%d instances, %s pass: no feed fetched twice: %d fetched twice, at most %d requests per feed (%s); wall %.2f× one instance's (%v against %v; target ≤ %.1f× %s); %.2f× the pass in this process (%v; no target)\n",
			k, c.name, c.many.farm.Doubles, c.many.farm.MaxPerFeed, fetchedTwice,
			w, c.many.wall.Round(time.Millisecond), c.one.wall.Round(time.Millisecond), TargetShared, verdict(w, TargetShared),
			c.many.wall.Seconds()/c.inProcess.wall.Seconds(), c.inProcess.wall.Round(time.Millisecond))
	}
	return nil
}
