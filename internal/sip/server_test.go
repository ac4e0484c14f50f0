package sip

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openum/openum/internal/certs"
	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
)

func TestUnsecuredCallOverTCP(t *testing.T) {
	f := newFixture(t, Limits{})
	p := f.tcp("127.0.0.2")
	res, tag := placeCall(t, p, "5000", "c1", sdpOffer("127.0.0.2", false))
	if !strings.Contains(res.body, "m=audio") || !strings.Contains(res.body, "RTP/AVP 0") || strings.Contains(res.body, "crypto") {
		t.Fatalf("answer to an RTP offer on an Unsecured plan:\n%s", res.body)
	}
	admitted := f.event(events.CallAdmitted, "OPEN")
	if _, server := admitted.Attrs["server"]; admitted.Attrs["gateway"] != "GW2" || server {
		t.Fatalf("event 9210 of GW2's call names %v; want gateway GW2 and no server", admitted.Attrs)
	}
	if f.srv.ActiveCalls() != 1 {
		t.Fatalf("%d active calls; want 1", f.srv.ActiveCalls())
	}
	hangUp(t, p, "5000", "c1", tag)
	p.request("OPTIONS", "sip:um.localhost", "o1", "", "")
	if res := p.mustStatus(200); !strings.Contains(res.header.Get("Allow"), "INVITE") {
		t.Fatalf("OPTIONS Allow = %q", res.header.Get("Allow"))
	}
}

func TestOutsiderRefusedThenBanned(t *testing.T) {
	f := newFixture(t, Limits{BanAfter: 3})
	for range 3 {
		p := f.tcp("127.0.0.66")
		_, _ = io.WriteString(p.conn, "OPTIONS sip:um.localhost SIP/2.0\r\n\r\n") // may meet a closed socket
		if !p.closedWithoutAnswer() {
			t.Fatal("an outsider got an answer")
		}
	}
	f.event(events.PeerRefused, "127.0.0.66")
	f.event(events.BanAdded, "127.0.0.66")
	if !f.srv.sources.banned(mustAddr("127.0.0.66")) {
		t.Fatal("outsider not banned after 3 refusals")
	}
	// A trusted gateway is unaffected.
	p := f.tcp("127.0.0.2")
	p.request("OPTIONS", "sip:um.localhost", "o", "", "")
	p.mustStatus(200)
}

func TestSecuredPlansRefuseTCP(t *testing.T) {
	f := newFixture(t, Limits{})
	for _, pilot := range []string{"5001", "5002"} {
		p := f.tcp("127.0.0.1")
		p.request("INVITE", "sip:"+pilot+"@um.localhost", "c"+pilot, "", sdpOffer("127.0.0.1", pilot == "5002"))
		res := p.mustStatus(403)
		if strings.Contains(strings.ToLower(fmt.Sprint(res.header, res.body)), "secure") {
			t.Fatalf("the 403 tells the peer why: %v", res.header)
		}
	}
	f.event(events.CallRefusedSecurity, "secure transport required")
}

