package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/openum/openum/internal/directory"
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

// mailboxSetPINCommand is Exchange's Set-UMMailboxPIN (ops.SetPIN). Its
// flags keep their defaults in --help; only those given are passed on.
func (a *app) mailboxSetPINCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:         "set-pin EMAIL [--pin P | --generate] [--expired] [--unlock]",
		Short:       "Set a mailbox's PIN (random unless --pin is given, or only --unlock), expire it, unlock the mailbox",
		Args:        exactArgs("EMAIL"),
		Annotations: remoteOK,
	}
	f := cmd.Flags()
	f.String("pin", "", "the PIN, checked against the mailbox policy")
	f.Bool("generate", false, "a random PIN that meets the policy, printed once (the default without --pin or --unlock)")
	f.Bool("expired", true, "the user must choose a new PIN at next logon (default with a new PIN; --expired=false to keep it)")
	f.Bool("pin-expired", true, "the same as --expired")
	f.Bool("unlock", false, "lift a lock-out and clear the failed logons (a new PIN does so too)")
	_ = f.MarkHidden("pin-expired")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		p := ops.Params{}
		// --pin-expired is --expired by its Exchange name; --expired wins.
		for _, flag := range []string{"pin", "generate", "pin-expired", "expired", "unlock"} {
			if f.Changed(flag) {
				p[strings.TrimPrefix(flag, "pin-")] = []string{f.Lookup(flag).Value.String()}
			}
		}
		return a.callAndShow(cmd, ops.Request{Verb: ops.SetPIN, Kind: directory.KindMailbox, Name: args[0], Params: p})
	}
	return cmd
}

// mailboxResetPINCommand gives a new random PIN, expired, which unlocks.
func (a *app) mailboxResetPINCommand() *cobra.Command {
	return &cobra.Command{
		Use:         "reset-pin EMAIL",
		Short:       "Give a mailbox a new random PIN, expired and unlocked",
		Args:        exactArgs("EMAIL"),
		Annotations: remoteOK,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.callAndShow(cmd, ops.Request{Verb: ops.ResetPIN, Kind: directory.KindMailbox, Name: args[0]})
		},
	}
}
