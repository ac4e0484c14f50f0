package sqlite

import (
	"context"
	"fmt"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/sqlitedb"
)

var _ directory.MailboxReader = (*Store)(nil)

// StoredMailboxes implements directory.MailboxReader: one statement over
// the mailboxes table, which never reads the pin column.
func (s *Store) StoredMailboxes(ctx context.Context) ([]directory.StoredMailbox, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT email, config, shape FROM mailboxes ORDER BY email COLLATE NOCASE")
	if err != nil {
		return nil, fmt.Errorf("directory: mailboxes: %w", err)
	}
	out, err := sqlitedb.Collect(rows, func(row sqlitedb.Row) (m directory.StoredMailbox, err error) {
		err = row.Scan(&m.Email, &m.Config, &m.Shape)
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("directory: mailboxes: %w", err)
	}
	return out, nil
}
