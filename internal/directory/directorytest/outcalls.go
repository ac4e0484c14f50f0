package directorytest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/openum/openum/internal/dialing"
	"github.com/openum/openum/internal/directory"
)

// ledger returns d's outcall budget ledger: every engine keeps one.
func ledger(t *testing.T, d directory.Directory) dialing.Ledger {
	t.Helper()
	l, ok := d.(dialing.Ledger)
	if !ok {
		t.Fatalf("%T keeps no outcall budgets (dialing.Ledger)", d)
	}
	return l
}

// Two handles are two processes (two runs of the command line, two
// servers): the budget counts both, per mailbox, per server and per UTC
// day, ignoring the case of names; it is not configuration (no audit
// record, no new Version); days older than a month are forgotten.
func testOutcallUsage(t *testing.T, e Engine) {
	ctx := context.Background()
	open := e.New(t)
	da, db := open(t), open(t)
	a, b := ledger(t, da), ledger(t, db)
	version, _ := da.Version(ctx)
	now := time.Date(2026, 3, 1, 23, 0, 0, 0, time.UTC)
	perMailbox, perServer := dialing.Limit{Calls: 2, Minutes: 10}, dialing.Limit{Calls: 3, Minutes: 60}
	start := func(l dialing.Ledger, at time.Time, mailbox string) (time.Duration, error) {
		return dialing.StartCall(ctx, l, at, "um1.example.test", mailbox, perMailbox, perServer)
	}
	if left, err := start(a, now, "alice@example.test"); err != nil || left != 10*time.Minute {
		t.Fatalf("first call: %v, %v; want 10m", left, err)
	}
	if err := dialing.EndCall(ctx, a, now, "UM1.example.test", "alice@example.test", 61*time.Second); err != nil {
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
	if v, _ := db.Version(ctx); v != version {
		t.Fatalf("outcall usage moved the directory's version from %d to %d", version, v)
	}
	if log, _ := da.Audit(ctx); len(log) != 0 {
		t.Fatalf("outcall usage is audited: %+v", log)
	}
	// A call 40 days on forgets the first day: a reservation back on it
	// finds nothing spent (only a clock set back would do that).
	if _, err := start(a, now.AddDate(0, 0, 40), "alice@example.test"); err != nil {
		t.Fatal(err)
	}
	if _, err := start(a, now, "alice@example.test"); err != nil {
		t.Fatalf("a day forgotten still counts: %v", err)
	}
}
