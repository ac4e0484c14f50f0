package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the scripts run the real command line as "openum", each
// invocation a separate process, as an administrator would.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"openum": func() { os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs testdata/script/*.txtar, each in a fresh data directory.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("OPENUM_DATA", filepath.Join(env.WorkDir, "data"))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"perm":  checkPerm,
			"sleep": sleep,
			"wav":   writeWAV,
			"logon": failLogons,
		},
	})
}

// checkPerm: perm MODE FILE fails unless FILE's permission bits are MODE (octal).
func checkPerm(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: perm MODE FILE")
	}
	want, err := strconv.ParseUint(args[0], 8, 32)
	ts.Check(err)
	info, err := os.Stat(ts.MkAbs(args[1]))
	ts.Check(err)
	got := info.Mode().Perm()
	if (uint64(got) == want) == neg {
		ts.Fatalf("%s has mode %s (%s), want %s%s", args[1], fmt.Sprintf("%04o", got), got, map[bool]string{true: "not ", false: ""}[neg], args[0])
	}
}

// sleep: sleep DURATION waits, for a background command to get going.
func sleep(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 || neg {
		ts.Fatalf("usage: sleep DURATION")
	}
	d, err := time.ParseDuration(args[0])
	ts.Check(err)
	time.Sleep(d)
}
