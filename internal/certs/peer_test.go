package certs

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openum/openum/internal/testpki"
)

// issuingLeaf makes a certificate for a gateway that can also sign others:
// CA:TRUE with the key usage given (0 for no extension), issued by parent,
// or self-signed when parent is nil, as openssl makes them by default.
func issuingLeaf(t testing.TB, parent *testpki.CA, o testpki.Leaf, usage x509.KeyUsage) *testpki.CA {
	t.Helper()
	key := testpki.NewKey(t, false)
	tmpl := testpki.LeafTemplate(o)
	tmpl.IsCA, tmpl.KeyUsage = true, usage
	if parent == nil {
		return &testpki.CA{Cert: testpki.Create(t, tmpl, tmpl, key.Public(), key), Key: key}
	}
	return &testpki.CA{Cert: testpki.Create(t, tmpl, parent.Cert, key.Public(), parent.Key), Key: key}
}

func TestDefaultTrust(t *testing.T) {
	bare := func(cn string, usage x509.KeyUsage, eku []x509.ExtKeyUsage, dns []string) *x509.Certificate {
		key := testpki.NewKey(t, false)
		tmpl := &x509.Certificate{SerialNumber: testpki.Serial(), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			BasicConstraintsValid: true, IsCA: true, KeyUsage: usage, ExtKeyUsage: eku, DNSNames: dns}
		return testpki.Create(t, tmpl, tmpl, key.Public(), key)
	}
	gw, _ := testpki.SelfSigned(t, testpki.Leaf{CN: "gw1.example.com"})
	for name, c := range map[string]struct {
		cert *x509.Certificate
		want Trust
	}{
		"root CA with keyCertSign":                 {testpki.NewRootCA(t, "Contoso Root CA").Cert, TrustCA},
		"openssl's default CA: no key usage":       {bare("Contoso Root CA", 0, nil, nil), TrustCA},
		"CA:TRUE with clientAuth":                  {bare("Gateway", x509.KeyUsageCertSign, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, nil), TrustPinned},
		"CA:TRUE naming a host in its SAN":         {bare("Gateway", x509.KeyUsageCertSign, nil, []string{"gw1.example.com"}), TrustPinned},
		"CA:TRUE naming a host in its CN":          {bare("gw1.example.com", 0, nil, nil), TrustPinned},
		"CA:TRUE without keyCertSign":              {bare("Contoso Root CA", x509.KeyUsageDigitalSignature, nil, nil), TrustPinned},
		"self-signed gateway certificate CA:FALSE": {gw, TrustPinned},
	} {
		if got := DefaultTrust(c.cert); got != c.want {
			t.Errorf("%s: %s, want %s", name, got, c.want)
		}
	}
}

