package cli

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	"github.com/spf13/pflag"

	"github.com/openum/openum/internal/gcpolicy"
)

// gcPolicyInterval is how often openum serve's collector target follows
// what the server holds: calls come and go over seconds, not faster.
const gcPolicyInterval = time.Second

// applyGCPolicy sets the garbage collector's target: percent
// (--gc-percent) when given, else GOGC's when set (the runtime already
// follows it), else gcpolicy.Default's, which follows what the server
// holds until ctx is done.
func applyGCPolicy(ctx context.Context, flags *pflag.FlagSet, percent int) error {
	switch {
	case flags.Changed("gc-percent"):
		if percent < 1 {
			return fmt.Errorf("serve: --gc-percent %d: must be at least 1 (Go's GOGC; Go's own default is 100); leave --gc-percent out for openum's own target, which follows the calls in progress", percent)
		}
		debug.SetGCPercent(percent)
	case os.Getenv("GOGC") == "":
		go gcpolicy.Default.Run(ctx, gcPolicyInterval)
	}
	return nil
}
