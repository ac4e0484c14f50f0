package cli_test

import (
	"bytes"
	"crypto"
	"crypto/sha1"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/openum/openum/internal/cli"
	"github.com/openum/openum/internal/peertest"
	"github.com/openum/openum/internal/testpki"
)

// openum runs the command line on data and returns its exit code, stdout
// and stderr.
func openum(t *testing.T, data string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.Main(append([]string{"--data", data}, args...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// ok runs the command line and fails the test unless it succeeds.
func ok(t *testing.T, data string, args ...string) string {
	t.Helper()
	code, out, errOut := openum(t, data, args...)
	if code != 0 {
		t.Fatalf("openum %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// fails runs the command line and checks that it fails with one line on
// stderr containing want.
func fails(t *testing.T, data, want string, args ...string) {
	t.Helper()
	code, _, errOut := openum(t, data, args...)
	if code != 1 {
		t.Errorf("openum %s: exit %d, want 1", strings.Join(args, " "), code)
	}
	if !strings.HasPrefix(errOut, "openum: ") || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, want) {
		t.Errorf("openum %s: stderr %q, want one line with %q", strings.Join(args, " "), errOut, want)
	}
}

// newData returns a data directory whose server is um1.example.com.
func newData(t *testing.T) string {
	t.Helper()
	data := filepath.Join(t.TempDir(), "data")
	ok(t, data, "server", "set", "--name", "um1.example.com")
	return data
}

type certJSON struct {
	Thumbprint       string
	Subject          string
	Kind             string
	HasPrivateKey    bool
	Usable           *bool
	NotUsableBecause []string
	InUse            bool
}

func getCerts(t *testing.T, data string, args ...string) []certJSON {
	t.Helper()
	var out []certJSON
	if err := json.Unmarshal([]byte(ok(t, data, append([]string{"cert", "get", "--json"}, args...)...)), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// storeFiles lists the files under data/certs.
func storeFiles(t *testing.T, data string) []string {
	t.Helper()
	var files []string
	_ = filepath.WalkDir(filepath.Join(data, "certs"), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, path)
		}
		return nil
	})
	return files
}

// writePEM writes certs and, when not nil, key to path as PEM.
func writePEM(t *testing.T, path string, key crypto.Signer, certs ...*x509.Certificate) string {
	t.Helper()
	if err := os.WriteFile(path, testpki.PEM(t, key, certs...), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCertNewSelfSignedGetSelect(t *testing.T) {
	data := newData(t)
	out := regexp.MustCompile(` +: `).ReplaceAllString(ok(t, data, "cert", "new-self-signed", "--san", "um.example.com", "--key-type", "rsa2048"), ": ")
	for _, want := range []string{"Subject: CN=um1.example.com", "Kind: SelfSigned", "EKU: serverAuth, clientAuth", "HasPrivateKey: true", "Usable: true", "InUse: true", "Names: um1.example.com, um.example.com"} {
		if !strings.Contains(out, want) {
			t.Errorf("new-self-signed output lacks %q:\n%s", want, out)
		}
	}
	list := getCerts(t, data)
	if len(list) != 1 || !*list[0].Usable || !list[0].InUse || list[0].Kind != "SelfSigned" {
		t.Fatalf("cert get: %+v", list)
	}
	tp := list[0].Thumbprint
	peertest.CheckPerm(t, filepath.Join(data, "certs", "personal", tp+".key"), 0o600)
	sel := ok(t, data, "cert", "select")
	if !strings.Contains(sel, "In use:      "+tp) || !strings.Contains(sel, "self-signed one with the longest time to expiry") {
		t.Errorf("cert select:\n%s", sel)
	}
	if ev := ok(t, data, "events", "--id", "9108"); !strings.Contains(ev, tp) {
		t.Errorf("no store-change event:\n%s", ev)
	}
	// --fqdn for another name makes a certificate this server cannot use.
	ok(t, data, "cert", "new-self-signed", "--fqdn", "other.example.com", "--days", "10")
	for _, c := range getCerts(t, data) {
		if c.Subject == "CN=other.example.com" && (*c.Usable || !strings.Contains(strings.Join(c.NotUsableBecause, ";"), "name does not match")) {
			t.Errorf("other name: %+v", c)
		}
	}
}

func TestCertImportPKIWinsAndSelectExplains(t *testing.T) {
	data := newData(t)
	dir := t.TempDir()
	ca := testpki.NewRootCA(t, "Test Root")
	key := testpki.NewKey(t, false)
	leaf := ca.Sign(t, testpki.Leaf{CN: "um1.example.com"}, key.Public())
	ok(t, data, "cert", "new-self-signed")
	out := ok(t, data, "cert", "import", writePEM(t, filepath.Join(dir, "root.pem"), nil, ca.Cert), "--trusted")
	if !strings.Contains(out, "into the trusted store") {
		t.Errorf("import --trusted: %s", out)
	}
	out = ok(t, data, "cert", "import", writePEM(t, filepath.Join(dir, "leaf.pem"), key, ca.Cert, leaf))
	if !strings.Contains(out, "into the personal store") || !strings.Contains(out, "skipped root CA") {
		t.Errorf("import: %s", out)
	}
	sel := ok(t, data, "cert", "select")
	tp := strings.ToUpper(leafThumbprint(leaf))
	for _, want := range []string{"In use:      " + tp, "the usable PKI certificate with the longest time to expiry", "usable, but a PKI certificate is preferred to a self-signed one"} {
		if !strings.Contains(sel, want) {
			t.Errorf("cert select lacks %q:\n%s", want, sel)
		}
	}
	var js struct {
		Chosen     struct{ Thumbprint, Kind string }
		Candidates []struct{ Thumbprint, Verdict string }
	}
	if err := json.Unmarshal([]byte(ok(t, data, "cert", "select", "--json")), &js); err != nil {
		t.Fatal(err)
	}
	if js.Chosen.Thumbprint != tp || js.Chosen.Kind != "PKI" || len(js.Candidates) != 2 {
		t.Errorf("select --json: %+v", js)
	}
	trusted := getCerts(t, data, "--trusted")
	if len(trusted) != 1 || trusted[0].Subject != "CN=Test Root" || trusted[0].Usable != nil {
		t.Errorf("cert get --trusted: %+v", trusted)
	}
	// The root the certificate in use chains to is not removed by mistake.
	fails(t, data, "chains through", "cert", "remove", trusted[0].Thumbprint, "--trusted")
	// A certificate lacking clientAuth is imported but not usable, and says why.
	key2 := testpki.NewKey(t, false)
	srvOnly := ca.Sign(t, testpki.Leaf{CN: "um1.example.com", EKU: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, key2.Public())
	ok(t, data, "cert", "import", writePEM(t, filepath.Join(dir, "srv.pem"), key2, srvOnly))
	out = ok(t, data, "cert", "get", leafThumbprint(srvOnly))
	if !strings.Contains(out, "EKU lacks clientAuth") {
		t.Errorf("cert get of a serverAuth-only certificate:\n%s", out)
	}
}

func leafThumbprint(c *x509.Certificate) string {
	sum := sha1Sum(c.Raw)
	return strings.ToUpper(sum)
}

func TestCertBadInputFailsCleanly(t *testing.T) {
	data := newData(t)
	dir := t.TempDir()
	ok(t, data, "cert", "new-self-signed")
	inUse := getCerts(t, data)[0].Thumbprint
	ca := testpki.NewRootCA(t, "Test Root")
	key, other := testpki.NewKey(t, false), testpki.NewKey(t, false)
	leaf := ca.Sign(t, testpki.Leaf{CN: "um1.example.com"}, key.Public())
	good := writePEM(t, filepath.Join(dir, "good.pem"), key, leaf)
	goodBytes, _ := os.ReadFile(good)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	truncated := write("truncated.pem", goodBytes[:len(goodBytes)-50])
	corrupt := write("corrupt.der", []byte("\x30\x82\x01\x00garbage"))
	mismatched := writePEM(t, filepath.Join(dir, "mismatch.pem"), other, leaf)
	pfx, err := pkcs12.Modern.Encode(key, leaf, nil, "right")
	if err != nil {
		t.Fatal(err)
	}
	pfxFile := write("good.pfx", pfx)
	unknown := strings.Repeat("AB", 20)

	before := storeFiles(t, data)
	for _, tc := range []struct {
		want string
		args []string
	}{
		{"truncated", []string{"cert", "import", truncated}},
		{"not a PEM, DER or PKCS#12", []string{"cert", "import", corrupt}},
		{"does not match", []string{"cert", "import", mismatched}},
		{"wrong password", []string{"cert", "import", pfxFile, "--password", "wrong"}},
		{"no such file", []string{"cert", "import", filepath.Join(dir, "missing.pem")}},
		{"unsupported key type", []string{"cert", "new-self-signed", "--key-type", "dsa1024"}},
		{"unsupported key type", []string{"cert", "request", "--key-type", "ed448", "--out", filepath.Join(dir, "x.csr")}},
		{"is not a thumbprint", []string{"cert", "get", "XYZ"}},
		{"no certificate with thumbprint " + unknown, []string{"cert", "get", unknown}},
		{"no certificate with thumbprint " + unknown, []string{"cert", "export", unknown, "--out", filepath.Join(dir, "x.pem")}},
		{"no certificate with thumbprint " + unknown, []string{"cert", "remove", unknown}},
		{"needs a password", []string{"cert", "export", inUse, "--out", filepath.Join(dir, "x.pfx"), "--format", "pfx"}},
		{"unsupported format", []string{"cert", "export", inUse, "--out", filepath.Join(dir, "x.p7b"), "--format", "p7b"}},
		{"does not exist", []string{"cert", "export", inUse, "--out", filepath.Join(dir, "nodir", "x.pem")}},
		{"is the one in use", []string{"cert", "remove", inUse}},
		{"--trusted takes certificates only", []string{"cert", "import", good, "--trusted"}},
	} {
		fails(t, data, tc.want, tc.args...)
	}
	if after := storeFiles(t, data); !slices.Equal(before, after) {
		t.Errorf("the store changed:\nbefore %v\nafter  %v", before, after)
	}
	for _, name := range []string{"x.pem", "x.pfx", "x.p7b", "x.csr"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			t.Errorf("%s was written by a failed command", name)
		}
	}
	// The private key is never printed, whatever the command.
	for _, args := range [][]string{{"cert", "get"}, {"cert", "get", inUse}, {"cert", "select", "--json"}, {"events", "--json"}} {
		if out := ok(t, data, args...); strings.Contains(out, "PRIVATE KEY") || strings.Contains(out, "\"D\"") {
			t.Errorf("%v printed key material", args)
		}
	}
	// --force removes even the certificate in use.
	ok(t, data, "cert", "remove", inUse, "--force")
	if len(getCerts(t, data)) != 0 {
		t.Error("remove --force left the certificate")
	}
}

func TestServerSetCertificateThumbprint(t *testing.T) {
	data := newData(t)
	ok(t, data, "cert", "new-self-signed", "--days", "400")
	ok(t, data, "cert", "new-self-signed", "--days", "100")
	ok(t, data, "cert", "new-self-signed", "--fqdn", "other.example.com")
	var longer, shorter, wrongName string
	for _, c := range getCerts(t, data) {
		switch {
		case c.Subject == "CN=other.example.com":
			wrongName = c.Thumbprint
		case c.InUse:
			longer = c.Thumbprint
		default:
			shorter = c.Thumbprint
		}
	}
	fails(t, data, "name does not match the server FQDN", "server", "set", "--certificate-thumbprint", wrongName)
	fails(t, data, "no certificate with thumbprint", "server", "set", "--certificate-thumbprint", strings.Repeat("0", 40))
	fails(t, data, "not a thumbprint", "server", "set", "--certificate-thumbprint", "12:34")
	// Pasted in lower case with colons, as openssl prints it.
	var pasted []string
	for i := 0; i < len(shorter); i += 2 {
		pasted = append(pasted, strings.ToLower(shorter[i:i+2]))
	}
	out := ok(t, data, "server", "set", "--certificate-thumbprint", strings.Join(pasted, ":"))
	if !regexp.MustCompile(`CertificateThumbprint +: ` + shorter).MatchString(out) {
		t.Errorf("server set output:\n%s", out)
	}
	sel := ok(t, data, "cert", "select")
	if !strings.Contains(sel, "In use:      "+shorter) || !strings.Contains(sel, "pinned by the administrator") || !strings.Contains(sel, "usable, but another certificate is pinned") {
		t.Errorf("cert select with a pin:\n%s", sel)
	}
	fails(t, data, "is the one in use", "cert", "remove", shorter)
	ok(t, data, "cert", "remove", longer) // no longer in use: allowed
	// Unpinning lets the server choose again.
	ok(t, data, "server", "set", "--certificate-thumbprint", "")
	if sel := ok(t, data, "cert", "select"); strings.Contains(sel, "Pinned") {
		t.Errorf("still pinned:\n%s", sel)
	}
}

func TestCertRequestThenImport(t *testing.T) {
	data := newData(t)
	dir := t.TempDir()
	csrFile := filepath.Join(dir, "um1.csr")
	out := ok(t, data, "cert", "request", "--san", "um.example.com", "--out", csrFile)
	if !strings.Contains(out, "um1.example.com") {
		t.Errorf("request output: %s", out)
	}
	b, err := os.ReadFile(csrFile)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		t.Fatalf("not a PEM request:\n%s", b)
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil || csr.CheckSignature() != nil {
		t.Fatalf("request: %v", err)
	}
	if !slices.Equal(csr.DNSNames, []string{"um1.example.com", "um.example.com"}) {
		t.Errorf("request SANs %v", csr.DNSNames)
	}
	ca := testpki.NewRootCA(t, "Test Root")
	issued := ca.Sign(t, testpki.Leaf{CN: "um1.example.com"}, csr.PublicKey)
	ok(t, data, "cert", "import", writePEM(t, filepath.Join(dir, "ca.pem"), nil, ca.Cert), "--trusted")
	out = ok(t, data, "cert", "import", writePEM(t, filepath.Join(dir, "issued.pem"), nil, issued))
	if !strings.Contains(out, "paired") {
		t.Errorf("import of the issued certificate: %s", out)
	}
	list := getCerts(t, data)
	if len(list) != 1 || !list[0].HasPrivateKey || !*list[0].Usable || list[0].Kind != "PKI" {
		t.Errorf("after pairing: %+v", list)
	}
	ok(t, data, "cert", "request", "--der", "--fqdn", "um2.example.com", "--out", filepath.Join(dir, "um2.der"))
	if b, _ := os.ReadFile(filepath.Join(dir, "um2.der")); func() error { _, err := x509.ParseCertificateRequest(b); return err }() != nil {
		t.Error("--der did not write a DER request")
	}
}

func TestCertExportFormats(t *testing.T) {
	data := newData(t)
	dir := t.TempDir()
	ok(t, data, "cert", "new-self-signed")
	tp := getCerts(t, data)[0].Thumbprint
	ok(t, data, "cert", "export", tp, "--out", filepath.Join(dir, "c.pem"))
	ok(t, data, "cert", "export", tp, "--out", filepath.Join(dir, "c.der"), "--format", "der")
	const password = "Sekr1t-PFX-pass"
	ok(t, data, "cert", "export", tp, "--out", filepath.Join(dir, "c.pfx"), "--format", "pfx", "--password", password)
	pemBytes, _ := os.ReadFile(filepath.Join(dir, "c.pem"))
	derBytes, _ := os.ReadFile(filepath.Join(dir, "c.der"))
	block, _ := pem.Decode(pemBytes)
	if block == nil || !bytes.Equal(block.Bytes, derBytes) || bytes.Contains(pemBytes, []byte("PRIVATE")) {
		t.Error("PEM and DER exports differ or hold a key")
	}
	pfx, _ := os.ReadFile(filepath.Join(dir, "c.pfx"))
	key, cert, err := pkcs12.Decode(pfx, password)
	if err != nil || key == nil || leafThumbprint(cert) != tp {
		t.Errorf("PFX: %v", err)
	}
	peertest.CheckPerm(t, filepath.Join(dir, "c.pfx"), 0o600)
	// What was exported imports into another server.
	other := newData(t)
	out := ok(t, other, "cert", "import", filepath.Join(dir, "c.pfx"), "--password", password)
	if !strings.Contains(out, tp) {
		t.Errorf("PFX import: %s", out)
	}
	if ev := ok(t, other, "events", "--json"); !strings.Contains(ev, "--password ******") || strings.Contains(ev, password) {
		t.Errorf("the event of the PFX import does not mask the password:\n%s", ev)
	}
	ok(t, other, "cert", "import", filepath.Join(dir, "c.der"), "--trusted")
	if trusted := getCerts(t, other, "--trusted"); len(trusted) != 1 || trusted[0].Thumbprint != tp {
		t.Errorf("trusted after DER import: %+v", trusted)
	}
}

func TestEventsCommand(t *testing.T) {
	data := newData(t)
	if out := ok(t, data, "events"); strings.Count(out, "\n") != 1 {
		t.Errorf("events of an empty log:\n%s", out)
	}
	ok(t, data, "cert", "new-self-signed")
	ok(t, data, "cert", "new-self-signed", "--fqdn", "um2.example.com")
	out := ok(t, data, "events")
	if strings.Count(out, "9108") != 2 || !strings.Contains(out, "Information") {
		t.Errorf("events:\n%s", out)
	}
	var recs []struct {
		EventID int
		Level   string
		Attrs   map[string]any
	}
	if err := json.Unmarshal([]byte(ok(t, data, "events", "--id", "9108", "--since", "1h", "--json")), &recs); err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].EventID != 9108 || recs[0].Attrs["Thumbprint"] == nil {
		t.Errorf("events --json: %+v", recs)
	}
	if out := ok(t, data, "events", "--id", "1114"); strings.Count(out, "\n") != 1 {
		t.Errorf("events --id 1114:\n%s", out)
	}
	if out := ok(t, data, "events", "--since", "0s", "--json"); strings.TrimSpace(out) != "[]" {
		t.Errorf("events --since 0s: %s", out)
	}
	ok(t, data, "events", "--since", "7d")
	fails(t, data, "not a duration", "events", "--since", "yesterday")
}

func sha1Sum(b []byte) string {
	sum := sha1.Sum(b)
	return hex.EncodeToString(sum[:])
}