// The two ways one gateway's key passes for another, refused (SPEC
// PEER-2); the certificates that should pass still do.
func TestPeerTrustVerify(t *testing.T) {
	root := testpki.NewRootCA(t, "Contoso Root CA")
	inter := root.Intermediate(t, "Contoso Issuing CA")
	// Gateway A's certificate, from the trusted CA, is CA:TRUE.
	gwA := issuingLeaf(t, root, testpki.Leaf{CN: "gwa.example.com"}, x509.KeyUsageDigitalSignature|x509.KeyUsageCertSign)
	forgedB, _ := gwA.Issue(t, testpki.Leaf{CN: "gwb.example.com"})
	// Gateway P's self-signed certificate, openssl-style CA:TRUE, pinned.
	gwP := issuingLeaf(t, nil, testpki.Leaf{CN: "gwp.example.com"}, 0)
	forgedByP, _ := gwP.Issue(t, testpki.Leaf{CN: "gwb.example.com"})
	good, _ := root.Issue(t, testpki.Leaf{CN: "gwb.example.com"})
	viaInter, _ := inter.Issue(t, testpki.Leaf{CN: "gwb.example.com"})
	signerTmpl := testpki.LeafTemplate(testpki.Leaf{CN: "gwc.example.com"})
	signerTmpl.KeyUsage |= x509.KeyUsageCertSign
	signKey := testpki.NewKey(t, false)
	keyCertSign := testpki.Create(t, signerTmpl, root.Cert, signKey.Public(), root.Key)

	trust := newPeerTrust([]*x509.Certificate{root.Cert}, []*x509.Certificate{gwP.Cert})
	client := PeerOptions{Usage: x509.ExtKeyUsageClientAuth}
	for name, c := range map[string]struct {
		chain []*x509.Certificate
		want  string // "" to pass; else in the PeerCertificateError's reason
	}{
		"a CA's gateway certificate":          {[]*x509.Certificate{good}, ""},
		"through a proper intermediate":       {[]*x509.Certificate{viaInter, inter.Cert}, ""},
		"pinned, CA:TRUE, as exactly itself":  {[]*x509.Certificate{gwP.Cert}, ""},
		"pinned, with extra certificates":     {[]*x509.Certificate{gwP.Cert, root.Cert}, ""},
		"gateway A's CA:TRUE leaf":            {[]*x509.Certificate{gwA.Cert}, "is a CA (basicConstraints CA:TRUE)"},
		"B signed by A's key, A sent with it": {[]*x509.Certificate{forgedB, gwA.Cert}, "names the host gwa.example.com"},
		"a leaf with keyCertSign":             {[]*x509.Certificate{keyCertSign}, "allows keyCertSign"},
		"B signed by the pinned P's key":      {[]*x509.Certificate{forgedByP}, "pinned peer certificate"},
		"B signed by P's key, P sent with it": {[]*x509.Certificate{forgedByP, gwP.Cert}, "pinned peer certificate"},
		"the trusted CA itself, as a leaf":    {[]*x509.Certificate{root.Cert}, "is a CA"},
		"no certificate":                      {nil, "no certificate"},
	} {
		_, err := trust.Verify(c.chain, client)
		var refused *PeerCertificateError
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: refused: %v", name, err)
		case c.want != "" && (!errorsAs(err, &refused) || !strings.Contains(refused.Reason, c.want)):
			t.Errorf("%s: %v, want a refusal saying %q", name, err, c.want)
		}
	}

	// crypto/x509's rules still apply to a pinned certificate.
	if _, err := trust.Verify([]*x509.Certificate{gwP.Cert}, PeerOptions{Usage: x509.ExtKeyUsageClientAuth, Now: time.Now().Add(2 * 365 * 24 * time.Hour)}); err == nil {
		t.Error("an expired pinned certificate was accepted")
	}
	if _, err := trust.Verify([]*x509.Certificate{gwP.Cert}, PeerOptions{Usage: x509.ExtKeyUsageClientAuth, DNSName: "gwb.example.com"}); err == nil {
		t.Error("a pinned certificate passed for another name")
	}
	// WithPinned adds without changing the original.
	other, _ := testpki.SelfSigned(t, testpki.Leaf{CN: "um1.example.com"})
	if _, err := trust.WithPinned(other).Verify([]*x509.Certificate{other}, PeerOptions{Usage: x509.ExtKeyUsageServerAuth}); err != nil {
		t.Errorf("WithPinned: %v", err)
	}
	if _, err := trust.Verify([]*x509.Certificate{other}, PeerOptions{Usage: x509.ExtKeyUsageServerAuth}); err == nil {
		t.Error("WithPinned changed the original trust")
	}
}

