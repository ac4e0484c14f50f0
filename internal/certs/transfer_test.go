package certs

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/openum/openum/internal/testpki"
)

// storeFiles lists the files of a store, to check that failed imports
// wrote nothing.
func storeFiles(t *testing.T, s *Store) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(s.Dir(), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, strings.TrimPrefix(path, s.Dir()))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestImportPEMAnyOrderWithChain(t *testing.T) {
	root, inter, leaf, key := issuingChain(t)
	s := trustingStore(t, root)
	// key first, then the intermediate, then the leaf, then the root
	data := append(testpki.PEM(t, key), testpki.PEM(t, nil, inter.Cert, leaf, root.Cert)...)
	res := mustImport(t, s, data, "", false)
	if len(res.Added) != 2 {
		t.Fatalf("added %d, want leaf and intermediate: %+v", len(res.Added), res)
	}
	if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "--trusted") {
		t.Errorf("notes %v, want the root skipped", res.Notes)
	}
	c := mustLoad(t, s)
	if len(c.Personal) != 1 || len(c.Intermediates) != 1 || len(c.Trusted) != 1 {
		t.Fatalf("personal %d intermediate %d trusted %d", len(c.Personal), len(c.Intermediates), len(c.Trusted))
	}
	p := c.Personal[0]
	if p.Thumbprint() != Thumbprint(leaf) || p.Key == nil {
		t.Fatalf("personal store holds %s (key %v)", p.Thumbprint(), p.Key != nil)
	}
	st := Evaluate(c, p, "um1.example.com", leaf.NotBefore.Add(2*3600e9))
	if !st.Usable || st.Kind != PKI || len(st.Chain) != 3 {
		t.Errorf("status %+v (chain %d)", st, len(st.Chain))
	}
}

func TestImportLegacyKeyFormats(t *testing.T) {
	root := testpki.NewRootCA(t, "Test Root")
	rsaLeaf, rsaKey := root.Issue(t, testpki.Leaf{CN: "um1.example.com", RSA: true})
	ecLeaf, ecKey := root.Issue(t, testpki.Leaf{CN: "um2.example.com"})
	ecDER, err := x509.MarshalECPrivateKey(ecKey.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	s := openTestStore(t)
	for _, tc := range []struct {
		leaf *x509.Certificate
		key  *pem.Block
	}{
		{rsaLeaf, &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey.(*rsa.PrivateKey))}},
		{ecLeaf, &pem.Block{Type: "EC PRIVATE KEY", Bytes: ecDER}},
	} {
		data := append(testpki.PEM(t, nil, tc.leaf), pem.EncodeToMemory(tc.key)...)
		res := mustImport(t, s, data, "", false)
		if len(res.Added) != 1 || res.Added[0].Key == nil || res.Added[0].Thumbprint() != Thumbprint(tc.leaf) {
			t.Errorf("%s: %+v", tc.key.Type, res)
		}
	}
}

