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

var schema = pgdb.Schema{Files: files, Table: "msgstore_migrations"}

// errTooNew says that a newer openum wrote the store's schema.
var errTooNew = fmt.Errorf("msgstore: the message store was written by a newer openum; upgrade openum (%w)", pgdb.ErrSchemaTooNew)

// SchemaVersion is the store's schema version this openum writes.
func SchemaVersion() int { return schema.Version() }

// Migrate brings the store's schema in the database at url up to date, and
// returns how many migrations it applied: none when it is (idempotent).
func Migrate(ctx context.Context, url string) (int, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return 0, fmt.Errorf("msgstore: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	n, err := schema.Migrate(ctx, conn)
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
	pool *pgxpool.Pool
}

var _ msgstore.Store = (*Store)(nil)

// Open connects to the database at url (postgres://...) and checks that the
// store's schema is the one this openum writes.
func Open(ctx context.Context, url string) (*Store, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("msgstore: %w", err)
	}
	v, err := schema.Current(ctx, pool)
	switch {
	case errors.Is(err, pgdb.ErrSchemaTooNew):
		err = errTooNew
	case err != nil:
		err = fmt.Errorf("msgstore: %w", err)
	case v < SchemaVersion():
		err = fmt.Errorf("msgstore: the PostgreSQL message store's schema is at version %d and this openum needs %d: run openum directory migrate", v, SchemaVersion())
	}
	if err != nil {
		pool.Close()
		return nil, err
	}
	return &Store{pool: pool}, nil
}

// Close closes the connections.
func (s *Store) Close() error { s.pool.Close(); return nil }

// Save implements msgstore.Store.
func (s *Store) Save(ctx context.Context, actor directory.Actor, m msgstore.Message, wav []byte) (msgstore.Message, error) {
	m, err := msgstore.Check(m, wav, time.Now())
	if err != nil {
		return msgstore.Message{}, err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO messages
			(mailbox, caller_number, caller_name, call_id, received_at, duration_ms, size, state, state_at, audio)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
			m.Mailbox, m.CallerNumber, m.CallerName, m.CallID, m.ReceivedAt,
			time.Duration(m.Duration).Milliseconds(), m.Size, string(m.State), m.StateChanged, wav).Scan(&m.ID)
		if err != nil {
			return err
		}
		if err := addState(ctx, tx, m.ID, m.State, m.StateChanged); err != nil {
			return err
		}
		if err := addMailJob(ctx, tx, m); err != nil {
			return err
		}
		if actor == (directory.Actor{}) {
			return nil
		}
		return pgdb.AppendAudit(ctx, tx, "message_audit", actor, []directory.Change{msgstore.AddedRecord(m)})
	})
	if err != nil {
		return msgstore.Message{}, fmt.Errorf("msgstore: save: %w", err)
	}
	return m, nil
}

func addState(ctx context.Context, tx pgx.Tx, id int64, state msgstore.State, at time.Time) error {
	_, err := tx.Exec(ctx, "INSERT INTO message_states (message, state, at) VALUES ($1, $2, $3)", id, string(state), at)
	return err
}

// envelope is the columns of a Message, in scan order.
const envelope = "id, mailbox, caller_number, caller_name, call_id, received_at, duration_ms, size, state, state_at"

func scanMessage(row pgx.Row) (msgstore.Message, error) {
	var m msgstore.Message
	var ms int64
	var state string
	err := row.Scan(&m.ID, &m.Mailbox, &m.CallerNumber, &m.CallerName, &m.CallID, &m.ReceivedAt, &ms, &m.Size, &state, &m.StateChanged)
	m.ReceivedAt, m.StateChanged = m.ReceivedAt.UTC(), m.StateChanged.UTC()
	m.State, m.Duration = msgstore.State(state), msgstore.Duration(time.Duration(ms)*time.Millisecond)
	return m, err
}

// wrap prefixes an error of PostgreSQL's; a *msgstore.NotFoundError
// speaks for itself.
func wrap(err error) error {
	var nf *msgstore.NotFoundError
	if err == nil || errors.As(err, &nf) {
		return err
	}
	return fmt.Errorf("msgstore: %w", err)
}

