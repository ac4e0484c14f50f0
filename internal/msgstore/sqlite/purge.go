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
	// The mailboxes with deleted messages: few, whatever the store's size.
	rows, err := s.db.QueryContext(ctx, "SELECT mailbox, min(state_at) FROM messages WHERE state = 'deleted' GROUP BY mailbox")
	if err != nil {
		return 0, fmt.Errorf("msgstore: purge: %w", err)
	}
	due := map[string]string{} // mailbox → purge what was deleted at or before
	for rows.Next() {
		var mailbox, oldest string
		if err := rows.Scan(&mailbox, &oldest); err != nil {
			rows.Close()
			return 0, fmt.Errorf("msgstore: purge: %w", err)
		}
		if cutoff := formatTime(now.Add(-retention(mailbox))); oldest <= cutoff {
			due[mailbox] = cutoff
		}
	}
	if err := rows.Close(); err != nil {
		return 0, fmt.Errorf("msgstore: purge: %w", err)
	}
	return msgstore.PurgeEach(due, func(mailbox, cutoff string) (int, error) {
		return s.purgeMailbox(ctx, actor, mailbox, cutoff)
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
