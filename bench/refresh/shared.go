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

// serveInstance is one instance sharing a PostgreSQL store (the child
// process of runInstances): it opens the store the environment names,
// builds its refresher as the daemon does, says "ready", waits for a line
// on its stdin, runs one pass over the due sources and prints what it did
// as one JSON line.
func serveInstance(n int, portsArg, owner string, offset time.Duration) error {
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
	clock.advance(offset)
	r, client, err := newRefresher(farmSources(ports, n), st, owner, clock)
	if err != nil {
		return fmt.Errorf("instance %s: %w", owner, err)
	}
	defer client.CloseIdleConnections()
	fmt.Println("ready")
	in := bufio.NewReader(os.Stdin)
	if _, err := in.ReadString('\n'); err != nil {
		return fmt.Errorf("instance %s: no start signal: %w", owner, err)
	}
	cpu0, t0 := benchenv.CPUTime(), time.Now()
	m := refreshAll(ctx, r)
	res := instanceResult{
		Owner: owner, Wall: time.Since(t0), CPU: benchenv.CPUTime() - cpu0,
		Refreshed: m.refreshed, Skipped: m.skipped, NotModified: m.notModified, New: m.newItems,
		Errors: m.errs, FirstErr: m.firstErr,
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		return fmt.Errorf("instance %s: report: %w", owner, err)
	}
	// The store stays open until the parent has read what its backends
	// spent, and then closes stdin.
	io.Copy(io.Discard, in)
	return nil
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

// runInstances starts k instances on the store dsn names, each in a
// process of its own with its clock offset ahead, waits until every one
// is ready, starts their passes together and waits for every report.
func runInstances(ctx context.Context, k, n int, schema *pgSchema, ports []string, admin string, offset time.Duration) (sharedRun, error) {
	var sr sharedRun
	self, err := os.Executable()
	if err != nil {
		return sr, fmt.Errorf("find own executable: %w", err)
	}
	type child struct {
		owner string
		cmd   *exec.Cmd
		stdin io.WriteCloser
		out   *bufio.Reader
	}
	var children []child
	defer func() {
		for _, c := range children {
			c.stdin.Close() // an instance still waiting to start gives up
			c.cmd.Wait()
		}
	}()
	for i := range k {
		owner := fmt.Sprintf("bench-%d-instance-%d", os.Getpid(), i+1)
		cmd := exec.CommandContext(ctx, self, "-instance", "-owner", owner, "-offset", offset.String(),
			"-ports", strings.Join(ports, " "), "-feeds", strconv.Itoa(n))
		cmd.Env = append(os.Environ(), instanceDSNEnv+"="+schema.DSN)
		cmd.Stderr = os.Stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			return sr, fmt.Errorf("instance stdin: %w", err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			return sr, fmt.Errorf("instance stdout: %w", err)
		}
		if err := cmd.Start(); err != nil {
			return sr, fmt.Errorf("start instance: %w", err)
		}
		children = append(children, child{owner: owner, cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)})
	}
	for _, c := range children {
		line, err := c.out.ReadString('\n')
		if err != nil || strings.TrimSpace(line) != "ready" {
			return sr, fmt.Errorf("instance %s did not start: %q, %v", c.owner, line, err)
		}
	}
	if _, err := stats(ctx, admin); err != nil { // reset the counters
		return sr, err
	}
	before, cpuErr := schema.backendCPU(ctx)
	t0 := time.Now()
	for _, c := range children {
		if _, err := io.WriteString(c.stdin, "go\n"); err != nil {
			return sr, fmt.Errorf("start instance %s: %w", c.owner, err)
		}
	}
	sr.instances = make([]instanceResult, len(children))
	errs := make([]error, len(children))
	var wg sync.WaitGroup
	for i, c := range children {
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
	if cpuErr == nil {
		if after, err := schema.backendCPU(ctx); err == nil {
			sr.serverCPU, sr.serverOK = after.since(before), true
		}
	}
	sr.farm, err = stats(ctx, admin)
	return sr, err
}

// runShared measures cfg.instances instances sharing one PostgreSQL
// store and the farm's sources, every source due: a cold pass on an
// empty store, then, after 10% of the feeds changed, a warm one. It
// compares them with one's passes (pg, measured in this process on a
// store of its own with the same sources, clock steps and passes) and
// judges the targets: no feed fetched twice, and the instances together
// no slower than one.
func runShared(ctx context.Context, cfg config, ports []string, admin string, pg *driverRun) error {
	schema, err := newPGSchema(ctx, cfg.pgDSN)
	if err != nil {
		return err
	}
	defer func() {
		if err := schema.Drop(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "refresh bench: drop schema:", err)
		}
	}()
	// Created here, once, so that the instances' timings hold no
	// migration (and they would only wait for each other's).
	st, err := store.OpenPostgres(ctx, schema.DSN, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	k := cfg.instances
	cold, err := runInstances(ctx, k, cfg.feeds, schema, ports, admin, 0)
	if err != nil {
		return err
	}
	if err := bump(ctx, admin, 10); err != nil {
		return err
	}
	warm, err := runInstances(ctx, k, cfg.feeds, schema, ports, admin, phaseStep)
	if err != nil {
		return err
	}

	fmt.Printf("%d instances (processes) sharing one PostgreSQL store and the %d sources, all due, started together; against one instance (the PostgreSQL passes above):\n\n", k, cfg.feeds)
	fmt.Println("| pass | instances | wall | CPU (all) | server CPU | requests | feeds fetched | most requests of one feed | feeds fetched twice | refreshed per instance | left to another | new items | errors |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|")
	one := func(name string, m measure) {
		fmt.Printf("| %s | 1 | %v | %v | %s | %d | %d | %d | %d | %d | %d | %d | %d |\n", name, m.wall.Round(time.Millisecond), m.cpu.Round(time.Millisecond),
			m.serverCPUText(), m.farm.Requests, m.farm.Feeds, m.farm.MaxPerFeed, m.farm.Doubles, m.refreshed, m.skipped, m.newItems, m.errs)
	}
	many := func(name string, sr sharedRun) {
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
	one("cold", pg.cold)
	many("cold", cold)
	one("warm (10% changed)", pg.warm)
	many("warm (10% changed)", warm)
	for _, sr := range []sharedRun{cold, warm} {
		for _, res := range sr.instances {
			if res.FirstErr != "" {
				fmt.Printf("\nfirst error (%s): %s\n", res.Owner, res.FirstErr)
			}
		}
	}
	fmt.Println()
	for _, c := range []struct {
		name string
		one  measure
		many sharedRun
	}{{"cold", pg.cold, cold}, {"warm", pg.warm, warm}} {
		w := c.many.wall.Seconds() / c.one.wall.Seconds()
		fetchedTwice := "met"
		if c.many.farm.Doubles > 0 {
			fetchedTwice = "**missed**"
		}
		fmt.Printf("%d instances, %s pass: no feed fetched twice: %d fetched twice, at most %d requests per feed (%s); wall %.2f× one instance's (%v against %v; target ≤ %.1f× %s)\n",
			k, c.name, c.many.farm.Doubles, c.many.farm.MaxPerFeed, fetchedTwice,
			w, c.many.wall.Round(time.Millisecond), c.one.wall.Round(time.Millisecond), TargetShared, verdict(w, TargetShared))
	}
	return nil
}
