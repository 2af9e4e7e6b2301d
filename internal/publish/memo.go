package publish

// memoEntry is one value remembered on a Snapshot; the entries form an
// immutable list, replaced whole (copy on write) when one is added.
type memoEntry struct {
	key, val any
	next     *memoEntry
}

// maxMemos bounds the values one snapshot remembers. A snapshot is served
// by one server (a config reload builds a new publisher with the new
// server), so one entry is the rule; a few more allow for tests and tools
// that serve one publisher twice.
const maxMemos = 4

// Memo returns the value remembered on the snapshot under key (see
// Remember), or nil. It takes no lock and does not allocate, so that a
// server can find what it derived from a snapshot (its response headers,
// its metric series) on every request at the cost of a pointer load.
func (s *Snapshot) Memo(key any) any {
	for m := s.memo.Load(); m != nil; m = m.next {
		if m.key == key {
			return m.val
		}
	}
	return nil
}

// Remember keeps val on the snapshot under key, unless a value is already
// kept under that key, and returns the value kept: concurrent callers all
// get the first one stored. key must be comparable; a pointer owned by the
// caller (its *Server) keeps consumers apart. Past maxMemos keys val is
// returned without being kept, so a caller never stores unboundedly on a
// long-lived snapshot; it then derives again on its next call.
//
// Remember does not change what the snapshot publishes: a snapshot stays
// immutable for every reader, the memo is a cache beside it.
func (s *Snapshot) Remember(key, val any) any {
	for {
		head := s.memo.Load()
		n := 0
		for m := head; m != nil; m = m.next {
			if m.key == key {
				return m.val
			}
			n++
		}
		if n >= maxMemos {
			return val
		}
		if s.memo.CompareAndSwap(head, &memoEntry{key: key, val: val, next: head}) {
			return val
		}
	}
}
