package sip

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openum/openum/internal/certs"
	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/directory/sqlite"
	"github.com/openum/openum/internal/events"
)

// fixture is a running server on loopback with a real SQLite directory,
// a real certificate store and a real event log:
//
//	GW1 "localhost"  (127.0.0.1 over TCP, or its certificate over TLS)
//	  pilot 5001 → SIPSEC (SIPSecured), pilot 5002 → SEC (Secured), 5003 → OPEN
//	GW2 127.0.0.2    pilot 5000 → OPEN (Unsecured)
//	outsider         127.0.0.66
type fixture struct {
	t      testing.TB
	dir    *sqlite.Store
	srv    *Server
	watch  *directory.Watcher // feeds srv and its certificate manager, as openum serve does
	ca     *testCA
	roots  *x509.CertPool // what gateways trust: the server's certificate
	events string
}

// fixtureOption changes how newFixture builds its server.
type fixtureOption func(*fixtureOptions)

type fixtureOptions struct {
	trusted [][]byte // more CA certificates (PEM) for the trusted root store
	udp     bool
	now     func() time.Time
	ready   func(*Call) *Rejection
}

// trusting adds a CA certificate (PEM) to the server's trusted root store.
func trusting(caPEM []byte) fixtureOption {
	return func(o *fixtureOptions) { o.trusted = append(o.trusted, caPEM) }
}

// withUDP opens the UDP listener too (Config.UDP).
func withUDP() fixtureOption { return func(o *fixtureOptions) { o.udp = true } }

// withReady sets Config.Ready.
func withReady(ready func(*Call) *Rejection) fixtureOption {
	return func(o *fixtureOptions) { o.ready = ready }
}

// withClock makes the per-source limits and bans read now instead of
// time.Now, so that a test can move their time on.
func withClock(now func() time.Time) fixtureOption { return func(o *fixtureOptions) { o.now = now } }

func newFixture(t testing.TB, limits Limits, opts ...fixtureOption) *fixture {
	t.Helper()
	var o fixtureOptions
	for _, opt := range opts {
		opt(&o)
	}
	ctx := context.Background()
	tmp := t.TempDir()
	dir, err := sqlite.Open(ctx, filepath.Join(tmp, "directory.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dir.Close() })
	f := &fixture{t: t, dir: dir, ca: newTestCA(t), events: filepath.Join(tmp, "events.log")}
	f.update(fixtureConfig)
	store, err := certs.OpenStore(filepath.Join(tmp, "certs"))
	if err != nil {
		t.Fatal(err)
	}
	for _, ca := range append([][]byte{f.ca.pem}, o.trusted...) {
		if _, err := store.Import(ca, "", true); err != nil {
			t.Fatal(err)
		}
	}
	log, err := events.Open(f.events)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	manager, err := certs.NewManager(ctx, store, certs.ManagerOptions{FQDN: "um.localhost", Events: log})
	if err != nil {
		t.Fatal(err)
	}
	f.roots = x509.NewCertPool()
	f.roots.AddCert(manager.Current().X509)
	f.watch = directory.NewWatcher(dir)
	snap, err := f.watch.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f.srv, err = New(ctx, Config{FQDN: "um.localhost", ListenIP: "127.0.0.1", TCPPort: -1, TLSPort: -1, UDP: o.udp,
		Limits: limits, Directory: snap, Certs: manager, Events: log, HousekeepingEvery: time.Hour, Ready: o.ready})
	if err != nil {
		t.Fatal(err)
	}
	f.watch.Subscribe(f.srv.Apply)
	f.watch.Subscribe(func(_ context.Context, snap *directory.Snapshot) error {
		sv, err := snap.Server("um.localhost")
		if err == nil {
			manager.SetServer(sv.Name, sv.CertificateThumbprint)
		}
		return err
	})
	if o.now != nil {
		f.srv.sources.now = o.now // before Start: nothing reads it yet
	}
	if err := f.srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_ = f.srv.Shutdown(sctx)
	})
	return f
}

