package testkit

import (
	"testing"
	"time"
)

// WaitLimit is how long WaitFor polls before it fails the test. It is a
// safety net for a test that would otherwise hang, never what a test
// waits for: a condition that holds at all holds long before it, even on
// a loaded machine.
const WaitLimit = time.Minute

// WaitFor polls cond until it holds, and fails the test (naming what it
// waited for) if it does not within WaitLimit. It polls at once, then
// ever less often up to every 50 ms, so that a cheap condition is seen at
// once and an expensive one (an HTTP request to a daemon) does not load
// the machine. It must be called from the test's goroutine.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	waitFor(t, WaitLimit, what, cond)
}

func waitFor(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	pause := time.Millisecond
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(pause)
		pause = min(2*pause, 50*time.Millisecond)
	}
}
