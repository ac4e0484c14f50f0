package directory

import (
	"slices"
	"testing"
)

// A clone's mailboxes share their lists with the original, but an append
// to one, or a new list, is the clone's alone.
func TestCloneSharesListsSafely(t *testing.T) {
	exts := make(List[string], 1, 8) // room to append in place
	exts[0] = "1001"
	history := make([]string, 1, 8)
	history[0] = "old-hash"
	orig := &Snapshot{Mailboxes: MailboxesOf(Mailbox{EmailAddress: "a@x.test", Extensions: exts, PIN: PINState{History: history}})}
	a, b := orig.Clone(), orig.Clone()
	ma, _ := a.Mailbox("a@x.test")
	mb, _ := b.Mailbox("a@x.test")
	ma.Extensions = append(ma.Extensions, "1002")
	mb.Extensions = append(mb.Extensions, "1003")
	ma.PIN.History = append(ma.PIN.History, "a-hash")
	mb.SetPIN("b-hash", mb.PIN.SetAt, false)
	ma.DisplayName = "A"
	if got := a.Mailboxes.find("a@x.test").Extensions; !slices.Equal(got, List[string]{"1001", "1002"}) {
		t.Errorf("a: %v", got)
	}
	if got := b.Mailboxes.find("a@x.test").Extensions; !slices.Equal(got, List[string]{"1001", "1003"}) {
		t.Errorf("b: %v", got)
	}
	m := orig.Mailboxes.find("a@x.test")
	if !slices.Equal(m.Extensions, List[string]{"1001"}) || exts[:2][1] != "" || !slices.Equal(m.PIN.History, []string{"old-hash"}) || history[:2][1] != "" || m.DisplayName != "" {
		t.Errorf("the original changed: %+v", m)
	}
}

// Pack keeps every list as it was, capped so that an append copies it.
func TestPackKeepsLists(t *testing.T) {
	s := &Snapshot{Mailboxes: MailboxesOf(
		Mailbox{EmailAddress: "a@x.test", Extensions: List[string]{"1001", "1002", "", "", ""}[:2], PIN: PINState{History: []string{"h1", "h2"}}},
		Mailbox{EmailAddress: "b@x.test"},
		Mailbox{EmailAddress: "c@x.test", Extensions: List[string]{"3001"}},
	)}
	s.Pack()
	ms := s.Mailboxes.Slice()
	a, b, c := ms[0], ms[1], ms[2]
	if !slices.Equal(a.Extensions, List[string]{"1001", "1002"}) || cap(a.Extensions) != 2 || !slices.Equal(a.PIN.History, []string{"h1", "h2"}) ||
		b.Extensions != nil || b.PIN.History != nil || !slices.Equal(c.Extensions, List[string]{"3001"}) || cap(c.Extensions) != 1 {
		t.Fatalf("packed: %+v", ms)
	}
	_ = append(a.Extensions, "1003")
	if c.Extensions[0] != "3001" {
		t.Fatalf("an append wrote into the next mailbox's list: %v", c.Extensions)
	}
}
