package directory

import (
	"fmt"
	"strings"
	"testing"
)

// Each Prepare hands its result the index of its extensions, and the next
// Prepare from that result, which checks only what changed, still finds
// every clash: with a mailbox added, moved or removed one, two or twenty
// Prepares before (past the index's folding of layers).
func TestPrepareChainKeepsExtensionsUnique(t *testing.T) {
	s := &Snapshot{}
	dp := NewDialPlan("DP1")
	dp.NumberOfDigitsInExtension = 4
	s.DialPlans = []DialPlan{dp}
	s.MailboxPolicies = []MailboxPolicy{NewMailboxPolicy("P1", "DP1")}
	step := func(fn func(*Snapshot) error) error {
		t.Helper()
		next, _, err := Prepare(s, fn)
		if err == nil {
			s = next
		}
		return err
	}
	add := func(email, ext string) func(*Snapshot) error {
		return func(s *Snapshot) error {
			return s.AddMailbox(Mailbox{EmailAddress: email, UMDialPlan: "dp1", UMMailboxPolicy: "P1", Extensions: List[string]{ext}})
		}
	}
	wantClash := func(err error, ext, owner string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), ext+" is already the extension of "+owner) {
			t.Fatalf("got %v; want %s taken by %s", err, ext, owner)
		}
	}
	if err := step(add("a@example.test", "1000")); err != nil {
		t.Fatal(err)
	}
	for i := range 20 { // more layers than the index keeps
		if err := step(add(fmt.Sprintf("x%02d@example.test", i), fmt.Sprintf("2%03d", i))); err != nil {
			t.Fatal(err)
		}
		wantClash(step(add("b@example.test", "1000")), "1000", "a@example.test")
	}
	// a moves to 1001: 1000 is free, 1001 is a's.
	if err := step(func(s *Snapshot) error {
		m, _ := s.Mailbox("A@example.test")
		m.Extensions = List[string]{"1001"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := step(add("b@example.test", "1000")); err != nil {
		t.Fatalf("1000 after a moved to 1001: %v", err)
	}
	wantClash(step(add("c@example.test", "1001")), "1001", "a@example.test")
	// Removed, a frees its extension.
	if err := step(func(s *Snapshot) error { _, err := s.Remove(KindMailbox, "a@example.test", false); return err }); err != nil {
		t.Fatal(err)
	}
	if err := step(add("c@example.test", "1001")); err != nil {
		t.Fatalf("1001 after a was removed: %v", err)
	}
	// A changed dial plan re-checks its mailboxes.
	err := step(func(s *Snapshot) error {
		d, _ := s.DialPlan("DP1")
		d.NumberOfDigitsInExtension = 5
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "must be exactly 5 digits") {
		t.Fatalf("dial plan of 5 digits with 4-digit extensions: %v", err)
	}
}

// Past maxIndexDepth, the layers of a large directory's index fold into
// one over the same bottom index, which answers as a fresh index would:
// extensions added, moved and removed across the folds.
func TestExtIndexFoldKeepsBottom(t *testing.T) {
	dp := NewDialPlan("DP1")
	dp.NumberOfDigitsInExtension = 5
	all := make([]Mailbox, 2000)
	for i := range all {
		all[i] = Mailbox{EmailAddress: fmt.Sprintf("u%04d@x.test", i), UMDialPlan: "DP1", UMMailboxPolicy: "P1", Extensions: List[string]{fmt.Sprintf("%05d", 10000+i)}}
	}
	s := &Snapshot{DialPlans: []DialPlan{dp}, MailboxPolicies: []MailboxPolicy{NewMailboxPolicy("P1", "DP1")}, Mailboxes: MailboxesOf(all...)}
	bottom := s.extensions()
	for i := range 3 * maxIndexDepth {
		next, _, err := Prepare(s, func(s *Snapshot) error {
			switch i % 3 {
			case 0:
				return s.AddMailbox(Mailbox{EmailAddress: fmt.Sprintf("new%02d@x.test", i), UMDialPlan: "DP1", UMMailboxPolicy: "P1", Extensions: List[string]{fmt.Sprintf("%05d", 20000+i)}})
			case 1:
				m, _ := s.Mailbox(fmt.Sprintf("u%04d@x.test", i))
				m.Extensions = List[string]{fmt.Sprintf("%05d", 30000+i)}
				return nil
			}
			_, err := s.Remove(KindMailbox, fmt.Sprintf("u%04d@x.test", i), false)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		s = next
	}
	x := s.exts
	for x.parent != nil {
		x = x.parent
	}
	if x != bottom || s.exts.depth > maxIndexDepth {
		t.Fatalf("the bottom index was made afresh, or the layers were not folded (depth %d)", s.exts.depth)
	}
	fresh := newExtIndex(&s.Mailboxes)
	email := func(m *Mailbox) string {
		if m == nil {
			return ""
		}
		return m.EmailAddress
	}
	for k, want := range fresh.owners {
		if got := s.exts.owner(k); got == nil || !got.same(*want) {
			t.Errorf("%v: %v; want %v", k, got, want)
		}
	}
	for k := range bottom.owners {
		if got, want := email(s.exts.owner(k)), email(fresh.owner(k)); got != want {
			t.Errorf("%v: %q; want %q", k, got, want)
		}
	}
}
