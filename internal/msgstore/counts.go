package msgstore

import "fmt"

// Row is what the stores' query results offer for reading one row:
// *sql.Row and pgx.Row do, and every Rows.
type Row interface {
	Scan(dest ...any) error
}

// Rows is what the stores' query results offer: *sql.Rows and pgx.Rows
// both do.
type Rows interface {
	Row
	Next() bool
	Err() error
}

// ScanMessages reads the rows of a store's List query, each read by scan,
// the engine's reading of a message's envelope.
func ScanMessages(rows Rows, scan func(Row) (Message, error)) ([]Message, error) {
	var out []Message
	for rows.Next() {
		m, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("msgstore: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("msgstore: %w", err)
	}
	return out, nil
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
