package fetch

import (
	"context"
	"sync"
	"time"
)

// hostLimiter caps the requests in flight per host name and spaces the
// starts of requests to one host by at least gap. Entries exist only while
// a host has requests in flight or waiting, or started one less than gap
// ago, so a daemon that fetches from thousands of hosts over months does
// not accumulate them.
type hostLimiter struct {
	perHost int
	gap     time.Duration // <= 0: no spacing
	now     func() time.Time

	mu        sync.Mutex
	hosts     map[string]*hostSlots
	lastSweep time.Time
}

type hostSlots struct {
	tokens chan struct{}
	users  int       // holders and waiters; guarded by hostLimiter.mu
	last   time.Time // start of the latest request; guarded by hostLimiter.mu
}

func newHostLimiter(perHost int, gap time.Duration) *hostLimiter {
	return &hostLimiter{perHost: perHost, gap: gap, now: time.Now, hosts: make(map[string]*hostSlots)}
}

// hostSlot is one held slot of a host: the right to send one request to it
// once start agrees.
type hostSlot struct {
	l    *hostLimiter
	host string
	s    *hostSlots
	once sync.Once
}

// acquire waits until host has a free slot or ctx ends. On success the
// caller must call release exactly once; a second call does nothing.
func (l *hostLimiter) acquire(ctx context.Context, host string) (*hostSlot, error) {
	l.mu.Lock()
	l.sweepLocked()
	s := l.hosts[host]
	if s == nil {
		s = &hostSlots{tokens: make(chan struct{}, l.perHost)}
		l.hosts[host] = s
	}
	s.users++
	l.mu.Unlock()

	select {
	case s.tokens <- struct{}{}:
		return &hostSlot{l: l, host: host, s: s}, nil
	case <-ctx.Done():
		l.leave(host, s)
		return nil, ctx.Err()
	}
}

// release gives the slot back.
func (h *hostSlot) release() {
	// Once: a second release must not steal another request's slot.
	h.once.Do(func() {
		<-h.s.tokens
		h.l.leave(h.host, h.s)
	})
}

// wait blocks until the host's gap since its latest request start has
// passed, or ctx ends. It does not claim the start: see claim.
func (h *hostSlot) wait(ctx context.Context) error {
	for {
		h.l.mu.Lock()
		d := h.l.untilFreeLocked(h.s)
		h.l.mu.Unlock()
		if d <= 0 {
			return nil
		}
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}

// claim records a request start now and reports true when the gap allows
// one; when another holder of the host's slots started in the meantime it
// reports false and the caller waits again.
func (h *hostSlot) claim() bool {
	h.l.mu.Lock()
	defer h.l.mu.Unlock()
	if h.l.untilFreeLocked(h.s) > 0 {
		return false
	}
	h.s.last = h.l.now()
	return true
}

func (l *hostLimiter) untilFreeLocked(s *hostSlots) time.Duration {
	if l.gap <= 0 || s.last.IsZero() {
		return 0
	}
	return s.last.Add(l.gap).Sub(l.now())
}

func (l *hostLimiter) leave(host string, s *hostSlots) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s.users--
	if s.users == 0 && l.untilFreeLocked(s) <= 0 {
		delete(l.hosts, host)
	}
}

// sweepLocked drops the entries of idle hosts whose gap has passed. Such
// entries stay behind when a host's last request ends within the gap; a
// sweep at most once per gap keeps their number bounded by the hosts
// contacted in the last two gaps, at a cost independent of the request
// rate.
func (l *hostLimiter) sweepLocked() {
	if l.gap <= 0 {
		return
	}
	now := l.now()
	if now.Sub(l.lastSweep) < l.gap {
		return
	}
	l.lastSweep = now
	for host, s := range l.hosts {
		if s.users == 0 && l.untilFreeLocked(s) <= 0 {
			delete(l.hosts, host)
		}
	}
}

// size reports how many hosts have an entry; for tests.
func (l *hostLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.hosts)
}
