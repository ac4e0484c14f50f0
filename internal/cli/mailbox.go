package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/openum/openum/internal/directory"
)

func (a *app) mailboxCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "mailbox", Short: "UM-enabled mailboxes: extensions, policy, PIN"}
	cmd.AddCommand(
		a.mailboxEnableCommand(),
		mailboxNoun.getCommand(a, ""),
		mailboxNoun.setCommand(a),
		mailboxNoun.removeCommand(a, "disable"),
		a.mailboxPINCommand("set-pin", "Set a mailbox's PIN (random when --pin is not given)"),
		a.mailboxPINCommand("reset-pin", "Give a mailbox a new random PIN, expired and unlocked"),
	)
	return cmd
}

func (a *app) mailboxEnableCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "enable EMAIL",
		Short: "UM-enable a mailbox: give it a dial plan, extension, policy and PIN",
		Args:  exactArgs("EMAIL"),
	}
	apply := bindFields(cmd, mailboxFields)
	given := cmd.Flags().String("pin", "", "the PIN (default: a random one, printed once)")
	_ = cmd.MarkFlagRequired("dialplan")
	_ = cmd.MarkFlagRequired("extension")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		var generated string
		_, err := a.update(cmd, func(s *directory.Snapshot) error {
			m := directory.Mailbox{EmailAddress: args[0], PINExpired: true}
			if err := apply(&m); err != nil {
				return err
			}
			if m.UMMailboxPolicy == "" {
				p, err := onlyPolicy(s, m.UMDialPlan)
				if err != nil {
					return err
				}
				m.UMMailboxPolicy = p
			}
			if err := s.AddMailbox(m); err != nil {
				return err
			}
			// The mailbox must be sound before its policy judges the PIN.
			if err := directory.Validate(s, []directory.Ref{{Kind: directory.KindMailbox, Name: m.EmailAddress}}); err != nil {
				return err
			}
			var err error
			generated, err = s.AssignPIN(args[0], *given, m.PINExpired)
			return err
		})
		if err != nil {
			return err
		}
		return a.showMailbox(cmd, args[0], generated)
	}
	return cmd
}

// onlyPolicy returns the dial plan's policy when it has exactly one.
func onlyPolicy(s *directory.Snapshot, dialPlan string) (string, error) {
	if _, err := s.DialPlan(dialPlan); err != nil {
		return "", err
	}
	var names []string
	for _, p := range s.MailboxPolicies {
		if directory.SameName(p.UMDialPlan, dialPlan) {
			names = append(names, p.Name)
		}
	}
	if len(names) != 1 {
		return "", fmt.Errorf("--policy is required: dial plan %q has %d mailbox policies", dialPlan, len(names))
	}
	return names[0], nil
}

func (a *app) mailboxPINCommand(verb, short string) *cobra.Command {
	cmd := &cobra.Command{Use: verb + " EMAIL", Short: short, Args: exactArgs("EMAIL")}
	var given string
	expired := true
	if verb == "set-pin" {
		cmd.Flags().StringVar(&given, "pin", "", "the PIN (default: a random one, printed once)")
		cmd.Flags().BoolVar(&expired, "pin-expired", true, "the user must choose a new PIN at next logon")
	}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		var generated string
		_, err := a.update(cmd, func(s *directory.Snapshot) (err error) {
			generated, err = s.AssignPIN(args[0], given, expired)
			return err
		})
		if err != nil {
			return err
		}
		return a.showMailbox(cmd, args[0], generated)
	}
	return cmd
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
	if generated == "" {
		return a.printOne(m)
	}
	if a.json {
		return a.printJSON(struct {
			*directory.Mailbox
			PIN string
		}{m, generated})
	}
	if err := a.printOne(m); err != nil {
		return err
	}
	_, err = fmt.Fprintf(a.out, "PIN: %s (shown only this once; give it to the user)\n", generated)
	return err
}
