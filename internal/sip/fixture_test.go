package sip

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openum/openum/internal/certs"
	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/directory/directorytest"
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
	trusted  [][]byte // more CA certificates (PEM) for the trusted root store
	udp      bool
	now      func() time.Time
	ready    func(*Call) *Rejection
	calls    CallHandler
	pings    time.Duration                   // Config.OptionsInterval
	messages MessageCounts                   // Config.Messages, polled every 50 ms, retried every 300 ms
	loads    bool                            // Config.Loads: the fixture's directory, refreshed by hand (redirect_test.go)
	keyType  certs.KeyType                   // the key of the self-signed certificate the server generates
	edit     func(*directory.Snapshot) error // applied to fixtureConfig before the server starts
}

// withDirectory changes the fixture's directory before the server starts.
func withDirectory(edit func(*directory.Snapshot) error) fixtureOption {
	return func(o *fixtureOptions) { o.edit = edit }
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

// withCalls sets Config.Calls.
func withCalls(h CallHandler) fixtureOption { return func(o *fixtureOptions) { o.calls = h } }

// withPings sends OPTIONS to the gateways every d (Config.OptionsInterval).
func withPings(d time.Duration) fixtureOption { return func(o *fixtureOptions) { o.pings = d } }

// withLoads publishes the server's load on the fixture's directory
// (Config.Loads) once at Start, then only when the test calls refreshBoard.
func withLoads() fixtureOption { return func(o *fixtureOptions) { o.loads = true } }

// withServerKey makes the server generate its self-signed certificate
// with a key of type k (ECDSA P-256 by default).
func withServerKey(k certs.KeyType) fixtureOption { return func(o *fixtureOptions) { o.keyType = k } }

// withMessages turns message waiting on, with counts from m.
func withMessages(m MessageCounts) fixtureOption { return func(o *fixtureOptions) { o.messages = m } }

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
	if o.edit != nil {
		f.update(o.edit)
	}
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
	manager, err := certs.NewManager(ctx, store, certs.ManagerOptions{FQDN: "um.localhost", Events: log, KeyType: o.keyType})
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
		Limits: limits, Directory: snap, Certs: manager, Events: log, HousekeepingEvery: time.Hour, Ready: o.ready, Calls: o.calls,
		OptionsInterval: o.pings, Messages: o.messages, MessageWaitingPoll: 50 * time.Millisecond, MessageWaitingRetry: 300 * time.Millisecond})
	if err == nil && o.loads {
		f.srv.cfg.Loads, f.srv.cfg.LoadEvery = dir, time.Hour
	}
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
	directorytest.Update(f.t, f.dir, f.watch, fn)
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

// gateway is GW1 (localhost) on mutual TLS from 127.0.0.1.
func (f *fixture) gateway() *peer {
	f.t.Helper()
	p, err := f.tls("127.0.0.1", f.gatewayCert())
	if err != nil {
		f.t.Fatal(err)
	}
	return p
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
