package certs

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"sync"
	"time"
)

// verifiedChains remembers the chains a PeerTrust admitted, so that a
// gateway that connects again is not verified again (SPEC PERF-3):
// building and checking its chain is a signature verification for each
// link, about a tenth of a fresh handshake's CPU. The handshake still
// checks on every connection that the peer holds the certificate's key
// (CertificateVerify, in crypto/tls).
//
// An entry holds while the moment of the check lies within the validity
// of every certificate of the chain, which is the only way an admitted
// chain can stop being admitted: a PeerTrust is never changed, and a
// change to the trusted store makes a new one, with nothing remembered.
// Only admissions are kept, so what fills it is peers' certificates that
// chain to the trusted store, not what scanners send; when full it starts
// again empty rather than keeping ages.
type verifiedChains struct {
	mu      sync.Mutex
	entries map[[sha256.Size]byte]verifiedChain
}

// verifiedChainsMax bounds the entries: far more peer certificates than a
// deployment has gateways and servers.
const verifiedChainsMax = 1024

type verifiedChain struct {
	chain               []*x509.Certificate // as Verify returned it
	notBefore, notAfter time.Time           // where every certificate of it is valid
}

// verifiedChainKey identifies a check: the chain as the peer sent it, what
// it must be good for, and the name it must have.
func verifiedChainKey(sent []*x509.Certificate, o PeerOptions) [sha256.Size]byte {
	h := sha256.New()
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(o.Usage))
	h.Write(n[:])
	for _, s := range append([][]byte{[]byte(o.DNSName)}, raws(sent)...) {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write(s)
	}
	return [sha256.Size]byte(h.Sum(nil))
}

func raws(chain []*x509.Certificate) [][]byte {
	r := make([][]byte, len(chain))
	for i, c := range chain {
		r[i] = c.Raw
	}
	return r
}

// lookup returns the chain admitted for key, if it is still valid at now.
func (v *verifiedChains) lookup(key [sha256.Size]byte, now time.Time) ([]*x509.Certificate, bool) {
	v.mu.Lock()
	e, ok := v.entries[key]
	v.mu.Unlock()
	if !ok || now.Before(e.notBefore) || now.After(e.notAfter) {
		return nil, false
	}
	return e.chain, true
}

// remember keeps chain, admitted for key.
func (v *verifiedChains) remember(key [sha256.Size]byte, chain []*x509.Certificate) {
	e := verifiedChain{chain: chain, notBefore: chain[0].NotBefore, notAfter: chain[0].NotAfter}
	for _, c := range chain[1:] {
		e.notBefore = later(e.notBefore, c.NotBefore)
		if c.NotAfter.Before(e.notAfter) {
			e.notAfter = c.NotAfter
		}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.entries == nil || len(v.entries) >= verifiedChainsMax {
		v.entries = make(map[[sha256.Size]byte]verifiedChain)
	}
	v.entries[key] = e
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
