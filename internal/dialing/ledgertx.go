package dialing

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Every Ledger's engine takes the same steps, each in its own SQL; so
// Reserve and Spend are written once here, against LedgerTx, and each
// engine's Ledger methods call them with its own transactions.

// LedgerTx is one transaction of a Ledger's engine.
type LedgerTx interface {
	// Read returns what name (scope "server" or "mailbox") has spent on
	// day, and keeps other writers from changing it until the transaction
	// ends.
	Read(ctx context.Context, day, scope, name string) (Usage, error)
	// Add counts calls more calls and secs more seconds to what name has
	// spent on day.
	Add(ctx context.Context, day, scope, name string, calls, secs int64) error
	// Forget removes the days before day.
	Forget(ctx context.Context, day string) error
}

// usageKept is how many days of outcall usage a Ledger keeps: the budgets
// need only today's, an administrator looking at a stolen PIN a month.
const usageKept = 31

// usageKey is whose usage: a server or a mailbox, by name.
type usageKey struct{ scope, name string }

// keys are the counts a call of mailbox ("" for none) on server moves, the
// server's first: every transaction takes them in this order, so that two
// of them never wait for each other.
func keys(server, mailbox string) []usageKey {
	k := []usageKey{{"server", server}}
	if mailbox != "" {
		k = append(k, usageKey{"mailbox", mailbox})
	}
	return k
}

// WriteUsage runs fn in one transaction of a Ledger's engine, committed
// when fn returns nil and rolled back otherwise.
type WriteUsage func(ctx context.Context, fn func(LedgerTx) error) error

// Reserve is every engine's Ledger.Reserve, in a transaction of write.
func Reserve(ctx context.Context, write WriteUsage, day, server, mailbox string, admit func(server, mailbox Usage) error) error {
	err := write(ctx, func(tx LedgerTx) error {
		used := make([]Usage, 2)
		for i, k := range keys(server, mailbox) {
			var err error
			if used[i], err = tx.Read(ctx, day, k.scope, k.name); err != nil {
				return err
			}
		}
		if err := admit(used[0], used[1]); err != nil {
			return err
		}
		for _, k := range keys(server, mailbox) {
			if err := tx.Add(ctx, day, k.scope, k.name, 1, 0); err != nil {
				return err
			}
		}
		t, err := time.Parse(time.DateOnly, day)
		if err != nil {
			return fmt.Errorf("day %q: %w", day, err)
		}
		return tx.Forget(ctx, t.AddDate(0, 0, -usageKept).Format(time.DateOnly))
	})
	var refused *Refusal
	if err != nil && !errors.As(err, &refused) {
		return fmt.Errorf("dialing: outcall usage: %w", err)
	}
	return err
}

// Spend is every engine's Ledger.Spend, in a transaction of write.
func Spend(ctx context.Context, write WriteUsage, day, server, mailbox string, spent time.Duration) error {
	err := write(ctx, func(tx LedgerTx) error {
		for _, k := range keys(server, mailbox) {
			if err := tx.Add(ctx, day, k.scope, k.name, 0, int64(spent/time.Second)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("dialing: outcall usage: %w", err)
	}
	return nil
}
