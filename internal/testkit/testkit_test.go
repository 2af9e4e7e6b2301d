package testkit

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestRefusedAddrRefuses(t *testing.T) {
	addr := RefusedAddr(t)
	for i := range 3 {
		c, err := net.DialTimeout("tcp", addr, 30*time.Second) // a safety net
		if err == nil {
			c.Close()
			t.Fatalf("dial %d to %s connected, want refused", i, addr)
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("dial %d to %s: %v, want connection refused", i, addr, err)
		}
	}
}

func TestSyncBufferKeepsEveryWrite(t *testing.T) {
	var b SyncBuffer
	const writers, each = 8, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				fmt.Fprintf(&b, "writer %d line %d\n", w, i)
				_ = b.String() // a read while others write, for the race detector
			}
		})
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != writers*each {
		t.Fatalf("%d lines, want %d", len(lines), writers*each)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "writer ") || !strings.Contains(l, " line ") {
			t.Errorf("line torn by a concurrent write: %q", l)
		}
	}
}

func TestSyncBufferLogger(t *testing.T) {
	tests := []struct {
		name  string
		level slog.Level
		want  []string
	}{
		{"debug", slog.LevelDebug, []string{"level=DEBUG msg=d", "level=INFO msg=i", "level=WARN msg=w"}},
		{"info", slog.LevelInfo, []string{"level=INFO msg=i", "level=WARN msg=w"}},
		{"warn", slog.LevelWarn, []string{"level=WARN msg=w"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b SyncBuffer
			log := b.Logger(tt.level)
			log.Debug("d")
			log.Info("i")
			log.Warn("w")
			var got []string
			for l := range strings.Lines(b.String()) {
				_, rest, _ := strings.Cut(strings.TrimSpace(l), " ") // drop time=
				got = append(got, rest)
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("logged\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestClock(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	c := NewClock(t0)
	if got := c.Now(); !got.Equal(t0) {
		t.Fatalf("Now() = %v, want %v", got, t0)
	}
	c.Advance(90 * time.Minute)
	if got, want := c.Now(), t0.Add(90*time.Minute); !got.Equal(want) {
		t.Errorf("after Advance: %v, want %v", got, want)
	}
	c.Set(t0.Add(-time.Hour))
	if got, want := c.Now(), t0.Add(-time.Hour); !got.Equal(want) {
		t.Errorf("after Set: %v, want %v", got, want)
	}

	// Used from several goroutines, every Advance counts.
	c.Set(t0)
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			for range 100 {
				c.Advance(time.Second)
				_ = c.Now()
			}
		})
	}
	wg.Wait()
	if got, want := c.Now(), t0.Add(1000*time.Second); !got.Equal(want) {
		t.Errorf("after 1000 concurrent one-second steps: %v, want %v", got, want)
	}
}

func TestWaitForReturnsOnceTheConditionHolds(t *testing.T) {
	calls := 0
	WaitFor(t, "the fifth call", func() bool { calls++; return calls == 5 })
	if calls != 5 {
		t.Errorf("cond called %d times, want 5: WaitFor must stop as soon as it holds", calls)
	}
}

// fatalRecorder is a testing.TB whose Fatalf records the message and ends
// the goroutine, as the real one does.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Helper() {}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestWaitForFailsNamingWhatItWaitedFor(t *testing.T) {
	rec := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		waitFor(rec, time.Millisecond, "the pigs to fly", func() bool { return false })
	}()
	<-done
	if !strings.Contains(rec.msg, "timed out") || !strings.Contains(rec.msg, "the pigs to fly") {
		t.Errorf("failure message %q does not say it timed out waiting for the pigs to fly", rec.msg)
	}
}

func TestModuleRoot(t *testing.T) {
	top := t.TempDir()
	deep := filepath.Join(top, "internal", "pkg", "sub")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := moduleRoot(deep); err == nil {
		t.Errorf("moduleRoot found a go.mod above %s where there is none", deep)
	}
	if err := os.WriteFile(filepath.Join(top, "go.mod"), []byte("module example\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{top, deep} {
		if got, err := moduleRoot(dir); err != nil || got != top {
			t.Errorf("moduleRoot(%s) = %q, %v, want %q", dir, got, err, top)
		}
	}
}

func TestFeedcheckToolIsBesideTheModule(t *testing.T) {
	path, err := FeedcheckTool()
	if err != nil {
		t.Skipf("feedcheck cannot run here: %v", err)
	}
	if !strings.HasSuffix(path, filepath.Join("shared", "tools", "feedcheck")) {
		t.Errorf("FeedcheckTool() = %s, want …/shared/tools/feedcheck", path)
	}
	if got := Feedcheck(t); got != path {
		t.Errorf("Feedcheck(t) = %s, want %s", got, path)
	}
}

func TestFreePortIsBelowTheEphemeralRange(t *testing.T) {
	low := ephemeralLow()
	for range 20 {
		p := FreePort(t)
		if p >= low || p < 10000 {
			t.Fatalf("FreePort() = %d, want in [10000, %d)", p, low)
		}
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			t.Fatalf("port %d is not free: %v", p, err)
		}
		ln.Close()
	}
}
