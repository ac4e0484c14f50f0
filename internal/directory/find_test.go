package directory

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// A name is found by binary search in a sorted list and by a search of it
// in one an Update's function left unsorted; insert keeps the order and
// refuses a name taken in another case either way.
func TestFindAndInsertByName(t *testing.T) {
	s := &Snapshot{}
	for _, email := range []string{"c@x.test", "A@x.test", "b@x.test", "Émile@x.test"} {
		if err := s.AddMailbox(Mailbox{EmailAddress: email}); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.IsSortedFunc(s.Mailboxes, nameOrder[Mailbox]) {
		t.Fatalf("not sorted: %v", s.Mailboxes)
	}
	var exists *ExistsError
	for _, taken := range []string{"a@X.TEST", "C@x.test", "émile@x.test"} {
		if err := s.AddMailbox(Mailbox{EmailAddress: taken}); !errors.As(err, &exists) {
			t.Errorf("%s: got %v, want it taken", taken, err)
		}
	}
	// Appended out of order, as an Update's function may.
	s.Mailboxes = append(s.Mailboxes, Mailbox{EmailAddress: "a0@x.test"})
	if m, err := s.Mailbox("A0@x.test"); err != nil || m.EmailAddress != "a0@x.test" {
		t.Fatalf("unsorted: got %v, %v", m, err)
	}
	if err := s.AddMailbox(Mailbox{EmailAddress: "A0@X.test"}); !errors.As(err, &exists) {
		t.Errorf("unsorted: got %v, want it taken", err)
	}
	if err := s.AddMailbox(Mailbox{EmailAddress: "d@x.test"}); err != nil || !slices.IsSortedFunc(s.Mailboxes, nameOrder[Mailbox]) {
		t.Errorf("unsorted: %v, %v", err, s.Mailboxes)
	}
	for _, email := range []string{"b@x.test", "ÉMILE@x.test", "nobody@x.test"} {
		m, err := s.Mailbox(email)
		if (err == nil) != (email != "nobody@x.test") || (m != nil && !SameName(m.EmailAddress, email)) {
			t.Errorf("%s: got %v, %v", email, m, err)
		}
	}
}

// compareLower orders names as their lower case does.
func TestCompareLower(t *testing.T) {
	names := []string{"", "a", "A", "ab", "aB@x", "b", "Z", "z0", "_", "@", "É", "é", "éa", "Ωmega", "ω", "user0000001@x", "USER0000002@x", "user00000010@x"}
	sign := func(n int) int { return min(max(n, -1), 1) }
	for _, a := range names {
		for _, b := range names {
			if got, want := sign(compareLower(a, b)), strings.Compare(strings.ToLower(a), strings.ToLower(b)); got != want {
				t.Errorf("compareLower(%q, %q) = %d, want %d", a, b, got, want)
			}
		}
	}
}