// openum connecting out (ClientTLSConfig) refuses a server whose chain is
// signed by another gateway's CA:TRUE certificate, which crypto/tls alone
// accepts.
func TestClientTLSConfigRefusesAGatewaySigningForAnother(t *testing.T) {
	root := testpki.NewRootCA(t, "Contoso Root CA")
	s := trustingStore(t, root)
	m, err := NewManager(context.Background(), s, ManagerOptions{FQDN: "um1.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	gwA := issuingLeaf(t, root, testpki.Leaf{CN: "gwa.example.com"}, x509.KeyUsageDigitalSignature|x509.KeyUsageCertSign)
	forgedB, forgedKey := gwA.Issue(t, testpki.Leaf{CN: "gwb.example.com"})
	genuineB, genuineKey := root.Issue(t, testpki.Leaf{CN: "gwb.example.com"})
	for _, c := range []struct {
		chain  []*x509.Certificate
		key    crypto.Signer
		refuse bool
	}{
		{[]*x509.Certificate{genuineB}, genuineKey, false},
		{[]*x509.Certificate{forgedB, gwA.Cert}, forgedKey, true},
		{[]*x509.Certificate{gwA.Cert}, gwA.Key, true},
	} {
		cert := tls.Certificate{PrivateKey: c.key}
		for _, x := range c.chain {
			cert.Certificate = append(cert.Certificate, x.Raw)
		}
		ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
		if err != nil {
			t.Fatal(err)
		}
		name := c.chain[0].Subject.CommonName
		conn, _, clientErr := tlsPair(t, ln, m.ClientTLSConfig(name))
		var refused *PeerCertificateError
		switch {
		case !c.refuse && clientErr != nil:
			t.Errorf("%s (%d certificates): refused: %v", name, len(c.chain), clientErr)
		case c.refuse && !errorsAs(clientErr, &refused):
			t.Errorf("%s (%d certificates): %v, want openum's refusal", name, len(c.chain), clientErr)
		}
		if conn != nil {
			conn.Close()
		}
		ln.Close()
	}
}

// Trust records: --ca and --pinned are kept beside the certificate, a
// plain import decides by the certificate, and a record that cannot be
// read pins.
func TestImportTrustedRecords(t *testing.T) {
	s := openTestStore(t)
	root := testpki.NewRootCA(t, "Contoso Root CA")
	gwP := issuingLeaf(t, nil, testpki.Leaf{CN: "gwp.example.com"}, 0)
	plainLeaf, _ := testpki.SelfSigned(t, testpki.Leaf{CN: "gwq.example.com"})

	trustOf := func(cert *x509.Certificate) Trust {
		t.Helper()
		c := mustLoad(t, s).Find(Thumbprint(cert))
		if c == nil {
			t.Fatalf("%s not in the store", Thumbprint(cert))
		}
		return c.Trust
	}
	res, err := s.ImportTrusted(testpki.PEM(t, nil, root.Cert, gwP.Cert), "", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Added) != 2 || res.Added[0].Trust != TrustCA || res.Added[1].Trust != TrustPinned {
		t.Errorf("import: %+v", res.Added)
	}
	if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "--trusted --ca") {
		t.Errorf("notes %q: want the pinned CA:TRUE certificate explained", res.Notes)
	}
	if trustOf(root.Cert) != TrustCA || trustOf(gwP.Cert) != TrustPinned {
		t.Error("loaded trust differs from the import's")
	}
	// The administrator says otherwise, both ways.
	if _, err := s.ImportTrusted(testpki.PEM(t, nil, gwP.Cert), "", TrustCA); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ImportTrusted(testpki.PEM(t, nil, root.Cert), "", TrustPinned); err != nil {
		t.Fatal(err)
	}
	if trustOf(root.Cert) != TrustPinned || trustOf(gwP.Cert) != TrustCA {
		t.Error("the explicit trust was not kept")
	}
	if c := mustLoad(t, s); len(c.PeerTrust().cas) != 1 || !c.PeerTrust().cas[0].Equal(gwP.Cert) {
		t.Error("PeerTrust does not follow the records")
	}
	// A plain import again forgets the record.
	mustImport(t, s, testpki.PEM(t, nil, root.Cert), "", true)
	if trustOf(root.Cert) != TrustCA {
		t.Error("a plain import kept the old record")
	}
	// --ca needs a certificate that may sign; nothing is written.
	if _, err := s.ImportTrusted(testpki.PEM(t, nil, plainLeaf), "", TrustCA); err == nil || !strings.Contains(err.Error(), "cannot be trusted as a CA") {
		t.Errorf("--ca of a CA:FALSE certificate: %v", err)
	}
	if mustLoad(t, s).Find(Thumbprint(plainLeaf)) != nil {
		t.Error("a refused import wrote its certificate")
	}
	// A broken record pins, and says so.
	record := filepath.Join(s.Dir(), "trusted", Thumbprint(gwP.Cert)+trustExt)
	if err := os.WriteFile(record, []byte("maybe\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if c.Find(Thumbprint(gwP.Cert)).Trust != TrustPinned || len(c.Problems) != 1 {
		t.Errorf("broken record: trust %s, problems %q", c.Find(Thumbprint(gwP.Cert)).Trust, c.Problems)
	}
	// Removal takes the record with it.
	if err := s.Remove(Trusted, Thumbprint(gwP.Cert)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(record); !os.IsNotExist(err) {
		t.Errorf("the trust record outlived its certificate: %v", err)
	}
}
