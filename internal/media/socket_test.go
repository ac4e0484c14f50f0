package media

import (
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// A stream's socket stays out of Go's poller, which would wake the process
// for every datagram: its descriptor is left blocking (the poller takes
// only non-blocking ones), and an IPv4 address gets an IPv4 socket, any
// other one that takes both families.
func TestSocketStaysOutOfThePoller(t *testing.T) {
	for _, tc := range []struct {
		addr   string
		family int
	}{{"127.0.0.1", syscall.AF_INET}, {"::1", syscall.AF_INET6}, {"0.0.0.0", syscall.AF_INET6}} {
		ip := netip.MustParseAddr(tc.addr)
		s, err := listenSocket(netip.AddrPortFrom(ip, 0))
		if err != nil && ip.Is6() {
			t.Logf("%s: %v (no IPv6 here)", tc.addr, err)
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.addr, err)
		}
		defer s.Close()
		if s.family != tc.family || s.local.Port() == 0 {
			t.Errorf("%s: family %d, bound to %v; want family %d and a port", tc.addr, s.family, s.local, tc.family)
		}
		var flags uintptr
		_ = s.raw.Control(func(fd uintptr) {
			flags, _, _ = syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_GETFL, 0)
		})
		if flags&syscall.O_NONBLOCK != 0 {
			t.Errorf("%s: the socket is non-blocking: Go's poller watches it", tc.addr)
		}
	}
}

// A stream on the wildcard address takes IPv4 callers.
func TestWildcardStreamTakesIPv4(t *testing.T) {
	sock, err := listenUDP(Ports{IP: netip.IPv4Unspecified(), First: 33000, Last: 33999})
	if err != nil {
		t.Fatal(err)
	}
	caller, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer caller.Close()
	offer := &Remote{Addr: caller.LocalAddr().(*net.UDPAddr).AddrPort(), Codecs: []uint8{PCMU}, Event: -1}
	server, err := newStream(sock, offer, &Local{Codec: PCMU, Event: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	pkt, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: PCMU, SSRC: 9}, Payload: make([]byte, FrameSamples)}).Marshal()
	if _, err := caller.WriteToUDPAddrPort(pkt, netip.AddrPortFrom(loopback, server.LocalAddr().Port())); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-server.Received():
		if len(r.PCM) != FrameSamples {
			t.Errorf("received %d samples; want %d", len(r.PCM), FrameSamples)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("nothing received from an IPv4 caller")
	}
}
