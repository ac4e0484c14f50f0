package mailboximport

import (
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
	byAddress := map[string]directory.Mailbox{}
	byExtension := map[string]directory.Mailbox{}
	index := func(m directory.Mailbox) {
		byAddress[strings.ToLower(m.EmailAddress)] = m
		for _, ext := range m.Extensions {
			byExtension[extKey(m.UMDialPlan, ext)] = m
		}
	}
	for _, m := range s.Mailboxes {
		index(m)
	}
	var bad []*RowError
	for _, r := range rows {
		probe := &directory.Snapshot{DialPlans: s.DialPlans, MailboxPolicies: s.MailboxPolicies}
		if m, ok := byAddress[strings.ToLower(r.Mailbox.EmailAddress)]; ok {
			probe.Mailboxes = append(probe.Mailboxes, m)
		}
		for _, ext := range r.Mailbox.Extensions {
			if m, ok := byExtension[extKey(r.Mailbox.UMDialPlan, ext)]; ok {
				probe.Mailboxes = append(probe.Mailboxes, m)
			}
		}
		err := probe.AddMailbox(r.Mailbox)
		if err == nil {
			err = directory.Validate(probe, []directory.Ref{{Kind: directory.KindMailbox, Name: r.Mailbox.EmailAddress}})
		}
		if err != nil {
			bad = append(bad, &RowError{Line: r.Line, Err: err})
			continue
		}
		index(r.Mailbox)
	}
	return bad
}

// extKey is an extension's key in its dial plan; dial plan names ignore case.
func extKey(dialPlan, ext string) string { return strings.ToLower(dialPlan) + "\x00" + ext }
