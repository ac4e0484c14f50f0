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

	"github.com/openum/openum/internal/testcall"
)

func (a *app) testCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "test", Short: "Test calls: connectivity (Test-UMConnectivity) and load"}
	cmd.AddCommand(a.connectivityCommand(), a.loadCommand())
	return cmd
}

// callFlags binds the flags test connectivity and test load share to o.
func callFlags(cmd *cobra.Command, o *testcall.Options) {
	f := cmd.Flags()
	f.StringVar(&o.Gateway, "gateway", "", "call through this IP gateway instead of the local loop")
	f.StringVar(&o.Phone, "phone", "", "the number to call (default: the pilot of the caller's hunt group)")
	f.BoolVar(&o.Secured, "secured", false, "SIP over mutual TLS to the TLS port")
	f.BoolVar(&o.MediaSecured, "media-secured", false, "offer SRTP only")
	f.StringVar(&o.Thumbprint, "certificate-thumbprint", "", "the client certificate to present (default: the server's own)")
	f.IntVar(&o.RemotePort, "remote-port", 0, "the port to call (default: the server's, or the gateway's)")
	f.StringVar(&o.Address, "address", "127.0.0.1", "the server's address for the local loop")
	f.StringVar(&o.LocalIP, "local-ip", "127.0.0.1", "the address to call from")
}

// target resolves o against the directory and the certificate store.
func (a *app) target(cmd *cobra.Command, o testcall.Options) (*testcall.Target, error) {
	snap, err := a.snapshot(cmd)
	if err != nil {
		return nil, err
	}
	if o.RemotePort < 0 || o.RemotePort > 65535 {
		return nil, fmt.Errorf("--remote-port must be a port from 1 to 65535, not %d", o.RemotePort)
	}
	o.CertsDir = filepath.Join(a.dataDir, "certs")
	return testcall.Resolve(snap, o)
}

// connectivityOptions are test connectivity's flags.
type connectivityOptions struct {
	call    testcall.Options
	timeout time.Duration
}

func (a *app) connectivityCommand() *cobra.Command {
	var o connectivityOptions
	cmd := &cobra.Command{
		Use:   "connectivity",
		Short: "Place a real test call and report each step (Exchange's Test-UMConnectivity)",
		Long: `Place a real test call, as a gateway would, and report each step: the
TCP or TLS connection, the server's certificate, SIP OPTIONS, the INVITE's
answer, media both ways (RTP or SRTP), DTMF and the hang-up. The call hangs
up during the greeting, so it leaves no voice message. The exit status is 0
only when every step succeeded.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.connectivity(cmd, o) },
	}
	callFlags(cmd, &o.call)
	cmd.Flags().DurationVar(&o.timeout, "timeout", 600*time.Second, "give up after this long (60s to 1800s)")
	return cmd
}

func (a *app) connectivity(cmd *cobra.Command, o connectivityOptions) error {
	if o.timeout < time.Minute || o.timeout > 30*time.Minute {
		return fmt.Errorf("--timeout must be between 60s and 1800s, not %s", o.timeout)
	}
	t, err := a.target(cmd, o.call)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), o.timeout)
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

// loadOptions are test load's flags.
type loadOptions struct {
	call testcall.Options
	load testcall.LoadOptions
}

func (a *app) loadCommand() *cobra.Command {
	var o loadOptions
	cmd := &cobra.Command{
		Use:   "load",
		Short: "Place many concurrent calls, each streaming audio, and report set-up times and failures",
		Long: `Place --calls concurrent calls, started at --rate per second, each streaming
G.711 (SRTP with --media-secured) for --duration, then hanging up. Every call
leaves a voice message, as real callers would. Measure the server's CPU and
memory beside it (bench/load.sh does).

The report (with --json, the JSON) is printed whatever happened. The exit
status is 0 only when every call was established; when any call failed it
is 1, with a line saying how many were established and why the first one
failed.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.load(cmd, o) },
	}
	callFlags(cmd, &o.call)
	cmd.Flags().IntVar(&o.load.Calls, "calls", 10, "concurrent calls")
	cmd.Flags().DurationVar(&o.load.Duration, "duration", 30*time.Second, "how long each call streams audio")
	cmd.Flags().Float64Var(&o.load.Rate, "rate", 20, "calls started per second")
	return cmd
}

func (a *app) load(cmd *cobra.Command, o loadOptions) error {
	switch {
	case o.load.Calls < 1:
		return fmt.Errorf("--calls must be at least 1, not %d", o.load.Calls)
	case !(o.load.Rate > 0):
		return fmt.Errorf("--rate must be above 0 calls per second, not %g", o.load.Rate)
	case o.load.Duration <= 0:
		return fmt.Errorf("--duration must be a duration above 0, not %s", o.load.Duration)
	}
	t, err := a.target(cmd, o.call)
	if err != nil {
		return err
	}
	r := t.Load(cmd.Context(), o.load)
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
