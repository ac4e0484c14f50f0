package directory

import (
	"fmt"
	"testing"
)

// BenchmarkPrepareAddMailbox is the directory's own share of `openum
// mailbox enable` at 10,000 mailboxes: one Prepare that adds a mailbox to
// the snapshot, diffs and checks it (go test -run '^$' -bench
// PrepareAddMailbox ./internal/directory).
func BenchmarkPrepareAddMailbox(b *testing.B) {
	const mailboxes = 10000
	s := &Snapshot{}
	for p := range mailboxes / 1000 {
		dp := NewDialPlan(fmt.Sprintf("DP%d", p))
		dp.NumberOfDigitsInExtension = 7
		s.DialPlans = append(s.DialPlans, dp)
		s.MailboxPolicies = append(s.MailboxPolicies, NewMailboxPolicy(fmt.Sprintf("P%d", p), dp.Name))
	}
	for i := range mailboxes {
		if err := s.AddMailbox(benchMailbox(i)); err != nil {
			b.Fatal(err)
		}
	}
	next := mailboxes
	for b.Loop() {
		m := benchMailbox(next)
		if _, _, err := Prepare(s, func(s *Snapshot) error { return s.AddMailbox(m) }); err != nil {
			b.Fatal(err)
		}
		next++
	}
}

func benchMailbox(i int) Mailbox {
	p := i % 10
	return Mailbox{
		EmailAddress:    fmt.Sprintf("user%06d@example.test", i),
		UMDialPlan:      fmt.Sprintf("DP%d", p),
		UMMailboxPolicy: fmt.Sprintf("P%d", p),
		Extensions:      List[string]{fmt.Sprintf("%07d", 1000000+i)},
	}
}
