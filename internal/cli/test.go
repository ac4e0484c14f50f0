package cli

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/openum/openum/internal/testcall"
)

func (a *app) testCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "test", Short: "Test calls: connectivity (Test-UMConnectivity) and load"}
	cmd.AddCommand(a.connectivityCommand(), a.loadCommand())
	return cmd
}

// callCommand is a test command that places calls: the flags every such
// command has (callFlags), its own (flags), checked with check before the
// directory is read or any socket opened, then run on the target they name.
type callCommand struct {
	use, short, long string
	flags            func(f *pflag.FlagSet)
	check            func() error
	run              func(cmd *cobra.Command, t *testcall.Target) error
}

func (a *app) callCommand(c callCommand) *cobra.Command {
	var o testcall.Options
	cmd := &cobra.Command{
		Use: c.use, Short: c.short, Long: c.long, Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkCallFlags(cmd.Flags(), o); err != nil {
				return err
			}
			if err := c.check(); err != nil {
				return err
			}
			t, err := a.target(cmd, o)
			if err != nil {
				return err
			}
			return c.run(cmd, t)
		},
	}
	callFlags(cmd, &o)
	c.flags(cmd.Flags())
	return cmd
}

// callFlags binds the flags test connectivity and test load share to o.
func callFlags(cmd *cobra.Command, o *testcall.Options) {
	f := cmd.Flags()
	f.StringVar(&o.Gateway, "gateway", "", "call through this IP gateway instead of the local loop")
	f.StringVar(&o.Phone, "phone", "", "the number to call (default: the pilot of the caller's hunt group)")
	f.BoolVar(&o.Secured, "secured", false, "SIP over mutual TLS to the TLS port")
	f.BoolVar(&o.MediaSecured, "media-secured", false, "offer SRTP only")
	f.StringVar(&o.Thumbprint, "certificate-thumbprint", "", "the client certificate to present, with --secured (default: the server's own)")
	f.IntVar(&o.RemotePort, "remote-port", 0, "the port to call, 1 to 65535 (default: the server's, or the gateway's)")
	f.StringVar(&o.Address, "address", "127.0.0.1", "the server's IP address or host name for the local loop")
	f.StringVar(&o.LocalIP, "local-ip", "127.0.0.1", "the IP address of this machine to call from")
}

// target resolves o against the directory and the certificate store.
func (a *app) target(cmd *cobra.Command, o testcall.Options) (*testcall.Target, error) {
	snap, err := a.snapshot(cmd)
	if err != nil {
		return nil, err
	}
	o.CertsDir = filepath.Join(a.dataDir, "certs")
	return testcall.Resolve(snap, o)
}

func (a *app) connectivityCommand() *cobra.Command {
	var timeout time.Duration
	return a.callCommand(callCommand{
		use:   "connectivity",
		short: "Place a real test call and report each step (Exchange's Test-UMConnectivity)",
		long: `Place a real test call, as a gateway would, and report each step: the
TCP or TLS connection, the server's certificate, SIP OPTIONS, the INVITE's
answer, media both ways (RTP or SRTP), DTMF and the hang-up. The call hangs
up during the greeting, so it leaves no voice message. The exit status is 0
only when every step succeeded.`,
		flags: func(f *pflag.FlagSet) {
			f.DurationVar(&timeout, "timeout", 600*time.Second, "give up after this long (60s to 1800s)")
		},
		check: func() error { return checkTimeoutFlag(timeout) },
		run:   func(cmd *cobra.Command, t *testcall.Target) error { return a.connectivity(cmd, t, timeout) },
	})
}

func (a *app) connectivity(cmd *cobra.Command, t *testcall.Target, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
	defer cancel()
	report := t.Connectivity(ctx)
	if err := a.printReport(report); err != nil {
		return err
	}
	if last := report.Failed(); last != nil {
		return fmt.Errorf("test connectivity failed at %s: %s", last.Step, last.Detail)
	}
	return nil
}

func (a *app) printReport(r *testcall.Report) error {
	if a.json {
		return a.printJSON(r)
	}
	w := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "Target: %s over %s, media %s\n\n", r.Target, r.Transport, map[bool]string{true: "SRTP", false: "RTP"}[r.MediaSecured])
	fmt.Fprintln(w, "Step\tResult\tTime (ms)\tDetail")
	for _, s := range r.Steps {
		fmt.Fprintf(w, "%s\t%s\t%.1f\t%s\n", s.Step, map[bool]string{true: "Success", false: "Failed"}[s.Success], s.Time, s.Detail)
	}
	fmt.Fprintf(w, "\nEntireOperationSuccess: %v\n", r.EntireOperationSuccess)
	return w.Flush()
}

func (a *app) loadCommand() *cobra.Command {
	var o testcall.LoadOptions
	return a.callCommand(callCommand{
		use:   "load",
		short: "Place many concurrent calls, each streaming audio, and report set-up times and failures",
		long: `Place --calls concurrent calls, started at --rate per second, each streaming
G.711 (SRTP with --media-secured) for --duration, then hanging up. Every call
leaves a voice message, as real callers would. Measure the server's CPU and
memory beside it (bench/load.sh does).

The report (with --json, the JSON) is printed whatever happened. The exit
status is 0 only when every call was established; when any call failed it
is 1, with a line saying how many were established and why the first one
failed.`,
		flags: func(f *pflag.FlagSet) {
			f.IntVar(&o.Calls, "calls", 10, "concurrent calls, at least 1")
			f.DurationVar(&o.Duration, "duration", 30*time.Second, "how long each call streams audio, at least 20ms")
			f.Float64Var(&o.Rate, "rate", 20, "calls started per second, above 0")
		},
		check: func() error { return checkLoadFlags(o) },
		run:   func(cmd *cobra.Command, t *testcall.Target) error { return a.load(cmd, t, o) },
	})
}

func (a *app) load(cmd *cobra.Command, t *testcall.Target, o testcall.LoadOptions) error {
	r := t.Load(cmd.Context(), o)
	if err := a.printLoad(r); err != nil {
		return err
	}
	if r.Failed > 0 {
		return fmt.Errorf("test load: %d of %d calls established; first failure: %s", r.Established, r.Calls, r.FirstFailure)
	}
	return nil
}

func (a *app) printLoad(r *testcall.LoadReport) error {
	if a.json {
		return a.printJSON(r)
	}
	fmt.Fprintf(a.out, "calls %d, established %d, failed %d\n", r.Calls, r.Established, r.Failed)
	for _, reason := range slices.Sorted(maps.Keys(r.Failures)) {
		fmt.Fprintf(a.out, "  %d failed: %s\n", r.Failures[reason], reason)
	}
	_, err := fmt.Fprintf(a.out, "set-up p50 %.1f ms, p99 %.1f ms\npackets sent %d in %.1f s\n",
		r.SetupP50, r.SetupP99, r.PacketsSent, r.Seconds)
	return err
}
