package msgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/openum/openum/internal/directory"
)

// PurgeDue is every engine's Store.Purge, in the transactions of write:
// for each mailbox with messages deleted retention(mailbox) or longer
// before now, one transaction of its own removes them (Tx.RemoveDeleted)
// and records what went in the audit. It returns how many messages went,
// stopping at the first mailbox that fails.
func (q Queries) PurgeDue(ctx context.Context, write Write, actor directory.Actor, now time.Time,
	retention func(mailbox string) time.Duration) (int, error) {
	due, err := q.due(ctx, now, retention)
	if err != nil {
		return 0, fmt.Errorf("msgstore: purge: %w", err)
	}
	purged := 0
	for mailbox, cutoff := range due {
		n, err := purgeMailbox(ctx, write, actor, mailbox, cutoff)
		purged += n
		if err != nil {
			return purged, fmt.Errorf("msgstore: purge %s: %w", mailbox, err)
		}
	}
	return purged, nil
}

// purgeMailbox removes mailbox's messages deleted at or before cutoff, in
// one transaction, and returns how many went.
func purgeMailbox(ctx context.Context, write Write, actor directory.Actor, mailbox string, cutoff time.Time) (int, error) {
	var changes []directory.Change
	err := write(ctx, func(tx Tx) (err error) {
		if changes, err = tx.RemoveDeleted(ctx, mailbox, cutoff); err != nil || len(changes) == 0 {
			return err
		}
		return tx.AppendAudit(ctx, actor, changes)
	})
	if err != nil {
		return 0, err
	}
	return len(changes), nil
}

// due returns the mailboxes with messages to purge, each with its cutoff.
func (q Queries) due(ctx context.Context, now time.Time, retention func(mailbox string) time.Duration) (map[string]time.Time, error) {
	// The mailboxes with deleted messages: few, whatever the store's size.
	rows, err := q.DB.Query(ctx, "SELECT min(mailbox), min(state_at) FROM messages WHERE state = 'deleted' GROUP BY "+q.Dialect.Key("mailbox"))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	due := map[string]time.Time{} // mailbox → purge what was deleted at or before
	for rows.Next() {
		var mailbox string
		var oldest time.Time
		if err := rows.Scan(&mailbox, q.Dialect.Time(&oldest)); err != nil {
			return nil, err
		}
		if cutoff := now.Add(-retention(mailbox)); !oldest.After(cutoff) {
			due[mailbox] = cutoff
		}
	}
	return due, rows.Err()
}

// RemovedChanges reads rows of (id, mailbox), the messages a purge
// removes, into the changes its audit record lists: what an engine's
// Tx.RemoveDeleted returns.
func RemovedChanges(rows Rows) ([]directory.Change, error) {
	var changes []directory.Change
	for rows.Next() {
		var m Message
		if err := rows.Scan(&m.ID, &m.Mailbox); err != nil {
			return nil, err
		}
		changes = append(changes, directory.Change{Object: AuditRef(m), Action: directory.Removed})
	}
	return changes, rows.Err()
}
