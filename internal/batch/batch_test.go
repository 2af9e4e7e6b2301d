package batch

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// waitPending waits until n calls wait in g (a safety timeout, not a
// measurement).
func waitPending[In, Out any](t *testing.T, g *Group[In, Out], n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		g.mu.Lock()
		got := len(g.pending)
		g.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d calls pending, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestGroupGathersWaitingCalls: the calls that arrive while a run is under
// way are run together by the next run, in their order of arrival, and
// each gets its own output.
func TestGroupGathersWaitingCalls(t *testing.T) {
	var g Group[int, int]
	var runs [][]int
	started, block := make(chan struct{}), make(chan struct{})
	double := func(ins []int) ([]int, error) {
		runs = append(runs, append([]int(nil), ins...)) // runs never overlap
		if ins[0] == 0 {
			close(started)
			<-block
		}
		outs := make([]int, len(ins))
		for i, in := range ins {
			outs[i] = 2 * in
		}
		return outs, nil
	}
	var wg sync.WaitGroup
	outs := make([]int, 5)
	wg.Go(func() { outs[0], _ = g.Do(0, double) })
	<-started // the first call leads, alone
	for i := 1; i < 5; i++ {
		wg.Go(func() { outs[i], _ = g.Do(i, double) })
		waitPending(t, &g, i)
	}
	close(block)
	wg.Wait()
	if len(runs) != 2 || len(runs[0]) != 1 || len(runs[1]) != 4 {
		t.Fatalf("runs %v, want [[0] [1 2 3 4]]", runs)
	}
	for i, in := range runs[1] {
		if in != i+1 {
			t.Errorf("second run got %v, want the calls in their order of arrival", runs[1])
		}
	}
	for i, out := range outs {
		if out != 2*i {
			t.Errorf("call %d got %d, want %d", i, out, 2*i)
		}
	}
}

// TestGroupError: a run's error is every one of its calls' error, and the
// group goes on with the next run.
func TestGroupError(t *testing.T) {
	var g Group[int, int]
	boom := errors.New("boom")
	if _, err := g.Do(1, func([]int) ([]int, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
	out, err := g.Do(2, func(ins []int) ([]int, error) { return []int{ins[0] + 1}, nil })
	if err != nil || out != 3 {
		t.Fatalf("after an error: %d, %v; want 3, nil", out, err)
	}
}

// TestGroupManyCallers: under many concurrent callers every call is run
// exactly once, runs never overlap, and every caller gets its own output.
func TestGroupManyCallers(t *testing.T) {
	var g Group[int, int]
	const n = 2000
	var running, ran atomic.Int64
	var seen [n]atomic.Int64
	run := func(ins []int) ([]int, error) {
		if running.Add(1) != 1 {
			t.Error("two runs overlap")
		}
		defer running.Add(-1)
		outs := make([]int, len(ins))
		for i, in := range ins {
			seen[in].Add(1)
			outs[i] = -in
		}
		ran.Add(int64(len(ins)))
		return outs, nil
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if out, err := g.Do(i, run); err != nil || out != -i {
				t.Errorf("call %d: %d, %v", i, out, err)
			}
		})
	}
	wg.Wait()
	if ran.Load() != n {
		t.Errorf("%d calls run, want %d", ran.Load(), n)
	}
	for i := range seen {
		if c := seen[i].Load(); c != 1 {
			t.Fatalf("call %d run %d times", i, c)
		}
	}
}

// TestGroupPanic: a run that panics panics in its leader, gives the other
// calls of the run an error, and leaves the group usable.
func TestGroupPanic(t *testing.T) {
	var g Group[int, int]
	started, block := make(chan struct{}), make(chan struct{})
	echo := func(ins []int) ([]int, error) {
		if ins[0] == 0 {
			close(started)
			<-block
		}
		return ins, nil
	}
	boom := func([]int) ([]int, error) { panic("boom") }
	var wg sync.WaitGroup
	wg.Go(func() { g.Do(0, echo) })
	<-started // call 0 runs; calls 1 and 2 wait, and run together next
	var recovered any
	wg.Go(func() {
		defer func() { recovered = recover() }()
		g.Do(1, boom) // leads the next run, its own run function
	})
	waitPending(t, &g, 1)
	var waitErr error
	wg.Go(func() { _, waitErr = g.Do(2, echo) })
	waitPending(t, &g, 2)
	close(block)
	wg.Wait()
	if recovered != "boom" {
		t.Errorf("the leader recovered %v, want its run's panic", recovered)
	}
	if waitErr == nil {
		t.Errorf("a call of a run that panicked got no error")
	}
	if out, err := g.Do(7, echo); err != nil || out != 7 {
		t.Errorf("after the panic: %d, %v", out, err)
	}
}
