package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/msgstore"
	"github.com/openum/openum/internal/sqlitedb"
)

// Purge implements msgstore.Store. Each mailbox is purged in a transaction
// of its own, so that the write lock is never held for the whole store.
func (s *Store) Purge(ctx context.Context, actor directory.Actor, now time.Time, retention func(mailbox string) time.Duration) (int, error) {
	return s.PurgeDue(ctx, s.write, actor, now, retention)
}

// RemoveDeleted implements msgstore.Tx: the messages are read, then
// deleted, inside the write lock, so the two statements see the same rows.
func (t tx) RemoveDeleted(ctx context.Context, mailbox string, cutoff time.Time) ([]directory.Change, error) {
	at := formatTime(cutoff)
	rows, err := t.conn.QueryContext(ctx, "SELECT id, mailbox FROM messages WHERE mailbox = ? AND state = 'deleted' AND state_at <= ? ORDER BY id",
		mailbox, at)
	if err != nil {
		return nil, err
	}
	changes, err := msgstore.RemovedChanges(rows)
	rows.Close() // before the DELETE on this one connection
	if err != nil || len(changes) == 0 {
		return changes, err
	}
	if _, err := t.conn.ExecContext(ctx, "DELETE FROM messages WHERE mailbox = ? AND state = 'deleted' AND state_at <= ?", mailbox, at); err != nil {
		return nil, err
	}
	return changes, nil
}

// Audit implements msgstore.Store.
func (s *Store) Audit(ctx context.Context) ([]directory.AuditRecord, error) {
	records, err := sqlitedb.ReadAudit(ctx, s.db)
	if err != nil {
		return nil, fmt.Errorf("msgstore: audit: %w", err)
	}
	return records, nil
}
