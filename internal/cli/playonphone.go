package cli

import (
	"errors"
	"fmt"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/playonphone"
)

// messagePlayOnPhoneCommand calls a phone and plays a message on it (the
// seed's Play on Phone), from this process: the command places the call
// itself, as test connectivity does, through the server's outbound path.
func (a *app) messagePlayOnPhoneCommand() *cobra.Command {
	var r playonphone.Request
	var fqdn string
	cmd := &cobra.Command{
		Use:   "play-on-phone ID --phone NUMBER [--as EMAIL]",
		Short: "Call a phone and play a voice message on it (Play on Phone), within the mailbox's dialing restrictions and budgets",
		Long: `Call NUMBER through a gateway of the message's mailbox's dial plan and play
the message when the phone answers. The number must pass the dialing rules
and the mailbox policy's allowed groups (openum dialplan test-number DP
NUMBER --mailbox EMAIL shows the decision), and the mailbox's and the
server's outcall budgets for the day; a refused call is not placed and gets
event 9500. The outcome (answered, busy, no-answer, rejected, refused,
gateway-failure) is printed, and is in event 9502. The exit status is 0 only
when the phone answered.`,
		Args: exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			msgs, m, err := a.message(cmd, args[0])
			if err != nil {
				return err
			}
			r.Message, r.By = m.ID, a.actor().User
			snap, err := a.snapshot(cmd)
			if err != nil {
				return err
			}
			sv, err := snap.LocalServer(fqdn)
			if err != nil {
				return fmt.Errorf("--fqdn: %w", err)
			}
			dir, err := a.directory(cmd.Context())
			if err != nil {
				return err
			}
			log, err := events.Open(filepath.Join(a.dataDir, "events.log"))
			if err != nil {
				return err
			}
			defer log.Close()
			store, err := a.certStore()
			if err != nil {
				return err
			}
			dialer, err := playonphone.NewDialer(cmd.Context(), snap, sv.Name, store, log)
			if err != nil {
				return err
			}
			defer dialer.Close()
			svc, err := playonphone.NewService(sv.Name, dialer, msgs, dir, log)
			if err != nil {
				return err
			}
			res, err := svc.Play(cmd.Context(), snap, r)
			var failed *playonphone.Error
			if err != nil && !errors.As(err, &failed) {
				return err
			}
			if perr := a.printPlayOnPhone(res); perr != nil {
				return perr
			}
			if failed != nil {
				return playOnPhoneError(res)
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&r.Phone, "phone", "", "the number to call, as a subscriber would enter it (required)")
	f.StringVar(&r.As, "as", "", "the subscriber asking: the message must be in this mailbox")
	f.DurationVar(&r.RingFor, "ring-for", playonphone.DefaultRingFor, "give up when the phone has not answered after this long")
	f.StringVar(&fqdn, "fqdn", "", "this server's record, whose budget and certificate the call uses (default: as openum serve chooses)")
	_ = cmd.MarkFlagRequired("phone")
	return cmd
}

// playOnPhoneError is the one line a call not answered exits with.
func playOnPhoneError(res playonphone.Result) error {
	if res.Outcome == playonphone.Refused {
		return fmt.Errorf("message %d not played: refused (%s): %s", res.Message, res.Reason, res.Detail)
	}
	return fmt.Errorf("message %d not played: %s: %s", res.Message, res.Outcome, res.Detail)
}

func (a *app) printPlayOnPhone(res playonphone.Result) error {
	if a.json {
		return a.printJSON(res)
	}
	w := tabwriter.NewWriter(a.out, 0, 4, 1, ' ', 0)
	fmt.Fprintf(w, "Message\t: %d (%s, %s)\n", res.Message, res.Mailbox, time.Duration(res.Length).Round(time.Millisecond))
	fmt.Fprintf(w, "Number\t: %s\n", res.Number)
	if res.DialString != "" {
		fmt.Fprintf(w, "Dial string\t: %s\n", res.DialString)
	}
	outcome := string(res.Outcome)
	if res.Reason != "" {
		outcome += " (" + string(res.Reason) + ")"
	}
	fmt.Fprintf(w, "Outcome\t: %s\n", outcome)
	fmt.Fprintf(w, "Detail\t: %s\n", res.Detail)
	return w.Flush()
}
