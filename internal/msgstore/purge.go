package msgstore

import (
	"fmt"

	"github.com/openum/openum/internal/directory"
)

// PurgeEach runs a store's purge of every due mailbox, each up to its
// cutoff (in the store's own form of a time), and returns how many
// messages went, stopping at the first mailbox that fails.
func PurgeEach[Cutoff any](due map[string]Cutoff, purge func(mailbox string, cutoff Cutoff) (int, error)) (int, error) {
	purged := 0
	for mailbox, cutoff := range due {
		n, err := purge(mailbox, cutoff)
		purged += n
		if err != nil {
			return purged, fmt.Errorf("msgstore: purge %s: %w", mailbox, err)
		}
	}
	return purged, nil
}

// RemovedChanges reads rows of (id, mailbox), the messages a purge
// removes, into the changes its audit record lists.
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
