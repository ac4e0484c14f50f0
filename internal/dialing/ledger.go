package dialing

import (
	"context"
	"time"
)

// Ledger keeps the outcall budgets' counts where every process that places
// calls sees them (the directory's database), so that the budgets hold
// across runs of the command line and restarts of the server, which
// Budget's memory does not. Implementations are safe for concurrent use,
// also by several processes.
type Ledger interface {
	// Reserve reads, in one transaction, what server and mailbox ("" for a
	// call no mailbox asked for) have spent on day, passes it to admit and,
	// when admit returns nil, counts one call to each; admit's error is
	// returned as it is.
	Reserve(ctx context.Context, day, server, mailbox string, admit func(server, mailbox Usage) error) error
	// Spend adds spent to what server and mailbox have spent on day.
	Spend(ctx context.Context, day, server, mailbox string, spent time.Duration) error
}

// Day is the UTC day a budget counts now in, as a Ledger keys it.
func Day(now time.Time) string { return now.UTC().Format(time.DateOnly) }

// StartCall is Budget.Start on a Ledger, for the server named server: it
// counts one call for mailbox and the server if both have a call and a
// minute left, and returns how long the call may last, or a *Refusal. Report
// the call's length with EndCall.
func StartCall(ctx context.Context, l Ledger, now time.Time, server, mailbox string, perMailbox, perServer Limit) (time.Duration, error) {
	var left time.Duration
	err := l.Reserve(ctx, Day(now), server, mailbox, func(sv, m Usage) error {
		var mp *Usage
		if mailbox != "" {
			mp = &m
		}
		var err error
		left, err = allow(sv, mp, mailbox, perMailbox, perServer)
		return err
	})
	return left, err
}

// EndCall adds a call's length, rounded up to whole minutes, to what
// mailbox and server have spent on the day now falls in.
func EndCall(ctx context.Context, l Ledger, now time.Time, server, mailbox string, length time.Duration) error {
	return l.Spend(ctx, Day(now), server, mailbox, Billed(length))
}
