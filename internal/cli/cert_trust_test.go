package cli_test

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// opensslCert makes a self-signed certificate with openssl's defaults
// (CA:TRUE) and the extensions given, into dir/name.cer.
func opensslCert(t *testing.T, dir, name, subject string, ext ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := []string{"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
		"-subj", subject, "-keyout", name + ".key", "-out", name + ".cer"}
	for _, e := range ext {
		args = append(args, "-addext", e)
	}
	cmd := exec.CommandContext(ctx, "openssl", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openssl: %v\n%s", err, out)
	}
	return filepath.Join(dir, name+".cer")
}

// trustOf returns the Trust "cert get --trusted --json" shows, by thumbprint.
func trustOf(t *testing.T, data string) map[string]string {
	t.Helper()
	var views []struct{ Thumbprint, Trust string }
	if err := json.Unmarshal([]byte(ok(t, data, "cert", "get", "--trusted", "--json")), &views); err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, v := range views {
		m[v.Thumbprint] = v.Trust
	}
	return m
}

// cert import --trusted trusts a CA as a CA and a gateway's self-signed
// certificate, CA:TRUE as openssl makes it, as pinned; --ca and --pinned
// say otherwise; cert get --trusted shows which is which (SPEC PEER-2).
func TestCertImportTrustedCAOrPinned(t *testing.T) {
	data := newData(t)
	dir := t.TempDir()
	ca := opensslCert(t, dir, "ca", "/CN=Contoso Root CA")
	gw := opensslCert(t, dir, "gw1", "/CN=gw1.contoso.test", "subjectAltName=DNS:gw1.contoso.test", "extendedKeyUsage=serverAuth,clientAuth")
	leaf := opensslCert(t, dir, "leaf", "/CN=gw2.contoso.test", "basicConstraints=critical,CA:FALSE")

	out := ok(t, data, "cert", "import", ca, "--trusted")
	caTP := regexp.MustCompile(`imported ([0-9A-F]{40}) into the trusted store as a CA`).FindStringSubmatch(out)
	if caTP == nil {
		t.Fatalf("import of the CA: %s", out)
	}
	out = ok(t, data, "cert", "import", gw, "--trusted")
	gwTP := regexp.MustCompile(`imported ([0-9A-F]{40}) into the trusted store as a pinned peer certificate`).FindStringSubmatch(out)
	if gwTP == nil || !strings.Contains(out, "--trusted --ca") {
		t.Fatalf("import of the gateway's certificate: %s", out)
	}
	if got := trustOf(t, data); got[caTP[1]] != "CA" || got[gwTP[1]] != "Pinned" {
		t.Errorf("cert get --trusted: %v", got)
	}
	table := ok(t, data, "cert", "get", "--trusted")
	if !regexp.MustCompile(`(?m)^Thumbprint .* Trust$`).MatchString(table) ||
		!regexp.MustCompile(`(?m)^`+caTP[1]+` .* CA$`).MatchString(table) ||
		!regexp.MustCompile(`(?m)^`+gwTP[1]+` .* Pinned$`).MatchString(table) {
		t.Errorf("cert get --trusted has no Trust column saying CA and Pinned:\n%s", table)
	}
	if one := ok(t, data, "cert", "get", gwTP[1], "--trusted"); !regexp.MustCompile(`Trust +: Pinned`).MatchString(one) {
		t.Errorf("cert get %s --trusted:\n%s", gwTP[1], one)
	}

	// The administrator's word wins, and is kept.
	ok(t, data, "cert", "import", gw, "--trusted", "--ca")
	ok(t, data, "cert", "import", ca, "--trusted", "--pinned")
	if got := trustOf(t, data); got[caTP[1]] != "Pinned" || got[gwTP[1]] != "CA" {
		t.Errorf("after --ca and --pinned: %v", got)
	}

	before := storeFiles(t, data)
	fails(t, data, "add --trusted", "cert", "import", ca, "--ca")
	fails(t, data, "exclude each other", "cert", "import", ca, "--trusted", "--ca", "--pinned")
	fails(t, data, "cannot be trusted as a CA: its basic constraints do not make it a CA", "cert", "import", leaf, "--trusted", "--ca")
	if after := storeFiles(t, data); len(after) != len(before) {
		t.Errorf("refused imports changed the store: %v, then %v", before, after)
	}
}
