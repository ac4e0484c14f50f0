package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/msgstore"
	"github.com/openum/openum/internal/pgdb"
)

// Purge implements msgstore.Store, each mailbox in a transaction of its
// own. Two servers purging at once remove each message once: the second's
// DELETE finds it gone, and its audit record names only what it removed.
func (s *Store) Purge(ctx context.Context, actor directory.Actor, now time.Time, retention func(mailbox string) time.Duration) (int, error) {
	return s.PurgeDue(ctx, s.write, actor, now, retention)
}

// RemoveDeleted implements msgstore.Tx in one statement: what it returns
// is what this transaction deleted, not what another did.
func (t tx) RemoveDeleted(ctx context.Context, mailbox string, cutoff time.Time) ([]directory.Change, error) {
	rows, err := t.tx.Query(ctx, `DELETE FROM messages WHERE lower(mailbox) = lower($1) AND state = 'deleted' AND state_at <= $2
		RETURNING id, mailbox`, mailbox, cutoff)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return msgstore.RemovedChanges(rows)
}

// Audit implements msgstore.Store.
func (s *Store) Audit(ctx context.Context) ([]directory.AuditRecord, error) {
	records, err := pgdb.ReadAudit(ctx, s.pool, "message_audit")
	if err != nil {
		return nil, fmt.Errorf("msgstore: audit: %w", err)
	}
	return records, nil
}
