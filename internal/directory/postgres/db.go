package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/directory/dirsql"
)

// dialect is PostgreSQL's: names in lower case, as the key columns hold
// them, the rows a transaction reads to change locked for it, and times
// as pgx binds and scans them.
var dialect = dirsql.Dialect{
	Name:         key,
	Lock:         " FOR UPDATE",
	Time:         func(t time.Time) any { return t },
	ScanTime:     func(t *time.Time) any { return t },
	Mailboxes:    "SELECT key, config, shape FROM mailboxes ORDER BY key",
	MailboxEmail: mailboxEmail,
}

// mailboxEmail keeps m's key, the address in lower case, when it is ASCII:
// it then sorts as the address does. Else it takes the address from
// config.
func mailboxEmail(m *directory.StoredMailbox) error {
	if isASCII(m.Email) {
		return nil
	}
	var spelled struct{ EmailAddress string }
	if err := json.Unmarshal(m.Config, &spelled); err != nil {
		return fmt.Errorf("mailbox %s: %w", m.Email, err)
	}
	m.Email = spelled.EmailAddress
	return nil
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// queries are dirsql's statements on pool.
func queries(pool *pgxpool.Pool) dirsql.Queries {
	return dirsql.Queries{
		DB: runner{pool},
		Write: func(ctx context.Context, fn func(dirsql.DB) error) error {
			return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return fn(runner{tx}) })
		},
		Dialect: dialect,
	}
}

// runner runs dirsql's statements on a pool or in a transaction.
type runner struct {
	q interface {
		Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
		Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	}
}

func (d runner) Exec(ctx context.Context, query string, args ...any) error {
	_, err := d.q.Exec(ctx, query, args...)
	return err
}

// Query reads the rows with pgx.CollectRows, collecting nothing: each
// keeps what it reads.
func (d runner) Query(ctx context.Context, query string, each func(dirsql.Row) error, args ...any) error {
	rows, err := d.q.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	_, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (struct{}, error) { return struct{}{}, each(row) })
	return err
}
