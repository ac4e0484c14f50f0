package certs

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"time"
)

// PeerTrust is what a peer's certificate is verified against (SPEC PEER-2):
// the CAs that may issue peer certificates, and the pinned certificates,
// each of which admits exactly itself. It is never changed once made.
type PeerTrust struct {
	cas, pinned []*x509.Certificate
	caPool      *x509.CertPool // the CAs: where a chain may end
	all         *x509.CertPool // CAs and pinned: for crypto/tls's own check
	admitted    verifiedChains // what Verify admitted, not to check it again
}

// Roots returns the certificates of the trusted store trusted as CAs, as a
// pool for x509 verification: where a chain may end. Pinned certificates
// are not among them (PeerTrust).
func (c *Contents) Roots() *x509.CertPool {
	var cas []*Certificate
	for _, t := range c.Trusted {
		if t.Trust == TrustCA {
			cas = append(cas, t)
		}
	}
	return pool(cas)
}

// PeerTrust returns the trusted store as peers are verified against it.
func (c *Contents) PeerTrust() *PeerTrust {
	var cas, pinned []*x509.Certificate
	for _, t := range c.Trusted {
		if t.Trust == TrustCA {
			cas = append(cas, t.X509)
		} else {
			pinned = append(pinned, t.X509)
		}
	}
	return newPeerTrust(cas, pinned)
}

func newPeerTrust(cas, pinned []*x509.Certificate) *PeerTrust {
	t := &PeerTrust{cas: cas, pinned: pinned, caPool: x509.NewCertPool(), all: x509.NewCertPool()}
	for _, c := range cas {
		t.caPool.AddCert(c)
		t.all.AddCert(c)
	}
	for _, c := range pinned {
		t.all.AddCert(c)
	}
	return t
}

// WithPinned returns t with certs pinned too: the server pins its own
// certificates, for the local loop of test connectivity.
func (t *PeerTrust) WithPinned(certs ...*x509.Certificate) *PeerTrust {
	return newPeerTrust(t.cas, append(slices.Clone(t.pinned), certs...))
}

// Pool holds every trusted certificate, CAs and pinned, for crypto/tls's
// own verification (RootCAs, ClientCAs). That check alone would let a
// pinned CA:TRUE certificate issue others: VerifyConnection completes it.
func (t *PeerTrust) Pool() *x509.CertPool { return t.all }

// PeerOptions say what a peer's certificate must be good for.
type PeerOptions struct {
	Usage   x509.ExtKeyUsage // ExtKeyUsageClientAuth for a peer that connected, ServerAuth for one openum connected to
	DNSName string           // the name it must have; "" when crypto/tls checked it
	Now     time.Time        // zero: now
}

// Verify checks a peer's certificate chain, leaf first, as the peer sent
// it, and returns the verified chain. On top of crypto/x509's rules
// (validity, EKU, chain, name):
//   - a pinned certificate is admitted as exactly itself;
//   - a leaf that can issue certificates (CA:TRUE or keyCertSign) is
//     refused: it would otherwise be one gateway's key that signs for
//     another (RFC 5280 §4.2.1.9);
//   - a chain must end at a certificate trusted as a CA: a pinned one
//     issues nothing;
//   - no certificate between the leaf and the CA may name a host: that is
//     a peer's certificate, CA:TRUE or not, and a peer issues nothing.
//
// openum's own refusals are a *PeerCertificateError; crypto/x509's errors
// are returned as they are. A chain admitted before is admitted again
// without a check while all its certificates are valid (verifiedChains).
func (t *PeerTrust) Verify(chain []*x509.Certificate, o PeerOptions) ([]*x509.Certificate, error) {
	if len(chain) == 0 {
		return nil, &PeerCertificateError{Reason: "the peer presented no certificate"}
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	key := verifiedChainKey(chain, o)
	if verified, ok := t.admitted.lookup(key, o.Now); ok {
		return verified, nil
	}
	verified, err := t.verify(chain, o)
	if err == nil {
		t.admitted.remember(key, verified)
	}
	return verified, err
}

func (t *PeerTrust) verify(chain []*x509.Certificate, o PeerOptions) ([]*x509.Certificate, error) {
	leaf := chain[0]
	opts := x509.VerifyOptions{DNSName: o.DNSName, CurrentTime: o.Now, KeyUsages: []x509.ExtKeyUsage{o.Usage}}
	if t.isPinned(leaf) {
		opts.Roots = x509.NewCertPool()
		opts.Roots.AddCert(leaf)
		chains, err := leaf.Verify(opts)
		if err != nil {
			return nil, err
		}
		return chains[0], nil
	}
	if what := issues(leaf); what != "" {
		return nil, refuse(leaf, "the certificate "+what+", and a certificate that can issue others identifies no peer")
	}
	opts.Roots = t.caPool
	opts.Intermediates = x509.NewCertPool()
	for _, c := range chain[1:] {
		opts.Intermediates.AddCert(c)
	}
	chains, err := leaf.Verify(opts)
	if err != nil {
		return nil, t.notFromCA(chain, err)
	}
	return choose(leaf, chains)
}

// notFromCA is the error for a chain that reaches no CA: why, when a
// pinned certificate signed it; else err, crypto/x509's.
func (t *PeerTrust) notFromCA(chain []*x509.Certificate, err error) error {
	if p := t.pinnedIssuer(chain); p != nil {
		return refuse(chain[0], fmt.Sprintf("it is signed by the key of %s (%s), a pinned peer certificate: trusted as exactly itself, it issues no other", Thumbprint(p), p.Subject))
	}
	return err
}

// choose returns the first of leaf's verified chains that ends at a CA
// through no certificate that names a host, or why there is none.
func choose(leaf *x509.Certificate, chains [][]*x509.Certificate) ([]*x509.Certificate, error) {
	var why string
	for _, ch := range chains {
		if why = hostIssuer(ch); why == "" {
			return ch, nil
		}
	}
	return nil, refuse(leaf, why)
}

// VerifyConnection returns a tls.Config.VerifyConnection that applies
// Verify's rules to the peer's chain. On a server (ServerTLSConfig)
// crypto/tls has checked nothing but that a certificate was sent, and
// Verify does it all, remembering what it admitted. On a client crypto/tls
// has verified the chain against Pool, and its chains are judged as they
// are rather than built again: building one costs signature checks, a
// large part of a handshake's CPU (SPEC PERF-3).
//
// crypto/x509's refusals are returned as crypto/tls returns its own, a
// *tls.CertificateVerificationError.
func (t *PeerTrust) VerifyConnection(usage x509.ExtKeyUsage) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.VerifiedChains) > 0 && len(cs.PeerCertificates) > 0 {
			return t.verified(cs.PeerCertificates, cs.VerifiedChains)
		}
		_, err := t.Verify(cs.PeerCertificates, PeerOptions{Usage: usage})
		if _, ours := errors.AsType[*PeerCertificateError](err); err != nil && !ours {
			return &tls.CertificateVerificationError{UnverifiedCertificates: cs.PeerCertificates, Err: err}
		}
		return err
	}
}

