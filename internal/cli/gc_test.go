package cli

import (
	"context"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/openum/openum/internal/gcpolicy"
)

func TestApplyGCPolicy(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	newFlags := func(args ...string) *pflag.FlagSet {
		f := pflag.NewFlagSet("serve", pflag.ContinueOnError)
		f.Int("gc-percent", 0, "")
		if err := f.Parse(args); err != nil {
			t.Fatal(err)
		}
		return f
	}
	current := func() int { p := debug.SetGCPercent(100); debug.SetGCPercent(p); return p }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	t.Setenv("GOGC", "")
	// 37 is no value of the policy's (below its Min, not a multiple of
	// 10): the policy has taken over once the target is one of its own.
	// Which one depends on what the test process holds, others running.
	debug.SetGCPercent(37)
	if err := applyGCPolicy(ctx, newFlags(), 0); err != nil {
		t.Fatal(err)
	}
	ofPolicy := func(p int) bool { return p >= gcpolicy.Default.Min && p <= gcpolicy.Default.Max && p%10 == 0 }
	for deadline := time.Now().Add(5 * time.Second); !ofPolicy(current()); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("default: GC percent %d, want one of the policy's (%d to %d)", current(), gcpolicy.Default.Min, gcpolicy.Default.Max)
		}
	}
	cancel()
	time.Sleep(10 * time.Millisecond) // the policy's goroutine ends

	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	// 155, not a multiple of 10: no value the policy could have set.
	t.Setenv("GOGC", "155")
	debug.SetGCPercent(155) // as the runtime read it at start
	if err := applyGCPolicy(ctx, newFlags(), 0); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	if current() != 155 {
		t.Errorf("GOGC=155 and no flag: GC percent %d, want GOGC's", current())
	}
	if err := applyGCPolicy(ctx, newFlags("--gc-percent", "400"), 400); err != nil || current() != 400 {
		t.Errorf("--gc-percent 400 over GOGC: GC percent %d, %v; want 400", current(), err)
	}
	if err := applyGCPolicy(ctx, newFlags("--gc-percent", "0"), 0); err == nil || !strings.Contains(err.Error(), "leave --gc-percent out") {
		t.Errorf("--gc-percent 0: %v; want it refused, saying how to get openum's own target", err)
	}
}
