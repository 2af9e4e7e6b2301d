//go:build race

package testkit

// RaceEnabled and BombDepth scale the budgets of resource tests: the race detector makes
// parsing several times slower.
const (
	RaceEnabled = true
	// BombDepth is how deep the nesting tests of normalize and scrape nest.
	BombDepth = 20_000
)
