// Package testkit holds helpers that tests of several packages share:
// RefusedAddr (an address that refuses every connection), SyncBuffer (a
// log or output buffer safe for several goroutines), Clock (a settable
// clock), WaitFor (a poller whose limit is only a safety net) and
// FeedcheckTool (where the shared feed judge lives). It is imported only
// by _test.go files.
//
// It imports the standard library and internal/feed only, and must stay
// so: the tests of any package, including in-package tests of internal/X,
// import it, and testkit importing X would be a cycle.
package testkit

import (
	"fmt"
	"syscall"
	"testing"
)

// RefusedAddr returns a 127.0.0.1 address ("127.0.0.1:PORT") at which every
// connection is refused, for as long as the test runs. It is a socket bound
// but not listening: the kernel answers a connect with a reset, and no
// server started later by this or another test (or process) can be given
// its port. A listener closed at once, the usual trick, frees the port, and
// on a busy machine a test server created next gets it back now and then,
// turning "connection refused" into a 200.
func RefusedAddr(t testing.TB) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatalf("refused address: socket: %v", err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatalf("refused address: bind: %v", err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatalf("refused address: getsockname: %v", err)
	}
	in4, ok := sa.(*syscall.SockaddrInet4)
	if !ok {
		t.Fatalf("refused address: unexpected socket address %T", sa)
	}
	return fmt.Sprintf("127.0.0.1:%d", in4.Port)
}
