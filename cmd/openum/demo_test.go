package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The README's first command works from a clean checkout and shows the
// directory it set up.
func TestReadmeDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	cmd := exec.Command("bash", filepath.Join("..", "..", "scripts", "demo.sh"))
	cmd.Env = append(cmd.Environ(), "OPENUM_DATA="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("demo.sh: %v\n%s", err, out)
	}
	// Tables pad with spaces: compare with runs of blanks folded.
	words := strings.Join(strings.Fields(string(out)), " ")
	for _, want := range []string{
		"VoIPSecurity : Secured",
		"PIN: ",
		"DP1 5 TelExtn Secured",
		"openum huntgroup new HG1 --gateway GW1 --dialplan DP1 --pilot-identifier 5000 huntgroup HG1 added",
		"demo: directory ready in ",
	} {
		if !strings.Contains(words, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
}
