package cli

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/openum/openum/internal/delivery"
	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/mailboximport"
)

// pinMail is mailbox import's --mail-pins: each new PIN mailed to its
// mailbox through the spool the logon PIN reset uses, which openum serve
// delivers (Maildir or SMTP).
type pinMail struct {
	enabled bool
	from    string
}

// mailer returns the PIN mailer, or nil without --mail-pins. It opens the
// spool before anything is written, so that a spool that cannot be opened
// stops the import.
func (p pinMail) mailer(a *app, s *directory.Snapshot) (*delivery.PINMailer, error) {
	if !p.enabled {
		return nil, nil
	}
	from := p.from
	if from == "" {
		if len(s.Servers) != 1 {
			return nil, fmt.Errorf("--mail-from is required: the directory has %d servers, so the PIN mails' sender is not known", len(s.Servers))
		}
		from = "voicemail@" + s.Servers[0].Name
	}
	spool, err := delivery.OpenSpool(filepath.Join(a.dataDir, "spool"))
	if err != nil {
		return nil, err
	}
	return &delivery.PINMailer{Spool: spool, From: from, Welcome: true}, nil
}

// mailPINs queues one mail per new mailbox. The mailboxes already exist:
// a mail that cannot be queued is reported by address, for a reset-pin.
func mailPINs(cmd *cobra.Command, mailer *delivery.PINMailer, rows []mailboximport.Row, creds []mailboximport.Credential) error {
	var failed []string
	for i, r := range rows {
		if err := mailer.Notify(cmd.Context(), r.Mailbox, creds[i].PIN); err != nil {
			fmt.Fprintf(cmd.ErrOrStderr(), "%s: the PIN mail was not queued: %v\n", r.Mailbox.EmailAddress, err)
			failed = append(failed, r.Mailbox.EmailAddress)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("mailbox import: the mailboxes were imported, but %d PIN mails were not queued (%s): give them new PINs with openum mailbox reset-pin",
			len(failed), strings.Join(failed[:min(len(failed), 5)], ", "))
	}
	return nil
}
