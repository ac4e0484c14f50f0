// Package postgres keeps the voice messages in a PostgreSQL database
// (github.com/jackc/pgx/v5), so that every server of a pool sharing one
// database reads every message (SPEC OPS-4): subscriber access on any
// server, message waiting from any.
//
// The store's tables may live in the directory's database, beside its
// tables; they have a schema of their own, versioned in
// msgstore_migrations (embedded migrations/*.sql) and brought up to date
// only by Migrate (openum directory migrate, which migrates both): Open
// refuses a schema older or newer than this openum's. Every write is one
// transaction; a message's row holds its audio (bytea).
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/msgstore"
	"github.com/openum/openum/internal/pgdb"
)

//go:embed migrations/*.sql
var migrations embed.FS

var files, _ = fs.Sub(migrations, "migrations")

var schema = pgdb.Schema{Files: files, Table: "msgstore_migrations", What: "the PostgreSQL message store's schema"}

// errTooNew says that a newer openum wrote the store's schema.
var errTooNew = fmt.Errorf("msgstore: the message store was written by a newer openum; upgrade openum (%w)", pgdb.ErrSchemaTooNew)

// SchemaVersion is the store's schema version this openum writes.
func SchemaVersion() int { return schema.Version() }

// Migrate brings the store's schema in the database at url up to date, and
// returns how many migrations it applied: none when it is (idempotent).
func Migrate(ctx context.Context, url string) (int, error) {
	n, err := schema.Migrate(ctx, url)
	if errors.Is(err, pgdb.ErrSchemaTooNew) {
		return n, errTooNew
	}
	if err != nil {
		return n, fmt.Errorf("msgstore: migrate: %w", err)
	}
	return n, nil
}

// Store is a msgstore.Store in a PostgreSQL database.
type Store struct {
	msgstore.Queries
	pool *pgxpool.Pool
}

var _ msgstore.Store = (*Store)(nil)

// Open connects to the database at url (postgres://...) and checks that the
// store's schema is the one this openum writes.
func Open(ctx context.Context, url string) (*Store, error) {
	pool, err := schema.Open(ctx, url)
	if errors.Is(err, pgdb.ErrSchemaTooNew) {
		return nil, errTooNew
	}
	if err != nil {
		return nil, fmt.Errorf("msgstore: %w", err)
	}
	return &Store{Queries: msgstore.Queries{DB: reads{pool}, Dialect: dialect}, pool: pool}, nil
}

// dialect is PostgreSQL's: addresses compared in lower case, as the
// messages_by_mailbox index keys them; times are timestamptz.
var dialect = msgstore.Dialect{
	Key:         func(expr string) string { return "lower(" + expr + ")" },
	Time:        func(t *time.Time) any { return t },
	Version:     "SELECT version FROM message_version", // triggers count it up in every insert's, state change's and delete's transaction
	ScanMessage: scanMessage,
}

// reads runs msgstore's reads on the pool.
type reads struct{ pool *pgxpool.Pool }

func (r reads) QueryRow(ctx context.Context, query string, args ...any) msgstore.Row {
	return r.pool.QueryRow(ctx, query, args...)
}

func (r reads) Query(ctx context.Context, query string, args ...any) (msgstore.ClosingRows, error) {
	rows, err := r.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return closingRows{rows}, nil
}

// closingRows are pgx's rows, whose Close returns nothing, as
// msgstore.ClosingRows.
type closingRows struct{ pgx.Rows }

func (r closingRows) Close() error { r.Rows.Close(); return r.Rows.Err() }

// Close closes the connections.
func (s *Store) Close() error { s.pool.Close(); return nil }

// Save implements msgstore.Store.
func (s *Store) Save(ctx context.Context, actor directory.Actor, m msgstore.Message, wav []byte) (msgstore.Message, error) {
	return msgstore.Save(ctx, s.write, actor, m, wav)
}

