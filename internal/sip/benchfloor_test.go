package sip

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"testing"
)

// cryptoFloor is the server CPU, in µs, of the public-key operations no
// fresh mutual TLS 1.3 handshake with ECDSA P-256 certificates can skip,
// measured in this process just after the handshakes: an X25519 key
// exchange, the server's signature, and two signature checks (the
// client's CertificateVerify and its CA's signature on its certificate).
// CPU time per operation grows on a loaded machine (cores shared with
// other processes run slower), so a handshake's CPU is read against this
// floor measured under the same load (BenchmarkMutualTLSHandshakeCPU).
func cryptoFloor(tb testing.TB) float64 {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	peer, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	digest := sha256.Sum256([]byte("transcript"))
	sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil {
		tb.Fatal(err)
	}
	const n = 200
	before := costNow()
	for range n {
		eph, err := ecdh.X25519().GenerateKey(rand.Reader)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := eph.ECDH(peer.PublicKey()); err != nil {
			tb.Fatal(err)
		}
		if _, err := ecdsa.SignASN1(rand.Reader, key, digest[:]); err != nil {
			tb.Fatal(err)
		}
		for range 2 {
			if !ecdsa.VerifyASN1(&key.PublicKey, digest[:], sig) {
				tb.Fatal("signature check failed")
			}
		}
	}
	return costNow().since(before, n).cpuMicros
}
