package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/openum/openum/internal/dialing"
)

var _ dialing.Ledger = (*Store)(nil)

// usageKept is how many days of outcall usage are kept: the budgets need
// only today's, an administrator looking at a stolen PIN a month.
const usageKept = 31

// usageKey is one row of outcall_usage.
type usageKey struct{ scope, name string }

// Reserve implements dialing.Ledger. The rows it reads are locked (FOR
// UPDATE) until it commits, server before mailbox in every transaction, so
// that two servers reserving at once take turns and neither overspends.
func (s *Store) Reserve(ctx context.Context, day, server, mailbox string, admit func(server, mailbox dialing.Usage) error) error {
	keys := []usageKey{{"server", server}}
	if mailbox != "" {
		keys = append(keys, usageKey{"mailbox", mailbox})
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		used := make([]dialing.Usage, 2)
		for i, k := range keys {
			if err := addUsage(ctx, tx, day, k, 0, 0); err != nil {
				return err
			}
			var calls, secs int64
			if err := tx.QueryRow(ctx, "SELECT calls, seconds FROM outcall_usage WHERE day = $1 AND scope = $2 AND name = $3 FOR UPDATE",
				day, k.scope, strings.ToLower(k.name)).Scan(&calls, &secs); err != nil {
				return err
			}
			used[i] = dialing.Usage{Calls: int(calls), Spent: time.Duration(secs) * time.Second}
		}
		if err := admit(used[0], used[1]); err != nil {
			return err
		}
		for _, k := range keys {
			if err := addUsage(ctx, tx, day, k, 1, 0); err != nil {
				return err
			}
		}
		return forgetUsage(ctx, tx, day)
	})
	var refused *dialing.Refusal
	if err != nil && !errors.As(err, &refused) {
		return fmt.Errorf("directory: outcall usage: %w", err)
	}
	return err
}

// Spend implements dialing.Ledger.
func (s *Store) Spend(ctx context.Context, day, server, mailbox string, spent time.Duration) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		secs := int64(spent / time.Second)
		if err := addUsage(ctx, tx, day, usageKey{"server", server}, 0, secs); err != nil || mailbox == "" {
			return err
		}
		return addUsage(ctx, tx, day, usageKey{"mailbox", mailbox}, 0, secs)
	})
	if err != nil {
		return fmt.Errorf("directory: outcall usage: %w", err)
	}
	return nil
}

func addUsage(ctx context.Context, tx pgx.Tx, day string, k usageKey, calls, secs int64) error {
	_, err := tx.Exec(ctx, `INSERT INTO outcall_usage (day, scope, name, calls, seconds) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (day, scope, name) DO UPDATE SET calls = outcall_usage.calls + excluded.calls, seconds = outcall_usage.seconds + excluded.seconds`,
		day, k.scope, strings.ToLower(k.name), calls, secs)
	return err
}

// forgetUsage removes the days older than usageKept before day.
func forgetUsage(ctx context.Context, tx pgx.Tx, day string) error {
	t, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return fmt.Errorf("day %q: %w", day, err)
	}
	_, err = tx.Exec(ctx, "DELETE FROM outcall_usage WHERE day < $1", t.AddDate(0, 0, -usageKept).Format(time.DateOnly))
	return err
}
