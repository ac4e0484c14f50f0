package cli

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/mailboximport"
)

// maxRowErrors bounds the wrong rows listed, so that a file wrong
// throughout stays readable; the rest are counted.
const maxRowErrors = 20

// mailboxImportCommand UM-enables the mailboxes of a CSV file in one
// audited update: all of them or, when one row is wrong, none.
func (a *app) mailboxImportCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import FILE.csv (--pins-out PINS | --mail-pins)",
		Short: "UM-enable the mailboxes of a CSV file (" + strings.Join(mailboximport.Columns, ",") + "), all or none",
		Args:  exactArgs("FILE.csv"),
	}
	pinsOut := cmd.Flags().String("pins-out", "", "write the new PINs (address,extension,PIN a line) to this new file, mode 0600")
	var mail pinMail
	cmd.Flags().BoolVar(&mail.enabled, "mail-pins", false, "mail each mailbox its PIN through the delivery spool (delivered by openum serve)")
	cmd.Flags().StringVar(&mail.from, "mail-from", "", "the PIN mails' sender (default: voicemail@ the directory's only server)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if *pinsOut == "" && !mail.enabled {
			return errors.New("give --pins-out FILE or --mail-pins: the new PINs are never printed")
		}
		s, err := a.snapshot(cmd)
		if err != nil {
			return err
		}
		rows, err := readImport(cmd, s, args[0])
		if err != nil {
			return err
		}
		creds, err := mailboximport.GeneratePINs(cmd.Context(), s, rows, progressBar(cmd.ErrOrStderr(), "hashing PINs", len(rows)))
		if err != nil {
			return err
		}
		mailer, err := mail.mailer(a, s)
		if err != nil {
			return err
		}
		// The PINs are safe on disk before any mailbox has them, so that
		// none is lost; an update that fails takes the file back.
		if *pinsOut != "" {
			if err := writePINs(*pinsOut, rows, creds); err != nil {
				return err
			}
		}
		_, err = a.update(cmd, func(s *directory.Snapshot) error {
			return mailboximport.Apply(s, rows, creds, time.Now())
		})
		if err != nil && *pinsOut != "" {
			return errors.Join(err, os.Remove(*pinsOut))
		}
		if err != nil {
			return err
		}
		where := "in " + *pinsOut + " (mode 0600)"
		if mailer != nil {
			// Only now that the mailboxes exist may their PINs go out.
			if err := mailPINs(cmd, mailer, rows, creds); err != nil {
				return err
			}
			where = "mailed to each mailbox"
			if *pinsOut != "" {
				where += " and in " + *pinsOut + " (mode 0600)"
			}
		}
		_, err = fmt.Fprintf(a.out, "imported %d mailboxes from %s; their PINs are %s, expired: each user chooses a new PIN at first logon\n",
			len(rows), args[0], where)
		return err
	}
	return cmd
}

// readImport parses the file and judges it whole against s, listing each
// wrong row on stderr.
func readImport(cmd *cobra.Command, s *directory.Snapshot, name string) ([]mailboximport.Row, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, bad, err := mailboximport.Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	total := len(rows) + len(bad)
	bad = append(bad, mailboximport.Check(s, rows)...)
	if len(bad) == 0 {
		return rows, nil
	}
	slices.SortStableFunc(bad, func(x, y *mailboximport.RowError) int { return x.Line - y.Line })
	stderr := cmd.ErrOrStderr()
	for i, e := range bad {
		if i == maxRowErrors {
			fmt.Fprintf(stderr, "%s: and %d more\n", name, len(bad)-i)
			break
		}
		fmt.Fprintf(stderr, "%s:%d: %v\n", name, e.Line, e.Err)
	}
	return nil, fmt.Errorf("mailbox import: %d of the %d rows of %s are wrong; nothing was imported", len(bad), total, name)
}