// SetState implements msgstore.Store. The message's row is locked for the
// transaction, so that two servers changing it at once take turns.
func (s *Store) SetState(ctx context.Context, actor directory.Actor, id int64, state msgstore.State, at time.Time) (*msgstore.Message, error) {
	return msgstore.SetState(ctx, s.write, actor, id, state, at)
}

// write runs msgstore's transactions as PostgreSQL's.
func (s *Store) write(ctx context.Context, fn func(msgstore.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, func(t pgx.Tx) error { return fn(tx{t}) })
}

// tx is a msgstore.Tx in a PostgreSQL transaction.
type tx struct{ tx pgx.Tx }

func (t tx) Insert(ctx context.Context, m msgstore.Message, wav []byte) (id int64, err error) {
	err = t.tx.QueryRow(ctx, `INSERT INTO messages
		(mailbox, caller_number, caller_name, call_id, received_at, duration_ms, size, state, state_at, audio)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
		m.Mailbox, m.CallerNumber, m.CallerName, m.CallID, m.ReceivedAt,
		time.Duration(m.Duration).Milliseconds(), m.Size, string(m.State), m.StateChanged, wav).Scan(&id)
	return id, err
}

func (t tx) AddState(ctx context.Context, id int64, state msgstore.State, at time.Time) error {
	_, err := t.tx.Exec(ctx, "INSERT INTO message_states (message, state, at) VALUES ($1, $2, $3)", id, string(state), at)
	return err
}

// Get locks the message's row (FOR UPDATE) until the transaction ends.
func (t tx) Get(ctx context.Context, id int64) (*msgstore.Message, error) {
	return get(ctx, t.tx, id, true)
}

func (t tx) UpdateState(ctx context.Context, id int64, state msgstore.State, at time.Time) error {
	_, err := t.tx.Exec(ctx, "UPDATE messages SET state = $1, state_at = $2 WHERE id = $3", string(state), at, id)
	return err
}

func (t tx) AppendAudit(ctx context.Context, actor directory.Actor, changes []directory.Change) error {
	return pgdb.AppendAudit(ctx, t.tx, "message_audit", actor, changes)
}

func scanMessage(row msgstore.Row) (msgstore.Message, error) {
	var m msgstore.Message
	var ms int64
	var state string
	err := row.Scan(&m.ID, &m.Mailbox, &m.CallerNumber, &m.CallerName, &m.CallID, &m.ReceivedAt, &ms, &m.Size, &state, &m.StateChanged)
	m.ReceivedAt, m.StateChanged = m.ReceivedAt.UTC(), m.StateChanged.UTC()
	m.State, m.Duration = msgstore.State(state), msgstore.Duration(time.Duration(ms)*time.Millisecond)
	return m, err
}

// get reads a message with its History in tx, locking its row when lock
// is set; its errors are PostgreSQL's, or a *msgstore.NotFoundError.
func get(ctx context.Context, tx pgx.Tx, id int64, lock bool) (*msgstore.Message, error) {
	query := "SELECT " + msgstore.Envelope + " FROM messages WHERE id = $1"
	if lock {
		query += " FOR UPDATE"
	}
	m, err := scanMessage(tx.QueryRow(ctx, query, id))
	if err != nil {
		return nil, msgstore.NotFound(err, id)
	}
	rows, err := tx.Query(ctx, "SELECT state, at FROM message_states WHERE message = $1 ORDER BY id", id)
	if err != nil {
		return nil, err
	}
	m.History, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (msgstore.StateChange, error) {
		var state string
		var at time.Time
		err := row.Scan(&state, &at)
		return msgstore.StateChange{State: msgstore.State(state), At: at.UTC()}, err
	})
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// Get implements msgstore.Store, the envelope and History seen together
// (one REPEATABLE READ transaction).
func (s *Store) Get(ctx context.Context, id int64) (m *msgstore.Message, err error) {
	err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		m, err = get(ctx, tx, id, false)
		return err
	})
	return m, msgstore.Wrap(err)
}
