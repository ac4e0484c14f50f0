package sqlite

import (
	"context"
	"fmt"

	"github.com/openum/openum/internal/msgstore"
)

// Version implements msgstore.Store: the store_version row, which
// triggers move on every insert, state change and delete.
func (s *Store) Version(ctx context.Context) (uint64, error) {
	var v uint64
	if err := s.db.QueryRowContext(ctx, "SELECT version FROM store_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("msgstore: version: %w", err)
	}
	return v, nil
}

// Counts implements msgstore.Store, from the messages_by_mailbox index
// alone.
func (s *Store) Counts(ctx context.Context) (map[string]msgstore.Counts, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT mailbox, state, count(*) FROM messages WHERE state != 'deleted' GROUP BY mailbox, state")
	if err != nil {
		return nil, fmt.Errorf("msgstore: counts: %w", err)
	}
	defer rows.Close()
	out := map[string]msgstore.Counts{}
	for rows.Next() {
		var mailbox string
		var state msgstore.State
		var n int
		if err := rows.Scan(&mailbox, &state, &n); err != nil {
			return nil, fmt.Errorf("msgstore: counts: %w", err)
		}
		c := out[msgstore.MailboxKey(mailbox)]
		if state == msgstore.New {
			c.New += n
		} else {
			c.Saved += n
		}
		out[msgstore.MailboxKey(mailbox)] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("msgstore: counts: %w", err)
	}
	return out, nil
}
