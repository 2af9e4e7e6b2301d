package fetch

import (
	"context"
	"sync"
)

// hostLimiter caps the requests in flight per host name. Entries exist only
// while a host has requests in flight or waiting, so a daemon that fetches
// from thousands of hosts over months does not accumulate them.
type hostLimiter struct {
	perHost int

	mu    sync.Mutex
	hosts map[string]*hostSlots
}

type hostSlots struct {
	tokens chan struct{}
	users  int // holders and waiters; guarded by hostLimiter.mu
}

func newHostLimiter(perHost int) *hostLimiter {
	return &hostLimiter{perHost: perHost, hosts: make(map[string]*hostSlots)}
}

// acquire waits until host has a free slot or ctx ends. On success the
// caller must call release exactly once.
func (l *hostLimiter) acquire(ctx context.Context, host string) (release func(), err error) {
	l.mu.Lock()
	s := l.hosts[host]
	if s == nil {
		s = &hostSlots{tokens: make(chan struct{}, l.perHost)}
		l.hosts[host] = s
	}
	s.users++
	l.mu.Unlock()

	select {
	case s.tokens <- struct{}{}:
		// OnceFunc: a second release must not steal another request's slot.
		return sync.OnceFunc(func() {
			<-s.tokens
			l.leave(host, s)
		}), nil
	case <-ctx.Done():
		l.leave(host, s)
		return nil, ctx.Err()
	}
}

func (l *hostLimiter) leave(host string, s *hostSlots) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s.users--
	if s.users == 0 {
		delete(l.hosts, host)
	}
}

// size reports how many hosts have an entry; for tests.
func (l *hostLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.hosts)
}