// fixtureConfig is the fixture's directory (see fixture), also the fixed
// configuration the admission fuzzer runs against.
func fixtureConfig(s *directory.Snapshot) error {
	plan := func(name string, mode directory.VoIPSecurity) directory.DialPlan {
		d := directory.NewDialPlan(name)
		d.NumberOfDigitsInExtension, d.VoIPSecurity = 5, mode
		return d
	}
	gw1, gw2 := directory.NewIPGateway("GW1"), directory.NewIPGateway("GW2")
	gw1.Address, gw2.Address = "localhost", "127.0.0.2"
	sv := directory.NewServer("um.localhost")
	sv.DialPlans = directory.List[string]{"OPEN", "SIPSEC", "SEC"}
	return errors.Join(
		s.AddDialPlan(plan("OPEN", directory.Unsecured)),
		s.AddDialPlan(plan("SIPSEC", directory.SIPSecured)),
		s.AddDialPlan(plan("SEC", directory.Secured)),
		s.AddIPGateway(gw1), s.AddIPGateway(gw2), s.AddServer(sv),
		s.AddHuntGroup(directory.HuntGroup{Name: "HG0", UMIPGateway: "GW2", UMDialPlan: "OPEN", PilotIdentifier: "5000"}),
		s.AddHuntGroup(directory.HuntGroup{Name: "HG1", UMIPGateway: "GW1", UMDialPlan: "SIPSEC", PilotIdentifier: "5001"}),
		s.AddHuntGroup(directory.HuntGroup{Name: "HG2", UMIPGateway: "GW1", UMDialPlan: "SEC", PilotIdentifier: "5002"}),
		s.AddHuntGroup(directory.HuntGroup{Name: "HG3", UMIPGateway: "GW1", UMDialPlan: "OPEN", PilotIdentifier: "5003"}),
	)
}

func (f *fixture) update(fn func(*directory.Snapshot) error) {
	f.t.Helper()
	if _, err := f.dir.Update(context.Background(), directory.Actor{User: "test"}, fn); err != nil {
		f.t.Fatal(err)
	}
	if f.watch != nil {
		if err := f.watch.Check(context.Background()); err != nil {
			f.t.Fatal(err)
		}
	}
}

// tcp connects from a loopback address to the TCP listener.
func (f *fixture) tcp(from string) *peer {
	f.t.Helper()
	p, err := dialFrom(f.t, from, f.srv.Addrs()["TCP"], nil)
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

// tls connects as a gateway presenting cert; it returns the handshake error.
func (f *fixture) tls(from string, cert tls.Certificate) (*peer, error) {
	f.t.Helper()
	return dialFrom(f.t, from, f.srv.Addrs()["TLS"], &tls.Config{
		Certificates: []tls.Certificate{cert}, RootCAs: f.roots, ServerName: "um.localhost", MinVersion: tls.VersionTLS12,
	})
}

func (f *fixture) gatewayCert() tls.Certificate {
	return f.ca.leaf(f.t, leafOptions{names: []string{"localhost"}})
}

// event waits for an event with id whose attributes mention want.
func (f *fixture) event(id events.EventID, want string) events.Record {
	f.t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		recs, err := events.Read(f.events, events.Filter{ID: id})
		if err != nil {
			f.t.Fatal(err)
		}
		for _, r := range recs {
			if strings.Contains(fmt.Sprint(r.Message, r.Attrs), want) {
				return r
			}
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("no event %d mentioning %q; events: %v", id, want, recs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// placeCall places INVITE → 200 → ACK and returns the 200 and the dialog's to-tag.
func placeCall(t *testing.T, p *peer, pilot, callID, offer string) (*response, string) {
	t.Helper()
	p.request("INVITE", "sip:"+pilot+"@um.localhost", callID, "", offer)
	res := p.mustStatus(200)
	_, tag, _ := strings.Cut(res.header.Get("To"), "tag=")
	p.request("ACK", "sip:"+pilot+"@um.localhost", callID, "totag="+tag+"\n", "")
	return res, tag
}

func hangUp(t *testing.T, p *peer, pilot, callID, tag string) {
	t.Helper()
	p.request("BYE", "sip:"+pilot+"@um.localhost", callID, "totag="+tag+"\n", "")
	p.mustStatus(200)
}

func TestUnsecuredCallOverTCP(t *testing.T) {
	f := newFixture(t, Limits{})
	p := f.tcp("127.0.0.2")
	res, tag := placeCall(t, p, "5000", "c1", sdpOffer("127.0.0.2", false))
	if !strings.Contains(res.body, "m=audio") || !strings.Contains(res.body, "RTP/AVP 0") || strings.Contains(res.body, "crypto") {
		t.Fatalf("answer to an RTP offer on an Unsecured plan:\n%s", res.body)
	}
	f.event(events.CallAdmitted, "OPEN")
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
	p, err := f.tls("127.0.0.1", f.gatewayCert())
	if err != nil {
		t.Fatal(err)
	}
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
	p, err := f.tls("127.0.0.1", f.gatewayCert())
	if err != nil {
		t.Fatal(err)
	}
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
