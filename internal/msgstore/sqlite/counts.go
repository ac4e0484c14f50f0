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
	return msgstore.ScanCounts(rows)
}
