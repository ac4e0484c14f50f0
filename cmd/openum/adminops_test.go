package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/openum/openum/internal/peertest"
)

// send returns the status and body of method path with token and a JSON
// body (each none when "").
func (c *adminClient) send(method, path, token, body string) (int, string) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	c.seen.Write(b)
	return res.StatusCode, string(b)
}

// remote runs openum with --server and the token of file against the
// admin API on port; it returns the output and whether it succeeded.
func (s *site) remote(port int, file string, args ...string) (string, bool) {
	s.t.Helper()
	// A data directory of its own: the remote CLI must not read the
	// server's directory.
	full := append([]string{"--data", s.path("workstation"), "--server", fmt.Sprintf("https://127.0.0.1:%d", port),
		"--token-file", file, "--ca", s.path("um.crt")}, args...)
	out, err := exec.Command(openumBin, full...).CombinedOutput()
	return string(out), err == nil
}

// mustRemote is remote with the readonly token, failing the test on an error.
func mustRemote(s *site, port int, args ...string) string {
	s.t.Helper()
	out, ok := s.remote(port, s.path("ro.token"), args...)
	if !ok {
		s.t.Errorf("openum --server %s: %s", strings.Join(args, " "), out)
	}
	return out
}

// The directory administered over the admin API of a running openum
// serve: a readonly token changes nothing; an admin token, through the
// remote command line, sets up a dial plan, its gateway, hunt group,
// policy and mailbox, and the server answers the next call with them,
// without a restart; the audit log names the token; a bad value is 400
// naming its field; the remote CLI prints what the local one does; no
// token in any log or answer.
func TestAdminAPIAdministersTheDirectory(t *testing.T) {
	s := newSite(t)
	s.gatewayPKI("baresip.localhost") // baresip wants its files even over TCP
	s.openum("server", "set", "--name", "localhost", "--rtp-port-range", mediaPorts)
	s.openum("cert", "new-self-signed", "--fqdn", "localhost", "--san", "127.0.0.1")
	s.openum("cert", "export", s.certificateInUse(), "--out", s.path("um.crt"))
	readonly, adminTok := s.newToken("auditor", "readonly"), s.newToken("ops-bot", "admin")
	for name, tok := range map[string]string{"ro.token": readonly, "admin.token": adminTok} {
		if err := os.WriteFile(s.path(name), []byte(tok+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	port := peertest.FreePort(t)
	tcpPort, _ := s.serve("--admin-listen", fmt.Sprintf("127.0.0.1:%d", port))
	c := s.adminClient(port)
	waitFor(t, func() bool { code, _ := c.get("/healthz", ""); return code == 200 })

	// readonly: 403 on a change, by the API and by the remote CLI, and
	// the directory as it was.
	auditBefore := s.openum("audit")
	if code, body := c.send("POST", "/api/v1/dialplan/OPEN", readonly, `{"number-of-digits-in-extension": 5}`); code != 403 || !strings.Contains(body, `"error"`) {
		t.Errorf("readonly POST dialplan: %d %s", code, body)
	}
	if out, ok := s.remote(port, s.path("ro.token"), "dialplan", "new", "OPEN", "--number-of-digits-in-extension", "5"); ok || !strings.Contains(out, "needs a token of the admin role") {
		t.Errorf("remote dialplan new with a readonly token: %v\n%s", ok, out)
	}
	if got := s.openum("audit"); got != auditBefore || strings.TrimSpace(s.openum("dialplan", "get", "--json")) != "[]" {
		t.Errorf("readonly requests changed the directory:\n%s", got)
	}

	// admin: what a call needs, through the remote command line.
	for _, args := range [][]string{
		{"dialplan", "new", "OPEN", "--number-of-digits-in-extension", "5"},
		{"gateway", "new", "PBX", "--address", "127.0.0.1"},
		{"huntgroup", "new", "HG1", "--gateway", "PBX", "--dialplan", "OPEN"},
		{"policy", "new", "P1", "--dialplan", "OPEN"},
		{"mailbox", "enable", "bob@example.test", "--dialplan", "OPEN", "--extension", "23456", "--pin", "918273"},
		{"server", "set", "localhost", "--dialplans", "OPEN"},
	} {
		if out, ok := s.remote(port, s.path("admin.token"), args...); !ok {
			t.Fatalf("remote %s: %s", strings.Join(args, " "), out)
		}
	}
	time.Sleep(3 * time.Second) // the server's watch reads the directory every second
	wav, _ := s.callerWAV(6)
	called := s.unsecuredCall(tcpPort, wav, 12)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("baresip's output:\n%s", called)
		}
	})
	if _, rec := s.voiceMessage("bob@example.test"); len(rec) == 0 {
		t.Error("the voice message holds no recording")
	}

	// The audit log names the token and what it asked, the PIN masked.
	audit := s.openum("audit")
	for _, want := range []string{"ops-bot", "admin API: dialplan new OPEN --number-of-digits-in-extension 5",
		"admin API: mailbox enable bob@example.test --dialplan OPEN --extension 23456 --pin ******"} {
		if !strings.Contains(audit, want) {
			t.Errorf("the audit log lacks %q:\n%s", want, audit)
		}
	}
	if remoteAudit, ok := s.remote(port, s.path("ro.token"), "audit"); !ok || remoteAudit != audit {
		t.Errorf("remote audit differs from the local one:\n%s\n---\n%s", remoteAudit, audit)
	}

	// A bad value: 400 naming the field, nothing written.
	code, body := c.send("POST", "/api/v1/dialplan/BAD", adminTok, `{"number-of-digits-in-extension": "five"}`)
	var refusal struct{ Error, Field string }
	if code != 400 || json.Unmarshal([]byte(body), &refusal) != nil || refusal.Field != "number-of-digits-in-extension" {
		t.Errorf("a bad value: %d %s", code, body)
	}
	if code, body := c.send("PATCH", "/api/v1/dialplan/OPEN", adminTok, `{"number-of-digits-in-extension": 30}`); code != 400 || !strings.Contains(body, `"field":"NumberOfDigitsInExtension"`) {
		t.Errorf("a value out of range: %d %s", code, body)
	}
	if got := s.openum("audit"); got != audit {
		t.Errorf("refused requests changed the directory")
	}

	// The remote CLI prints what the local one does.
	for _, args := range [][]string{{"dialplan", "get"}, {"dialplan", "get", "OPEN"}, {"--json", "mailbox", "get"}, {"server", "get", "localhost"}} {
		local := s.openum(args...)
		if remote, ok := s.remote(port, s.path("ro.token"), args...); !ok || remote != local {
			t.Errorf("openum --server %s:\n%s\nlocal:\n%s", strings.Join(args, " "), remote, local)
		}
	}
	// Without --ca: the local certificate store's trusted roots, else the
	// system's, which do not know the server.
	noCA := func(args ...string) (string, bool) {
		full := append([]string{"--data", s.path("workstation"), "--server", fmt.Sprintf("https://127.0.0.1:%d", port), "--token-file", s.path("ro.token")}, args...)
		out, err := exec.Command(openumBin, full...).CombinedOutput()
		return string(out), err == nil
	}
	if out, ok := noCA("dialplan", "get"); ok || !strings.Contains(out, "certificate") {
		t.Errorf("a server no root vouches for: %v\n%s", ok, out)
	}
	exec.Command(openumBin, "--data", s.path("workstation"), "cert", "import", s.path("um.crt"), "--trusted").Run()
	if out, ok := noCA("dialplan", "get"); !ok || out != s.openum("dialplan", "get") {
		t.Errorf("trusted by the local store: %v\n%s", ok, out)
	}

	// Refusals of the remote CLI: a token file others may read, a command
	// that works on the local directory only.
	_ = os.Chmod(s.path("ro.token"), 0o644)
	if out, ok := s.remote(port, s.path("ro.token"), "dialplan", "get"); ok || !strings.Contains(out, "readable by others") || strings.Contains(out, readonly) {
		t.Errorf("a token file of mode 0644: %v\n%s", ok, out)
	}
	if out, ok := s.remote(port, s.path("admin.token"), "dialplan", "test-number", "OPEN", "5551234"); ok || !strings.Contains(out, "works on the local directory only") {
		t.Errorf("dialplan test-number with --server: %v\n%s", ok, out)
	}

	// Dialing rules go through the API too: a readonly token adds none,
	// an admin's rule is audited with its name, and the lists print alike.
	rule := []string{"dialplan", "rule", "add", "OPEN", "--in-country", "--name", "Local", "--mask", "9xxxxxxx", "--dialed", "9xxxxxxx"}
	_ = os.Chmod(s.path("ro.token"), 0o600)
	if out, ok := s.remote(port, s.path("ro.token"), rule...); ok || !strings.Contains(out, "needs a token of the admin role") {
		t.Errorf("remote rule add with a readonly token: %v\n%s", ok, out)
	}
	if out, ok := s.remote(port, s.path("admin.token"), rule...); !ok || !strings.Contains(out, "9xxxxxxx") {
		t.Errorf("remote rule add: %v\n%s", ok, out)
	}
	for _, args := range [][]string{{"dialplan", "rule", "list", "OPEN"}, {"--json", "dialplan", "rule", "list", "OPEN", "--international"}} {
		if local, remote := s.openum(args...), mustRemote(s, port, args...); remote != local {
			t.Errorf("openum --server %s:\n%s\nlocal:\n%s", strings.Join(args, " "), remote, local)
		}
	}
	if audit := s.openum("audit"); !strings.Contains(audit, "admin API: dialplan rule add OPEN --in-country true --name Local --mask 9xxxxxxx --dialed 9xxxxxxx") {
		t.Errorf("the audit log lacks the remote rule add:\n%s", audit)
	}

	logs, _ := os.ReadFile(s.path("data/events.log"))
	for _, where := range []struct{ name, text string }{{"events.log", string(logs)}, {"audit", audit}, {"responses", c.seen.String()}, {"serve's output", s.served.String()}} {
		for _, secret := range []string{readonly, adminTok, "918273"} {
			if bytes.Contains([]byte(where.text), []byte(secret)) {
				t.Errorf("%s holds %.12s…", where.name, secret)
			}
		}
	}
}