// verified applies Verify's rules to the chains crypto/x509 found for the
// chain the peer sent, against Pool and for the usage Verify would ask:
// those are Verify's chains, and some that end at a pinned certificate,
// which Verify's would not (a pinned certificate issues nothing).
func (t *PeerTrust) verified(sent []*x509.Certificate, chains [][]*x509.Certificate) error {
	leaf := sent[0]
	if t.isPinned(leaf) {
		return nil // crypto/x509 has checked it as itself: its dates and usage
	}
	if what := issues(leaf); what != "" {
		return refuse(leaf, "the certificate "+what+", and a certificate that can issue others identifies no peer")
	}
	fromCA := slices.DeleteFunc(slices.Clone(chains), func(ch []*x509.Certificate) bool {
		return !slices.ContainsFunc(t.cas, ch[len(ch)-1].Equal)
	})
	if len(fromCA) == 0 {
		return t.notFromCA(sent, x509.UnknownAuthorityError{Cert: leaf})
	}
	_, err := choose(leaf, fromCA)
	return err
}

func (t *PeerTrust) isPinned(cert *x509.Certificate) bool {
	return slices.ContainsFunc(t.pinned, func(p *x509.Certificate) bool { return p.Equal(cert) })
}

// pinnedIssuer returns the pinned certificate whose key signed a
// certificate of chain, or nil: to say why the chain is refused.
func (t *PeerTrust) pinnedIssuer(chain []*x509.Certificate) *x509.Certificate {
	for _, c := range chain {
		for _, p := range t.pinned {
			if bytes.Equal(c.RawIssuer, p.RawSubject) && !p.Equal(c) &&
				p.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil {
				return p
			}
		}
	}
	return nil
}

// hostIssuer says why a verified chain is refused for an intermediate that
// names a host, or "" when none does. The root is trusted as a CA by the
// administrator's choice, and is not judged here.
func hostIssuer(chain []*x509.Certificate) string {
	for _, c := range chain[1 : len(chain)-1] {
		if h := hostName(c); h != "" {
			return fmt.Sprintf("it is issued by %s (%s), which names the host %s: a peer's certificate, not a CA, and a peer issues no other", Thumbprint(c), c.Subject, h)
		}
	}
	return ""
}

// PeerCertificateError is a peer's certificate refused by openum's trust
// rules (Verify), beyond crypto/x509's.
type PeerCertificateError struct {
	Thumbprint string // the peer's certificate; empty when it sent none
	Reason     string
}

func (e *PeerCertificateError) Error() string {
	if e.Thumbprint == "" {
		return "certs: " + e.Reason
	}
	return fmt.Sprintf("certs: peer certificate %s refused: %s", e.Thumbprint, e.Reason)
}

func refuse(cert *x509.Certificate, reason string) error {
	return &PeerCertificateError{Thumbprint: Thumbprint(cert), Reason: reason}
}
