package directory

import (
	"fmt"
	"testing"
)

// The clones of a cached configuration share one index of extensions, and
// answer from it; a clone whose owner moved its mailboxes still answers
// right, by searching.
func TestMailboxByExtension(t *testing.T) {
	dp := NewDialPlan("DP")
	dp.NumberOfDigitsInExtension = 5
	s := &Snapshot{DialPlans: []DialPlan{dp}}
	for i := range 50 {
		_ = s.AddMailbox(Mailbox{EmailAddress: fmt.Sprintf("u%02d@x", i), UMDialPlan: "DP", Extensions: List[string]{fmt.Sprintf("%05d", 10000+i)}})
	}
	var c Cache
	c.Put(s, 1, 1)
	a, b := s.Clone(), s.Clone()
	if a.exts != b.exts || a.exts == nil {
		t.Fatal("clones of a cached configuration do not share its look-ups")
	}
	for number, want := range map[string]string{"10007": "u07@x", "+4930010007": "u07@x", "0007": "", "10099": ""} {
		m := a.MailboxByNumber("dp", number)
		if (m == nil) != (want == "") || (m != nil && m.EmailAddress != want) {
			t.Errorf("MailboxByNumber(%q) = %v; want %q", number, m, want)
		}
	}
	if _, err := b.Remove(KindMailbox, "u03@x", false); err != nil {
		t.Fatal(err)
	}
	if m := b.MailboxByExtension("DP", "10007"); m == nil || m.EmailAddress != "u07@x" {
		t.Fatalf("after a removal moved the clone's mailboxes: %v; want u07@x", m)
	}
	if m := a.MailboxByExtension("DP", "10003"); m == nil || m.EmailAddress != "u03@x" {
		t.Fatalf("the other clone: %v; want u03@x", m)
	}
}
