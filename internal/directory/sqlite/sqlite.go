// Package sqlite keeps the directory in an embedded SQLite database
// (modernc.org/sqlite, no cgo): the default for a single openum server.
//
// The database is opened as package sqlitedb opens every openum database
// (WAL, foreign keys, synchronous writes, a busy timeout), so that several
// openum processes may read and write it at once.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/sqlitedb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// schema is the directory's migrations, for sqlitedb.
var schema, _ = fs.Sub(migrations, "migrations")

// Store is a directory.Directory in one SQLite file.
type Store struct {
	db *sql.DB
}

var _ directory.Directory = (*Store)(nil)

// Open opens (creating it if needed) the database at file and brings its
// schema up to date.
func Open(ctx context.Context, file string) (*Store, error) {
	db, err := sqlitedb.Open(ctx, file, schema)
	if errors.Is(err, sqlitedb.ErrSchemaTooNew) {
		return nil, directory.ErrSchemaTooNew
	}
	if err != nil {
		return nil, fmt.Errorf("directory: %w", err)
	}
	return &Store{db: db}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// querier is what both *sql.Conn and *sql.Tx offer for reading.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Snapshot reads the whole configuration in one read transaction.
func (s *Store) Snapshot(ctx context.Context) (*directory.Snapshot, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("directory: %w", err)
	}
	defer tx.Rollback()
	snap, err := load(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("directory: %w", err)
	}
	return snap, nil
}

func load(ctx context.Context, q querier) (*directory.Snapshot, error) {
	var snap directory.Snapshot
	err := errors.Join(
		loadTable(ctx, q, "dial_plans", &snap.DialPlans),
		loadTable(ctx, q, "ip_gateways", &snap.IPGateways),
		loadTable(ctx, q, "hunt_groups", &snap.HuntGroups),
		loadTable(ctx, q, "servers", &snap.Servers),
		loadTable(ctx, q, "mailbox_policies", &snap.MailboxPolicies),
	)
	if err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, "SELECT config, pin FROM mailboxes ORDER BY email COLLATE NOCASE")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var config, pin string
		var m directory.Mailbox
		if err := rows.Scan(&config, &pin); err != nil {
			return nil, err
		}
		if err := errors.Join(json.Unmarshal([]byte(config), &m), json.Unmarshal([]byte(pin), &m.PIN)); err != nil {
			return nil, fmt.Errorf("mailboxes: %w", err)
		}
		snap.Mailboxes = append(snap.Mailboxes, m)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return &snap, loadAdminTokens(ctx, q, &snap)
}

// loadAdminTokens reads the admin tokens, each with its hash from its own
// column (AdminToken.Hash is not part of the object's JSON).
func loadAdminTokens(ctx context.Context, q querier, snap *directory.Snapshot) error {
	rows, err := q.QueryContext(ctx, "SELECT config, hash FROM admin_tokens ORDER BY name COLLATE NOCASE")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var config string
		var t directory.AdminToken
		if err := rows.Scan(&config, &t.Hash); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(config), &t); err != nil {
			return fmt.Errorf("admin_tokens: %w", err)
		}
		snap.AdminTokens = append(snap.AdminTokens, t)
	}
	return rows.Err()
}

func loadTable[T any](ctx context.Context, q querier, table string, into *[]T) error {
	rows, err := q.QueryContext(ctx, "SELECT config FROM "+table+" ORDER BY name COLLATE NOCASE")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var config string
		var v T
		if err := rows.Scan(&config); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(config), &v); err != nil {
			return fmt.Errorf("%s: %w", table, err)
		}
		*into = append(*into, v)
	}
	return rows.Err()
}

// Update implements directory.Directory.
func (s *Store) Update(ctx context.Context, actor directory.Actor, fn func(*directory.Snapshot) error) ([]directory.Change, error) {
	var changes []directory.Change
	err := sqlitedb.Write(ctx, s.db, func(conn *sql.Conn) error {
		current, err := load(ctx, conn)
		if err != nil {
			return fmt.Errorf("directory: %w", err)
		}
		next, diff, err := directory.Prepare(current, fn)
		if err != nil || len(diff) == 0 {
			return err
		}
		for _, c := range diff {
			if err := writeChange(ctx, conn, next, c); err != nil {
				return fmt.Errorf("directory: write %s: %w", c.Object, err)
			}
		}
		if err := sqlitedb.AppendAudit(ctx, conn, actor, diff); err != nil {
			return fmt.Errorf("directory: audit: %w", err)
		}
		changes = diff
		return nil
	})
	return changes, err
}

