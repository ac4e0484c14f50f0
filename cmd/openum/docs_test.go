package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openum/openum/internal/delivery"
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

func TestGuideCommands(t *testing.T) {
	dir := t.TempDir()
	out := runScript(t, dir, strings.Join(shBlocks(t, "docs/guide.md"), "\n"))
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
