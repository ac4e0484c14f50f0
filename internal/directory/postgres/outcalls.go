package postgres

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/openum/openum/internal/dialing"
)

var _ dialing.Ledger = (*Store)(nil)

// Reserve implements dialing.Ledger. The rows it reads are locked (FOR
// UPDATE) until it commits, so that two servers reserving at once take
// turns and neither overspends.
func (s *Store) Reserve(ctx context.Context, day, server, mailbox string, admit func(server, mailbox dialing.Usage) error) error {
	return dialing.Reserve(ctx, s.writeUsage, day, server, mailbox, admit)
}

// Spend implements dialing.Ledger.
func (s *Store) Spend(ctx context.Context, day, server, mailbox string, spent time.Duration) error {
	return dialing.Spend(ctx, s.writeUsage, day, server, mailbox, spent)
}

// writeUsage runs a transaction of the outcall ledger in PostgreSQL's.
func (s *Store) writeUsage(ctx context.Context, fn func(dialing.LedgerTx) error) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return fn(usageTx{tx}) })
}

// usageTx is a dialing.LedgerTx in a PostgreSQL transaction. Names are
// kept in lower case: they ignore case.
type usageTx struct{ tx pgx.Tx }

// Read makes the row first, if need be, so that there is one to lock.
func (t usageTx) Read(ctx context.Context, day, scope, name string) (dialing.Usage, error) {
	if err := t.Add(ctx, day, scope, name, 0, 0); err != nil {
		return dialing.Usage{}, err
	}
	var calls, secs int64
	err := t.tx.QueryRow(ctx, "SELECT calls, seconds FROM outcall_usage WHERE day = $1 AND scope = $2 AND name = $3 FOR UPDATE",
		day, scope, strings.ToLower(name)).Scan(&calls, &secs)
	return dialing.Usage{Calls: int(calls), Spent: time.Duration(secs) * time.Second}, err
}

func (t usageTx) Add(ctx context.Context, day, scope, name string, calls, secs int64) error {
	_, err := t.tx.Exec(ctx, `INSERT INTO outcall_usage (day, scope, name, calls, seconds) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (day, scope, name) DO UPDATE SET calls = outcall_usage.calls + excluded.calls, seconds = outcall_usage.seconds + excluded.seconds`,
		day, scope, strings.ToLower(name), calls, secs)
	return err
}

func (t usageTx) Forget(ctx context.Context, day string) error {
	_, err := t.tx.Exec(ctx, "DELETE FROM outcall_usage WHERE day < $1", day)
	return err
}
