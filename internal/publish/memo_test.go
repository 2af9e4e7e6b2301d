package publish

import (
	"sync"
	"testing"
)

func TestSnapshotMemo(t *testing.T) {
	type owner struct{ name string }
	a, b := &owner{"a"}, &owner{"b"}
	tests := []struct {
		name string
		run  func(s *Snapshot) (got, want any)
	}{
		{"nothing remembered", func(s *Snapshot) (any, any) { return s.Memo(a), nil }},
		{"remembered", func(s *Snapshot) (any, any) {
			s.Remember(a, "A")
			return s.Memo(a), "A"
		}},
		{"the first value stays", func(s *Snapshot) (any, any) {
			s.Remember(a, "A")
			return s.Remember(a, "A2"), "A"
		}},
		{"keys kept apart", func(s *Snapshot) (any, any) {
			s.Remember(a, "A")
			s.Remember(b, "B")
			return [2]any{s.Memo(a), s.Memo(b)}, [2]any{"A", "B"}
		}},
		{"bounded: past maxMemos a value is returned, not kept", func(s *Snapshot) (any, any) {
			for i := range maxMemos {
				s.Remember(&owner{string(rune('c' + i))}, i)
			}
			return [2]any{s.Remember(a, "A"), s.Memo(a)}, [2]any{"A", nil}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, want := tt.run(&Snapshot{})
			if got != want {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}

// TestSnapshotMemoConcurrent: racing Remembers all get the one value kept,
// and Memo neither locks (the race detector sees only atomics) nor
// allocates.
func TestSnapshotMemoConcurrent(t *testing.T) {
	s := &Snapshot{}
	key := new(int)
	var wg sync.WaitGroup
	got := make([]any, 16)
	for i := range got {
		wg.Go(func() { got[i] = s.Remember(key, new(int)) })
	}
	wg.Wait()
	for i, v := range got {
		if v != got[0] || s.Memo(key) != v {
			t.Fatalf("Remember %d returned %p; the first returned %p, Memo holds %p", i, v, got[0], s.Memo(key))
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = s.Memo(key) }); n != 0 {
		t.Errorf("Memo allocates %g times, want 0", n)
	}
}
