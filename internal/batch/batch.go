// Package batch runs calls that arrive together as one (a group commit):
// the refresher's leases and state saves, and the SQLite store's write
// transactions, use it so that the work several goroutines finish at the
// same moment costs one round trip or one commit instead of one each.
package batch

import "sync"

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
	outs, err := run(ins)
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
	return c.out, c.err
}
