// Package testpki makes certificate authorities, certificates and keys for
// tests: real X.509, made in memory, so that a test exercises the real
// crypto/x509 and crypto/tls paths without files of its own. It is for
// tests only; every function fails the test it is given on error.
package testpki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"sync/atomic"
	"testing"
	"time"
)

// CA is a certificate authority made for a test.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// Leaf describes a certificate a CA issues, or a self-signed one.
type Leaf struct {
	CN        string
	DNS       []string           // nil: CN
	EKU       []x509.ExtKeyUsage // nil: serverAuth + clientAuth; NoEKU for none
	NotBefore time.Time          // zero: an hour ago
	NotAfter  time.Time          // zero: in a year
	RSA       bool               // an RSA 2048 key rather than ECDSA P-256
}

// NoEKU asks for a certificate without the EKU extension.
var NoEKU = []x509.ExtKeyUsage{}

var serial atomic.Int64

// Serial returns a serial number no other certificate of the test binary has.
func Serial() *big.Int { return big.NewInt(1000 + serial.Add(1)) }

// NewKey makes an ECDSA P-256 key, or an RSA 2048 one.
func NewKey(t testing.TB, useRSA bool) crypto.Signer {
	t.Helper()
	var k crypto.Signer
	var err error
	if useRSA {
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// NewRootCA makes a self-signed root CA valid for 20 years.
func NewRootCA(t testing.TB, name string) *CA {
	t.Helper()
	return newCA(t, name, nil, 20*365*24*time.Hour)
}

// Intermediate makes a CA issued by ca, valid for 10 years.
func (ca *CA) Intermediate(t testing.TB, name string) *CA {
	t.Helper()
	return newCA(t, name, ca, 10*365*24*time.Hour)
}

// newCA makes a CA issued by parent, or self-signed when parent is nil.
func newCA(t testing.TB, name string, parent *CA, validity time.Duration) *CA {
	t.Helper()
	key := NewKey(t, false)
	tmpl := &x509.Certificate{
		SerialNumber:          Serial(),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-24 * time.Hour),
		NotAfter:              time.Now().Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	if parent == nil {
		parent = &CA{Cert: tmpl, Key: key}
	}
	return &CA{Cert: Create(t, tmpl, parent.Cert, key.Public(), parent.Key), Key: key}
}

// Issue makes a leaf certificate and its key.
func (ca *CA) Issue(t testing.TB, o Leaf) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	key := NewKey(t, o.RSA)
	return ca.Sign(t, o, key.Public()), key
}

// Sign makes a leaf certificate for pub.
func (ca *CA) Sign(t testing.TB, o Leaf, pub crypto.PublicKey) *x509.Certificate {
	t.Helper()
	return Create(t, LeafTemplate(o), ca.Cert, pub, ca.Key)
}

// SelfSigned makes a self-signed leaf and its key.
func SelfSigned(t testing.TB, o Leaf) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	key := NewKey(t, o.RSA)
	tmpl := LeafTemplate(o)
	return Create(t, tmpl, tmpl, key.Public(), key), key
}

// LeafTemplate is the template of the leaf o describes, with its defaults.
func LeafTemplate(o Leaf) *x509.Certificate {
	if o.NotBefore.IsZero() {
		o.NotBefore = time.Now().Add(-time.Hour)
	}
	if o.NotAfter.IsZero() {
		o.NotAfter = time.Now().Add(365 * 24 * time.Hour)
	}
	if o.EKU == nil {
		o.EKU = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	}
	if o.DNS == nil {
		o.DNS = []string{o.CN}
	}
	return &x509.Certificate{
		SerialNumber:          Serial(),
		Subject:               pkix.Name{CommonName: o.CN},
		DNSNames:              o.DNS,
		NotBefore:             o.NotBefore,
		NotAfter:              o.NotAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:           o.EKU,
		BasicConstraintsValid: true,
	}
}

// Create signs tmpl with parent's key and parses the result.
func Create(t testing.TB, tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) *x509.Certificate {
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

// PEM concatenates certificates and, when not nil, key in PKCS#8.
func PEM(t testing.TB, key crypto.Signer, certs ...*x509.Certificate) []byte {
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
