package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/msgstore"
	"github.com/openum/openum/internal/pgdb"
)

// Purge implements msgstore.Store, each mailbox in a transaction of its
// own. Two servers purging at once remove each message once: the second's
// DELETE finds it gone, and its audit record names only what it removed.
func (s *Store) Purge(ctx context.Context, actor directory.Actor, now time.Time, retention func(mailbox string) time.Duration) (int, error) {
	return s.PurgeDue(ctx, now, retention, func(mailbox string, cutoff time.Time) (int, error) {
		return s.purgeMailbox(ctx, actor, mailbox, cutoff)
	})
}

func (s *Store) purgeMailbox(ctx context.Context, actor directory.Actor, mailbox string, cutoff time.Time) (int, error) {
	var changes []directory.Change
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		changes = nil
		rows, err := tx.Query(ctx, `DELETE FROM messages WHERE lower(mailbox) = lower($1) AND state = 'deleted' AND state_at <= $2
			RETURNING id, mailbox`, mailbox, cutoff)
		if err != nil {
			return err
		}
		changes, err = msgstore.RemovedChanges(rows)
		rows.Close()
		if err != nil || len(changes) == 0 {
			return err
		}
		return pgdb.AppendAudit(ctx, tx, "message_audit", actor, changes)
	})
	if err != nil {
		return 0, err
	}
	return len(changes), nil
}

// Audit implements msgstore.Store.
func (s *Store) Audit(ctx context.Context) ([]directory.AuditRecord, error) {
	records, err := pgdb.ReadAudit(ctx, s.pool, "message_audit")
	if err != nil {
		return nil, fmt.Errorf("msgstore: audit: %w", err)
	}
	return records, nil
}
