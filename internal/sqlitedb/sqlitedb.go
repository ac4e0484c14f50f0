// Package sqlitedb opens openum's embedded SQLite databases (modernc.org/sqlite,
// no cgo) one way: the directory and the message store share it.
//
// A database runs in WAL mode with foreign keys on, synchronous=FULL (a
// committed transaction is on disk before COMMIT returns, also in WAL mode)
// and a busy timeout, so that several openum processes may read and write it
// at once: writers take the write lock when their transaction begins and
// wait their turn. Its schema is a numbered list of SQL migrations, applied
// in order and counted in PRAGMA user_version.
package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the database/sql driver "sqlite"
)

// BusyTimeout is how long a writer waits for another process's write lock.
const BusyTimeout = 15 * time.Second

// ErrSchemaTooNew is returned by Open when the database holds more
// migrations than the running openum knows: a newer openum wrote it.
var ErrSchemaTooNew = errors.New("sqlitedb: the database was written by a newer openum; upgrade openum")

// Open opens (creating it, mode 0600, if needed) the database at file and
// applies the migrations of schema it lacks, in one write transaction.
// schema holds the migrations as NNNN_name.sql files at its root; their
// order is their names' order.
func Open(ctx context.Context, file string, schema fs.FS) (*sql.DB, error) {
	// The databases hold PIN hashes and voice messages: only their owner
	// may read them. SQLite gives its -wal and -shm files the database's mode.
	f, err := os.OpenFile(file, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	f.Close()
	dsn := "file:" + file + "?" + strings.Join([]string{
		"_pragma=busy_timeout(" + strconv.Itoa(int(BusyTimeout.Milliseconds())) + ")",
		"_pragma=journal_mode(WAL)",
		"_pragma=foreign_keys(1)",
		"_pragma=synchronous(FULL)",
	}, "&")
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", file, err)
	}
	if err := migrate(ctx, db, schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return db, nil
}

// Migrations lists the migration files of schema in the order Open applies
// them; a database that has them all has user_version len(Migrations).
func Migrations(schema fs.FS) []string {
	names, _ := fs.Glob(schema, "*.sql")
	sort.Strings(names)
	return names
}

// migrate applies the migrations after the database's user_version.
func migrate(ctx context.Context, db *sql.DB, schema fs.FS) error {
	files := Migrations(schema)
	return Write(ctx, db, func(conn *sql.Conn) error {
		var version int
		if err := conn.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
			return err
		}
		if version > len(files) {
			return ErrSchemaTooNew
		}
		for i, name := range files[version:] {
			body, err := fs.ReadFile(schema, name)
			if err != nil {
				return err
			}
			if _, err := conn.ExecContext(ctx, string(body)); err != nil {
				return fmt.Errorf("migration %s: %w", path.Base(name), err)
			}
			if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", version+i+1)); err != nil {
				return err
			}
		}
		return nil
	})
}

// Write runs fn inside BEGIN IMMEDIATE, which takes the write lock at once
// (waiting up to BusyTimeout for another writer), and commits if fn
// succeeds; otherwise it rolls back and nothing fn did remains.
func Write(ctx context.Context, db *sql.DB, fn func(*sql.Conn) error) (err error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	if err := fn(conn); err != nil {
		return err
	}
	_, err = conn.ExecContext(ctx, "COMMIT")
	return err
}

// Row is what both a query's row and its rows offer for reading one.
type Row interface{ Scan(dest ...any) error }

// Collect reads every row of rows with scan, and closes rows: the
// engines' loop over a query's rows, as pgx.CollectRows is for PostgreSQL.
func Collect[T any](rows *sql.Rows, scan func(Row) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
