package cli

import (
	"fmt"
	"os"
	"runtime/debug"

	"github.com/spf13/pflag"
)

// defaultGCPercent is openum serve's garbage collector target (GOGC): the
// heap may grow to three times what is live before a collection, not
// Go's two. Answering a call allocates some 26 KiB that die with its
// set-up, on a live heap of a few MB, so at Go's 100 the collector ran
// every ~500 set-ups and took 10–15 % of the server's CPU samples; at 200
// it runs half as often (BenchmarkSippCallsOverMutualTLS: 2.0 → 1.0
// collections per 1,000 set-ups), for 50 % more heap headroom. 400 halves
// it again, at the cost of memory per call in progress (SPEC PERF-4).
const defaultGCPercent = 200

// applyGCPercent sets the collector's target to percent (--gc-percent),
// unless the flag was left at its default and GOGC is set: then the
// runtime already follows GOGC.
func applyGCPercent(flags *pflag.FlagSet, percent int) error {
	if percent < 1 {
		return fmt.Errorf("serve: --gc-percent %d: must be at least 1 (Go's GOGC; Go's own default is 100)", percent)
	}
	if !flags.Changed("gc-percent") && os.Getenv("GOGC") != "" {
		return nil
	}
	debug.SetGCPercent(percent)
	return nil
}
