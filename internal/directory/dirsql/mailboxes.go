package dirsql

import (
	"context"
	"fmt"

	"github.com/openum/openum/internal/directory"
)

// StoredMailboxes implements directory.MailboxReader: one statement over
// the mailboxes table, which never reads the pin column.
func (q Queries) StoredMailboxes(ctx context.Context) ([]directory.StoredMailbox, error) {
	var out []directory.StoredMailbox
	err := q.DB.Query(ctx, q.Dialect.Mailboxes, func(row Row) error {
		var m directory.StoredMailbox
		if err := row.Scan(&m.Email, &m.Config, &m.Shape); err != nil {
			return err
		}
		if q.Dialect.MailboxEmail != nil {
			if err := q.Dialect.MailboxEmail(&m); err != nil {
				return err
			}
		}
		out = append(out, m)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("directory: mailboxes: %w", err)
	}
	return out, nil
}
