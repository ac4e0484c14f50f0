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

// A call finds a mailbox as the latest configuration holds it, after an
// Update (Prepare) or a reload (Patch) that changed it without moving its
// extensions: the index points at it anew.
func TestMailboxByExtensionSeesChanges(t *testing.T) {
	dp := NewDialPlan("DP")
	dp.NumberOfDigitsInExtension = 5
	all := make([]Mailbox, 3*chunkSize)
	for i := range all {
		all[i] = Mailbox{EmailAddress: fmt.Sprintf("u%04d@x", i), UMDialPlan: "DP", UMMailboxPolicy: "P", Extensions: List[string]{fmt.Sprintf("%05d", 10000+i)}}
	}
	s := &Snapshot{DialPlans: []DialPlan{dp}, MailboxPolicies: []MailboxPolicy{NewMailboxPolicy("P", "DP")}, Mailboxes: MailboxesOf(all...)}
	var c Cache
	c.Put(s, 1, 1)
	next, _, err := Prepare(s, func(s *Snapshot) error {
		m, err := s.Mailbox("u0300@x")
		if err == nil {
			m.LockedOut = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	c.Put(next, 2, 2)
	if m := next.Clone().MailboxByExtension("DP", "10300"); m == nil || !m.LockedOut {
		t.Fatalf("after an Update: %+v; want it locked out", m)
	}
	if m := s.MailboxByExtension("DP", "10300"); m == nil || m.LockedOut {
		t.Fatalf("the configuration before: %+v; want it as it was", m)
	}
	fresh := &Snapshot{Mailboxes: MailboxesOf(Mailbox{EmailAddress: "u0300@x", UMDialPlan: "DP", UMMailboxPolicy: "P", Extensions: List[string]{"10300"}, LogonFailures: 2})}
	patched := Patch(next, []Ref{{Kind: KindMailbox, Name: "u0300@x"}}, fresh)
	if m := patched.MailboxByExtension("DP", "10300"); m == nil || m.LockedOut || m.LogonFailures != 2 {
		t.Fatalf("after a reload: %+v; want 2 failures, not locked out", m)
	}
}

// BenchmarkMailboxByExtension is a call's look-up of its mailbox in a
// cached configuration of 1,000 and of 100,000 mailboxes, which should
// cost nearly the same (go test -run '^$' -bench MailboxByExtension
// ./internal/directory).
func BenchmarkMailboxByExtension(b *testing.B) {
	for _, n := range []int{1000, 100000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			dp := NewDialPlan("DP")
			dp.NumberOfDigitsInExtension = 7
			all := make([]Mailbox, n)
			for i := range all {
				all[i] = Mailbox{EmailAddress: fmt.Sprintf("user%07d@example.test", i), UMDialPlan: "DP", Extensions: List[string]{fmt.Sprintf("%07d", 1000000+i)}}
			}
			s := &Snapshot{DialPlans: []DialPlan{dp}, Mailboxes: MailboxesOf(all...)}
			var c Cache
			c.Put(s, 1, 1)
			snap := s.Clone()
			i := 0
			for b.Loop() {
				if snap.MailboxByExtension("DP", fmt.Sprintf("%07d", 1000000+i%n)) == nil {
					b.Fatal("not found")
				}
				i += 7919
			}
		})
	}
}
