package directory

import (
	"slices"
	"strings"
)

// MailboxByExtension returns the mailbox of the dial plan that has the
// extension, or nil. It is meant for a configuration no one changes any
// more (a Watcher's, a Snapshot's result that the caller keeps as it is):
// it looks the extension up in the index of the configuration an engine
// read, which does not follow later changes, so that a call is admitted
// in constant time however many mailboxes the directory holds. A snapshot
// that no engine made is searched.
func (s *Snapshot) MailboxByExtension(dialPlan, ext string) *Mailbox {
	if s.exts != nil {
		m := s.exts.owner(planExt{strings.ToLower(dialPlan), ext})
		if m == nil {
			return nil
		}
		// A snapshot its owner changed may no longer be as indexed: then
		// it is searched.
		if SameName(m.UMDialPlan, dialPlan) && slices.Contains(m.Extensions, ext) {
			return m
		}
	}
	for _, c := range s.Mailboxes.chunks() {
		for _, m := range c.items {
			if SameName(m.UMDialPlan, dialPlan) && slices.Contains(m.Extensions, ext) {
				return m
			}
		}
	}
	return nil
}

// MailboxByNumber returns the mailbox of the dial plan whose extension is
// number or ends it (an E.164 or national form of the extension; "+" is
// ignored), the extension first; or nil. Like MailboxByExtension, it is
// for a configuration no one changes any more. In a configuration an
// engine read, every extension has its dial plan's
// NumberOfDigitsInExtension (Validate), so that is the one length tried
// at the end of number; a snapshot no engine made tries each length its
// mailboxes of the dial plan have.
func (s *Snapshot) MailboxByNumber(dialPlan, number string) *Mailbox {
	number = strings.TrimPrefix(number, "+")
	if m := s.MailboxByExtension(dialPlan, number); m != nil {
		return m
	}
	var lengths []int
	if s.exts == nil {
		for _, m := range s.Mailboxes.All() {
			if SameName(m.UMDialPlan, dialPlan) {
				for _, ext := range m.Extensions {
					lengths = append(lengths, len(ext))
				}
			}
		}
	} else if dp, err := s.DialPlan(dialPlan); err == nil {
		lengths = []int{dp.NumberOfDigitsInExtension}
	}
	for _, n := range lengths {
		if n > 0 && n < len(number) {
			if m := s.MailboxByExtension(dialPlan, number[len(number)-n:]); m != nil {
				return m
			}
		}
	}
	return nil
}
