package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/openum/openum/internal/dialing"
)

// Two handles on one file are two processes (two runs of the command
// line): the budget counts both, per mailbox, per server and per day.
func TestOutcallUsageIsSharedAndPerDay(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "directory.db")
	a, err := Open(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	now := time.Date(2026, 3, 1, 23, 0, 0, 0, time.UTC)
	perMailbox, perServer := dialing.Limit{Calls: 2, Minutes: 10}, dialing.Limit{Calls: 3, Minutes: 60}
	start := func(l dialing.Ledger, at time.Time, mailbox string) (time.Duration, error) {
		return dialing.StartCall(ctx, l, at, "um1.example.test", mailbox, perMailbox, perServer)
	}
	if left, err := start(a, now, "alice@example.test"); err != nil || left != 10*time.Minute {
		t.Fatalf("first call: %v, %v; want 10m", left, err)
	}
	if err := dialing.EndCall(ctx, a, now, "um1.example.test", "alice@example.test", 61*time.Second); err != nil {
		t.Fatal(err)
	}
	if left, err := start(b, now, "ALICE@example.test"); err != nil || left != 8*time.Minute {
		t.Fatalf("second call, the other process: %v, %v; want 8m (61 s billed as 2 minutes)", left, err)
	}
	var refused *dialing.Refusal
	if _, err := start(a, now, "alice@example.test"); !errors.As(err, &refused) || refused.Reason != dialing.MailboxCallsExceeded {
		t.Fatalf("third call of the mailbox: %v; want %s", err, dialing.MailboxCallsExceeded)
	}
	if _, err := start(b, now, "bob@example.test"); err != nil {
		t.Fatalf("bob's first call: %v", err)
	}
	if _, err := start(b, now, "carol@example.test"); !errors.As(err, &refused) || refused.Reason != dialing.ServerCallsExceeded {
		t.Fatalf("the server's fourth call: %v; want %s", err, dialing.ServerCallsExceeded)
	}
	// The next UTC day starts afresh.
	if _, err := start(a, now.Add(2*time.Hour), "alice@example.test"); err != nil {
		t.Fatalf("the next day: %v", err)
	}
}
