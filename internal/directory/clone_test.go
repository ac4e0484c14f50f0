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
	orig := &Snapshot{Mailboxes: []Mailbox{{EmailAddress: "a@x.test", Extensions: exts, PIN: PINState{History: history}}}}
	a, b := orig.Clone(), orig.Clone()
	a.Mailboxes[0].Extensions = append(a.Mailboxes[0].Extensions, "1002")
	b.Mailboxes[0].Extensions = append(b.Mailboxes[0].Extensions, "1003")
	a.Mailboxes[0].PIN.History = append(a.Mailboxes[0].PIN.History, "a-hash")
	b.Mailboxes[0].SetPIN("b-hash", b.Mailboxes[0].PIN.SetAt, false)
	a.Mailboxes[0].DisplayName = "A"
	if got := a.Mailboxes[0].Extensions; !slices.Equal(got, List[string]{"1001", "1002"}) {
		t.Errorf("a: %v", got)
	}
	if got := b.Mailboxes[0].Extensions; !slices.Equal(got, List[string]{"1001", "1003"}) {
		t.Errorf("b: %v", got)
	}
	m := orig.Mailboxes[0]
	if !slices.Equal(m.Extensions, List[string]{"1001"}) || exts[:2][1] != "" || !slices.Equal(m.PIN.History, []string{"old-hash"}) || history[:2][1] != "" || m.DisplayName != "" {
		t.Errorf("the original changed: %+v", m)
	}
}

// Pack keeps every list as it was, capped so that an append copies it.
func TestPackKeepsLists(t *testing.T) {
	s := &Snapshot{Mailboxes: []Mailbox{
		{EmailAddress: "a@x.test", Extensions: make(List[string], 2, 8), PIN: PINState{History: []string{"h1", "h2"}}},
		{EmailAddress: "b@x.test"},
		{EmailAddress: "c@x.test", Extensions: List[string]{"3001"}},
	}}
	s.Mailboxes[0].Extensions[0], s.Mailboxes[0].Extensions[1] = "1001", "1002"
	s.Pack()
	a, b, c := s.Mailboxes[0], s.Mailboxes[1], s.Mailboxes[2]
	if !slices.Equal(a.Extensions, List[string]{"1001", "1002"}) || cap(a.Extensions) != 2 || !slices.Equal(a.PIN.History, []string{"h1", "h2"}) ||
		b.Extensions != nil || b.PIN.History != nil || !slices.Equal(c.Extensions, List[string]{"3001"}) || cap(c.Extensions) != 1 {
		t.Fatalf("packed: %+v", s.Mailboxes)
	}
	_ = append(a.Extensions, "1003")
	if c.Extensions[0] != "3001" {
		t.Fatalf("an append wrote into the next mailbox's list: %v", c.Extensions)
	}
}
