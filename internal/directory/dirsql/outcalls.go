package dirsql

import (
	"context"
	"time"

	"github.com/openum/openum/internal/dialing"
)

// Reserve implements dialing.Ledger.
func (q Queries) Reserve(ctx context.Context, day, server, mailbox string, admit func(server, mailbox dialing.Usage) error) error {
	return dialing.Reserve(ctx, q.writeUsage, day, server, mailbox, admit)
}

// Spend implements dialing.Ledger.
func (q Queries) Spend(ctx context.Context, day, server, mailbox string, spent time.Duration) error {
	return dialing.Spend(ctx, q.writeUsage, day, server, mailbox, spent)
}

// writeUsage runs a transaction of the outcall ledger in one of Write's.
func (q Queries) writeUsage(ctx context.Context, fn func(dialing.LedgerTx) error) error {
	return q.Write(ctx, func(db DB) error { return fn(usageTx{db, q.Dialect}) })
}

// usageTx is a dialing.LedgerTx in a transaction of an engine. Names are
// kept as the dialect keeps them: they ignore case.
type usageTx struct {
	db      DB
	dialect Dialect
}

// Read makes the row first, if need be, when it is to be locked, so that
// there is one to lock; else a day with no row has spent nothing.
func (t usageTx) Read(ctx context.Context, day, scope, name string) (dialing.Usage, error) {
	if t.dialect.Lock != "" {
		if err := t.Add(ctx, day, scope, name, 0, 0); err != nil {
			return dialing.Usage{}, err
		}
	}
	var u dialing.Usage
	err := t.db.Query(ctx, "SELECT calls, seconds FROM outcall_usage WHERE day = $1 AND scope = $2 AND name = $3"+t.dialect.Lock,
		func(row Row) error {
			var calls, secs int64
			err := row.Scan(&calls, &secs)
			u = dialing.Usage{Calls: int(calls), Spent: time.Duration(secs) * time.Second}
			return err
		}, day, scope, t.dialect.Name(name))
	return u, err
}

func (t usageTx) Add(ctx context.Context, day, scope, name string, calls, secs int64) error {
	return t.db.Exec(ctx, `INSERT INTO outcall_usage (day, scope, name, calls, seconds) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (day, scope, name) DO UPDATE SET calls = outcall_usage.calls + excluded.calls, seconds = outcall_usage.seconds + excluded.seconds`,
		day, scope, t.dialect.Name(name), calls, secs)
}

func (t usageTx) Forget(ctx context.Context, day string) error {
	return t.db.Exec(ctx, "DELETE FROM outcall_usage WHERE day < $1", day)
}
