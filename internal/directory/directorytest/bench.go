package directorytest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/openum/openum/internal/directory"
)

// BenchmarkMailboxEnable measures what `openum mailbox enable` asks of the
// directory, besides hashing the PIN: one Update that adds a mailbox,
// checks it and sets a PIN hash, then the Snapshot that shows it; on d,
// filled first with mailboxes mailboxes over dial plans of 1,000 each. It
// reports the median (p50-ms) and 99th percentile (p99-ms) of the whole.
func BenchmarkMailboxEnable(b *testing.B, d directory.Directory, mailboxes int) {
	ctx := context.Background()
	plans := max(1, mailboxes/1000)
	_, err := d.Update(ctx, Admin, func(s *directory.Snapshot) error {
		if err := addPlans(s, plans); err != nil {
			return err
		}
		for i := range mailboxes {
			if err := s.AddMailbox(benchMailbox(i, plans)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	took := make([]time.Duration, 0, b.N)
	next := mailboxes
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		m := benchMailbox(next, plans)
		if err := enableMailbox(ctx, d, m); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(start))
		next++
	}
	b.StopTimer()
	b.ReportMetric(quantile(took, 0.5), "p50-ms")
	b.ReportMetric(quantile(took, 0.99), "p99-ms")
}

// addPlans adds the benchmarks' dial plans, plans of them with 7-digit
// extensions, and a mailbox policy for each.
func addPlans(s *directory.Snapshot, plans int) error {
	for p := range plans {
		name, policy := planNames(p)
		dp := directory.NewDialPlan(name)
		dp.NumberOfDigitsInExtension = 7
		if err := s.AddDialPlan(dp); err != nil {
			return err
		}
		if err := s.AddMailboxPolicy(directory.NewMailboxPolicy(policy, name)); err != nil {
			return err
		}
	}
	return nil
}

// planNames names the benchmarks' dial plan p and its policy.
func planNames(p int) (dialPlan, policy string) {
	return fmt.Sprintf("DP%03d", p), fmt.Sprintf("P%03d", p)
}

// benchMailbox is mailbox i of the benchmarks, spread over plans dial
// plans; addresses sort as i.
func benchMailbox(i, plans int) directory.Mailbox {
	dialPlan, policy := planNames(i % plans)
	return directory.Mailbox{
		EmailAddress:    fmt.Sprintf("user%07d@example.test", i),
		UMDialPlan:      dialPlan,
		UMMailboxPolicy: policy,
		Extensions:      directory.List[string]{fmt.Sprintf("%07d", 1000000+i)},
	}
}

// enableMailbox does what mailbox enable does to the directory, the PIN's
// hash aside: one Update adding m, checked as its own change, then the
// Snapshot that shows it.
func enableMailbox(ctx context.Context, d directory.Directory, m directory.Mailbox) error {
	if _, err := d.Update(ctx, Admin, func(s *directory.Snapshot) error {
		if err := s.AddMailbox(m); err != nil {
			return err
		}
		if err := directory.Validate(s, []directory.Ref{{Kind: directory.KindMailbox, Name: m.EmailAddress}}); err != nil {
			return err
		}
		added, _ := s.Mailbox(m.EmailAddress)
		added.SetPIN("bench-hash", time.Now(), true)
		return nil
	}); err != nil {
		return err
	}
	_, err := d.Snapshot(ctx)
	return err
}
