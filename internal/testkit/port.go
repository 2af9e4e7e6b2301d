package testkit

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"testing"
)

// FreePort returns a port on 127.0.0.1 that nothing listens on now, for a
// process the test starts later (a feedmill daemon, which is given its
// address in its config). It is picked below the kernel's ephemeral range
// (ip_local_port_range), where no port is ever handed to a listener bound
// to port 0: the usual trick of binding :0 and closing returns a port that
// any test server, in this process or in a test suite running beside it,
// may be given again before the daemon binds it, and then the test talks
// to a stranger (seen: a daemon's feed read from another test's RSS
// server). Only another FreePort picking the same port in that window can
// collide, one chance in thousands.
func FreePort(t testing.TB) int {
	t.Helper()
	low := ephemeralLow()
	const floor = 10000
	if low <= floor+1000 {
		t.Fatalf("free port: the ephemeral range starts at %d, leaving no room below it", low)
	}
	for range 100 {
		port := floor + rand.IntN(low-floor)
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue // in use
		}
		ln.Close()
		return port
	}
	t.Fatalf("free port: no free port found in [%d, %d) after 100 tries", floor, low)
	return 0
}

// ephemeralLow returns the first port of the kernel's ephemeral range, or
// Linux's default when it cannot be read.
func ephemeralLow() int {
	low := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		var lo, hi int
		if n, _ := fmt.Sscan(strings.TrimSpace(string(b)), &lo, &hi); n == 2 && lo > 0 {
			low = lo
		}
	}
	return low
}
