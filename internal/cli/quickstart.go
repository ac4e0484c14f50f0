package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/openum/openum/internal/certs"
	"github.com/openum/openum/internal/delivery"
	"github.com/openum/openum/internal/quickstart"
	"github.com/openum/openum/internal/sip"
)

func (a *app) quickstartCommand() *cobra.Command {
	var keep bool
	cmd := &cobra.Command{
		Use:   "quickstart",
		Short: "Set up a Secured site on loopback and leave a voice message through it, step by step",
		Long: `Set up a complete site in an empty data directory and prove it works: a
Secured dial plan, a test gateway with its own certificate (trusted by the
server), a hunt group, a mailbox policy and a mailbox; then start the server on
loopback and call it as the gateway, over mutual TLS with SRTP, leaving a
spoken message. Each step is shown as it happens; the end says where the voice
message landed and how to play it. --keep-running leaves the server up.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.quickstart(cmd, keep) },
	}
	cmd.Flags().BoolVar(&keep, "keep-running", false, "leave the server running and show how to call it with baresip")
	return cmd
}

func (a *app) quickstart(cmd *cobra.Command, keep bool) error {
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	say := func(format string, args ...any) { fmt.Fprintf(a.out, "==> "+format+"\n", args...) }
	if _, err := os.Stat(filepath.Join(a.dataDir, "directory.db")); err == nil {
		return fmt.Errorf("quickstart: %s already holds a directory; give an empty one with --data", a.dataDir)
	}
	say("Data directory %s", a.dataDir)
	store, err := a.certStore()
	if err != nil {
		return err
	}
	dir, err := a.directory(ctx)
	if err != nil {
		return err
	}
	site, err := quickstart.Setup(ctx, quickstart.Config{Directory: dir, Actor: a.actor(), Certs: store, Dir: filepath.Join(a.dataDir, "quickstart")})
	if err != nil {
		return err
	}
	say("Test gateway %s: certificate %s, trusted by the server", quickstart.Gateway, certs.Thumbprint(site.GatewayCert))
	say("Directory: dial plan QuickStart (Secured), gateway TestGateway (%s), hunt group, policy, mailbox %s (extension %s, PIN %s, shown once)",
		quickstart.Gateway, quickstart.Mailbox, quickstart.Extension, site.PIN)

	record, err := a.serverRecord(cmd, quickstart.Server)
	if err != nil {
		return err
	}
	o := serveOptions{listen: "127.0.0.1", sipPort: -1, tlsPort: -1, tlsMin: "1.2", limits: sip.DefaultLimits, drain: 10 * time.Second, minFree: defaultMinFreeSpace}
	n, err := a.start(ctx, record, o)
	if err != nil {
		return err
	}
	defer n.stop(context.WithoutCancel(ctx), o.drain)
	tlsAddr := n.srv.Addrs()["TLS"].String()
	say("Server %s listening on TLS %s and TCP %s, certificate %s (%s)", quickstart.Server, tlsAddr, n.srv.Addrs()["TCP"], site.ServerCert.Thumbprint(), n.manager.Selection().Chosen.Verdict)

	wav, err := site.Call(ctx, tlsAddr, delivery.Maildir{Dir: filepath.Join(a.dataDir, "mail")}, say)
	if err != nil {
		return err
	}
	say("Voice message delivered: %s", wav.Mail)
	say("Its recording: %s (%.1f s, 8 kHz mono)", wav.Audio, wav.Seconds)
	fmt.Fprintf(a.out, "\nPlay it with:  play %s      (sox; or: aplay %s)\n", wav.Audio, wav.Audio)
	if !keep {
		return nil
	}
	cfg := site.WriteBaresip()
	fmt.Fprintf(a.out, "\nThe server keeps running (Ctrl-C stops it). Call it as the test gateway with baresip:\n\n"+
		"  baresip -f %s -e \"/dial sip:%s@%s;transport=tls\" -t 20\n\n"+
		"(edit audio_source in %s/config to send your own 8 kHz WAV)\n", cfg, quickstart.Extension, tlsAddr, cfg)
	<-ctx.Done()
	return nil
}
