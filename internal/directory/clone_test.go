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
