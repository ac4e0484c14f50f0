package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/openum/openum/internal/directory/dirsql"
	"github.com/openum/openum/internal/sqlitedb"
)

// dialect is SQLite's: names as spelled, the columns being COLLATE
// NOCASE (a mailbox's key is its address as spelled); no row locks,
// sqlitedb.Write's lock keeping every other writer out; times as
// milliseconds since 1970.
var dialect = dirsql.Dialect{
	Name:      func(name string) string { return name },
	Time:      func(t time.Time) any { return t.UnixMilli() },
	ScanTime:  func(t *time.Time) any { return milliTime{t} },
	Mailboxes: "SELECT email, config, shape FROM mailboxes ORDER BY email COLLATE NOCASE",
}

// milliTime scans a time kept as milliseconds since 1970 into t.
type milliTime struct{ t *time.Time }

func (m milliTime) Scan(src any) error {
	var ms sql.NullInt64
	if err := ms.Scan(src); err != nil {
		return err
	}
	*m.t = time.UnixMilli(ms.Int64)
	return nil
}

// queries are dirsql's statements on database sdb.
func queries(sdb *sql.DB) dirsql.Queries {
	return dirsql.Queries{
		DB: runner{sdb},
		Write: func(ctx context.Context, fn func(dirsql.DB) error) error {
			return sqlitedb.Write(ctx, sdb, func(conn *sql.Conn) error { return fn(runner{conn}) })
		},
		Dialect: dialect,
	}
}

// querier is what *sql.DB, *sql.Conn and *sql.Tx all offer.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// runner runs dirsql's statements on a querier.
type runner struct{ q querier }

func (d runner) Exec(ctx context.Context, query string, args ...any) error {
	_, err := d.q.ExecContext(ctx, query, args...)
	return err
}

// Query reads the rows with sqlitedb.Collect, collecting nothing: each
// keeps what it reads.
func (d runner) Query(ctx context.Context, query string, each func(dirsql.Row) error, args ...any) error {
	rows, err := d.q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	_, err = sqlitedb.Collect(rows, func(row sqlitedb.Row) (struct{}, error) { return struct{}{}, each(row) })
	return err
}
