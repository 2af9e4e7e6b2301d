//go:build race

package scrape

// raceEnabled scales the budgets of resource tests: the race detector makes
// parsing several times slower.
const raceEnabled = true
