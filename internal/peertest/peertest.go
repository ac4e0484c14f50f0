// Package peertest holds what the tests that drive real peers (sipp,
// baresip, stunnel, Postfix, tshark) share: a place to collect a child
// process's output, and free loopback ports. Only tests import it.
package peertest

import (
	"bytes"
	"net"
	"strconv"
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
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(p))
		l.Close()
		if err == nil {
			u.Close()
			return p
		}
	}
	t.Fatal("no port free for both TCP and UDP on 127.0.0.1")
	return 0
}
