package certs

import (
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/testpki"
)

// TestMain lets the test binary act as another openum process writing to
// the store, for TestManagerNoticesAnotherProcess.
func TestMain(m *testing.M) {
	if dir := os.Getenv("OPENUM_TEST_IMPORT_STORE"); dir != "" {
		s, err := OpenStore(dir)
		if err == nil {
			var data []byte
			if data, err = os.ReadFile(os.Getenv("OPENUM_TEST_IMPORT_FILE")); err == nil {
				_, err = s.Import(data, "", false)
			}
		}
		if err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func openEvents(t *testing.T) (*events.Log, func(events.EventID) []events.Record) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "events.log")
	l, err := events.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, func(id events.EventID) []events.Record {
		t.Helper()
		recs, err := events.Read(path, events.Filter{ID: id})
		if err != nil {
			t.Fatal(err)
		}
		return recs
	}
}

func TestManagerGeneratesSelfSignedWhenNothingUsable(t *testing.T) {
	s := openTestStore(t)
	// A certificate for another name is not usable.
	if _, err := s.NewSelfSigned(SelfSignedOptions{FQDN: "other.example.com"}); err != nil {
		t.Fatal(err)
	}
	log, read := openEvents(t)
	m, err := NewManager(context.Background(), s, ManagerOptions{FQDN: "um1.example.com", Events: log})
	if err != nil {
		t.Fatal(err)
	}
	cur := m.Current()
	if KindOf(cur.X509) != SelfSigned || cur.X509.Subject.CommonName != "um1.example.com" || cur.Key == nil {
		t.Fatalf("current certificate %s for %v", cur.X509.Subject, cur.X509.DNSNames)
	}
	gen := read(events.CertificateSelfSigned)
	if len(gen) != 1 || gen[0].Attrs["Thumbprint"] != cur.Thumbprint() {
		t.Errorf("self-signed events %+v", gen)
	}
	inUse := read(events.TLSCertificateInUse)
	if len(inUse) != 1 {
		t.Fatalf("in-use events %+v", inUse)
	}
	a := inUse[0].Attrs
	if a["Thumbprint"] != cur.Thumbprint() || a["SHA256"] != cur.SHA256() || a["SerialNumber"] != SerialNumber(cur.X509) || a["Issuer"] != "CN=um1.example.com" {
		t.Errorf("in-use event attributes %v", a)
	}
	// Nothing changes: no new events, no new certificate.
	if err := m.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(read(0)) != 2 || m.Current().Thumbprint() != cur.Thumbprint() {
		t.Errorf("a Check without changes emitted events or switched: %+v", read(0))
	}
}

// TestManagerGeneratesECDSAP256UnlessAskedForRSA checks the key of the
// self-signed certificate openum serve generates (PERF-3: an ECDSA P-256
// handshake costs the server a fraction of an RSA one): P-256 by default,
// RSA only when the administrator asks for it.
func TestManagerGeneratesECDSAP256UnlessAskedForRSA(t *testing.T) {
	for _, tc := range []struct {
		keyType KeyType
		want    string
	}{{"", "ECDSA P-256"}, {RSA2048, "RSA 2048"}} {
		m, err := NewManager(context.Background(), openTestStore(t), ManagerOptions{FQDN: "um1.example.com", KeyType: tc.keyType})
		if err != nil {
			t.Fatal(err)
		}
		got := "other"
		switch k := m.Current().X509.PublicKey.(type) {
		case *ecdsa.PublicKey:
			got = "ECDSA " + k.Curve.Params().Name
		case *rsa.PublicKey:
			got = fmt.Sprintf("RSA %d", k.N.BitLen())
		}
		if got != tc.want || m.Current().X509.SignatureAlgorithm == x509.UnknownSignatureAlgorithm {
			t.Errorf("key type %q: generated a %s key (%v); want %s", tc.keyType, got, m.Current().X509.SignatureAlgorithm, tc.want)
		}
	}
}

