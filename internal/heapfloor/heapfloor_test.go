package heapfloor

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
)

func TestPercent(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		floor, live uint64
		base, want  int
	}{
		{64 * mib, 8 * mib, 100, 700},   // goal 8 + 8*7 = 64 MiB
		{64 * mib, 4 * mib, 100, 1500},  // goal 4 + 4*15 = 64 MiB
		{64 * mib, 2 * mib, 100, 1600},  // the runtime's minimum, 4*16, is the floor
		{64 * mib, 0, 100, 1600},        // nothing measured yet
		{64 * mib, 32 * mib, 100, 100},  // doubling reaches the floor
		{64 * mib, 63 * mib, 100, 100},  // 1 % short: the base is more
		{64 * mib, 64 * mib, 100, 100},  // at the floor
		{64 * mib, 100 * mib, 100, 100}, // beyond it: as before
		{64 * mib, 16 * mib, 400, 400},  // never below the base
		{2 * mib, 1 * mib, 100, 100},    // a floor below the runtime's minimum
	}
	for _, tt := range tests {
		if got := percent(tt.floor, tt.live, tt.base); got != tt.want {
			t.Errorf("percent(%d, %d, %d) = %d, want %d", tt.floor, tt.live, tt.base, got, tt.want)
		}
	}
}

// cycles is how many collections have run.
func cycles() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// churn allocates n bytes of short-lived garbage in 64 KiB pieces and
// returns how many collections ran meanwhile.
func churn(n int) uint64 {
	before := cycles()
	var keep [2][]byte
	for i := 0; i < n>>16; i++ {
		keep[i%2] = make([]byte, 64<<10)
		keep[i%2][0] = byte(i)
	}
	runtime.KeepAlive(keep)
	return cycles() - before
}

// TestSetCollectsLess counts collections, not time: the same garbage is
// collected several times less often under a 64 MiB floor than with
// GOGC's default, and restore puts the default back. (Not parallel: the
// collector's settings are the process's.)
func TestSetCollectsLess(t *testing.T) {
	t.Setenv("GOGC", "")
	orig := debug.SetGCPercent(100)
	defer debug.SetGCPercent(orig)
	runtime.GC()
	const garbage = 512 << 20
	plain := churn(garbage)

	restore := Set(64 << 20)
	runtime.GC() // the live heap measured, the cleanup armed
	floored := churn(garbage)
	restore()

	t.Logf("%d collections without a floor, %d under it", plain, floored)
	if plain < 20 {
		t.Fatalf("only %d collections for %d MiB of garbage without a floor: the test measures nothing", plain, garbage>>20)
	}
	if floored*4 > plain {
		t.Errorf("%d collections under the floor, %d without: want at most a quarter", floored, plain)
	}
	if p := debug.SetGCPercent(100); p != 100 {
		t.Errorf("after restore GOGC is %d %%, want 100", p)
	}
	// Collections after restore do not set it again.
	runtime.GC()
	runtime.GC()
	if p := debug.SetGCPercent(100); p != 100 {
		t.Errorf("after restore and two collections GOGC is %d %%, want 100", p)
	}
}

// TestSetRespectsGOGC: an operator's GOGC is left alone.
func TestSetRespectsGOGC(t *testing.T) {
	t.Setenv("GOGC", "100")
	orig := debug.SetGCPercent(150)
	defer debug.SetGCPercent(orig)
	restore := Set(64 << 20)
	runtime.GC()
	if p := debug.SetGCPercent(150); p != 150 {
		t.Errorf("with GOGC set, Set changed the percentage to %d", p)
	}
	restore()
	if p := debug.SetGCPercent(150); p != 150 {
		t.Errorf("with GOGC set, restore changed the percentage to %d", p)
	}
}
