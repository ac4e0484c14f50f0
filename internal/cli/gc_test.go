package cli

import (
	"runtime/debug"
	"testing"

	"github.com/spf13/pflag"
)

func TestApplyGCPercent(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	newFlags := func(args ...string) *pflag.FlagSet {
		f := pflag.NewFlagSet("serve", pflag.ContinueOnError)
		f.Int("gc-percent", defaultGCPercent, "")
		if err := f.Parse(args); err != nil {
			t.Fatal(err)
		}
		return f
	}
	current := func() int { p := debug.SetGCPercent(100); debug.SetGCPercent(p); return p }

	t.Setenv("GOGC", "")
	if err := applyGCPercent(newFlags(), defaultGCPercent); err != nil || current() != defaultGCPercent {
		t.Errorf("default: GC percent %d, %v; want %d", current(), err, defaultGCPercent)
	}
	t.Setenv("GOGC", "150")
	debug.SetGCPercent(150) // as the runtime read it at start
	if err := applyGCPercent(newFlags(), defaultGCPercent); err != nil || current() != 150 {
		t.Errorf("GOGC=150 and no flag: GC percent %d, %v; want GOGC's", current(), err)
	}
	if err := applyGCPercent(newFlags("--gc-percent", "400"), 400); err != nil || current() != 400 {
		t.Errorf("--gc-percent 400 over GOGC: GC percent %d, %v; want 400", current(), err)
	}
	if err := applyGCPercent(newFlags("--gc-percent", "0"), 0); err == nil {
		t.Error("--gc-percent 0 accepted")
	}
}
