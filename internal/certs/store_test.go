package certs

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openum/openum/internal/peertest"
	"github.com/openum/openum/internal/testpki"
)

func TestThumbprintMatchesOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	cert, _ := testpki.SelfSigned(t, testpki.Leaf{CN: "um1.example.com"})
	path := filepath.Join(t.TempDir(), "c.pem")
	if err := os.WriteFile(path, testpki.PEM(t, nil, cert), 0o600); err != nil {
		t.Fatal(err)
	}
	for alg, ours := range map[string]string{"-sha1": Thumbprint(cert), "-sha256": SHA256(cert)} {
		out, err := exec.Command("openssl", "x509", "-in", path, "-noout", "-fingerprint", alg).Output()
		if err != nil {
			t.Fatal(err)
		}
		_, theirs, _ := strings.Cut(strings.TrimSpace(string(out)), "=")
		if got := strings.ReplaceAll(theirs, ":", ""); got != ours {
			t.Errorf("openssl %s = %s, ours %s", alg, got, ours)
		}
	}
	if len(Thumbprint(cert)) != 40 || strings.ToUpper(Thumbprint(cert)) != Thumbprint(cert) {
		t.Errorf("thumbprint %q is not 40 upper-case hex digits", Thumbprint(cert))
	}
}

func TestParseThumbprint(t *testing.T) {
	want := "0123456789ABCDEF0123456789ABCDEF01234567"
	for _, in := range []string{want, strings.ToLower(want), "01:23:45:67:89:ab:cd:ef:01:23:45:67:89:AB:CD:EF:01:23:45:67", " 01 23 45 67 89 AB CD EF 01 23 45 67 89 AB CD EF 01 23 45 67 "} {
		if got, err := ParseThumbprint(in); err != nil || got != want {
			t.Errorf("ParseThumbprint(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "0123", want + "00", strings.Replace(want, "0", "G", 1)} {
		if _, err := ParseThumbprint(in); err == nil {
			t.Errorf("ParseThumbprint(%q) accepted", in)
		}
	}
}

func TestNewSelfSigned(t *testing.T) {
	s := openTestStore(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		keyType KeyType
		check   func(any) bool
	}{
		{"", func(k any) bool { p, ok := k.(*ecdsa.PublicKey); return ok && p.Curve.Params().Name == "P-256" }},
		{RSA2048, func(k any) bool { p, ok := k.(*rsa.PublicKey); return ok && p.N.BitLen() == 2048 }},
		{RSA3072, func(k any) bool { p, ok := k.(*rsa.PublicKey); return ok && p.N.BitLen() == 3072 }},
	} {
		c, err := s.NewSelfSigned(SelfSignedOptions{FQDN: "UM1.Example.com", SANs: []string{"um.example.com", "192.0.2.7"}, KeyType: tc.keyType, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		x := c.X509
		if !tc.check(x.PublicKey) {
			t.Errorf("%q: public key %T", tc.keyType, x.PublicKey)
		}
		if KindOf(x) != SelfSigned || x.Subject.String() != x.Issuer.String() || x.Subject.CommonName != "UM1.Example.com" {
			t.Errorf("subject %s issuer %s kind %s", x.Subject, x.Issuer, KindOf(x))
		}
		if !slices.Equal(x.DNSNames, []string{"um1.example.com", "um.example.com"}) || len(x.IPAddresses) != 1 {
			t.Errorf("SANs %v %v", x.DNSNames, x.IPAddresses)
		}
		if !slices.Equal(x.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}) {
			t.Errorf("EKU %v", x.ExtKeyUsage)
		}
		if want := now.AddDate(5, 0, -1); x.NotAfter.Before(want) || x.NotAfter.After(now.AddDate(5, 0, 0)) {
			t.Errorf("NotAfter %v, want about 5 years after %v", x.NotAfter, now)
		}
		if x.IsCA {
			t.Error("self-signed server certificate is a CA")
		}
	}
	c := mustLoad(t, s)
	if len(c.Personal) != 3 {
		t.Fatalf("personal store holds %d certificates, want 3", len(c.Personal))
	}
	for _, p := range c.Personal {
		if p.Key == nil || !keyMatches(p.Key, p.X509.PublicKey) {
			t.Errorf("%s: key not loaded", p.Thumbprint())
		}
		if st := Evaluate(c, p, "um1.example.com", now.Add(time.Hour)); !st.Usable || st.Kind != SelfSigned {
			t.Errorf("%s: %+v", p.Thumbprint(), st)
		}
	}
	if _, err := s.NewSelfSigned(SelfSignedOptions{FQDN: "bad name!"}); err == nil {
		t.Error("a bad FQDN was accepted")
	}
	if _, err := s.NewSelfSigned(SelfSignedOptions{FQDN: "a.example.com", KeyType: "dsa"}); err == nil {
		t.Error("an unsupported key type was accepted")
	}
}

func TestFileModes(t *testing.T) {
	s, c := selfSignedStore(t)
	if _, err := s.NewRequest(RequestOptions{FQDN: "um1.example.com"}); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"", "personal", "trusted", "intermediate", "pending"} {
		peertest.CheckPerm(t, filepath.Join(s.Dir(), sub), 0o700)
	}
	keys, _ := filepath.Glob(filepath.Join(s.Dir(), "*", "*.key"))
	if len(keys) != 2 {
		t.Fatalf("keys %v, want one personal and one pending", keys)
	}
	for _, k := range keys {
		peertest.CheckPerm(t, k, 0o600)
	}
	if _, err := os.Stat(filepath.Join(s.Dir(), "personal", c.Thumbprint()+".crt")); err != nil {
		t.Errorf("certificate not named by thumbprint: %v", err)
	}
	tmps, _ := filepath.Glob(filepath.Join(s.Dir(), "*", ".*.tmp-*"))
	if len(tmps) > 0 {
		t.Errorf("temporary files left: %v", tmps)
	}
}

func TestRemove(t *testing.T) {
	s, c := selfSignedStore(t)
	if err := s.Remove(Trusted, c.Thumbprint()); err == nil {
		t.Error("removing from the wrong store succeeded")
	}
	if err := s.Remove(Personal, c.Thumbprint()); err != nil {
		t.Fatal(err)
	}
	if files, _ := filepath.Glob(filepath.Join(s.Dir(), "personal", "*")); len(files) != 0 {
		t.Errorf("files left after remove: %v", files)
	}
	var nf *NotFoundError
	if err := s.Remove(Personal, c.Thumbprint()); err == nil || !errorsAs(err, &nf) {
		t.Errorf("second remove: %v", err)
	}
}

func TestLoadReportsCorruptFiles(t *testing.T) {
	s, c := selfSignedStore(t)
	if err := os.WriteFile(filepath.Join(s.Dir(), "trusted", "BAD.crt"), []byte("-----BEGIN CERTIFICATE-----\nAAAA"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Problems) != 1 || !strings.Contains(got.Problems[0], "BAD.crt") {
		t.Errorf("problems %v", got.Problems)
	}
	if len(got.Personal) != 1 || got.Personal[0].Thumbprint() != c.Thumbprint() {
		t.Errorf("the rest of the store was not loaded")
	}
}
