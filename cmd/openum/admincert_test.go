package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/openum/openum/internal/peertest"
)

// The certificate store administered over the admin API of a running
// openum serve by the remote command line: a readonly token changes
// nothing; an admin token imports an openssl-made CA into the trusted
// store, which the local openum cert get --trusted then shows; the remote
// cert get, get --trusted and select print what the local ones print; a
// private key is not exported over the API; no key or token in any answer
// or in events.log.
func TestAdminAPICertificates(t *testing.T) {
	s := newSite(t)
	s.gatewayPKI("gw.localhost") // ca.crt, an openssl-made CA
	s.openum("server", "set", "--name", "localhost")
	s.openum("cert", "new-self-signed", "--fqdn", "localhost", "--san", "127.0.0.1")
	inUse := s.certificateInUse()
	s.openum("cert", "export", inUse, "--out", s.path("um.crt"))
	readonly, adminTok := s.newToken("auditor", "readonly"), s.newToken("cert-bot", "admin")
	for name, tok := range map[string]string{"ro.token": readonly, "admin.token": adminTok} {
		if err := os.WriteFile(s.path(name), []byte(tok+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	port := peertest.FreePort(t)
	s.serve("--admin-listen", fmt.Sprintf("127.0.0.1:%d", port))
	c := s.adminClient(port)
	waitFor(t, func() bool { code, _ := c.get("/healthz", ""); return code == 200 })

	// cert import's --ca is a trust, which hides the remote --ca FILE:
	// --server-ca names that file there.
	importCA := func(token string) (string, bool) {
		out, err := exec.Command(openumBin, "--data", s.path("workstation"), "--server", fmt.Sprintf("https://127.0.0.1:%d", port),
			"--token-file", s.path(token), "--server-ca", s.path("um.crt"), "cert", "import", s.path("ca.crt"), "--trusted", "--ca").CombinedOutput()
		return string(out), err == nil
	}
	trustedBefore := s.openum("cert", "get", "--trusted")
	if out, ok := importCA("ro.token"); ok || !strings.Contains(out, "needs a token of the admin role") {
		t.Errorf("remote cert import with a readonly token: %v\n%s", ok, out)
	}
	for _, args := range [][]string{
		{"cert", "new-self-signed", "--fqdn", "localhost"},
		{"cert", "request", "--out", s.path("um.csr")},
		{"cert", "remove", inUse, "--force"},
	} {
		if out, ok := s.remote(port, s.path("ro.token"), args...); ok || !strings.Contains(out, "needs a token of the admin role") {
			t.Errorf("remote %s with a readonly token: %v\n%s", strings.Join(args, " "), ok, out)
		}
	}
	if got := s.openum("cert", "get", "--trusted"); got != trustedBefore {
		t.Errorf("readonly requests changed the trusted store:\n%s", got)
	}

	out, ok := importCA("admin.token")
	if !ok || !strings.Contains(out, "into the trusted store as a CA") {
		t.Fatalf("remote cert import --trusted --ca: %v\n%s", ok, out)
	}
	caThumbprint := strings.Fields(out)[1]
	if local := s.openum("cert", "get", "--trusted"); !strings.Contains(local, caThumbprint) || !strings.Contains(local, "CN=Gateway CA") {
		t.Errorf("local cert get --trusted after the remote import:\n%s", local)
	}

	for _, args := range [][]string{{"cert", "get"}, {"cert", "get", "--trusted"}, {"cert", "get", inUse}, {"cert", "select"}, {"--json", "cert", "get"}} {
		local := s.openum(args...)
		if remote, ok := s.remote(port, s.path("ro.token"), args...); !ok || remote != local {
			t.Errorf("openum --server %s:\n%s\nlocal:\n%s", strings.Join(args, " "), remote, local)
		}
	}

	// A public certificate comes over; a private key does not.
	if out, ok := s.remote(port, s.path("ro.token"), "cert", "export", inUse, "--out", s.path("remote.crt")); !ok {
		t.Errorf("remote cert export: %s", out)
	} else if got, want := readFile(t, s.path("remote.crt")), readFile(t, s.path("um.crt")); got != want {
		t.Errorf("the remote export differs from the local one")
	}
	out, ok = s.remote(port, s.path("admin.token"), "cert", "export", inUse, "--format", "pfx", "--password", "pfx-pass-4412", "--out", s.path("um.pfx"))
	if ok || !strings.Contains(out, "private key is not exported over the admin API") {
		t.Errorf("remote cert export --format pfx: %v\n%s", ok, out)
	}
	if _, err := os.Stat(s.path("um.pfx")); err == nil {
		t.Error("the refused PFX export wrote a file")
	}

	logs := readFile(t, s.path("data/events.log"))
	if !strings.Contains(logs, `"User":"cert-bot"`) || !strings.Contains(logs, "admin API: cert import --trusted true --ca true") {
		t.Errorf("events.log lacks the import by cert-bot")
	}
	for _, where := range []struct{ name, text string }{{"events.log", logs}, {"responses", c.seen.String()}, {"serve's output", s.served.String()}} {
		for _, secret := range []string{readonly, adminTok, "PRIVATE KEY", "pfx-pass-4412"} {
			if strings.Contains(where.text, secret) {
				t.Errorf("%s holds %.12s…", where.name, secret)
			}
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
