//go:build race

package normalize

// raceEnabled scales the budgets of resource tests: the race detector makes
// parsing several times slower.
const raceEnabled = true
