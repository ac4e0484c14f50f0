// Package dirsql is what the directory's SQL engines (packages postgres
// and sqlite beside it) run alike: the statements of the outcall ledger,
// the load board and the mailbox listing, and the reading of a table of
// objects (EachObject). The statements are written once in SQL both
// engines read ($1, $2: pgx and modernc.org/sqlite both bind them by
// position). Each engine's Store embeds Queries, with its connections and
// its Dialect for what differs.
package dirsql

import (
	"context"
	"fmt"
	"time"

	"github.com/openum/openum/internal/dialing"
	"github.com/openum/openum/internal/directory"
)

// DB is one of an engine's connections, pool or transaction, as Queries
// uses it.
type DB interface {
	// Exec runs a statement that returns no rows.
	Exec(ctx context.Context, query string, args ...any) error
	// Query runs a query and hands each of its rows to each, in order,
	// until each returns an error, which Query returns.
	Query(ctx context.Context, query string, each func(Row) error, args ...any) error
}

// Row is what a query's row offers for reading it: *sql.Rows and
// pgx.Rows do.
type Row interface {
	Scan(dest ...any) error
}

// Dialect is where an engine's SQL differs in the statements of Queries.
type Dialect struct {
	// Name is a name (a server's, a mailbox's) as the engine's columns
	// that ignore case hold it: in lower case in PostgreSQL; in SQLite as
	// spelled, the columns being COLLATE NOCASE.
	Name func(name string) string
	// Lock ends a SELECT that keeps the rows it reads from other writers
	// until the transaction ends: " FOR UPDATE" in PostgreSQL, where two
	// servers reserving at once then take turns and neither overspends;
	// "" in SQLite, whose write transaction keeps every other writer out.
	Lock string
	// Time is t as an argument for a column of the engine's times, and
	// ScanTime the scan destination that reads one back into t:
	// timestamptz in PostgreSQL, milliseconds since 1970 in SQLite.
	Time     func(t time.Time) any
	ScanTime func(t *time.Time) any
	// Mailboxes is the query of every mailbox's key, config and shape, in
	// key order; MailboxEmail, when set, makes the Email of m, read from the
	// key, an address MailboxesJSON orders by as the Snapshot does.
	Mailboxes    string
	MailboxEmail func(m *directory.StoredMailbox) error
}

// Queries is the part of every engine's Store that is the same statements
// in each: the Store, embedding it, is these interfaces.
type Queries struct {
	// DB runs the statements that need no transaction of their own.
	DB DB
	// Write runs fn in one write transaction, committed when fn returns
	// nil and rolled back otherwise.
	Write func(ctx context.Context, fn func(DB) error) error
	// Dialect is the engine's.
	Dialect Dialect
}

var (
	_ dialing.Ledger          = Queries{}
	_ directory.LoadBoard     = Queries{}
	_ directory.MailboxReader = Queries{}
)

// EachObject is a Query's each for an engine's reading of a table of
// objects for directory.LoadObjects: it hands row the config column of
// each row and, when extra is set, the next one, and names what (the
// query, the table) in row's errors. The values are read into buffers of
// type B, which every row reuses: where B is sql.RawBytes they are good
// only until row returns, which is why row decodes them at once.
func EachObject[B ~[]byte](extra bool, what string, row func(config, extra []byte) error) func(Row) error {
	var config, value B
	dest := []any{&config}
	if extra {
		dest = append(dest, &value)
	}
	return func(r Row) error {
		if err := r.Scan(dest...); err != nil {
			return err
		}
		if err := row(config, value); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
}
