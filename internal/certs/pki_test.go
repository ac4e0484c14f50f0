package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"testing"
	"time"
)

// testCA is a certificate authority made for a test.
type testCA struct {
	cert *x509.Certificate
	key  crypto.Signer
}

// leafOpts describe a certificate a testCA issues.
type leafOpts struct {
	cn        string
	dns       []string
	eku       []x509.ExtKeyUsage // nil: serverAuth + clientAuth; use noEKU for none
	notBefore time.Time          // zero: an hour ago
	notAfter  time.Time          // zero: in a year
	rsa       bool
}

// noEKU asks for a certificate without the EKU extension.
var noEKU = []x509.ExtKeyUsage{}

var serial int64 = 1000

func newSerial() *big.Int { serial++; return big.NewInt(serial) }

func genKey(t testing.TB, useRSA bool) crypto.Signer {
	t.Helper()
	if useRSA {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// newRootCA makes a self-signed root CA.
func newRootCA(t testing.TB, name string) *testCA {
	t.Helper()
	key := genKey(t, false)
	tmpl := &x509.Certificate{
		SerialNumber:          newSerial(),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-24 * time.Hour),
		NotAfter:              time.Now().Add(20 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	return &testCA{cert: create(t, tmpl, tmpl, key.Public(), key), key: key}
}

// intermediate makes a CA issued by ca.
func (ca *testCA) intermediate(t testing.TB, name string) *testCA {
	t.Helper()
	key := genKey(t, false)
	tmpl := &x509.Certificate{
		SerialNumber:          newSerial(),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-24 * time.Hour),
		NotAfter:              time.Now().Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	return &testCA{cert: create(t, tmpl, ca.cert, key.Public(), ca.key), key: key}
}

// issue makes a leaf certificate and its key.
func (ca *testCA) issue(t testing.TB, o leafOpts) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	key := genKey(t, o.rsa)
	return ca.sign(t, o, key.Public()), key
}

// sign makes a leaf certificate for pub.
func (ca *testCA) sign(t testing.TB, o leafOpts, pub crypto.PublicKey) *x509.Certificate {
	t.Helper()
	tmpl := leafTemplate(o)
	return create(t, tmpl, ca.cert, pub, ca.key)
}

func leafTemplate(o leafOpts) *x509.Certificate {
	if o.notBefore.IsZero() {
		o.notBefore = time.Now().Add(-time.Hour)
	}
	if o.notAfter.IsZero() {
		o.notAfter = time.Now().Add(365 * 24 * time.Hour)
	}
	if o.eku == nil {
		o.eku = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	}
	if o.dns == nil {
		o.dns = []string{o.cn}
	}
	return &x509.Certificate{
		SerialNumber:          newSerial(),
		Subject:               pkix.Name{CommonName: o.cn},
		DNSNames:              o.dns,
		NotBefore:             o.notBefore,
		NotAfter:              o.notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:           o.eku,
		BasicConstraintsValid: true,
	}
}

// selfSigned makes a self-signed leaf.
func selfSigned(t testing.TB, o leafOpts) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	key := genKey(t, o.rsa)
	tmpl := leafTemplate(o)
	return create(t, tmpl, tmpl, key.Public(), key), key
}

func create(t testing.TB, tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) *x509.Certificate {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// pemOf concatenates certificates and, when not nil, a PKCS#8 key.
func pemOf(t testing.TB, key crypto.Signer, certs ...*x509.Certificate) []byte {
	t.Helper()
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	if key != nil {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})...)
	}
	return out
}

func openTestStore(t testing.TB) *Store {
	t.Helper()
	s, err := OpenStore(t.TempDir() + "/certs")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustImport(t testing.TB, s *Store, data []byte, password string, trusted bool) *ImportResult {
	t.Helper()
	res, err := s.Import(data, password, trusted)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func mustLoad(t testing.TB, s *Store) *Contents {
	t.Helper()
	c, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Problems) > 0 {
		t.Fatalf("store problems: %v", c.Problems)
	}
	return c
}

func errorsAs[T error](err error, target *T) bool { return errors.As(err, target) }
