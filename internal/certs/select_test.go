package certs

import (
	"crypto/x509"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openum/openum/internal/testpki"
)

// TestSelectionOrder puts four usable certificates of each kind and one of
// every unusable sort in the store, in shuffled order, and checks the
// order of CERT-5 and the reason given for each.
func TestSelectionOrder(t *testing.T) {
	const fqdn = "um1.example.com"
	now := time.Now()
	day := 24 * time.Hour
	root := testpki.NewRootCA(t, "Test Root")
	inter := root.Intermediate(t, "Test Issuing CA")
	untrusted := testpki.NewRootCA(t, "Untrusted Root")

	s := trustingStore(t, root)
	mustImport(t, s, testpki.PEM(t, nil, inter.Cert), "", false)

	type entry struct {
		name   string
		data   []byte
		usable bool
		reason string
	}
	var entries []entry
	add := func(name string, usable bool, reason string, data []byte) {
		entries = append(entries, entry{name, data, usable, reason})
	}
	pki := func(o testpki.Leaf) []byte { c, k := inter.Issue(t, o); return testpki.PEM(t, k, c) }
	self := func(o testpki.Leaf) []byte { c, k := testpki.SelfSigned(t, o); return testpki.PEM(t, k, c) }
	for i, days := range []int{200, 900, 30, 400} {
		add("pki-"+string(rune('a'+i)), true, "", pki(testpki.Leaf{CN: fqdn, NotAfter: now.Add(time.Duration(days) * day)}))
		add("self-"+string(rune('a'+i)), true, "", self(testpki.Leaf{CN: fqdn, NotAfter: now.Add(time.Duration(days+1000) * day)}))
	}
	add("pki-no-eku", true, "", pki(testpki.Leaf{CN: fqdn, EKU: testpki.NoEKU, NotAfter: now.Add(10 * day)}))
	add("expired", false, "expired on", pki(testpki.Leaf{CN: fqdn, NotBefore: now.Add(-400 * day), NotAfter: now.Add(-day)}))
	add("not-yet-valid", false, "not yet valid", pki(testpki.Leaf{CN: fqdn, NotBefore: now.Add(day), NotAfter: now.Add(3000 * day)}))
	add("server-auth-only", false, "EKU lacks clientAuth", pki(testpki.Leaf{CN: fqdn, EKU: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, NotAfter: now.Add(5000 * day)}))
	add("wrong-name", false, "name does not match the server FQDN", pki(testpki.Leaf{CN: "other.example.com", NotAfter: now.Add(5000 * day)}))
	add("untrusted-chain", false, "chain does not reach a trusted root", func() []byte {
		c, k := untrusted.Issue(t, testpki.Leaf{CN: fqdn, NotAfter: now.Add(5000 * day)})
		return testpki.PEM(t, k, c)
	}())
	add("no-key", false, "no private key", func() []byte {
		c, _ := inter.Issue(t, testpki.Leaf{CN: fqdn, NotAfter: now.Add(5000 * day)})
		return testpki.PEM(t, nil, c)
	}())
	add("cn-only", true, "", pki(testpki.Leaf{CN: fqdn, DNS: []string{}, NotAfter: now.Add(20 * day)}))

	names := map[string]string{} // thumbprint → entry name
	for _, i := range []int{3, 12, 0, 7, 14, 1, 9, 5, 10, 2, 15, 6, 11, 4, 13, 8} {
		e := entries[i]
		res := mustImport(t, s, e.data, "", false)
		names[res.Added[0].Thumbprint()] = e.name
	}
	c := mustLoad(t, s)
	sel := Select(c, Policy{FQDN: fqdn, Now: now})

	var got []string
	for _, cand := range sel.Candidates {
		got = append(got, names[cand.Thumbprint])
	}
	wantUsable := []string{"pki-b", "pki-d", "pki-a", "pki-c", "cn-only", "pki-no-eku", "self-b", "self-d", "self-a", "self-c"}
	if !slices.Equal(got[:len(wantUsable)], wantUsable) {
		t.Errorf("order\n got %v\nwant %v first", got, wantUsable)
	}
	if sel.Chosen == nil || names[sel.Chosen.Thumbprint] != "pki-b" || !strings.Contains(sel.Chosen.Verdict, "longest time to expiry") {
		t.Fatalf("chosen %+v", sel.Chosen)
	}
	for _, cand := range sel.Candidates {
		name := names[cand.Thumbprint]
		i := slices.IndexFunc(entries, func(e entry) bool { return e.name == name })
		e := entries[i]
		if cand.Usable != e.usable {
			t.Errorf("%s: usable %v (%v), want %v", name, cand.Usable, cand.Reasons, e.usable)
		}
		if !e.usable && (len(cand.Reasons) != 1 || !strings.Contains(cand.Reasons[0], e.reason)) {
			t.Errorf("%s: reasons %q, want only %q", name, cand.Reasons, e.reason)
		}
		switch {
		case cand == sel.Chosen:
		case !e.usable && !strings.HasPrefix(cand.Verdict, "not usable: "+e.reason):
			t.Errorf("%s: verdict %q", name, cand.Verdict)
		case strings.HasPrefix(name, "self") && !strings.Contains(cand.Verdict, "PKI certificate is preferred"):
			t.Errorf("%s: verdict %q", name, cand.Verdict)
		case strings.HasPrefix(name, "pki-") && e.usable && !strings.Contains(cand.Verdict, "expires sooner"):
			t.Errorf("%s: verdict %q", name, cand.Verdict)
		}
	}
	// The unusable ones come last.
	for _, cand := range sel.Candidates[len(wantUsable):] {
		if cand.Usable {
			t.Errorf("%s usable after the unusable ones", names[cand.Thumbprint])
		}
	}

	// Pinning a usable certificate wins over the order.
	var selfC string
	for tp, n := range names {
		if n == "self-c" {
			selfC = tp
		}
	}
	pinned := Select(c, Policy{FQDN: fqdn, Now: now, Pin: selfC})
	if pinned.Chosen.Thumbprint != selfC || pinned.PinProblem != "" || !strings.Contains(pinned.Chosen.Verdict, "pinned") {
		t.Errorf("pinned selection chose %s (%s)", names[pinned.Chosen.Thumbprint], pinned.PinProblem)
	}
	// Pinning an unusable one falls back to the order and says why.
	for tp, n := range names {
		if n == "server-auth-only" {
			bad := Select(c, Policy{FQDN: fqdn, Now: now, Pin: tp})
			if names[bad.Chosen.Thumbprint] != "pki-b" || !strings.Contains(bad.PinProblem, "EKU lacks clientAuth") {
				t.Errorf("bad pin: chose %s, problem %q", names[bad.Chosen.Thumbprint], bad.PinProblem)
			}
		}
	}
	missing := Select(c, Policy{FQDN: fqdn, Now: now, Pin: strings.Repeat("A", 40)})
	if !strings.Contains(missing.PinProblem, "not in the personal store") {
		t.Errorf("missing pin: %q", missing.PinProblem)
	}

	// Without PKI certificates the longest self-signed one wins.
	onlySelf := &Contents{Trusted: c.Trusted, Intermediates: c.Intermediates}
	for _, p := range c.Personal {
		if KindOf(p.X509) == SelfSigned {
			onlySelf.Personal = append(onlySelf.Personal, p)
		}
	}
	if sel := Select(onlySelf, Policy{FQDN: fqdn, Now: now}); names[sel.Chosen.Thumbprint] != "self-b" || !strings.Contains(sel.Chosen.Verdict, "self-signed") {
		t.Errorf("self-signed only: chose %s (%s)", names[sel.Chosen.Thumbprint], sel.Chosen.Verdict)
	}
	// Nothing usable: nothing chosen.
	if sel := Select(c, Policy{FQDN: "nobody.example.com", Now: now}); sel.Chosen != nil {
		t.Errorf("chose %s for a name no certificate has", names[sel.Chosen.Thumbprint])
	}
}

func TestIntermediateRestrictingEKU(t *testing.T) {
	root := testpki.NewRootCA(t, "Test Root")
	key := testpki.NewKey(t, false)
	tmpl := &x509.Certificate{
		SerialNumber: testpki.Serial(), Subject: testpki.LeafTemplate(testpki.Leaf{CN: "Server-only CA"}).Subject,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(1000 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	inter := &testpki.CA{Cert: testpki.Create(t, tmpl, root.Cert, key.Public(), root.Key), Key: key}
	leaf, lkey := inter.Issue(t, testpki.Leaf{CN: "um1.example.com"})
	s := trustingStore(t, root)
	mustImport(t, s, testpki.PEM(t, lkey, leaf, inter.Cert), "", false)
	c := mustLoad(t, s)
	st := Evaluate(c, c.Personal[0], "um1.example.com", time.Now())
	if st.Usable || len(st.Reasons) != 1 || !strings.Contains(st.Reasons[0], "does not allow clientAuth") {
		t.Errorf("status %+v", st.Reasons)
	}
}
