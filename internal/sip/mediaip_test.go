package sip

import (
	"net/netip"
	"testing"
)

// A server listening on all addresses offers a call's audio on the address
// the gateway's TCP or TLS connection reached (127.0.0.3 here), not the
// one the kernel would pick to route back to the gateway (127.0.0.1 for
// any loopback address), which it asks only for a call over UDP. A test
// server listening on 0.0.0.0 would take its ports from every other test's
// addresses: this one calls localMediaIP itself, and
// TestAdmittedConnectionKnowsWhereItArrived shows admit recording Local.
func TestMediaAddressIsTheOneTheConnectionReached(t *testing.T) {
	s := &Server{cfg: Config{ListenIP: "0.0.0.0"}}
	gw := netip.MustParseAddrPort("127.0.0.2:5060")
	for _, tc := range []struct {
		peer Peer
		want string
	}{
		{Peer{Transport: "TCP", Addr: gw, Local: netip.MustParseAddr("127.0.0.3")}, "127.0.0.3"},
		{Peer{Transport: "UDP", Addr: gw}, "127.0.0.1"},
	} {
		got, err := s.localMediaIP(tc.peer)
		if err != nil || got.String() != tc.want {
			t.Errorf("media address for a %s call: %v, %v; want %s", tc.peer.Transport, got, err, tc.want)
		}
	}
	if got, _ := (&Server{cfg: Config{ListenIP: "127.0.0.5"}}).localMediaIP(Peer{Local: netip.MustParseAddr("127.0.0.3")}); got.String() != "127.0.0.5" {
		t.Errorf("a server listening on 127.0.0.5 offers media on %v", got)
	}
}

// admit records, with the peer of a connection, the local address it
// reached.
func TestAdmittedConnectionKnowsWhereItArrived(t *testing.T) {
	f := newFixture(t, Limits{})
	p := f.tcp("127.0.0.2")
	p.request("OPTIONS", "sip:um.localhost", "o1", "", "")
	p.mustStatus(200)
	peer, ok := f.srv.peers.Load(connKey("TCP", p.conn.LocalAddr().String()))
	if !ok || peer.(Peer).Local != netip.MustParseAddr("127.0.0.1") {
		t.Fatalf("the peer of GW2's connection: %+v (found %v); want Local 127.0.0.1", peer, ok)
	}
}
