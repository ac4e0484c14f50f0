package certs

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"testing"

	"github.com/openum/openum/internal/testpki"
)

// The test PKI (CAs, leaves, keys, PEM) is internal/testpki; these are
// the store's own helpers.

func openTestStore(t testing.TB) *Store {
	t.Helper()
	s, err := OpenStore(t.TempDir() + "/certs")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// selfSignedStore is a fresh store holding a self-signed certificate for
// um1.example.com.
func selfSignedStore(t testing.TB) (*Store, *Certificate) {
	t.Helper()
	s := openTestStore(t)
	c, err := s.NewSelfSigned(SelfSignedOptions{FQDN: "um1.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

// issuedManager is a manager for um1.example.com whose store trusts root
// and holds the certificate root issued it, which it returns.
func issuedManager(t testing.TB, root *testpki.CA) (*Store, *Manager, *x509.Certificate) {
	t.Helper()
	s := trustingStore(t, root)
	cert, key := root.Issue(t, testpki.Leaf{CN: "um1.example.com"})
	mustImport(t, s, testpki.PEM(t, key, cert), "", false)
	m, err := NewManager(context.Background(), s, ManagerOptions{FQDN: "um1.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	return s, m, cert
}

// issuingChain makes a root CA, an issuing CA under it, and a certificate
// for um1.example.com that the issuing CA signed, with its key.
func issuingChain(t testing.TB) (root, inter *testpki.CA, leaf *x509.Certificate, key crypto.Signer) {
	t.Helper()
	root = testpki.NewRootCA(t, "Test Root")
	inter = root.Intermediate(t, "Test Issuing CA")
	leaf, key = inter.Issue(t, testpki.Leaf{CN: "um1.example.com"})
	return root, inter, leaf, key
}

// trustingStore is a new store whose trusted store holds root.
func trustingStore(t testing.TB, root *testpki.CA) *Store {
	t.Helper()
	s := openTestStore(t)
	mustImport(t, s, testpki.PEM(t, nil, root.Cert), "", true)
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