// tables names the table and key column of each kind.
var tables = map[directory.Kind]struct{ name, key string }{
	directory.KindDialPlan:      {"dial_plans", "name"},
	directory.KindIPGateway:     {"ip_gateways", "name"},
	directory.KindHuntGroup:     {"hunt_groups", "name"},
	directory.KindServer:        {"servers", "name"},
	directory.KindMailboxPolicy: {"mailbox_policies", "name"},
	directory.KindMailbox:       {"mailboxes", "email"},
	directory.KindAdminToken:    {"admin_tokens", "name"},
}

// columns returns the stored columns of an object of next besides its key,
// and their values.
func columns(next *directory.Snapshot, r directory.Ref) ([]string, []any, error) {
	config := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	switch r.Kind {
	case directory.KindDialPlan:
		d, err := next.DialPlan(r.Name)
		return []string{"config"}, []any{config(d)}, err
	case directory.KindIPGateway:
		g, err := next.IPGateway(r.Name)
		return []string{"config"}, []any{config(g)}, err
	case directory.KindServer:
		sv, err := next.Server(r.Name)
		return []string{"config"}, []any{config(sv)}, err
	case directory.KindHuntGroup:
		h, err := next.HuntGroup(r.Name)
		if err != nil {
			return nil, nil, err
		}
		return []string{"ip_gateway", "dial_plan", "config"}, []any{h.UMIPGateway, h.UMDialPlan, config(h)}, nil
	case directory.KindMailboxPolicy:
		p, err := next.MailboxPolicy(r.Name)
		if err != nil {
			return nil, nil, err
		}
		return []string{"dial_plan", "config"}, []any{p.UMDialPlan, config(p)}, nil
	case directory.KindMailbox:
		m, err := next.Mailbox(r.Name)
		if err != nil {
			return nil, nil, err
		}
		return []string{"dial_plan", "policy", "config", "pin"},
			[]any{m.UMDialPlan, m.UMMailboxPolicy, config(m), config(m.PIN)}, nil
	case directory.KindAdminToken:
		t, err := next.AdminToken(r.Name)
		if err != nil {
			return nil, nil, err
		}
		return []string{"config", "hash"}, []any{config(t), t.Hash}, nil
	}
	return nil, nil, fmt.Errorf("unknown kind %q", r.Kind)
}

func writeChange(ctx context.Context, conn *sql.Conn, next *directory.Snapshot, c directory.Change) error {
	t := tables[c.Object.Kind]
	if c.Action == directory.Removed {
		_, err := conn.ExecContext(ctx, "DELETE FROM "+t.name+" WHERE "+t.key+" = ?", c.Object.Name)
		return err
	}
	cols, vals, err := columns(next, c.Object)
	if err != nil {
		return err
	}
	updates := make([]string, len(cols))
	for i, col := range cols {
		updates[i] = col + " = excluded." + col
	}
	query := fmt.Sprintf("INSERT INTO %s (%s, %s) VALUES (?%s) ON CONFLICT (%s) DO UPDATE SET %s",
		t.name, t.key, strings.Join(cols, ", "), strings.Repeat(", ?", len(cols)), t.key, strings.Join(updates, ", "))
	if _, err := conn.ExecContext(ctx, query, append([]any{c.Object.Name}, vals...)...); err != nil {
		return err
	}
	if c.Object.Kind == directory.KindMailbox {
		return writeExtensions(ctx, conn, next, c.Object.Name)
	}
	return nil
}

// writeExtensions refreshes the extension index of one mailbox.
func writeExtensions(ctx context.Context, conn *sql.Conn, next *directory.Snapshot, email string) error {
	m, err := next.Mailbox(email)
	if err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "DELETE FROM extensions WHERE mailbox = ?", email); err != nil {
		return err
	}
	for _, ext := range m.Extensions {
		if _, err := conn.ExecContext(ctx, "INSERT INTO extensions (dial_plan, extension, mailbox) VALUES (?, ?, ?)",
			m.UMDialPlan, ext, email); err != nil {
			return err
		}
	}
	return nil
}

// Version implements directory.Directory: the ID of the last audit record.
// Every Update that writes adds one in the same transaction (SPEC DIR-4),
// and AUTOINCREMENT never gives an ID twice, so the audit log is the
// change counter.
func (s *Store) Version(ctx context.Context) (uint64, error) {
	var v uint64
	if err := s.db.QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) FROM audit").Scan(&v); err != nil {
		return 0, fmt.Errorf("directory: version: %w", err)
	}
	return v, nil
}

// Audit implements directory.Directory.
func (s *Store) Audit(ctx context.Context) ([]directory.AuditRecord, error) {
	records, err := sqlitedb.ReadAudit(ctx, s.db)
	if err != nil {
		return nil, fmt.Errorf("directory: audit: %w", err)
	}
	return records, nil
}

// SchemaVersion is the schema version this openum writes: the number of
// its migrations.
func SchemaVersion() int { return len(sqlitedb.Migrations(schema)) }
