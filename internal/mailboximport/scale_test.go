package mailboximport

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openum/openum/internal/directory"
)

// Scale of the directory (SPEC OPS-5), on SQLite. Run it alone, once:
//
//	go test ./internal/mailboximport -run - -bench Scale -benchtime 1x
//
// Hashing 10,000 argon2id PINs takes minutes on a small machine, so the
// benchmark hashes sampledPINs of them on all cores and reports the
// extrapolation (hash-s/10k); the directory gets real hashes, reused.
const (
	scaleMailboxes = 10_000
	scalePlans     = 10
	sampledPINs    = 64
)

func BenchmarkScaleImport(b *testing.B) {
	ctx := context.Background()
	for range b.N {
		b.StopTimer()
		dir := openDir(b, scalePlans)
		var file strings.Builder
		file.WriteString(header)
		for i := range scaleMailboxes {
			fmt.Fprintf(&file, "user%05d@example.test,User %d,%05d,DP%d,P%d\n", i, i, 10000+i/scalePlans, i%scalePlans, i%scalePlans)
		}
		b.StartTimer()

		start := time.Now()
		rows, bad, err := Parse(strings.NewReader(file.String()))
		if err != nil || len(bad) != 0 {
			b.Fatal(err, bad)
		}
		s, err := dir.Snapshot(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if bad := Check(s, rows); len(bad) != 0 {
			b.Fatal(bad[0])
		}
		checked := time.Now()
		sample, err := GeneratePINs(ctx, s, rows[:sampledPINs], nil)
		if err != nil {
			b.Fatal(err)
		}
		hashed := time.Now()
		creds := make([]Credential, len(rows))
		for i := range creds {
			creds[i] = sample[i%sampledPINs]
		}
		if _, err := dir.Update(ctx, directory.Actor{User: "bench"}, func(s *directory.Snapshot) error {
			return Apply(s, rows, creds, time.Now())
		}); err != nil {
			b.Fatal(err)
		}
		written := time.Now()

		b.ReportMetric(checked.Sub(start).Seconds(), "parse+check-s")
		b.ReportMetric(hashed.Sub(checked).Seconds()*scaleMailboxes/sampledPINs, "hash-s/10k")
		b.ReportMetric(written.Sub(hashed).Seconds(), "write-s")
		b.ReportMetric(enableP50(b, dir, sample[0].Hash).Seconds()*1000, "enable-p50-ms")
	}
}

// enableP50 is the median time of what mailbox enable does to the
// directory besides hashing the PIN: one Update that adds a mailbox,
// validates it and sets its (already hashed) PIN.
func enableP50(b *testing.B, dir directory.Directory, hash string) time.Duration {
	ctx := context.Background()
	var took []time.Duration
	for i := range 21 {
		start := time.Now()
		_, err := dir.Update(ctx, directory.Actor{User: "bench"}, func(s *directory.Snapshot) error {
			m := directory.Mailbox{EmailAddress: fmt.Sprintf("new%02d@example.test", i), UMDialPlan: "DP0", UMMailboxPolicy: "P0",
				Extensions: []string{fmt.Sprintf("%05d", 90000+i)}}
			m.SetPIN(hash, time.Now(), true)
			if err := s.AddMailbox(m); err != nil {
				return err
			}
			return directory.Validate(s, []directory.Ref{{Kind: directory.KindMailbox, Name: m.EmailAddress}})
		})
		if err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	return took[len(took)/2]
}
