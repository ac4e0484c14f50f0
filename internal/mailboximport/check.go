package mailboximport

import (
	"errors"
	"fmt"
	"strings"

	"github.com/openum/openum/internal/directory"
)

// Check judges every row by the rules of mailbox enable, against s and the
// rows before it, and returns what is wrong with each wrong row. The rules
// are the directory's own (AddMailbox, Validate); Check only narrows what
// each row is judged against to the mailboxes it could clash with, found
// through indexes, so that a file of many rows costs in proportion to its
// size and not to the size of the directory times the file.
func Check(s *directory.Snapshot, rows []Row) []*RowError {
	byAddress := map[string]Row{} // Line 0: a mailbox of the directory
	byExtension := map[string]Row{}
	index := func(r Row) {
		byAddress[strings.ToLower(r.Mailbox.EmailAddress)] = r
		for _, ext := range r.Mailbox.Extensions {
			byExtension[extKey(r.Mailbox.UMDialPlan, ext)] = r
		}
	}
	for _, m := range s.Mailboxes.All() {
		index(Row{Mailbox: m})
	}
	var bad []*RowError
	for _, r := range rows {
		probe := &directory.Snapshot{DialPlans: s.DialPlans, MailboxPolicies: s.MailboxPolicies}
		var near []Row
		add := func(o Row) { near = append(near, o) }
		if o, ok := byAddress[strings.ToLower(r.Mailbox.EmailAddress)]; ok {
			add(o)
		}
		for _, ext := range r.Mailbox.Extensions {
			if o, ok := byExtension[extKey(r.Mailbox.UMDialPlan, ext)]; ok {
				add(o)
			}
		}
		probe.Mailboxes = directory.MailboxesOf(nearMailboxes(near)...)
		err := probe.AddMailbox(r.Mailbox)
		if err == nil {
			err = directory.Validate(probe, []directory.Ref{{Kind: directory.KindMailbox, Name: r.Mailbox.EmailAddress}})
		}
		if err != nil {
			err = withLine(err, r, near)
			bad = append(bad, &RowError{Line: r.Line, Err: err})
			continue
		}
		index(r)
	}
	return bad
}

func nearMailboxes(rows []Row) []directory.Mailbox {
	out := make([]directory.Mailbox, len(rows))
	for i, r := range rows {
		out[i] = r.Mailbox
	}
	return out
}

// withLine names the line of the earlier row of the file that err says
// r clashes with: the same address, or the mailbox whose extension r wants.
func withLine(err error, r Row, near []Row) error {
	var exists *directory.ExistsError
	for _, o := range near {
		if o.Line == 0 {
			continue
		}
		sameAddress := errors.As(err, &exists) && directory.SameName(o.Mailbox.EmailAddress, r.Mailbox.EmailAddress)
		if sameAddress || strings.Contains(err.Error(), "extension of "+o.Mailbox.EmailAddress+" ") {
			return fmt.Errorf("%w (line %d)", err, o.Line)
		}
	}
	return err
}

// extKey is an extension's key in its dial plan; dial plan names ignore case.
func extKey(dialPlan, ext string) string { return strings.ToLower(dialPlan) + "\x00" + ext }
