package sqlite

import (
	"context"
	"database/sql"

	"github.com/openum/openum/internal/dialing"
	"github.com/openum/openum/internal/directory/dirsql"
	"github.com/openum/openum/internal/sqlitedb"
)

var _ dialing.Ledger = (*Store)(nil)

// dialect is SQLite's: names as spelled, the columns being COLLATE
// NOCASE, and no row locks, sqlitedb.Write's lock keeping every other
// writer out.
var dialect = dirsql.Dialect{Name: func(name string) string { return name }}

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

// runner runs dirsql's statements on a *sql.DB, *sql.Conn or *sql.Tx.
type runner struct {
	q interface {
		ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
		QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	}
}

func (d runner) Exec(ctx context.Context, query string, args ...any) error {
	_, err := d.q.ExecContext(ctx, query, args...)
	return err
}

func (d runner) QueryRow(ctx context.Context, query string, args ...any) dirsql.Row {
	return d.q.QueryRowContext(ctx, query, args...)
}
