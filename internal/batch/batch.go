// Package batch runs calls that arrive together as one (a group commit):
// the refresher's leases and state saves, and the SQLite store's write
// transactions, use it so that the work several goroutines finish at the
// same moment costs one round trip or one commit instead of one each.
package batch

import (
	"fmt"
	"sync"
)

// Group runs the calls that arrive while one is running together, as one:
// the first caller to find the group idle runs what is waiting, its own
// call with the others, with one call of run, and hands the turn to the
// first of those that arrived meanwhile, so that no caller serves others
// for long. A caller waits at most for the run before its own and its
// own. run gets the inputs in their order of arrival and returns one
// output each, or one error for them all. Runs never overlap. The zero
// Group is ready to use; a Group must not be copied after first use.
type Group[In, Out any] struct {
	mu      sync.Mutex
	busy    bool
	pending []*call[In, Out]
}

type call[In, Out any] struct {
	in  In
	out Out
	err error
	// wake says true when this call is to run the waiting ones, false
	// when its result is in.
	wake chan bool
}

// Do runs in with the calls waiting beside it and returns its output, or
// the error of its run.
func (g *Group[In, Out]) Do(in In, run func([]In) ([]Out, error)) (Out, error) {
	c := &call[In, Out]{in: in, wake: make(chan bool, 1)}
	g.mu.Lock()
	g.pending = append(g.pending, c)
	lead := !g.busy
	g.busy = true
	g.mu.Unlock()
	if !lead && !<-c.wake {
		return c.out, c.err
	}
	// This call runs the waiting ones, its own among them.
	g.mu.Lock()
	calls := g.pending
	g.pending = nil
	g.mu.Unlock()
	ins := make([]In, len(calls))
	for i, call := range calls {
		ins[i] = call.in
	}
	outs, err, panicked := runSafe(run, ins)
	for i, call := range calls {
		call.err = err
		if err == nil && i < len(outs) {
			call.out = outs[i]
		}
		if call != c {
			call.wake <- false
		}
	}
	g.mu.Lock()
	if len(g.pending) > 0 {
		g.pending[0].wake <- true
	} else {
		g.busy = false
	}
	g.mu.Unlock()
	if panicked != nil {
		// The others have their error and the turn has passed on; the
		// panic is the leader's to carry on.
		panic(panicked)
	}
	return c.out, c.err
}

// runSafe runs run, turning a panic into an error for the calls of the
// run (and the panic's value, to raise again once they are told): a
// panic that a caller up the stack recovers from (net/http recovers a
// handler's) must not leave the others waiting and the group busy for
// ever.
func runSafe[In, Out any](run func([]In) ([]Out, error), ins []In) (outs []Out, err error, panicked any) {
	defer func() {
		if p := recover(); p != nil {
			outs, err, panicked = nil, fmt.Errorf("batch: run panicked: %v", p), p
		}
	}()
	outs, err = run(ins)
	return outs, err, nil
}
