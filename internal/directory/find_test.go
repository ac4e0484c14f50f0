package directory

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// A mailbox is found by binary search of its sorted list, whatever the
// case of its address; add keeps the order and refuses an address taken in
// another case.
func TestFindAndInsertByName(t *testing.T) {
	s := &Snapshot{}
	for _, email := range []string{"c@x.test", "A@x.test", "b@x.test", "Émile@x.test", "a0@x.test", "ſam@x.test"} {
		if err := s.AddMailbox(Mailbox{EmailAddress: email}); err != nil {
			t.Fatal(err)
		}
	}
	if all := s.Mailboxes.Slice(); !slices.IsSortedFunc(all, mailboxOrder) || len(all) != 6 {
		t.Fatalf("not sorted: %v", all)
	}
	var exists *ExistsError
	for _, taken := range []string{"a@X.TEST", "C@x.test", "émile@x.test", "A0@X.test", "SAM@x.test"} {
		if err := s.AddMailbox(Mailbox{EmailAddress: taken}); !errors.As(err, &exists) {
			t.Errorf("%s: got %v, want it taken", taken, err)
		}
	}
	for _, email := range []string{"b@x.test", "ÉMILE@x.test", "Sam@x.test", "nobody@x.test"} {
		m, err := s.Mailbox(email)
		if (err == nil) != (email != "nobody@x.test") || (m != nil && !SameName(m.EmailAddress, email)) {
			t.Errorf("%s: got %v, %v", email, m, err)
		}
	}
}

// compareFold says two names are equal exactly when SameName does, orders
// them as their folded forms do, and ASCII names as their lower case.
func TestCompareFold(t *testing.T) {
	names := []string{"", "a", "A", "ab", "aB@x", "b", "Z", "z0", "_", "@", "É", "é", "éa", "Ωmega", "ω", "ſ", "s", "S", "K", "\u212a", "user0000001@x", "USER0000002@x", "user00000010@x"}
	sign := func(n int) int { return min(max(n, -1), 1) }
	for _, a := range names {
		for _, b := range names {
			got := sign(compareFold(a, b))
			if (got == 0) != SameName(a, b) || got != sign(strings.Compare(foldName(a), foldName(b))) {
				t.Errorf("compareFold(%q, %q) = %d; SameName %v, folded %q %q", a, b, got, SameName(a, b), foldName(a), foldName(b))
			}
		}
	}
}
