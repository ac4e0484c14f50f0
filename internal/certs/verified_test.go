package certs

import (
	"crypto/x509"
	"testing"
	"time"

	"github.com/openum/openum/internal/testpki"
)

// A chain Verify admitted is admitted again without a check, but only for
// the same usage and name, and only while all its certificates are valid;
// refusals are not remembered (SPEC PERF-3, PEER-2).
func TestPeerTrustRemembersAdmissions(t *testing.T) {
	root := testpki.NewRootCA(t, "Contoso Root CA")
	inter := root.Intermediate(t, "Contoso Issuing CA")
	clientOnly, _ := inter.Issue(t, testpki.Leaf{CN: "gw1.example.com", EKU: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		NotAfter: time.Now().Add(48 * time.Hour)})
	chain := []*x509.Certificate{clientOnly, inter.Cert}
	trust := newPeerTrust([]*x509.Certificate{root.Cert}, nil)
	client := PeerOptions{Usage: x509.ExtKeyUsageClientAuth}

	for range 2 {
		if _, err := trust.Verify(chain, client); err != nil {
			t.Fatalf("the gateway's chain: %v", err)
		}
	}
	if n := len(trust.admitted.entries); n != 1 {
		t.Fatalf("%d chains remembered after admitting one twice; want 1", n)
	}
	refused := map[string]PeerOptions{
		"for serverAuth":          {Usage: x509.ExtKeyUsageServerAuth},
		"for another name":        {Usage: x509.ExtKeyUsageClientAuth, DNSName: "gw2.example.com"},
		"once the leaf expired":   {Usage: x509.ExtKeyUsageClientAuth, Now: clientOnly.NotAfter.Add(time.Second)},
		"before the leaf's start": {Usage: x509.ExtKeyUsageClientAuth, Now: clientOnly.NotBefore.Add(-time.Second)},
	}
	for name, o := range refused {
		if _, err := trust.Verify(chain, o); err == nil {
			t.Errorf("the remembered chain was admitted %s", name)
		}
	}
	if _, err := trust.Verify(chain[:1], client); err == nil {
		t.Error("the leaf was admitted without the intermediate it was admitted with")
	}
	if n := len(trust.admitted.entries); n != 1 {
		t.Errorf("%d chains remembered after refusals; want still 1", n)
	}
	// A change of the trusted store is a new PeerTrust, remembering nothing.
	if _, err := newPeerTrust(nil, nil).Verify(chain, client); err == nil {
		t.Error("a trust without the CA admitted the chain")
	}
}

func TestVerifiedChainsIsBounded(t *testing.T) {
	leaf, _ := testpki.SelfSigned(t, testpki.Leaf{CN: "gw1.example.com"})
	var v verifiedChains
	for i := range verifiedChainsMax + 10 {
		key := verifiedChainKey([]*x509.Certificate{leaf}, PeerOptions{DNSName: string(rune('a' + i%26)), Usage: x509.ExtKeyUsage(i)})
		v.remember(key, []*x509.Certificate{leaf})
		if len(v.entries) > verifiedChainsMax {
			t.Fatalf("%d entries; at most %d", len(v.entries), verifiedChainsMax)
		}
	}
	if len(v.entries) != 10 {
		t.Errorf("%d entries after %d; want the 10 since it was last full", len(v.entries), verifiedChainsMax+10)
	}
}
