package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/msgstore"
	"github.com/openum/openum/internal/sqlitedb"
)

// Purge implements msgstore.Store. Each mailbox is purged in a transaction
// of its own, so that the write lock is never held for the whole store.
func (s *Store) Purge(ctx context.Context, actor directory.Actor, now time.Time, retention func(mailbox string) time.Duration) (int, error) {
	return s.PurgeDue(ctx, now, retention, func(mailbox string, cutoff time.Time) (int, error) {
		return s.purgeMailbox(ctx, actor, mailbox, formatTime(cutoff))
	})
}

func (s *Store) purgeMailbox(ctx context.Context, actor directory.Actor, mailbox, cutoff string) (int, error) {
	var changes []directory.Change
	err := sqlitedb.Write(ctx, s.db, func(conn *sql.Conn) error {
		changes = nil
		rows, err := conn.QueryContext(ctx, "SELECT id, mailbox FROM messages WHERE mailbox = ? AND state = 'deleted' AND state_at <= ? ORDER BY id",
			mailbox, cutoff)
		if err != nil {
			return err
		}
		changes, err = msgstore.RemovedChanges(rows)
		rows.Close() // before the DELETE on this one connection
		if err != nil || len(changes) == 0 {
			return err
		}
		if _, err := conn.ExecContext(ctx, "DELETE FROM messages WHERE mailbox = ? AND state = 'deleted' AND state_at <= ?", mailbox, cutoff); err != nil {
			return err
		}
		return sqlitedb.AppendAudit(ctx, conn, actor, changes)
	})
	if err != nil {
		return 0, err
	}
	return len(changes), nil
}

// Audit implements msgstore.Store.
func (s *Store) Audit(ctx context.Context) ([]directory.AuditRecord, error) {
	records, err := sqlitedb.ReadAudit(ctx, s.db)
	if err != nil {
		return nil, fmt.Errorf("msgstore: audit: %w", err)
	}
	return records, nil
}
