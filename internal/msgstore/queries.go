package msgstore

import (
	"context"
	"fmt"
	"time"
)

// The store's reads are the same statements in every engine but for how
// an engine compares mailbox addresses and keeps times; so they are written
// once here, in SQL both engines read ($1, $2: pgx and modernc.org/sqlite
// both bind them by position), and each engine's Store embeds Queries with
// its Dialect.

// DB runs an engine's reads, each one statement outside any transaction.
type DB interface {
	// QueryRow runs a query of at most one row.
	QueryRow(ctx context.Context, query string, args ...any) Row
	// Query runs a query; its rows are closed by the caller.
	Query(ctx context.Context, query string, args ...any) (ClosingRows, error)
}

// ClosingRows are a query's rows, which hold a connection until closed:
// *sql.Rows are.
type ClosingRows interface {
	Rows
	Close() error
}

// Dialect is where an engine's SQL differs in the statements of Queries.
type Dialect struct {
	// Key is how expr, the mailbox column or an address, is compared to
	// another whatever its case, as the engine's index keys mailboxes:
	// lower(expr) in PostgreSQL; in SQLite expr itself, the column being
	// COLLATE NOCASE.
	Key func(expr string) string
	// Time is the scan destination that reads one of the engine's times
	// into t.
	Time func(t *time.Time) any
	// Version is the query of the store's change counter, which the
	// engine's triggers move.
	Version string
	// ScanMessage reads a row of Envelope's columns.
	ScanMessage func(Row) (Message, error)
}

// Envelope is the columns of a Message, in ScanMessage's order.
const Envelope = "id, mailbox, caller_number, caller_name, call_id, received_at, duration_ms, size, state, state_at"

// Queries is the part of every engine's Store that is the same statements
// in each: Audio, List, Usage, Version and Counts, and PurgeDue, all of
// Purge but the removal (Tx.RemoveDeleted).
type Queries struct {
	DB      DB
	Dialect Dialect
}

// mailboxIs is the condition that a row is mailbox $1's.
func (q Queries) mailboxIs() string { return q.Dialect.Key("mailbox") + " = " + q.Dialect.Key("$1") }

// Audio implements Store.
func (q Queries) Audio(ctx context.Context, id int64) ([]byte, error) {
	var wav []byte
	if err := q.DB.QueryRow(ctx, "SELECT audio FROM messages WHERE id = $1", id).Scan(&wav); err != nil {
		return nil, Wrap(NotFound(err, id))
	}
	return wav, nil
}

// List implements Store.
func (q Queries) List(ctx context.Context, mailbox string, state State) ([]Message, error) {
	rows, err := q.DB.Query(ctx, "SELECT "+Envelope+" FROM messages WHERE "+q.mailboxIs()+" AND ($2 = '' OR state = $2) ORDER BY received_at, id",
		mailbox, string(state))
	if err != nil {
		return nil, fmt.Errorf("msgstore: %w", err)
	}
	defer rows.Close()
	return ScanMessages(rows, q.Dialect.ScanMessage)
}

// Usage implements Store.
func (q Queries) Usage(ctx context.Context, mailbox string) (Usage, error) {
	var u Usage
	err := q.DB.QueryRow(ctx, "SELECT count(*), coalesce(sum(size), 0) FROM messages WHERE "+q.mailboxIs()+" AND state != 'deleted'",
		mailbox).Scan(&u.Messages, &u.Bytes)
	if err != nil {
		return Usage{}, fmt.Errorf("msgstore: %w", err)
	}
	return u, nil
}

// Version implements Store.
func (q Queries) Version(ctx context.Context) (uint64, error) {
	var v int64
	if err := q.DB.QueryRow(ctx, q.Dialect.Version).Scan(&v); err != nil {
		return 0, fmt.Errorf("msgstore: version: %w", err)
	}
	return uint64(v), nil
}

// Counts implements Store, from the messages_by_mailbox index alone.
func (q Queries) Counts(ctx context.Context) (map[string]Counts, error) {
	key := q.Dialect.Key("mailbox")
	rows, err := q.DB.Query(ctx, "SELECT "+key+", state, count(*) FROM messages WHERE state != 'deleted' GROUP BY "+key+", state")
	if err != nil {
		return nil, fmt.Errorf("msgstore: counts: %w", err)
	}
	defer rows.Close()
	return ScanCounts(rows)
}
