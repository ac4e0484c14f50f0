package sip

import (
	"errors"
	"testing"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
)

// A TLS peer whose certificate names another openum server of the
// directory is that server (SPEC PEER-5): it may call this server's dial
// plans, held to their modes, but it is no gateway: no gateway's default
// hunt group takes its calls. A certificate naming neither a gateway nor a
// server is refused, as before.
func TestServerPeerIsTrustedButNoGateway(t *testing.T) {
	f := newFixture(t, Limits{BanAfter: 100})
	f.update(func(s *directory.Snapshot) error {
		// GW1's default hunt group: a gateway's call for any number goes to
		// OPEN. A server's must not.
		return errors.Join(s.AddServer(directory.NewServer("um2.localhost")),
			s.AddHuntGroup(directory.HuntGroup{Name: "HGD", UMIPGateway: "GW1", UMDialPlan: "OPEN"}))
	})
	admitted := func(callID string) string {
		t.Helper()
		attrs := f.event(events.CallAdmitted, callID).Attrs
		if _, gateway := attrs["gateway"]; attrs["server"] != "um2.localhost" || gateway {
			t.Errorf("event 9210 of %s names %v; want server um2.localhost and no gateway", callID, attrs)
		}
		return attrs["dialplan"].(string)
	}

	p, err := f.tls("127.0.0.1", f.ca.leaf(t, leafOptions{names: []string{"um2.localhost"}}))
	if err != nil {
		t.Fatal(err)
	}
	p.request("OPTIONS", "sip:um.localhost", "o1", "", "")
	p.mustStatus(200)

	// The pilot it calls names the dial plan, whose mode holds.
	_, tag := placeCall(t, p, "5002", "srv-pilot", sdpOffer("127.0.0.1", true))
	if plan := admitted("srv-pilot"); plan != "SEC" {
		t.Errorf("a server calling pilot 5002 was admitted to %s; want SEC", plan)
	}
	hangUp(t, p, "5002", "srv-pilot", tag)
	p.request("INVITE", "sip:5002@um.localhost", "srv-rtp", "", sdpOffer("127.0.0.1", false))
	p.mustStatus(488)

	// No pilot: the dial plan of this server whose mode the call meets,
	// never GW1's default hunt group (OPEN).
	for callID, srtp := range map[string]bool{"srv-none-rtp": false, "srv-none-srtp": true} {
		_, tag := placeCall(t, p, "12345", callID, sdpOffer("127.0.0.1", srtp))
		want := map[bool]string{false: "SIPSEC", true: "SEC"}[srtp]
		if plan := admitted(callID); plan != want {
			t.Errorf("%s: a server's call for no pilot was admitted to %s; want %s", callID, plan, want)
		}
		hangUp(t, p, "12345", callID, tag)
	}

	// A certificate that names no gateway and no server: refused.
	q, err := f.tls("127.0.0.1", f.ca.leaf(t, leafOptions{names: []string{"um9.localhost"}}))
	if err == nil {
		q.request("OPTIONS", "sip:um.localhost", "o2", "", "")
		if !q.closedWithoutAnswer() {
			t.Error("a certificate naming no gateway and no server got an answer")
		}
	}
	f.event(events.PeerRefused, "um9.localhost")

	// Once its record is removed, the server's open connection is refused.
	f.update(func(s *directory.Snapshot) error {
		_, err := s.Remove(directory.KindServer, "um2.localhost", false)
		return err
	})
	p.request("OPTIONS", "sip:um.localhost", "o3", "", "")
	p.mustStatus(403)
	f.event(events.PeerRefused, "no longer in the directory")
}
