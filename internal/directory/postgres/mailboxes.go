package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/openum/openum/internal/directory"
)

var _ directory.MailboxReader = (*Store)(nil)

// StoredMailboxes implements directory.MailboxReader: one statement over
// the mailboxes table, which never reads the pin column.
func (s *Store) StoredMailboxes(ctx context.Context) ([]directory.StoredMailbox, error) {
	rows, err := s.pool.Query(ctx, "SELECT key, config, shape FROM mailboxes ORDER BY key")
	if err != nil {
		return nil, fmt.Errorf("directory: mailboxes: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (m directory.StoredMailbox, err error) {
		if err := row.Scan(&m.Email, &m.Config, &m.Shape); err != nil {
			return m, err
		}
		// The key is the address in lower case, which sorts as the
		// address does when it is ASCII; else the address is in config.
		if !isASCII(m.Email) {
			var spelled struct{ EmailAddress string }
			if err := json.Unmarshal(m.Config, &spelled); err != nil {
				return m, fmt.Errorf("mailbox %s: %w", m.Email, err)
			}
			m.Email = spelled.EmailAddress
		}
		return m, nil
	})
	if err != nil {
		return nil, fmt.Errorf("directory: mailboxes: %w", err)
	}
	return out, nil
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
