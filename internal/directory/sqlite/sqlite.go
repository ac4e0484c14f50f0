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
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/directory/dirsql"
	"github.com/openum/openum/internal/sqlitedb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// schema is the directory's migrations, for sqlitedb.
var schema, _ = fs.Sub(migrations, "migrations")

// Store is a directory.Directory in one SQLite file.
type Store struct {
	dirsql.Queries
	db    *sql.DB
	cache directory.Cache
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
	return &Store{Queries: queries(db), db: db}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Snapshot reads the configuration in one read transaction: the objects
// changed since the last read, or all on the first.
func (s *Store) Snapshot(ctx context.Context) (*directory.Snapshot, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("directory: %w", err)
	}
	defer tx.Rollback()
	snap, _, err := s.current(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("directory: %w", err)
	}
	return snap.Clone(), nil
}

// current returns the configuration as q sees it, and its version: the
// cached one when the version did not move; else the cached one with the
// objects that the audit records since name read again; else all of it.
// The snapshot is the cache's: it must not be changed.
func (s *Store) current(ctx context.Context, q querier) (*directory.Snapshot, uint64, error) {
	v, err := version(ctx, q)
	if err != nil {
		return nil, 0, err
	}
	cached, cv, _ := s.cache.Get()
	if cached != nil && cv == v {
		return cached, v, nil
	}
	if cached != nil && cv < v {
		if refs, ok, err := audited(ctx, q, cv); err != nil {
			return nil, 0, err
		} else if ok {
			fresh, err := loadObjects(ctx, q, refs)
			if err != nil {
				return nil, 0, err
			}
			snap := directory.Patch(cached, refs, fresh)
			s.cache.Put(snap, v, int64(v))
			return snap, v, nil
		}
	}
	snap, err := loadObjects(ctx, q, nil)
	if err != nil {
		return nil, 0, err
	}
	snap.Pack()
	s.cache.Put(snap, v, int64(v))
	return snap, v, nil
}

// audited returns the objects that the audit records after ID after name;
// false when they are too many to read one by one.
func audited(ctx context.Context, q querier, after uint64) ([]directory.Ref, bool, error) {
	rows, err := q.QueryContext(ctx, "SELECT changes FROM audit WHERE id > ? ORDER BY id", after)
	if err != nil {
		return nil, false, err
	}
	records, err := sqlitedb.Collect(rows, func(row sqlitedb.Row) (changes string, err error) {
		err = row.Scan(&changes)
		return changes, err
	})
	if err != nil {
		return nil, false, err
	}
	refs, ok := directory.AuditedObjects(records)
	return refs, ok, nil
}

// where returns the clause that narrows the table of kind to the objects
// of refs, and its arguments; all of the table when refs is nil, and
// false when refs names none of it.
func where(refs []directory.Ref, kind directory.Kind) (string, []any, bool) {
	if refs == nil {
		return "", nil, true
	}
	var args []any
	for _, r := range refs {
		if r.Kind == kind {
			args = append(args, r.Name)
		}
	}
	if len(args) == 0 {
		return "", nil, false
	}
	return " WHERE " + tables[kind].key + " IN (?" + strings.Repeat(", ?", len(args)-1) + ")", args, true
}

// loadObjects reads the objects of refs, or every object when refs is nil.
func loadObjects(ctx context.Context, q querier, refs []directory.Ref) (*directory.Snapshot, error) {
	return directory.LoadObjects(func(kind directory.Kind, column string, row func(config, extra []byte) error) error {
		return readTable(ctx, q, refs, kind, column, row)
	})
}

// readTable hands row the config column, and column when set, of the
// objects of kind in refs (all when refs is nil), in key order. The
// columns are read into buffers that each row reuses (a command reads
// every mailbox), which row decodes before the next.
func readTable(ctx context.Context, q querier, refs []directory.Ref, kind directory.Kind, column string, row func(config, extra []byte) error) error {
	clause, args, ok := where(refs, kind)
	if !ok {
		return nil
	}
	t := tables[kind]
	cols := "config"
	if column != "" {
		cols += ", " + column
	}
	return runner{q}.Query(ctx, "SELECT "+cols+" FROM "+t.name+clause+" ORDER BY "+t.key+" COLLATE NOCASE",
		dirsql.EachObject[sql.RawBytes](column != "", t.name, row), args...)
}

// Update implements directory.Directory.
func (s *Store) Update(ctx context.Context, actor directory.Actor, fn func(*directory.Snapshot) error) ([]directory.Change, error) {
	var changes []directory.Change
	var next *directory.Snapshot
	var written uint64
	err := sqlitedb.Write(ctx, s.db, func(conn *sql.Conn) error {
		current, _, err := s.current(ctx, conn)
		if err != nil {
			return fmt.Errorf("directory: %w", err)
		}
		var diff []directory.Change
		next, diff, err = directory.Prepare(current, fn)
		if err != nil || len(diff) == 0 {
			return err
		}
		objs := next.Objects(diff)
		for i, c := range diff {
			if err := writeChange(ctx, conn, c, objs[i]); err != nil {
				return fmt.Errorf("directory: write %s: %w", c.Object, err)
			}
		}
		if err := sqlitedb.AppendAudit(ctx, conn, actor, diff); err != nil {
			return fmt.Errorf("directory: audit: %w", err)
		}
		if written, err = version(ctx, conn); err != nil {
			return fmt.Errorf("directory: %w", err)
		}
		changes = diff
		return nil
	})
	if err == nil && changes != nil {
		// What was written is the configuration at the new version: the
		// next read need not read it back.
		s.cache.Put(next, written, int64(written))
	}
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

func writeChange(ctx context.Context, conn *sql.Conn, c directory.Change, obj any) error {
	t := tables[c.Object.Kind]
	if c.Action == directory.Removed {
		_, err := conn.ExecContext(ctx, "DELETE FROM "+t.name+" WHERE "+t.key+" = ?", c.Object.Name)
		return err
	}
	cols, vals, err := directory.StoredColumns(obj, func(name string) string { return name })
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
	if m, ok := obj.(*directory.Mailbox); ok {
		return writeExtensions(ctx, conn, m, c.Object.Name, c.Action == directory.Added)
	}
	return nil
}

// writeExtensions refreshes the extension index of one mailbox; a new
// one has no rows to drop.
func writeExtensions(ctx context.Context, conn *sql.Conn, m *directory.Mailbox, email string, added bool) error {
	if !added {
		if _, err := conn.ExecContext(ctx, "DELETE FROM extensions WHERE mailbox = ?", email); err != nil {
			return err
		}
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
	v, err := version(ctx, s.db)
	if err != nil {
		return 0, fmt.Errorf("directory: version: %w", err)
	}
	return v, nil
}

func version(ctx context.Context, q interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}) (uint64, error) {
	var v uint64
	err := q.QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) FROM audit").Scan(&v)
	return v, err
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
