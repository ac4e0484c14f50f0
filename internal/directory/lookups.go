package directory

import (
	"slices"
	"strings"
	"sync"
)

// lookups indexes the mailboxes of a snapshot for the look-ups a call
// makes, on the first of them: a call is admitted in constant time however
// many mailboxes the directory holds.
type lookups struct {
	mailboxes []Mailbox // of the configuration indexed, which is never changed
	once      sync.Once
	byExt     map[planExt]int  // the mailbox's position
	lengths   map[string][]int // a dial plan's (in lower case) extension lengths
}

// MailboxByExtension returns the mailbox of the dial plan that has the
// extension, or nil. It is meant for a configuration no one changes any
// more (a Watcher's, a Snapshot's result that the caller keeps as it is):
// its index is made once, on the first call, and does not follow changes.
func (s *Snapshot) MailboxByExtension(dialPlan, ext string) *Mailbox {
	if s.look != nil {
		s.look.once.Do(s.look.index)
		i, ok := s.look.byExt[planExt{strings.ToLower(dialPlan), ext}]
		if !ok {
			return nil
		}
		// A clone keeps its mailboxes where they were, unless its owner
		// moved them: then it is searched.
		if i < len(s.Mailboxes) && SameName(s.Mailboxes[i].UMDialPlan, dialPlan) && slices.Contains(s.Mailboxes[i].Extensions, ext) {
			return &s.Mailboxes[i]
		}
	}
	for i, m := range s.Mailboxes {
		if SameName(m.UMDialPlan, dialPlan) && slices.Contains(m.Extensions, ext) {
			return &s.Mailboxes[i]
		}
	}
	return nil
}

// MailboxByNumber returns the mailbox of the dial plan whose extension is
// number or ends it (an E.164 or national form of the extension; "+" is
// ignored), the extension first; or nil. Like MailboxByExtension, it is
// for a configuration no one changes any more.
func (s *Snapshot) MailboxByNumber(dialPlan, number string) *Mailbox {
	number = strings.TrimPrefix(number, "+")
	if m := s.MailboxByExtension(dialPlan, number); m != nil {
		return m
	}
	var lengths []int
	if s.look == nil {
		for _, m := range s.Mailboxes {
			if SameName(m.UMDialPlan, dialPlan) {
				for _, ext := range m.Extensions {
					lengths = append(lengths, len(ext))
				}
			}
		}
	} else {
		lengths = s.look.lengths[strings.ToLower(dialPlan)]
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

func (l *lookups) index() {
	l.byExt = make(map[planExt]int, len(l.mailboxes))
	l.lengths = map[string][]int{}
	lower := map[string]string{}
	for i, m := range l.mailboxes {
		plan, ok := lower[m.UMDialPlan]
		if !ok {
			plan = strings.ToLower(m.UMDialPlan)
			lower[m.UMDialPlan] = plan
		}
		for _, ext := range m.Extensions {
			k := planExt{plan, ext}
			if _, taken := l.byExt[k]; !taken {
				l.byExt[k] = i
			}
			if !slices.Contains(l.lengths[plan], len(ext)) {
				l.lengths[plan] = append(l.lengths[plan], len(ext))
			}
		}
	}
}
