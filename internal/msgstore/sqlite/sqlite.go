// Package sqlite keeps the voice messages in an embedded SQLite database,
// DATA/messages.db beside the directory's DATA/directory.db: the default
// for a single openum server.
//
// The messages have a database of their own rather than tables in the
// directory's: a message of up to 100 MB written while an administrator
// changes the directory would hold the one write lock both need, every
// directory snapshot would share a file with gigabytes of audio, and the
// configuration is backed up and restored on another schedule than the
// messages. It is opened as every openum database is (package sqlitedb):
// WAL, synchronous=FULL, so that a committed message is on disk.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/msgstore"
	"github.com/openum/openum/internal/sqlitedb"
)

//go:embed migrations/*.sql
var migrations embed.FS

var schema, _ = fs.Sub(migrations, "migrations")

// timeFormat writes times at a fixed width, so that SQLite compares them as
// text in time order (RFC3339Nano drops trailing zeros and would not).
const timeFormat = "2006-01-02T15:04:05.000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

func parseTime(s string) time.Time { t, _ := time.Parse(timeFormat, s); return t }

// Store is a msgstore.Store in one SQLite file.
type Store struct {
	db *sql.DB
}

var _ msgstore.Store = (*Store)(nil)

// Open opens (creating it if needed, mode 0600) the database at file and
// brings its schema up to date.
func Open(ctx context.Context, file string) (*Store, error) {
	db, err := sqlitedb.Open(ctx, file, schema)
	if err != nil {
		return nil, fmt.Errorf("msgstore: %w", err)
	}
	return &Store{db: db}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Save implements msgstore.Store.
func (s *Store) Save(ctx context.Context, actor directory.Actor, m msgstore.Message, wav []byte) (msgstore.Message, error) {
	m, err := msgstore.Check(m, wav, time.Now())
	if err != nil {
		return msgstore.Message{}, err
	}
	err = sqlitedb.Write(ctx, s.db, func(conn *sql.Conn) error {
		res, err := conn.ExecContext(ctx, `INSERT INTO messages
			(mailbox, caller_number, caller_name, call_id, received_at, duration_ms, size, state, state_at, audio)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			m.Mailbox, m.CallerNumber, m.CallerName, m.CallID, formatTime(m.ReceivedAt),
			time.Duration(m.Duration).Milliseconds(), m.Size, m.State, formatTime(m.StateChanged), wav)
		if err != nil {
			return err
		}
		if m.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		if err := addState(ctx, conn, m.ID, m.State, m.StateChanged); err != nil {
			return err
		}
		if err := addMailJob(ctx, conn, m); err != nil {
			return err
		}
		if actor == (directory.Actor{}) {
			return nil
		}
		return sqlitedb.AppendAudit(ctx, conn, actor, []directory.Change{msgstore.AddedRecord(m)})
	})
	if err != nil {
		return msgstore.Message{}, fmt.Errorf("msgstore: save: %w", err)
	}
	return m, nil
}

func addState(ctx context.Context, conn *sql.Conn, id int64, state msgstore.State, at time.Time) error {
	_, err := conn.ExecContext(ctx, "INSERT INTO message_states (message, state, at) VALUES (?, ?, ?)", id, state, formatTime(at))
	return err
}

// envelope is the columns of a Message, in scan order.
const envelope = "id, mailbox, caller_number, caller_name, call_id, received_at, duration_ms, size, state, state_at"

type scanner interface{ Scan(dest ...any) error }

func scanMessage(row scanner) (msgstore.Message, error) {
	var m msgstore.Message
	var received, changed string
	var ms int64
	err := row.Scan(&m.ID, &m.Mailbox, &m.CallerNumber, &m.CallerName, &m.CallID, &received, &ms, &m.Size, &m.State, &changed)
	m.ReceivedAt, m.StateChanged = parseTime(received), parseTime(changed)
	m.Duration = msgstore.Duration(time.Duration(ms) * time.Millisecond)
	return m, err
}

// querier is what both *sql.DB and *sql.Conn offer for reading.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// wrap prefixes an error of SQLite's; a *msgstore.NotFoundError speaks
// for itself.
func wrap(err error) error {
	var nf *msgstore.NotFoundError
	if err == nil || errors.As(err, &nf) {
		return err
	}
	return fmt.Errorf("msgstore: %w", err)
}

// get reads a message with its History; its errors are SQLite's, or a
// *msgstore.NotFoundError.
func get(ctx context.Context, q querier, id int64) (*msgstore.Message, error) {
	m, err := scanMessage(q.QueryRowContext(ctx, "SELECT "+envelope+" FROM messages WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, &msgstore.NotFoundError{ID: id}
	}
	if err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, "SELECT state, at FROM message_states WHERE message = ? ORDER BY rowid", id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var c msgstore.StateChange
		var at string
		if err := rows.Scan(&c.State, &at); err != nil {
			return nil, err
		}
		c.At = parseTime(at)
		m.History = append(m.History, c)
	}
	return &m, rows.Err()
}

// Get implements msgstore.Store.
func (s *Store) Get(ctx context.Context, id int64) (*msgstore.Message, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("msgstore: %w", err)
	}
	defer conn.Close()
	// One read transaction: the envelope and History agree.
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		return nil, fmt.Errorf("msgstore: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
	m, err := get(ctx, conn, id)
	return m, wrap(err)
}

// Audio implements msgstore.Store.
func (s *Store) Audio(ctx context.Context, id int64) ([]byte, error) {
	var wav []byte
	err := s.db.QueryRowContext(ctx, "SELECT audio FROM messages WHERE id = ?", id).Scan(&wav)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, &msgstore.NotFoundError{ID: id}
	}
	if err != nil {
		return nil, fmt.Errorf("msgstore: %w", err)
	}
	return wav, nil
}

// List implements msgstore.Store.
func (s *Store) List(ctx context.Context, mailbox string, state msgstore.State) ([]msgstore.Message, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT "+envelope+" FROM messages WHERE mailbox = ? AND (? = '' OR state = ?) ORDER BY received_at, id",
		mailbox, state, state)
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
	return out, rows.Err()
}

// SetState implements msgstore.Store.
func (s *Store) SetState(ctx context.Context, actor directory.Actor, id int64, state msgstore.State, at time.Time) (*msgstore.Message, error) {
	state, err := directory.ParseEnum("state", string(state), msgstore.States)
	if err != nil {
		return nil, fmt.Errorf("msgstore: %w", err)
	}
	var m *msgstore.Message
	err = sqlitedb.Write(ctx, s.db, func(conn *sql.Conn) (err error) {
		if m, err = get(ctx, conn, id); err != nil || m.State == state {
			return err
		}
		old := m.State
		m.State, m.StateChanged = state, at.UTC()
		m.History = append(m.History, msgstore.StateChange{State: state, At: m.StateChanged})
		if _, err := conn.ExecContext(ctx, "UPDATE messages SET state = ?, state_at = ? WHERE id = ?", state, formatTime(at), id); err != nil {
			return err
		}
		if err := addState(ctx, conn, id, state, at); err != nil {
			return err
		}
		return sqlitedb.AppendAudit(ctx, conn, actor, []directory.Change{msgstore.StateChangeRecord(*m, old)})
	})
	if err != nil {
		return nil, wrap(err)
	}
	return m, nil
}

// Usage implements msgstore.Store.
func (s *Store) Usage(ctx context.Context, mailbox string) (msgstore.Usage, error) {
	var u msgstore.Usage
	err := s.db.QueryRowContext(ctx, "SELECT count(*), coalesce(sum(size), 0) FROM messages WHERE mailbox = ? AND state != 'deleted'",
		mailbox).Scan(&u.Messages, &u.Bytes)
	if err != nil {
		return msgstore.Usage{}, fmt.Errorf("msgstore: %w", err)
	}
	return u, nil
}
