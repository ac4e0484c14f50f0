package certs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"testing"

	"github.com/openum/openum/internal/testpki"
)

// DialTLSConfig verifies each handshake against the trusted store of that
// moment, for the host the connection was opened to (SPEC PEER-2, PEER-3,
// CERT-8): one configuration made at start serves a CA imported later.
func TestDialTLSConfig(t *testing.T) {
	ours := testpki.NewRootCA(t, "Our Root")
	s, m, _ := issuedManager(t, ours)
	dial := m.DialTLSConfig() // made once, as sipgo's transport does

	theirs := testpki.NewRootCA(t, "Gateway Root")
	gw, gwKey := theirs.Issue(t, testpki.Leaf{CN: "gw.example.com", EKU: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	pool := x509.NewCertPool()
	pool.AddCert(ours.Cert)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{gw.Raw}, PrivateKey: gwKey}},
		ClientAuth:   tls.RequireAndVerifyClientCert, ClientCAs: pool,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	to := func(name string) error {
		c := dial.Clone()
		c.ServerName = name
		conn, _, err := tlsPair(t, ln, c)
		if conn != nil {
			conn.Close()
		}
		return err
	}
	if err := to("gw.example.com"); err == nil {
		t.Fatal("a gateway whose CA is not trusted was accepted")
	}
	mustImport(t, s, testpki.PEM(t, nil, theirs.Cert), "", true)
	if err := m.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := to("gw.example.com"); err != nil {
		t.Fatalf("after its CA was imported: %v", err)
	}
	if err := to("other.example.com"); err == nil {
		t.Error("a gateway certificate for another name was accepted")
	}
	if err := to("127.0.0.1"); err == nil {
		t.Error("a connection to an IP address was accepted: it names no gateway")
	}
}
