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
	// The mailboxes with deleted messages: few, whatever the store's size.
	rows, err := s.pool.Query(ctx, "SELECT min(mailbox), min(state_at) FROM messages WHERE state = 'deleted' GROUP BY lower(mailbox)")
	if err != nil {
		return 0, fmt.Errorf("msgstore: purge: %w", err)
	}
	due := map[string]time.Time{} // mailbox → purge what was deleted at or before
	for rows.Next() {
		var mailbox string
		var oldest time.Time
		if err := rows.Scan(&mailbox, &oldest); err != nil {
			rows.Close()
			return 0, fmt.Errorf("msgstore: purge: %w", err)
		}
		if cutoff := now.Add(-retention(mailbox)); !oldest.After(cutoff) {
			due[mailbox] = cutoff
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("msgstore: purge: %w", err)
	}
	return msgstore.PurgeEach(due, func(mailbox string, cutoff time.Time) (int, error) {
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

// Version implements msgstore.Store: the message_version row, which
// triggers count up in the transaction of every insert, state change and
// delete.
func (s *Store) Version(ctx context.Context) (uint64, error) {
	var v int64
	if err := s.pool.QueryRow(ctx, "SELECT version FROM message_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("msgstore: version: %w", err)
	}
	return uint64(v), nil
}

// Counts implements msgstore.Store, from the messages_by_mailbox index.
func (s *Store) Counts(ctx context.Context) (map[string]msgstore.Counts, error) {
	rows, err := s.pool.Query(ctx, "SELECT lower(mailbox), state, count(*) FROM messages WHERE state != 'deleted' GROUP BY lower(mailbox), state")
	if err != nil {
		return nil, fmt.Errorf("msgstore: counts: %w", err)
	}
	defer rows.Close()
	return msgstore.ScanCounts(rows)
}
