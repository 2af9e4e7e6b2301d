package testkit

import (
	"bytes"
	"log/slog"
	"sync"
)

// SyncBuffer is a bytes.Buffer that several goroutines may write and read
// at once: the destination of a logger, a daemon's stderr or a progress
// bar that the code under test writes from its own goroutines while the
// test reads it. The zero value is ready to use.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p to the buffer.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Logger returns a text logger that writes to the buffer the records at
// level and above.
func (s *SyncBuffer) Logger(level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(s, &slog.HandlerOptions{Level: level}))
}