func TestManagerExpiryEvents(t *testing.T) {
	s := openTestStore(t)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c, err := s.NewSelfSigned(SelfSignedOptions{FQDN: "um1.example.com", Now: start, Validity: 100 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	notAfter := c.X509.NotAfter
	clock := &fakeClock{now: notAfter.Add(-31 * 24 * time.Hour)}
	log, read := openEvents(t)
	ctx := context.Background()
	m, err := NewManager(ctx, s, ManagerOptions{FQDN: "um1.example.com", Pin: c.Thumbprint(), Events: log, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	step := func(at time.Time, wantExpiring, wantExpired int) {
		t.Helper()
		clock.Set(at)
		if err := m.Check(ctx); err != nil {
			t.Fatal(err)
		}
		if got := len(read(events.CertificateExpiring)); got != wantExpiring {
			t.Errorf("at %v before expiry: %d expiring events, want %d", notAfter.Sub(at), got, wantExpiring)
		}
		if got := len(read(events.CertificateExpired)); got != wantExpired {
			t.Errorf("at %v before expiry: %d expired events, want %d", notAfter.Sub(at), got, wantExpired)
		}
	}
	day := 24 * time.Hour
	step(notAfter.Add(-31*day), 0, 0)
	step(notAfter.Add(-30*day), 1, 0)
	step(notAfter.Add(-30*day+time.Hour), 1, 0) // once a day only
	step(notAfter.Add(-29*day), 2, 0)
	step(notAfter.Add(-time.Hour), 3, 0)
	recs := read(events.CertificateExpiring)
	if recs[0].Attrs["DaysLeft"] != float64(30) || recs[1].Attrs["DaysLeft"] != float64(29) || recs[0].Level != "Warning" {
		t.Errorf("expiring events %+v", recs)
	}
	// After expiry the pinned certificate is not usable: the manager falls
	// back (here to a new self-signed certificate) and says every day
	// that the pinned one has expired.
	step(notAfter.Add(time.Hour), 3, 1)
	if m.Current().Thumbprint() == c.Thumbprint() {
		t.Error("an expired certificate is still in use")
	}
	if len(read(events.CertificatePinUnusable)) != 1 || len(read(events.CertificateChanged)) != 1 {
		t.Errorf("pin and change events: %+v", read(0))
	}
	step(notAfter.Add(2*time.Hour), 3, 1)
	step(notAfter.Add(day+time.Hour), 3, 2)
	step(notAfter.Add(2*day+time.Hour), 3, 3)
	if got := read(events.CertificateExpired); got[2].Attrs["DaysLeft"] != float64(-3) || got[2].Level != "Error" {
		t.Errorf("expired event %+v", got[2])
	}
}

// TestManagerNoticesAnotherProcess has another process (this test binary)
// import a PKI certificate into the store; the manager's next Check must
// switch to it.
func TestManagerNoticesAnotherProcess(t *testing.T) {
	s, first := selfSignedStore(t)
	root := testpki.NewRootCA(t, "Test Root")
	mustImport(t, s, testpki.PEM(t, nil, root.Cert), "", true)
	log, read := openEvents(t)
	ctx := context.Background()
	m, err := NewManager(ctx, s, ManagerOptions{FQDN: "um1.example.com", Events: log})
	if err != nil {
		t.Fatal(err)
	}
	if m.Current().Thumbprint() != first.Thumbprint() {
		t.Fatal("the only certificate is not in use")
	}
	leaf, key := root.Issue(t, testpki.Leaf{CN: "um1.example.com"})
	file := filepath.Join(t.TempDir(), "new.pem")
	if err := os.WriteFile(file, testpki.PEM(t, key, leaf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "OPENUM_TEST_IMPORT_STORE="+s.Dir(), "OPENUM_TEST_IMPORT_FILE="+file)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the other process failed: %v\n%s", err, out)
	}
	if err := m.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if m.Current().Thumbprint() != Thumbprint(leaf) {
		t.Fatal("Check did not pick up the other process's certificate")
	}
	changed := read(events.CertificateChanged)
	if len(changed) != 1 || changed[0].Attrs["PreviousThumbprint"] != first.Thumbprint() || changed[0].Attrs["Thumbprint"] != Thumbprint(leaf) {
		t.Errorf("changed events %+v", changed)
	}
}

func TestManagerPinChange(t *testing.T) {
	s := openTestStore(t)
	a, err := s.NewSelfSigned(SelfSignedOptions{FQDN: "um1.example.com", Validity: 900 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.NewSelfSigned(SelfSignedOptions{FQDN: "um1.example.com", Validity: 100 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	m, err := NewManager(ctx, s, ManagerOptions{FQDN: "um1.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Current().Thumbprint() != a.Thumbprint() {
		t.Fatal("the longest-lived certificate is not in use")
	}
	m.SetServer("um1.example.com", b.Thumbprint())
	if err := m.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if m.Current().Thumbprint() != b.Thumbprint() || !strings.Contains(m.Selection().Chosen.Verdict, "pinned") {
		t.Errorf("the pinned certificate is not in use: %s", m.Selection().Chosen.Verdict)
	}
}

// tlsPair makes a loopback TLS connection and returns the client end and
// both ends' handshake errors. The server side reads one byte after the handshake so that a
// TLS 1.3 client learns of a refusal.
func tlsPair(t *testing.T, ln net.Listener, client *tls.Config) (conn *tls.Conn, serverErr, clientErr error) {
	t.Helper()
	srv := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			srv <- err
			return
		}
		tc := c.(*tls.Conn)
		err = tc.Handshake()
		srv <- err
		if err != nil {
			c.Close()
			return
		}
		// echo until the client is done
		_, _ = io.Copy(tc, tc)
		tc.Close()
	}()
	c, err := tls.Dial("tcp", ln.Addr().String(), client)
	if err == nil {
		// TLS 1.3 clients finish before the server checks their certificate.
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err = c.Write([]byte("x")); err == nil {
			_, err = io.ReadFull(c, make([]byte, 1))
		}
		c.SetDeadline(time.Time{})
	}
	serverErr = <-srv
	if err != nil && c != nil {
		c.Close()
		c = nil
	}
	return c, serverErr, err
}

func TestMutualTLSHandshakeAndRenewal(t *testing.T) {
	root := testpki.NewRootCA(t, "Test Root")
	rogue := testpki.NewRootCA(t, "Rogue Root")
	s := trustingStore(t, root)
	inter := root.Intermediate(t, "Test Issuing CA")
	serverCert, serverKey := inter.Issue(t, testpki.Leaf{CN: "um1.example.com"})
	mustImport(t, s, testpki.PEM(t, serverKey, serverCert, inter.Cert), "", false)

	ctx := context.Background()
	m, err := NewManager(ctx, s, ManagerOptions{FQDN: "um1.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", m.ServerTLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	rootPool := x509.NewCertPool()
	rootPool.AddCert(root.Cert)
	clientConfig := func(ca *testpki.CA, eku []x509.ExtKeyUsage) *tls.Config {
		cfg := &tls.Config{RootCAs: rootPool, ServerName: "um1.example.com"}
		if ca != nil {
			cert, key := ca.Issue(t, testpki.Leaf{CN: "gw.example.com", EKU: eku})
			cfg.Certificates = []tls.Certificate{{Certificate: [][]byte{cert.Raw}, PrivateKey: key}}
		}
		return cfg
	}

	conn, serverErr, clientErr := tlsPair(t, ln, clientConfig(root, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}))
	if serverErr != nil || clientErr != nil {
		t.Fatalf("trusted gateway refused: server %v, client %v", serverErr, clientErr)
	}
	state := conn.ConnectionState()
	if Thumbprint(state.PeerCertificates[0]) != Thumbprint(serverCert) || len(state.PeerCertificates) != 2 {
		t.Errorf("server presented %s with %d certificates", state.PeerCertificates[0].Subject, len(state.PeerCertificates))
	}
	if state.Version < tls.VersionTLS12 {
		t.Errorf("TLS version %x", state.Version)
	}

	for name, cfg := range map[string]*tls.Config{
		"untrusted CA":      clientConfig(rogue, nil),
		"serverAuth only":   clientConfig(root, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}),
		"no certificate":    clientConfig(nil, nil),
		"TLS 1.1 and older": func() *tls.Config { c := clientConfig(root, nil); c.MaxVersion = tls.VersionTLS11; return c }(),
	} {
		c, serverErr, clientErr := tlsPair(t, ln, cfg)
		if serverErr == nil || clientErr == nil {
			t.Errorf("%s: accepted (server %v, client %v)", name, serverErr, clientErr)
		}
		if c != nil {
			c.Close()
		}
	}

	// Renewal: a certificate with a later expiry comes into the store; the
	// next handshake gets it, the established connection goes on.
	renewed, renewedKey := inter.Issue(t, testpki.Leaf{CN: "um1.example.com", NotAfter: time.Now().Add(800 * 24 * time.Hour)})
	mustImport(t, s, testpki.PEM(t, renewedKey, renewed), "", false)
	if err := m.Check(ctx); err != nil {
		t.Fatal(err)
	}
	conn2, _, clientErr := tlsPair(t, ln, clientConfig(root, nil))
	if clientErr != nil {
		t.Fatal(clientErr)
	}
	if got := conn2.ConnectionState().PeerCertificates[0]; Thumbprint(got) != Thumbprint(renewed) {
		t.Errorf("after renewal the server presented %s", Thumbprint(got))
	}
	conn2.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write([]byte("y")); err != nil {
		t.Fatalf("the established connection broke: %v", err)
	}
	if b := make([]byte, 1); func() error { _, err := io.ReadFull(conn, b); return err }() != nil || b[0] != 'y' {
		t.Error("the established connection no longer echoes")
	}
	conn.Close()
}

func TestClientTLSConfig(t *testing.T) {
	root := testpki.NewRootCA(t, "Test Root")
	_, m, ours := issuedManager(t, root)
	gw, gwKey := root.Issue(t, testpki.Leaf{CN: "gw.example.com"})
	pool := x509.NewCertPool()
	pool.AddCert(root.Cert)
	var seen *x509.Certificate
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{gw.Raw}, PrivateKey: gwKey}},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
		VerifyConnection: func(cs tls.ConnectionState) error {
			seen = cs.PeerCertificates[0]
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, serverErr, clientErr := tlsPair(t, ln, m.ClientTLSConfig("gw.example.com"))
	if serverErr != nil || clientErr != nil {
		t.Fatalf("server %v, client %v", serverErr, clientErr)
	}
	c.Close()
	if seen == nil || Thumbprint(seen) != Thumbprint(ours) {
		t.Error("the gateway did not see our certificate")
	}
	if c, _, clientErr := tlsPair(t, ln, m.ClientTLSConfig("other.example.com")); clientErr == nil {
		c.Close()
		t.Error("a gateway certificate for another name was accepted")
	}
}