func TestImportDERAndPFXRoundTrip(t *testing.T) {
	root, inter, leaf, key := issuingChain(t)
	src := trustingStore(t, root)
	mustImport(t, src, testpki.PEM(t, key, leaf, inter.Cert), "", false)
	tp := Thumbprint(leaf)

	// PEM and DER exports are the public certificate alone.
	pemOut, err := src.Export(tp, FormatPEM, "")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(pemOut, []byte("PRIVATE")) || !bytes.Equal(pemOut, testpki.PEM(t, nil, leaf)) {
		t.Errorf("PEM export:\n%s", pemOut)
	}
	derOut, err := src.Export(tp, FormatDER, "")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(derOut, leaf.Raw) {
		t.Error("DER export is not the certificate")
	}
	if _, err := src.Export(tp, FormatPFX, ""); err == nil {
		t.Error("PFX export without a password succeeded")
	}
	pfx, err := src.Export(tp, FormatPFX, "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	k, c, chain, err := pkcs12.DecodeChain(pfx, "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	if Thumbprint(c) != tp || !keyMatches(k.(*ecdsa.PrivateKey), c.PublicKey) || len(chain) != 2 {
		t.Errorf("PFX holds %s, chain of %d", Thumbprint(c), len(chain))
	}

	// Import each export into a fresh store.
	dst := openTestStore(t)
	res := mustImport(t, dst, derOut, "", false)
	if len(res.Added) != 1 || res.Added[0].Key != nil {
		t.Errorf("DER import: %+v", res)
	}
	res = mustImport(t, dst, pfx, "s3cret", false)
	if len(res.Added) != 2 || res.Added[0].Key == nil {
		t.Errorf("PFX import: %+v %v", res.Added, res.Notes)
	}
	got := mustLoad(t, dst)
	if len(got.Personal) != 1 || got.Personal[0].Key == nil || len(got.Intermediates) != 1 {
		t.Errorf("after PFX import: personal %d (key %v), intermediates %d", len(got.Personal), got.Personal[0].Key != nil, len(got.Intermediates))
	}
	if _, err := dst.Export("0000000000000000000000000000000000000000", FormatPEM, ""); err == nil {
		t.Error("export of an unknown thumbprint succeeded")
	}
}

func TestImportRefusesBadInputAndWritesNothing(t *testing.T) {
	root := testpki.NewRootCA(t, "Test Root")
	leaf, key := root.Issue(t, testpki.Leaf{CN: "um1.example.com"})
	_, otherKey := root.Issue(t, testpki.Leaf{CN: "um2.example.com"})
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	weakLeaf := root.Sign(t, testpki.Leaf{CN: "weak.example.com"}, weak.Public())
	pfx, err := pkcs12.Modern.Encode(key, leaf, nil, "right")
	if err != nil {
		t.Fatal(err)
	}
	good := testpki.PEM(t, key, leaf)
	for name, tc := range map[string]struct {
		data     []byte
		password string
		trusted  bool
		want     string
	}{
		"truncated PEM":    {good[:len(good)-40], "", false, "truncated"},
		"garbage":          {[]byte("hello, world"), "", false, "not a PEM, DER or PKCS#12"},
		"truncated DER":    {leaf.Raw[:len(leaf.Raw)/2], "", false, "not a PEM, DER or PKCS#12"},
		"truncated PFX":    {pfx[:len(pfx)/2], "right", false, "not a PEM, DER or PKCS#12"},
		"wrong password":   {pfx, "wrong", false, "wrong password"},
		"mismatched key":   {testpki.PEM(t, otherKey, leaf), "", false, "does not match"},
		"weak key":         {testpki.PEM(t, weak, weakLeaf), "", false, "too weak"},
		"key with trusted": {good, "", true, "--trusted"},
		"leaf as trusted":  {testpki.PEM(t, nil, leaf), "", true, "neither a CA nor self-signed"},
		"request":          {pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: []byte{1}}), "", false, "request"},
		"encrypted key":    {append(testpki.PEM(t, nil, leaf), pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}})...), "", false, "encrypted"},
		"no certificate":   {testpki.PEM(t, key), "", false, "no certificate"},
	} {
		s := openTestStore(t)
		before := storeFiles(t, s)
		_, err := s.Import(tc.data, tc.password, tc.trusted)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", name, err, tc.want)
			continue
		}
		if !strings.HasPrefix(err.Error(), "certs: ") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %q is not one line prefixed certs:", name, err)
		}
		if after := storeFiles(t, s); len(after) != len(before) {
			t.Errorf("%s: store changed: %v", name, after)
		}
	}
}