func TestSIPSecuredAndSecuredOverMutualTLS(t *testing.T) {
	f := newFixture(t, Limits{})
	p := f.gateway()
	res, tag := placeCall(t, p, "5001", "s1", sdpOffer("127.0.0.1", false))
	if !strings.Contains(res.body, "RTP/AVP") {
		t.Fatalf("SIPSecured answer:\n%s", res.body)
	}
	hangUp(t, p, "5001", "s1", tag)

	// Secured: an RTP offer gets 488, an SRTP offer gets SRTP with a fresh key.
	p.request("INVITE", "sip:5002@um.localhost", "s2", "", sdpOffer("127.0.0.1", false))
	p.mustStatus(488)
	f.event(events.SRTPNegotiationFailed, "RTP/AVP")
	res, tag = placeCall(t, p, "5002", "s3", sdpOffer("127.0.0.1", true))
	if !strings.Contains(res.body, "RTP/SAVP") || !strings.Contains(res.body, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:") ||
		strings.Contains(res.body, "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz") {
		t.Fatalf("Secured answer must carry SRTP with our own key:\n%s", res.body)
	}
	hangUp(t, p, "5002", "s3", tag)

	// An Unsecured plan refuses an SRTP-only offer rather than guess.
	p.request("INVITE", "sip:5003@um.localhost", "s4", "", sdpOffer("127.0.0.1", true))
	p.mustStatus(488)
}

// A server that starts with no dial plan opens no TLS listener (SPEC
// SEC-5), and opens it, without a restart, when the directory gives it
// one (SEC-4): the next secured call gets through.
func TestDialPlanGivenAtRunTimeOpensTLS(t *testing.T) {
	f := newFixture(t, Limits{}, withDirectory(func(s *directory.Snapshot) error {
		sv, err := s.Server("um.localhost")
		if err == nil {
			sv.DialPlans = nil
		}
		return err
	}))
	if addr, open := f.srv.Addrs()["TLS"]; open {
		t.Fatalf("TLS listener open at %s with no dial plan", addr)
	}
	f.update(func(s *directory.Snapshot) error {
		sv, err := s.Server("um.localhost")
		if err == nil {
			sv.DialPlans = directory.List[string]{"SIPSEC"}
		}
		return err
	})
	f.event(events.SecuredStart, "address")
	p := f.gateway()
	res, tag := placeCall(t, p, "5001", "late-tls", sdpOffer("127.0.0.1", false))
	if !strings.Contains(res.body, "RTP/AVP") {
		t.Fatalf("SIPSecured answer:\n%s", res.body)
	}
	hangUp(t, p, "5001", "late-tls", tag)
}

func TestTLSRefusesBadGatewayCertificates(t *testing.T) {
	f := newFixture(t, Limits{BanAfter: 100})
	other := newTestCA(t)
	for name, cert := range map[string]tls.Certificate{
		"untrusted":  other.leaf(t, leafOptions{names: []string{"localhost"}}),
		"selfsigned": f.ca.leaf(t, leafOptions{names: []string{"localhost"}, selfSign: true}),
		"expired":    f.ca.leaf(t, leafOptions{names: []string{"localhost"}, expired: true}),
		"noclient":   f.ca.leaf(t, leafOptions{names: []string{"localhost"}, eku: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}),
		"wrongname":  f.ca.leaf(t, leafOptions{names: []string{"gw9.example.test"}}),
	} {
		p, err := f.tls("127.0.0.1", cert)
		if err == nil {
			// TLS 1.3 reports a refused client certificate on the first read.
			p.request("OPTIONS", "sip:um.localhost", "o-"+name, "", "")
			if !p.closedWithoutAnswer() {
				t.Errorf("%s certificate: the server answered", name)
			}
		}
	}
	f.event(events.GatewayTLSFailed, "unknown authority")
	f.event(events.GatewayTLSFailed, "expired")
	f.event(events.GatewayTLSFailed, "incompatible key usage")
	f.event(events.PeerRefused, "gw9.example.test")
	// No client certificate at all.
	p, err := dialFrom(t, "127.0.0.1", f.srv.Addrs()["TLS"], &tls.Config{RootCAs: f.roots, ServerName: "um.localhost"})
	if err == nil {
		p.request("OPTIONS", "sip:um.localhost", "o", "", "")
		if !p.closedWithoutAnswer() {
			t.Error("no client certificate: the server answered")
		}
	}
	f.event(events.GatewayTLSFailed, "certificate")
}

func TestModeChangeKeepsCallsAndHoldsTheNext(t *testing.T) {
	f := newFixture(t, Limits{})
	p := f.tcp("127.0.0.2")
	_, tag := placeCall(t, p, "5000", "m1", sdpOffer("127.0.0.2", false))
	f.update(func(s *directory.Snapshot) error {
		gw, _ := s.IPGateway("GW2")
		gw.Address = "localhost"
		d, _ := s.DialPlan("OPEN")
		d.VoIPSecurity = directory.Secured
		return nil
	})
	// The call in progress goes on; its BYE still works over TCP.
	if f.srv.ActiveCalls() != 1 {
		t.Fatal("the mode change cut the call")
	}
	hangUp(t, p, "5000", "m1", tag)
	// The next call is held to Secured: over TCP it is refused.
	q := f.tcp("127.0.0.1")
	q.request("INVITE", "sip:5003@um.localhost", "m2", "", sdpOffer("127.0.0.1", false))
	q.mustStatus(403)
}

func TestOverloadAndDraining(t *testing.T) {
	f := newFixture(t, Limits{})
	f.update(func(s *directory.Snapshot) error {
		sv, _ := s.Server("um.localhost")
		sv.MaxCallsAllowed = 1
		return nil
	})
	p := f.tcp("127.0.0.2")
	_, tag := placeCall(t, p, "5000", "l1", sdpOffer("127.0.0.2", false))
	p.request("INVITE", "sip:5000@um.localhost", "l2", "", sdpOffer("127.0.0.2", false))
	if res := p.mustStatus(503); res.header.Get("Retry-After") == "" {
		t.Fatal("503 for MaxCallsAllowed without Retry-After")
	}
	f.event(events.CallRefusedOverload, "MaxCallsAllowed (1) reached")

	f.update(func(s *directory.Snapshot) error {
		sv, _ := s.Server("um.localhost")
		sv.MaxCallsAllowed, sv.Status = 10, directory.NoNewCalls
		return nil
	})
	p.request("INVITE", "sip:5000@um.localhost", "l3", "", sdpOffer("127.0.0.2", false))
	p.mustStatus(503)
	f.event(events.CallRefusedOverload, "NoNewCalls")
	hangUp(t, p, "5000", "l1", tag) // the call in progress finishes normally
}

func TestUnknownPilotAndHeaderLimit(t *testing.T) {
	f := newFixture(t, Limits{MaxHeaders: 20})
	p := f.tcp("127.0.0.2")
	p.request("INVITE", "sip:9999@um.localhost", "u1", "", sdpOffer("127.0.0.2", false))
	p.mustStatus(404)
	f.event(events.NoHuntGroup, "9999")
	p.request("OPTIONS", "sip:um.localhost", "h1", strings.Repeat("X-Pad: 1\n", 30), "")
	p.mustStatus(400)
	f.event(events.MalformedRequest, "header fields")
}

func TestConnectionLimits(t *testing.T) {
	f := newFixture(t, Limits{MaxMessageSize: 2048, IdleTimeout: 300 * time.Millisecond, HandshakeTimeout: 300 * time.Millisecond, RequestRate: 5, RequestBurst: 5})

	// An oversized message closes the connection.
	p := f.tcp("127.0.0.2")
	p.request("OPTIONS", "sip:um.localhost", "big", "X-Big: "+strings.Repeat("a", 4096)+"\n", "")
	if !p.closedWithoutAnswer() {
		t.Fatal("an oversized message got an answer")
	}
	// A silent connection is closed after the idle timeout.
	q := f.tcp("127.0.0.2")
	time.Sleep(600 * time.Millisecond)
	if !q.closedWithoutAnswer() {
		t.Fatal("an idle connection stayed open")
	}
	// A TLS connection that never says hello is closed after the handshake timeout.
	raw, err := dialFrom(t, "127.0.0.1", f.srv.Addrs()["TLS"], nil)
	if err != nil {
		t.Fatal(err)
	}
	if !raw.closedWithoutAnswer() {
		t.Fatal("a slow handshake was not cut")
	}
	// A flood above the per-source rate gets 503.
	r := f.tcp("127.0.0.2")
	got503 := false
	for i := range 20 {
		r.request("OPTIONS", "sip:um.localhost", fmt.Sprint("f", i), "", "")
		res, err := r.response()
		if err != nil {
			t.Fatal(err)
		}
		got503 = got503 || res.status == 503
	}
	if !got503 {
		t.Fatal("20 requests at once, 5 allowed per second: none refused")
	}
}

// A re-INVITE can move, hold and resume the media, but never take SRTP
// away from a Secured call.
func TestReinviteHoldResumeAndNoDowngrade(t *testing.T) {
	f := newFixture(t, Limits{})
	p := f.gateway()
	first, tag := placeCall(t, p, "5002", "r1", sdpOffer("127.0.0.1", true))
	_, key, _ := strings.Cut(first.body, "inline:")
	key, _, _ = strings.Cut(key, "\r\n")

	hold := strings.Replace(sdpOffer("127.0.0.1", true), "m=audio 40000", "m=audio 40002", 1) + "a=sendonly\n"
	p.request("INVITE", "sip:5002@um.localhost", "r1", "totag="+tag+"\n", hold)
	res := p.mustStatus(200)
	if !strings.Contains(res.body, "a=recvonly") || !strings.Contains(res.body, "RTP/SAVP") || !strings.Contains(res.body, "inline:"+key) {
		t.Fatalf("answer to a hold: want recvonly, SRTP, the same key:\n%s", res.body)
	}
	p.request("ACK", "sip:5002@um.localhost", "r1", "totag="+tag+"\n", "")

	p.request("INVITE", "sip:5002@um.localhost", "r1", "totag="+tag+"\n", sdpOffer("127.0.0.1", false))
	p.mustStatus(488)
	f.event(events.SRTPNegotiationFailed, "RTP/AVP")
	if f.srv.ActiveCalls() != 1 {
		t.Fatal("a refused re-INVITE ended the call")
	}

	p.request("INVITE", "sip:5002@um.localhost", "r1", "totag="+tag+"\n", sdpOffer("127.0.0.1", true))
	if res := p.mustStatus(200); !strings.Contains(res.body, "a=sendrecv") {
		t.Fatalf("answer to a resume:\n%s", res.body)
	}
	p.request("ACK", "sip:5002@um.localhost", "r1", "totag="+tag+"\n", "")
	hangUp(t, p, "5002", "r1", tag)

	p.request("INVITE", "sip:5002@um.localhost", "gone", "totag=x\n", sdpOffer("127.0.0.1", true))
	p.mustStatus(481)
}

// Pinning another certificate in the server's record takes effect on the
// next handshakes, without a restart (SPEC CERT-8, SEC-4).
func TestPinnedCertificateAppliesWithoutRestart(t *testing.T) {
	f := newFixture(t, Limits{})
	store, err := certs.OpenStore(filepath.Join(filepath.Dir(f.events), "certs"))
	if err != nil {
		t.Fatal(err)
	}
	pinned, err := store.NewSelfSigned(certs.SelfSignedOptions{FQDN: "um.localhost", Validity: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	f.update(func(s *directory.Snapshot) error {
		sv, _ := s.Server("um.localhost")
		sv.CertificateThumbprint = pinned.Thumbprint()
		return nil
	})
	if err := f.srv.cfg.Certs.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	conn, err := tls.Dial("tcp", f.srv.Addrs()["TLS"].String(), &tls.Config{InsecureSkipVerify: true, Certificates: []tls.Certificate{f.gatewayCert()}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if got := certs.Thumbprint(conn.ConnectionState().PeerCertificates[0]); got != pinned.Thumbprint() {
		t.Fatalf("the server presents %s; want the pinned %s", got, pinned.Thumbprint())
	}
}

// Two gateways whose names resolve to one address: event 1175, once.
func TestGatewaysSharingAnAddress(t *testing.T) {
	f := newFixture(t, Limits{})
	f.update(func(s *directory.Snapshot) error {
		g := directory.NewIPGateway("GW3")
		g.Address = "127.0.0.1" // also what GW1's name, localhost, resolves to
		return s.AddIPGateway(g)
	})
	f.event(events.GatewaysShareAddress, "127.0.0.1")
	if err := f.watch.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := f.count(events.GatewaysShareAddress); n != 1 {
		t.Fatalf("event 1175 written %d times; want once per clash", n)
	}
}
