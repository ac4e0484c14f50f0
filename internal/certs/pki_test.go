package certs

import (
	"errors"
	"testing"
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
