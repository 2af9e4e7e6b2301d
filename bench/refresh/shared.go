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
// one, as a daemon runs pass after pass.
//
// The pass that runs second runs slower, whichever it is (the server's
// buffers hold the first one's pages, among other things), so each side
// runs twice, on stores and in processes of its own, in the order
// A B B A (one, k, k, one) for the cold passes and again for the warm
// ones, and each side's wall time is the mean of its two. It judges the
// targets: no feed fetched twice, and the instances together no slower
// than one. The passes of pg (measured in this process, which has run the
// bare GETs and any other store before) are shown beside them.
func runShared(ctx context.Context, cfg config, ports []string, admin string, pg *driverRun) error {
	k := cfg.instances
	type side struct {
		n     int // instances
		name  string
		group *instanceGroup
		cold  sharedRun
		warm  sharedRun
	}
	sides := []*side{{n: 1, name: "one-a"}, {n: k, name: "shared-a"}, {n: k, name: "shared-b"}, {n: 1, name: "one-b"}}
	for _, sd := range sides {
		// The store is created (migrated) here, so that the instances'
		// timings hold no migration (and they would only wait for each
		// other's).
		schema, err := newPGSchema(ctx, cfg.pgDSN)
		if err != nil {
			return err
		}
		defer func() {
			if err := schema.Drop(ctx); err != nil {
				fmt.Fprintln(os.Stderr, "refresh bench: drop schema:", err)
			}
		}()
		st, err := store.OpenPostgres(ctx, schema.DSN, nil)
		if err != nil {
			return err
		}
		st.Close()
		sd.group, err = startInstances(ctx, sd.n, cfg.feeds, schema, ports, sd.name)
		defer sd.group.close()
		if err != nil {
			return err
		}
	}
	for _, sd := range sides {
		var err error
		if sd.cold, err = sd.group.pass(ctx, admin); err != nil {
			return err
		}
	}
	if err := bump(ctx, admin, 10); err != nil {
		return err
	}
	for _, sd := range sides {
		var err error
		if sd.warm, err = sd.group.pass(ctx, admin); err != nil {
			return err
		}
	}

	fmt.Printf("%d instances (processes) sharing one PostgreSQL store and the %d sources, all due, started together, against one instance (a process) on a store of its own, started the same way; each side twice, in the order one, %d, %d, one; the PostgreSQL passes above (in this process) beside them:\n\n", k, cfg.feeds, k, k)
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
	for _, sd := range sides {
		processes("cold", sd.cold)
	}
	inProcess("warm (10% changed)", pg.warm)
	for _, sd := range sides {
		processes("warm (10% changed)", sd.warm)
	}
	for _, sd := range sides {
		for _, sr := range []sharedRun{sd.cold, sd.warm} {
			for _, res := range sr.instances {
				if res.FirstErr != "" {
					fmt.Printf("\nfirst error (%s): %s\n", res.Owner, res.FirstErr)
				}
			}
		}
	}
	fmt.Println()
	mean := func(a, b sharedRun) time.Duration { return (a.wall + b.wall) / 2 }
	one, many := []*side{sides[0], sides[3]}, []*side{sides[1], sides[2]}
	for _, c := range []struct {
		name      string
		pass      func(*side) sharedRun
		inProcess measure
	}{
		{"cold", func(sd *side) sharedRun { return sd.cold }, pg.cold},
		{"warm", func(sd *side) sharedRun { return sd.warm }, pg.warm},
	} {
		oneWall := mean(c.pass(one[0]), c.pass(one[1]))
		manyWall := mean(c.pass(many[0]), c.pass(many[1]))
		var doubles, most int64
		for _, sd := range sides {
			doubles += c.pass(sd).farm.Doubles
			most = max(most, c.pass(sd).farm.MaxPerFeed)
		}
		fetchedTwice := "met"
		if doubles > 0 {
			fetchedTwice = "**missed**"
		}
		w := manyWall.Seconds() / oneWall.Seconds()
		fmt.Printf("%d instances, %s pass: no feed fetched twice: %d fetched twice, at most %d requests per feed (%s); wall %.2f× one instance's (mean %v against %v; in turn %.2f× and %.2f×; target ≤ %.1f× %s); %.2f× the pass in this process (%v; no target)\n",
			k, c.name, doubles, most, fetchedTwice,
			w, manyWall.Round(time.Millisecond), oneWall.Round(time.Millisecond),
			c.pass(many[0]).wall.Seconds()/c.pass(one[0]).wall.Seconds(), c.pass(many[1]).wall.Seconds()/c.pass(one[1]).wall.Seconds(),
			TargetShared, verdict(w, TargetShared),
			manyWall.Seconds()/c.inProcess.wall.Seconds(), c.inProcess.wall.Round(time.Millisecond))
	}
	return nil
}
