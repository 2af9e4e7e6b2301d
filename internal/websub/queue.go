package websub

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// queue holds jobs until they are due, earliest first; jobs due at the same
// instant run in the order they were pushed. Due times are wall-clock times
// of the process (time.Now), not of an injected clock: they say how long to
// wait, and a test's fixed clock must not stop retries.
type queue[T any] struct {
	mu   sync.Mutex
	jobs jobHeap[T]
	seq  uint64
	wake chan struct{} // one token: something was pushed
}

func newQueue[T any]() *queue[T] { return &queue[T]{wake: make(chan struct{}, 1)} }

type queued[T any] struct {
	due time.Time
	seq uint64
	job T
}

// push adds job, due at due.
func (q *queue[T]) push(job T, due time.Time) {
	q.mu.Lock()
	q.seq++
	heap.Push(&q.jobs, queued[T]{due: due, seq: q.seq, job: job})
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default: // a wake-up is pending already
	}
}

// next waits for the earliest job to be due and removes it; it reports
// false when ctx ends first. Only one goroutine may wait in next at a time.
func (q *queue[T]) next(ctx context.Context) (T, bool) {
	for {
		q.mu.Lock()
		var wait time.Duration = -1
		if len(q.jobs) > 0 {
			if wait = time.Until(q.jobs[0].due); wait <= 0 {
				j := heap.Pop(&q.jobs).(queued[T])
				q.mu.Unlock()
				return j.job, true
			}
		}
		q.mu.Unlock()

		var timer *time.Timer
		var timeout <-chan time.Time // nil, so never ready, when nothing is queued
		if wait > 0 {
			timer = time.NewTimer(wait)
			timeout = timer.C
		}
		select {
		case <-ctx.Done():
			var zero T
			return zero, false
		case <-q.wake:
		case <-timeout:
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

// jobHeap orders jobs by due time, then by push order.
type jobHeap[T any] []queued[T]

func (h jobHeap[T]) Len() int { return len(h) }
func (h jobHeap[T]) Less(i, j int) bool {
	if !h[i].due.Equal(h[j].due) {
		return h[i].due.Before(h[j].due)
	}
	return h[i].seq < h[j].seq
}
func (h jobHeap[T]) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *jobHeap[T]) Push(x any)   { *h = append(*h, x.(queued[T])) }
func (h *jobHeap[T]) Pop() any {
	old := *h
	x := old[len(old)-1]
	old[len(old)-1] = queued[T]{}
	*h = old[:len(old)-1]
	return x
}
