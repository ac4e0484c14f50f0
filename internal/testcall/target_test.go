package testcall

import (
	"net"
	"testing"
)

// A call can only be placed from an address of this machine: loopback is
// one, a documentation address (RFC 5737) is not.
func TestHasAddress(t *testing.T) {
	for ip, want := range map[string]bool{"127.0.0.1": true, "198.51.100.7": false} {
		if got := HasAddress(net.ParseIP(ip)); got != want {
			t.Errorf("HasAddress(%s) = %v; want %v", ip, got, want)
		}
	}
}