func TestRequestThenImportPairsPendingKey(t *testing.T) {
	s := openTestStore(t)
	der, err := s.NewRequest(RequestOptions{FQDN: "um1.example.com", SANs: []string{"um.example.com"}, KeyType: RSA2048})
	if err != nil {
		t.Fatal(err)
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := csr.CheckSignature(); err != nil {
		t.Fatal(err)
	}
	if csr.Subject.CommonName != "um1.example.com" || strings.Join(csr.DNSNames, ",") != "um1.example.com,um.example.com" {
		t.Errorf("CSR subject %s SANs %v", csr.Subject, csr.DNSNames)
	}
	var askedEKU bool
	for _, ext := range csr.Extensions {
		askedEKU = askedEKU || ext.Id.Equal(oidExtKeyUsage)
	}
	if !askedEKU {
		t.Error("the request does not ask for serverAuth and clientAuth")
	}
	if pending, _ := filepath.Glob(filepath.Join(s.Dir(), "pending", "*.key")); len(pending) != 1 {
		t.Fatalf("pending keys %v", pending)
	}

	// The CA signs the request; the issued certificate comes back without a key.
	ca := testpki.NewRootCA(t, "Test Root")
	issued := ca.Sign(t, testpki.Leaf{CN: csr.Subject.CommonName, DNS: csr.DNSNames}, csr.PublicKey)
	mustImport(t, s, testpki.PEM(t, nil, ca.Cert), "", true)
	res := mustImport(t, s, testpki.PEM(t, nil, issued), "", false)
	if len(res.Added) != 1 || res.Added[0].Key == nil || !strings.Contains(strings.Join(res.Notes, " "), "paired") {
		t.Fatalf("import of the issued certificate: %+v %v", res.Added, res.Notes)
	}
	c := mustLoad(t, s)
	if st := Evaluate(c, c.Personal[0], "um1.example.com", issued.NotBefore.Add(2*3600e9)); !st.Usable {
		t.Errorf("issued certificate not usable: %v", st.Reasons)
	}
	if pending, _ := filepath.Glob(filepath.Join(s.Dir(), "pending", "*.key")); len(pending) != 0 {
		t.Errorf("pending key left after pairing: %v", pending)
	}
}

// TestOpenSSLInterop imports what openssl makes (RSA and ECDSA, with an
// intermediate, PEM and PFX) and checks what openum exports with openssl.
func TestOpenSSLInterop(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	dir := t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("openssl", args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("ca.ext", "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n")
	write("leaf.ext", "subjectAltName=DNS:um1.example.com\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n")
	run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "root.key", "-out", "root.crt", "-days", "30", "-subj", "/CN=OpenSSL Root",
		"-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
	run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "inter.key", "-out", "inter.csr", "-subj", "/CN=OpenSSL Issuing CA")
	run("x509", "-req", "-in", "inter.csr", "-CA", "root.crt", "-CAkey", "root.key", "-CAcreateserial", "-out", "inter.crt", "-days", "30", "-extfile", "ca.ext")
	for _, alg := range []string{"rsa:2048", "ec"} {
		args := []string{"req", "-newkey", alg, "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=um1.example.com"}
		if alg == "ec" {
			args = append(args, "-pkeyopt", "ec_paramgen_curve:P-256")
		}
		run(args...)
		run("x509", "-req", "-in", "leaf.csr", "-CA", "inter.crt", "-CAkey", "inter.key", "-CAcreateserial", "-out", "leaf.crt", "-days", "20", "-extfile", "leaf.ext")
		run("pkcs12", "-export", "-in", "leaf.crt", "-inkey", "leaf.key", "-certfile", "inter.crt", "-out", "leaf.pfx", "-passout", "pass:pw")
		fingerprint := run("x509", "-in", "leaf.crt", "-noout", "-fingerprint", "-sha1")
		_, fp, _ := strings.Cut(strings.TrimSpace(fingerprint), "=")
		tp, err := ParseThumbprint(fp)
		if err != nil {
			t.Fatal(err)
		}
		for _, src := range []struct{ file, password string }{{"leaf.pfx", "pw"}, {"pem", ""}} {
			s := openTestStore(t)
			read := func(name string) []byte {
				b, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				return b
			}
			mustImport(t, s, read("root.crt"), "", true)
			var data []byte
			if src.file == "pem" {
				data = append(append(read("leaf.key"), read("inter.crt")...), read("leaf.crt")...)
			} else {
				data = read(src.file)
			}
			mustImport(t, s, data, src.password, false)
			c := mustLoad(t, s)
			sel := Select(c, Policy{FQDN: "um1.example.com", Now: c.Personal[0].X509.NotBefore.Add(3600e9)})
			if sel.Chosen == nil || sel.Chosen.Thumbprint != tp || sel.Chosen.Kind != PKI {
				t.Fatalf("%s %s: selection %+v", alg, src.file, sel)
			}
			for format, check := range map[Format][]string{
				FormatPEM: {"x509", "-in", "out.pem", "-noout", "-subject"},
				FormatDER: {"x509", "-inform", "DER", "-in", "out.der", "-noout", "-subject"},
				FormatPFX: {"pkcs12", "-info", "-in", "out.pfx", "-passin", "pass:pw2", "-nokeys"},
			} {
				out, err := s.Export(tp, format, "pw2")
				if err != nil {
					t.Fatal(err)
				}
				write("out."+string(format), string(out))
				run(check...)
			}
			if v := run("verify", "-CAfile", "root.crt", "-untrusted", "inter.crt", "out.pem"); !strings.Contains(v, "OK") {
				t.Errorf("openssl verify: %s", v)
			}
		}
	}
}
