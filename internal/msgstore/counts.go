package msgstore

import "fmt"

// Rows is what the stores' query results offer: *sql.Rows and pgx.Rows
// both do.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// ScanCounts reads the rows of a store's Counts query, each (mailbox,
// state, count) of the messages in one state of one mailbox, into Counts'
// map: New as new, every other state as saved.
func ScanCounts(rows Rows) (map[string]Counts, error) {
	out := map[string]Counts{}
	for rows.Next() {
		var mailbox, state string
		var n int
		if err := rows.Scan(&mailbox, &state, &n); err != nil {
			return nil, fmt.Errorf("msgstore: counts: %w", err)
		}
		c := out[MailboxKey(mailbox)]
		if State(state) == New {
			c.New += n
		} else {
			c.Saved += n
		}
		out[MailboxKey(mailbox)] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("msgstore: counts: %w", err)
	}
	return out, nil
}
