package certs

import (
	"cmp"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Status is the verdict on one certificate of the personal store.
type Status struct {
	Kind    Kind
	Usable  bool
	Reasons []string // why it is not usable, in words for an administrator
	// Chain is the verified chain from the certificate to a trusted root,
	// for a PKI certificate that has one.
	Chain []*x509.Certificate `json:"-"`
}

// dateFormat is how dates appear in reasons.
const dateFormat = "2006-01-02 15:04 MST"

// Evaluate says whether cert can be the server's certificate for mutual
// TLS as fqdn at time now (CERT-5): within its validity, with its private
// key, with an EKU that allows both serverAuth and clientAuth (or no EKU at
// all, which allows everything), naming fqdn, and, unless self-signed,
// chaining through the intermediate pool to a root of the trusted store.
func Evaluate(c *Contents, cert *Certificate, fqdn string, now time.Time) Status {
	x := cert.X509
	st := Status{Kind: KindOf(x)}
	if now.After(x.NotAfter) {
		st.Reasons = append(st.Reasons, "expired on "+x.NotAfter.UTC().Format(dateFormat))
	}
	if now.Before(x.NotBefore) {
		st.Reasons = append(st.Reasons, "not yet valid (valid from "+x.NotBefore.UTC().Format(dateFormat)+")")
	}
	if cert.Key == nil {
		st.Reasons = append(st.Reasons, "no private key")
	}
	server, client := ekuAllows(x)
	if !client {
		st.Reasons = append(st.Reasons, "EKU lacks clientAuth: the certificate cannot authenticate the server as a TLS client, which mutual TLS needs")
	}
	if !server {
		st.Reasons = append(st.Reasons, "EKU lacks serverAuth")
	}
	if !namesHost(x, fqdn) {
		st.Reasons = append(st.Reasons, fmt.Sprintf("name does not match the server FQDN %s (the certificate names %s)", fqdn, strings.Join(Names(x), ", ")))
	}
	if st.Kind == PKI {
		// Check the chain at a time the certificate itself is valid, so an
		// expired certificate is reported as expired, not as unchained.
		at := now
		if at.After(x.NotAfter) {
			at = x.NotAfter
		} else if at.Before(x.NotBefore) {
			at = x.NotBefore
		}
		opts := x509.VerifyOptions{
			Roots:         c.Roots(),
			Intermediates: c.IntermediatePool(),
			CurrentTime:   at,
			KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
		}
		chains, err := x.Verify(opts)
		if err != nil {
			st.Reasons = append(st.Reasons, "chain does not reach a trusted root ("+err.Error()+")")
		} else {
			st.Chain = chains[0]
			// An intermediate may restrict the usages its leaves get.
			for _, u := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
				if server && client {
					opts.KeyUsages = []x509.ExtKeyUsage{u}
					if _, err := x.Verify(opts); err != nil {
						st.Reasons = append(st.Reasons, "the issuing CA does not allow "+ekuName(u)+" ("+err.Error()+")")
					}
				}
			}
		}
	}
	st.Usable = len(st.Reasons) == 0
	return st
}

// ekuAllows reports whether cert may serve as a TLS server and as a TLS
// client. A certificate without the EKU extension is not restricted.
func ekuAllows(cert *x509.Certificate) (server, client bool) {
	if len(cert.ExtKeyUsage) == 0 && len(cert.UnknownExtKeyUsage) == 0 {
		return true, true
	}
	for _, u := range cert.ExtKeyUsage {
		switch u {
		case x509.ExtKeyUsageAny:
			return true, true
		case x509.ExtKeyUsageServerAuth:
			server = true
		case x509.ExtKeyUsageClientAuth:
			client = true
		}
	}
	return server, client
}

// namesHost reports whether cert names host: in its subject alternative
// names (wildcards allowed), or in its CN when it has no SAN at all, as
// SPEC PEER-2 reads names.
func namesHost(cert *x509.Certificate, host string) bool {
	if host == "" {
		return false
	}
	if cert.VerifyHostname(host) == nil {
		return true
	}
	noSAN := len(cert.DNSNames) == 0 && len(cert.IPAddresses) == 0 && len(cert.URIs) == 0 && len(cert.EmailAddresses) == 0
	return noSAN && strings.EqualFold(strings.TrimSuffix(cert.Subject.CommonName, "."), strings.TrimSuffix(host, "."))
}

