package cli

import (
	"context"
	"runtime/debug"
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
	debug.SetGCPercent(100)
	if err := applyGCPolicy(ctx, newFlags(), 0); err != nil {
		t.Fatal(err)
	}
	// This test process holds little: the policy's Max.
	for deadline := time.Now().Add(5 * time.Second); current() != gcpolicy.Default.Max; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("default: GC percent %d, want the policy's %d", current(), gcpolicy.Default.Max)
		}
	}
	cancel()
	time.Sleep(10 * time.Millisecond) // the policy's goroutine ends

	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	t.Setenv("GOGC", "150")
	debug.SetGCPercent(150) // as the runtime read it at start
	if err := applyGCPolicy(ctx, newFlags(), 0); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	if current() != 150 {
		t.Errorf("GOGC=150 and no flag: GC percent %d, want GOGC's", current())
	}
	if err := applyGCPolicy(ctx, newFlags("--gc-percent", "400"), 400); err != nil || current() != 400 {
		t.Errorf("--gc-percent 400 over GOGC: GC percent %d, %v; want 400", current(), err)
	}
	if err := applyGCPolicy(ctx, newFlags("--gc-percent", "0"), 0); err == nil {
		t.Error("--gc-percent 0 accepted")
	}
}
