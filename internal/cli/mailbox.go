package cli

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/logon"
	"github.com/openum/openum/internal/ops"
)

func (a *app) mailboxCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "mailbox", Short: ops.Mailboxes.Short()}
	cmd.AddCommand(
		a.newCommand(ops.Mailboxes, "EMAIL", "UM-enable a mailbox: give it a dial plan, extension, policy and PIN"),
		a.mailboxImportCommand(),
		a.getCommand(ops.Mailboxes, "Show every mailbox, or one"),
		a.setCommand(ops.Mailboxes, "NAME", "Change a mailbox", exactArgs("NAME")),
		a.removeCommand(ops.Mailboxes),
		a.mailboxSetPINCommand(),
		a.mailboxResetPINCommand(),
	)
	return cmd
}

// mailboxSetPINCommand is Exchange's Set-UMMailboxPIN: a given or random
// PIN, expired by default as there, and the lift of a lock-out, in one
// audited update (logon.SetPIN) that records that the PIN changed, never
// the PIN. A PIN openum generates is shown once on stdout.
func (a *app) mailboxSetPINCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "set-pin EMAIL [--pin P | --generate] [--expired] [--unlock]",
		Short: "Set a mailbox's PIN (random unless --pin is given, or only --unlock), expire it, unlock the mailbox",
		Args:  exactArgs("EMAIL"),
	}
	var c logon.PINChange
	f := cmd.Flags()
	f.StringVar(&c.PIN, "pin", "", "the PIN, checked against the mailbox policy")
	f.BoolVar(&c.Generate, "generate", false, "a random PIN that meets the policy, printed once (the default without --pin or --unlock)")
	f.BoolVar(&c.Expired, "expired", true, "the user must choose a new PIN at next logon (default with a new PIN; --expired=false to keep it)")
	f.BoolVar(&c.Expired, "pin-expired", true, "the same as --expired")
	f.BoolVar(&c.Unlock, "unlock", false, "lift a lock-out and clear the failed logons (a new PIN does so too)")
	_ = f.MarkHidden("pin-expired")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if c.PIN != "" && c.Generate {
			return errors.New("give --pin or --generate, not both")
		}
		c.Generate = c.Generate || c.PIN == "" && !c.Unlock
		if !f.Changed("expired") && !f.Changed("pin-expired") {
			// Unlocking alone leaves the PIN as it is, expiry included.
			c.Expired = c.Generate || c.PIN != ""
		}
		return a.setPIN(cmd, args[0], c)
	}
	return cmd
}

// mailboxResetPINCommand gives a new random PIN, expired, which unlocks.
func (a *app) mailboxResetPINCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "reset-pin EMAIL",
		Short: "Give a mailbox a new random PIN, expired and unlocked",
		Args:  exactArgs("EMAIL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.setPIN(cmd, args[0], logon.PINChange{Generate: true, Expired: true})
		},
	}
}

func (a *app) setPIN(cmd *cobra.Command, email string, c logon.PINChange) error {
	var generated string
	_, err := a.update(cmd, func(s *directory.Snapshot) (err error) {
		generated, err = logon.SetPIN(s, email, c)
		return err
	})
	if err != nil {
		return err
	}
	return a.showMailbox(cmd, email, generated)
}

// showMailbox prints the mailbox and, once, a PIN that openum generated.
func (a *app) showMailbox(cmd *cobra.Command, email, generated string) error {
	s, err := a.snapshot(cmd)
	if err != nil {
		return err
	}
	m, err := s.Mailbox(email)
	if err != nil {
		return err
	}
	return a.show(&ops.WithPIN{Mailbox: m, PIN: generated})
}