// Names lists the names a certificate is for: its DNS and IP SANs, or its
// CN when it has none.
func Names(cert *x509.Certificate) []string {
	names := slices.Clone(cert.DNSNames)
	for _, ip := range cert.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 && cert.Subject.CommonName != "" {
		names = append(names, cert.Subject.CommonName)
	}
	if len(names) == 0 {
		return []string{"no name"}
	}
	return names
}

// Policy is what selection needs to know about the server.
type Policy struct {
	FQDN string    // the server's FQDN, which the certificate must name
	Pin  string    // thumbprint pinned by the administrator; empty for none
	Now  time.Time // the time to judge validity at
}

// Candidate is a personal certificate as selection saw it.
type Candidate struct {
	*Certificate `json:"-"`
	Thumbprint   string
	Subject      string
	NotAfter     time.Time
	Status
	// Verdict says, in words, why it was chosen, why it lost, or why it
	// cannot be used.
	Verdict string
}

// Selection is the outcome of Select: the certificate the server uses and
// why, and every other candidate with the reason it lost.
type Selection struct {
	FQDN   string
	Pin    string `json:",omitempty"`
	Chosen *Candidate
	// PinProblem says why the pinned certificate is not the one used,
	// when one is pinned and missing or not usable.
	PinProblem string `json:",omitempty"`
	// Candidates are the personal certificates in the order the server
	// prefers them: usable ones first, then those it cannot use.
	Candidates []*Candidate
}

// Select chooses the server's certificate among the personal store (CERT-5).
// A usable pinned certificate wins. Otherwise, among the usable ones: PKI
// (chaining to the trusted store) before self-signed, and within each the
// longest time to expiry first. Chosen is nil when nothing is usable.
func Select(c *Contents, p Policy) *Selection {
	sel := &Selection{FQDN: p.FQDN, Pin: p.Pin}
	for _, cert := range c.Personal {
		sel.Candidates = append(sel.Candidates, &Candidate{
			Certificate: cert,
			Thumbprint:  cert.Thumbprint(),
			Subject:     cert.X509.Subject.String(),
			NotAfter:    cert.X509.NotAfter,
			Status:      Evaluate(c, cert, p.FQDN, p.Now),
		})
	}
	slices.SortStableFunc(sel.Candidates, func(a, b *Candidate) int {
		if a.Usable != b.Usable {
			return boolOrder(a.Usable)
		}
		if a.Usable && a.Kind != b.Kind {
			return boolOrder(a.Kind == PKI)
		}
		return cmp.Or(
			b.NotAfter.Compare(a.NotAfter),
			b.X509.NotBefore.Compare(a.X509.NotBefore),
			strings.Compare(a.Thumbprint, b.Thumbprint),
		)
	})

	var pinned *Candidate
	if p.Pin != "" {
		for _, cand := range sel.Candidates {
			if cand.Thumbprint == p.Pin {
				pinned = cand
			}
		}
		switch {
		case pinned == nil:
			sel.PinProblem = fmt.Sprintf("the pinned certificate %s is not in the personal store", p.Pin)
		case !pinned.Usable:
			sel.PinProblem = fmt.Sprintf("the pinned certificate %s is not usable: %s", p.Pin, strings.Join(pinned.Reasons, "; "))
			pinned = nil
		}
	}
	switch {
	case pinned != nil:
		sel.Chosen = pinned
		pinned.Verdict = "chosen: pinned by the administrator (server set --certificate-thumbprint)"
	case len(sel.Candidates) > 0 && sel.Candidates[0].Usable:
		sel.Chosen = sel.Candidates[0]
		if sel.Chosen.Kind == PKI {
			sel.Chosen.Verdict = "chosen: the usable PKI certificate with the longest time to expiry"
		} else {
			sel.Chosen.Verdict = "chosen: no usable PKI certificate, so the self-signed one with the longest time to expiry"
		}
	}
	for _, cand := range sel.Candidates {
		switch {
		case cand == sel.Chosen:
		case !cand.Usable:
			cand.Verdict = "not usable: " + strings.Join(cand.Reasons, "; ")
		case pinned != nil:
			cand.Verdict = "usable, but another certificate is pinned"
		case cand.Kind == SelfSigned && sel.Chosen.Kind == PKI:
			cand.Verdict = "usable, but a PKI certificate is preferred to a self-signed one"
		default:
			cand.Verdict = fmt.Sprintf("usable, but expires sooner (%s) than the chosen one (%s)",
				cand.NotAfter.UTC().Format(dateFormat), sel.Chosen.NotAfter.UTC().Format(dateFormat))
		}
	}
	return sel
}

// boolOrder sorts true before false.
func boolOrder(first bool) int {
	if first {
		return -1
	}
	return 1
}