// get reads a message with its History in tx, locking its row when lock
// is set; its errors are PostgreSQL's, or a *msgstore.NotFoundError.
func get(ctx context.Context, tx pgx.Tx, id int64, lock bool) (*msgstore.Message, error) {
	query := "SELECT " + envelope + " FROM messages WHERE id = $1"
	if lock {
		query += " FOR UPDATE"
	}
	m, err := scanMessage(tx.QueryRow(ctx, query, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, &msgstore.NotFoundError{ID: id}
	}
	if err != nil {
		return nil, err
	}
	rows, err := tx.Query(ctx, "SELECT state, at FROM message_states WHERE message = $1 ORDER BY id", id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var state string
		var at time.Time
		if err := rows.Scan(&state, &at); err != nil {
			return nil, err
		}
		m.History = append(m.History, msgstore.StateChange{State: msgstore.State(state), At: at.UTC()})
	}
	return &m, rows.Err()
}

// Get implements msgstore.Store, the envelope and History seen together
// (one REPEATABLE READ transaction).
func (s *Store) Get(ctx context.Context, id int64) (m *msgstore.Message, err error) {
	err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		m, err = get(ctx, tx, id, false)
		return err
	})
	return m, wrap(err)
}

// Audio implements msgstore.Store.
func (s *Store) Audio(ctx context.Context, id int64) ([]byte, error) {
	var wav []byte
	err := s.pool.QueryRow(ctx, "SELECT audio FROM messages WHERE id = $1", id).Scan(&wav)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, &msgstore.NotFoundError{ID: id}
	}
	if err != nil {
		return nil, fmt.Errorf("msgstore: %w", err)
	}
	return wav, nil
}

// List implements msgstore.Store.
func (s *Store) List(ctx context.Context, mailbox string, state msgstore.State) ([]msgstore.Message, error) {
	rows, err := s.pool.Query(ctx, "SELECT "+envelope+" FROM messages WHERE lower(mailbox) = lower($1) AND ($2 = '' OR state = $2) ORDER BY received_at, id",
		mailbox, string(state))
	if err != nil {
		return nil, fmt.Errorf("msgstore: %w", err)
	}
	defer rows.Close()
	var out []msgstore.Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("msgstore: %w", err)
		}
		out = append(out, m)
	}
	return out, wrap(rows.Err())
}

// SetState implements msgstore.Store. The message's row is locked for the
// transaction, so that two servers changing it at once take turns.
func (s *Store) SetState(ctx context.Context, actor directory.Actor, id int64, state msgstore.State, at time.Time) (*msgstore.Message, error) {
	state, err := directory.ParseEnum("state", string(state), msgstore.States)
	if err != nil {
		return nil, fmt.Errorf("msgstore: %w", err)
	}
	var m *msgstore.Message
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) (err error) {
		if m, err = get(ctx, tx, id, true); err != nil || m.State == state {
			return err
		}
		old := m.State
		m.State, m.StateChanged = state, at.UTC()
		m.History = append(m.History, msgstore.StateChange{State: state, At: m.StateChanged})
		if _, err := tx.Exec(ctx, "UPDATE messages SET state = $1, state_at = $2 WHERE id = $3", string(state), m.StateChanged, id); err != nil {
			return err
		}
		if err := addState(ctx, tx, id, state, m.StateChanged); err != nil {
			return err
		}
		return pgdb.AppendAudit(ctx, tx, "message_audit", actor, []directory.Change{msgstore.StateChangeRecord(*m, old)})
	})
	if err != nil {
		return nil, wrap(err)
	}
	return m, nil
}

// Usage implements msgstore.Store.
func (s *Store) Usage(ctx context.Context, mailbox string) (msgstore.Usage, error) {
	var u msgstore.Usage
	err := s.pool.QueryRow(ctx, "SELECT count(*), coalesce(sum(size), 0) FROM messages WHERE lower(mailbox) = lower($1) AND state != 'deleted'",
		mailbox).Scan(&u.Messages, &u.Bytes)
	if err != nil {
		return msgstore.Usage{}, fmt.Errorf("msgstore: %w", err)
	}
	return u, nil
}
