package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openum/openum/internal/delivery"
	"github.com/openum/openum/internal/peertest"
)

// The commands in README.md and docs/ are run here, in order, so the docs
// cannot rot. Each ```sh block runs; ```text blocks are configuration shown,
// not run.

var shBlock = regexp.MustCompile("(?s)```sh\n(.*?)```")

func shBlocks(t *testing.T, doc string) []string {
	t.Helper()
	md, err := os.ReadFile(filepath.Join("..", "..", doc))
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	for _, m := range shBlock.FindAllStringSubmatch(string(md), -1) {
		blocks = append(blocks, m[1])
	}
	if len(blocks) == 0 {
		t.Fatalf("%s has no sh blocks", doc)
	}
	return blocks
}

// runScript runs script with bash in dir, openum (this build) first on PATH.
func runScript(t *testing.T, dir, script string, env ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), append([]string{"PATH=" + filepath.Dir(openumBin) + ":" + os.Getenv("PATH")}, env...)...)
	// A server the script leaves behind must not hold the test up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	t.Cleanup(func() {
		if cmd.Process != nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
	})
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n--- script\n%s\n--- output\n%s", err, script, out)
	}
	return string(out)
}

// The guide's ports (serve's 25060 and 25061, and the 25064 of baresip's
// configuration) become free ones, as in TestOperationsCommands: fixed, they met a port
// another package's tests had taken at that moment.
func TestGuideCommands(t *testing.T) {
	dir := t.TempDir()
	sip, baresip := peertest.FreePorts(t, 2), peertest.FreePorts(t, 2)
	ports := strings.NewReplacer("25060", strconv.Itoa(sip), "25061", strconv.Itoa(sip+1), "25064", strconv.Itoa(baresip))
	out := runScript(t, dir, ports.Replace(strings.Join(shBlocks(t, "docs/guide.md"), "\n")))
	for _, want := range []string{
		"VoIPSecurity                      : Secured",
		"EntireOperationSuccess: true",
		"started in secured mode", // events --id 1112
		"SRTP is Enabled",
		"refused: the trunk gateway has no FQDN",
		"chosen: the usable PKI certificate", // cert select after the PKI import
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the guide's commands did not show %q:\n%s", want, out)
		}
	}
	if mail, _ := filepath.Glob(filepath.Join(dir, "openum-data", "mail", delivery.MaildirName("alice@contoso.test"), "new", "*")); len(mail) != 1 {
		t.Errorf("the baresip example left %d voice messages; want 1", len(mail))
	}
}

// The README's commands, but for .ci/run, which CI itself runs.
func TestReadmeCommands(t *testing.T) {
	var script []string
	for _, b := range shBlocks(t, "README.md") {
		for _, line := range strings.Split(b, "\n") {
			if !strings.Contains(line, ".ci/run") {
				script = append(script, line)
			}
		}
	}
	repo, _ := filepath.Abs(filepath.Join("..", ".."))
	out := runScript(t, repo, strings.Join(script, "\n"), "OPENUM_DATA="+filepath.Join(t.TempDir(), "data"))
	if !strings.Contains(out, "Voice message delivered") {
		t.Errorf("the README's quickstart did not deliver a message:\n%s", out)
	}
}

// The operations guide's commands: its token commands on a site of its own,
// then its live API examples with curl against a running serve, on a free
// port where the guide says 8443. Every curl is bounded: the event stream
// (follow=1) runs until its time is up, which counts as success.
func TestOperationsCommands(t *testing.T) {
	blocks := shBlocks(t, "docs/operations.md")
	if len(blocks) != 2 {
		t.Fatalf("docs/operations.md has %d sh blocks; this test knows 2 (tokens, live API)", len(blocks))
	}
	s := newSite(t)
	data := "OPENUM_DATA=" + s.data
	out := runScript(t, s.dir, blocks[0]+"\nopenum admin token list\n", data)
	if listed, after, removed := strings.Cut(out, "removed admin token prometheus"); !removed || !strings.Contains(listed, "prometheus  readonly") || strings.Contains(after, "prometheus") {
		t.Errorf("the token commands: list shows prometheus until it is removed:\n%s", out)
	}
	if tok := strings.TrimSpace(readFile(t, s.path("prometheus.token"))); !strings.HasPrefix(tok, "oum_") || len(tok) != 47 {
		t.Errorf("prometheus.token holds %q; want the token alone", tok)
	}

	s.openum("server", "set", "--name", "localhost")
	s.openum("cert", "new-self-signed", "--fqdn", "localhost", "--san", "127.0.0.1")
	s.openum("cert", "export", s.certificateInUse(), "--out", s.path("um.crt"))
	if err := os.WriteFile(s.path("ops.token"), []byte(s.newToken("ops", "operator")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	port := peertest.FreePort(t)
	s.serve("--admin-listen", fmt.Sprintf("127.0.0.1:%d", port))
	c := s.adminClient(port)
	waitFor(t, func() bool { code, _ := c.get("/healthz", ""); return code == 200 })
	bounded := `curl() { command curl --fail --max-time 3 "$@" || [ $? -eq 28 ]; }` + "\n"
	live := strings.ReplaceAll(blocks[1], "127.0.0.1:8443", fmt.Sprintf("127.0.0.1:%d", port))
	if out := runScript(t, s.dir, bounded+live); !strings.Contains(out, `"Status":"NoNewCalls"`) || !strings.Contains(out, `"Drained":true`) {
		t.Errorf("the live API examples: the drain's answer is missing:\n%s", out)
	}
}
