package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/openum/openum/internal/dialing"
	"github.com/openum/openum/internal/sqlitedb"
)

var _ dialing.Ledger = (*Store)(nil)

// usageKept is how many days of outcall usage are kept: the budgets need
// only today's, an administrator looking at a stolen PIN a month.
const usageKept = 31

// Reserve implements dialing.Ledger.
func (s *Store) Reserve(ctx context.Context, day, server, mailbox string, admit func(server, mailbox dialing.Usage) error) error {
	err := sqlitedb.Write(ctx, s.db, func(conn *sql.Conn) error {
		sv, err := readUsage(ctx, conn, day, "server", server)
		if err != nil {
			return err
		}
		var m dialing.Usage
		if mailbox != "" {
			if m, err = readUsage(ctx, conn, day, "mailbox", mailbox); err != nil {
				return err
			}
		}
		if err := admit(sv, m); err != nil {
			return err
		}
		if err := addUsage(ctx, conn, day, "server", server, 1, 0); err != nil {
			return err
		}
		if mailbox != "" {
			if err := addUsage(ctx, conn, day, "mailbox", mailbox, 1, 0); err != nil {
				return err
			}
		}
		return forgetUsage(ctx, conn, day)
	})
	var refused *dialing.Refusal
	if err != nil && !errors.As(err, &refused) {
		return fmt.Errorf("directory: outcall usage: %w", err)
	}
	return err
}

// Spend implements dialing.Ledger.
func (s *Store) Spend(ctx context.Context, day, server, mailbox string, spent time.Duration) error {
	err := sqlitedb.Write(ctx, s.db, func(conn *sql.Conn) error {
		secs := int64(spent / time.Second)
		if err := addUsage(ctx, conn, day, "server", server, 0, secs); err != nil || mailbox == "" {
			return err
		}
		return addUsage(ctx, conn, day, "mailbox", mailbox, 0, secs)
	})
	if err != nil {
		return fmt.Errorf("directory: outcall usage: %w", err)
	}
	return nil
}

func readUsage(ctx context.Context, conn *sql.Conn, day, scope, name string) (dialing.Usage, error) {
	var calls, secs int64
	err := conn.QueryRowContext(ctx, "SELECT calls, seconds FROM outcall_usage WHERE day = ? AND scope = ? AND name = ?",
		day, scope, name).Scan(&calls, &secs)
	if errors.Is(err, sql.ErrNoRows) {
		return dialing.Usage{}, nil
	}
	return dialing.Usage{Calls: int(calls), Spent: time.Duration(secs) * time.Second}, err
}

func addUsage(ctx context.Context, conn *sql.Conn, day, scope, name string, calls, secs int64) error {
	_, err := conn.ExecContext(ctx, `INSERT INTO outcall_usage (day, scope, name, calls, seconds) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (day, scope, name) DO UPDATE SET calls = calls + excluded.calls, seconds = seconds + excluded.seconds`,
		day, scope, name, calls, secs)
	return err
}

// forgetUsage removes the days older than usageKept before day.
func forgetUsage(ctx context.Context, conn *sql.Conn, day string) error {
	t, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return fmt.Errorf("day %q: %w", day, err)
	}
	_, err = conn.ExecContext(ctx, "DELETE FROM outcall_usage WHERE day < ?", t.AddDate(0, 0, -usageKept).Format(time.DateOnly))
	return err
}
