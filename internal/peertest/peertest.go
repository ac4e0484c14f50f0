// Package peertest holds what the tests that drive real peers (sipp,
// baresip, stunnel, Postfix, tshark) and real files share: a place to
// collect a child process's output, free loopback ports, a really full
// filesystem, and the check of a file's mode. Only tests import it.
package peertest

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Output collects a child process's stdout and stderr; safe for the
// concurrent writes os/exec makes.
type Output struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

// String returns everything written so far.
func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

// FreePort returns a port on 127.0.0.1 that was free a moment ago for both
// TCP and UDP (SIP may use either). A peer that binds it later may still
// lose a race: pass 0 where the program under test takes it.
func FreePort(t testing.TB) int {
	t.Helper()
	return FreePorts(t, 1)
}

// LaterPort returns a port, free a moment ago as FreePort's are, for a
// peer a test starts long after it chose the port (a gateway down, then
// back): it lies below the kernel's ephemeral range, so that no
// connection's local port takes it in the meantime.
func LaterPort(t testing.TB) int {
	t.Helper()
	low := 32768 // Linux's default, when the range cannot be read
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				low = n
			}
		}
	}
	const first = 10000
	if low <= first {
		t.Fatalf("ephemeral ports start at %d: no port below them to choose", low)
	}
	for range 100 {
		if p := first + rand.IntN(low-first); free(p, 1) {
			return p
		}
	}
	t.Fatalf("no port free for both TCP and UDP on 127.0.0.1 between %d and %d", first, low)
	return 0
}

// FreePorts returns the first of n consecutive ports on 127.0.0.1 that were
// all free a moment ago for both TCP and UDP: baresip, for one, binds its
// TLS listener on the port after its SIP port.
func FreePorts(t testing.TB, n int) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		first := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if free(first, n) {
			return first
		}
	}
	t.Fatalf("no %d consecutive ports free for both TCP and UDP on 127.0.0.1", n)
	return 0
}

// free reports whether ports first to first+n-1 can each be bound for TCP
// and UDP now; it holds them all until it has checked the last.
func free(first, n int) bool {
	var held []io.Closer
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for p := first; p < first+n; p++ {
		addr := "127.0.0.1:" + strconv.Itoa(p)
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return false
		}
		held = append(held, l)
		u, err := net.ListenPacket("udp", addr)
		if err != nil {
			return false
		}
		held = append(held, u)
	}
	return true
}
