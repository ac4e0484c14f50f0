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
	msgstore.Queries
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
	return &Store{Queries: msgstore.Queries{DB: reads{db}, Dialect: dialect}, db: db}, nil
}

// dialect is SQLite's: the mailbox column is COLLATE NOCASE, which the
// messages_by_mailbox index keys; times are timeFormat text.
var dialect = msgstore.Dialect{
	Key:         func(expr string) string { return expr },
	Time:        func(t *time.Time) any { return textTime{t} },
	Version:     "SELECT version FROM store_version", // triggers move it on every insert, state change and delete
	ScanMessage: scanMessage,
}

// textTime scans one of the store's times, timeFormat text, into t.
type textTime struct{ t *time.Time }

func (d textTime) Scan(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("msgstore: a time of type %T, not text", v)
	}
	*d.t = parseTime(s)
	return nil
}

// reads runs msgstore's reads on the database.
type reads struct{ db *sql.DB }

func (r reads) QueryRow(ctx context.Context, query string, args ...any) msgstore.Row {
	return r.db.QueryRowContext(ctx, query, args...)
}

func (r reads) Query(ctx context.Context, query string, args ...any) (msgstore.ClosingRows, error) {
	rows, err := r.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return rows, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Save implements msgstore.Store.
func (s *Store) Save(ctx context.Context, actor directory.Actor, m msgstore.Message, wav []byte) (msgstore.Message, error) {
	return msgstore.Save(ctx, s.write, actor, m, wav)
}

// SetState implements msgstore.Store.
func (s *Store) SetState(ctx context.Context, actor directory.Actor, id int64, state msgstore.State, at time.Time) (*msgstore.Message, error) {
	return msgstore.SetState(ctx, s.write, actor, id, state, at)
}

// write runs msgstore's transactions in sqlitedb.Write's.
func (s *Store) write(ctx context.Context, fn func(msgstore.Tx) error) error {
	return sqlitedb.Write(ctx, s.db, func(conn *sql.Conn) error { return fn(tx{conn}) })
}

// tx is a msgstore.Tx on a connection inside sqlitedb.Write, whose write
// lock keeps every other writer out until it ends.
type tx struct{ conn *sql.Conn }

func (t tx) Insert(ctx context.Context, m msgstore.Message, wav []byte) (int64, error) {
	res, err := t.conn.ExecContext(ctx, `INSERT INTO messages
		(mailbox, caller_number, caller_name, call_id, received_at, duration_ms, size, state, state_at, audio)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.Mailbox, m.CallerNumber, m.CallerName, m.CallID, formatTime(m.ReceivedAt),
		time.Duration(m.Duration).Milliseconds(), m.Size, m.State, formatTime(m.StateChanged), wav)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

func (t tx) AddState(ctx context.Context, id int64, state msgstore.State, at time.Time) error {
	_, err := t.conn.ExecContext(ctx, "INSERT INTO message_states (message, state, at) VALUES (?, ?, ?)", id, state, formatTime(at))
	return err
}

func (t tx) Get(ctx context.Context, id int64) (*msgstore.Message, error) {
	return get(ctx, t.conn, id)
}

func (t tx) UpdateState(ctx context.Context, id int64, state msgstore.State, at time.Time) error {
	_, err := t.conn.ExecContext(ctx, "UPDATE messages SET state = ?, state_at = ? WHERE id = ?", state, formatTime(at), id)
	return err
}

func (t tx) AppendAudit(ctx context.Context, actor directory.Actor, changes []directory.Change) error {
	return sqlitedb.AppendAudit(ctx, t.conn, actor, changes)
}

func scanMessage(row msgstore.Row) (msgstore.Message, error) {
	var m msgstore.Message
	var received, changed string
	var ms int64
	err := row.Scan(&m.ID, &m.Mailbox, &m.CallerNumber, &m.CallerName, &m.CallID, &received, &ms, &m.Size, &m.State, &changed)
	m.ReceivedAt, m.StateChanged = parseTime(received), parseTime(changed)
	m.Duration = msgstore.Duration(time.Duration(ms) * time.Millisecond)
	return m, err
}

// get reads a message with its History; its errors are SQLite's, or a
// *msgstore.NotFoundError.
func get(ctx context.Context, conn *sql.Conn, id int64) (*msgstore.Message, error) {
	m, err := scanMessage(conn.QueryRowContext(ctx, "SELECT "+msgstore.Envelope+" FROM messages WHERE id = ?", id))
	if err != nil {
		return nil, msgstore.NotFound(err, id)
	}
	rows, err := conn.QueryContext(ctx, "SELECT state, at FROM message_states WHERE message = ? ORDER BY rowid", id)
	if err != nil {
		return nil, err
	}
	m.History, err = sqlitedb.Collect(rows, func(row sqlitedb.Row) (c msgstore.StateChange, err error) {
		var at string
		err = row.Scan(&c.State, &at)
		c.At = parseTime(at)
		return c, err
	})
	if err != nil {
		return nil, err
	}
	return &m, nil
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
	return m, msgstore.Wrap(err)
}
