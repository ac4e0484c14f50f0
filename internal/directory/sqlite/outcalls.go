package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/openum/openum/internal/dialing"
	"github.com/openum/openum/internal/sqlitedb"
)

var _ dialing.Ledger = (*Store)(nil)

// Reserve implements dialing.Ledger.
func (s *Store) Reserve(ctx context.Context, day, server, mailbox string, admit func(server, mailbox dialing.Usage) error) error {
	return dialing.Reserve(ctx, s.writeUsage, day, server, mailbox, admit)
}

// Spend implements dialing.Ledger.
func (s *Store) Spend(ctx context.Context, day, server, mailbox string, spent time.Duration) error {
	return dialing.Spend(ctx, s.writeUsage, day, server, mailbox, spent)
}

// writeUsage runs a transaction of the outcall ledger in sqlitedb.Write's.
func (s *Store) writeUsage(ctx context.Context, fn func(dialing.LedgerTx) error) error {
	return sqlitedb.Write(ctx, s.db, func(conn *sql.Conn) error { return fn(usageTx{conn}) })
}

// usageTx is a dialing.LedgerTx on a connection inside sqlitedb.Write,
// whose write lock keeps every other writer out until it ends.
type usageTx struct{ conn *sql.Conn }

func (t usageTx) Read(ctx context.Context, day, scope, name string) (dialing.Usage, error) {
	var calls, secs int64
	err := t.conn.QueryRowContext(ctx, "SELECT calls, seconds FROM outcall_usage WHERE day = ? AND scope = ? AND name = ?",
		day, scope, name).Scan(&calls, &secs)
	if errors.Is(err, sql.ErrNoRows) {
		return dialing.Usage{}, nil
	}
	return dialing.Usage{Calls: int(calls), Spent: time.Duration(secs) * time.Second}, err
}

func (t usageTx) Add(ctx context.Context, day, scope, name string, calls, secs int64) error {
	_, err := t.conn.ExecContext(ctx, `INSERT INTO outcall_usage (day, scope, name, calls, seconds) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (day, scope, name) DO UPDATE SET calls = calls + excluded.calls, seconds = seconds + excluded.seconds`,
		day, scope, name, calls, secs)
	return err
}

func (t usageTx) Forget(ctx context.Context, day string) error {
	_, err := t.conn.ExecContext(ctx, "DELETE FROM outcall_usage WHERE day < ?", day)
	return err
}
