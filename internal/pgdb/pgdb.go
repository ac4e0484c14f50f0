// Package pgdb runs openum's PostgreSQL schemas one way: the directory and
// the message store, which may share one database, each keep a numbered
// list of embedded migrations (NNNN_name.sql), counted in a table of their
// own and applied only by Migrate (openum directory migrate), never by a
// server on its own. It also keeps the audit tables (SPEC DIR-4) both
// write, shaped alike, so that openum audit shows both.
package pgdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/openum/openum/internal/directory"
)

// ErrSchemaTooNew is returned when a database holds more migrations of a
// schema than this openum knows.
var ErrSchemaTooNew = errors.New("pgdb: the database was written by a newer openum; upgrade openum")

// Schema is one versioned schema: migration i (from 1) is the i-th file of
// Files in name order, and Table counts those applied.
type Schema struct {
	Files fs.FS
	Table string
	// What names the schema in Open's refusal: "the PostgreSQL schema".
	What string
}

// Querier is what a pool, a connection and a transaction offer for reading.
type Querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func (s Schema) files() []string {
	names, _ := fs.Glob(s.Files, "*.sql")
	sort.Strings(names)
	return names
}

// Version is the schema version this openum writes: the number of its
// migrations.
func (s Schema) Version() int { return len(s.files()) }

// migrateLock is the advisory lock key that keeps two migrations of one
// database apart (two servers upgraded at once), whichever schema.
const migrateLock = 0x6f70656e756d // "openum"

// Open connects a pool to the database at url and checks that its schema
// is the one this openum writes: an older one is refused, saying to run
// openum directory migrate; a newer one with ErrSchemaTooNew.
func (s Schema) Open(ctx context.Context, url string) (*pgxpool.Pool, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, err
	}
	v, err := s.current(ctx, pool)
	if err == nil && v < s.Version() {
		err = fmt.Errorf("%s is at version %d and this openum needs %d: run openum directory migrate", s.What, v, s.Version())
	}
	if err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// Migrate applies, in the database at url, each migration it lacks, each
// in its own transaction, and returns how many it applied: none on an
// up-to-date database. A schema newer than this openum's is refused
// (ErrSchemaTooNew).
func (s Schema) Migrate(ctx context.Context, url string) (applied int, err error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for {
		done, err := s.migrateOne(ctx, conn)
		if err != nil || done {
			return applied, err
		}
		applied++
	}
}

// migrateOne applies the next migration the database lacks, if any, and
// reports whether there was none.
func (s Schema) migrateOne(ctx context.Context, conn *pgx.Conn) (done bool, err error) {
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrateLock); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+s.Table+` (
			version    integer PRIMARY KEY,
			name       text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return err
		}
		v, err := s.current(ctx, tx)
		if err != nil {
			return err
		}
		all := s.files()
		if v >= len(all) {
			done = true
			return nil
		}
		body, err := fs.ReadFile(s.Files, all[v])
		if err != nil {
			return err
		}
		// Without arguments Exec sends the file as one simple query, every
		// statement of it.
		if _, err := tx.Exec(ctx, string(body)); err != nil {
			return fmt.Errorf("migration %s: %w", all[v], err)
		}
		_, err = tx.Exec(ctx, "INSERT INTO "+s.Table+" (version, name) VALUES ($1, $2)",
			v+1, strings.TrimSuffix(path.Base(all[v]), ".sql"))
		return err
	})
	return done, err
}

// current returns the number of migrations the database has (0 when none),
// or ErrSchemaTooNew when it has more than this openum knows.
func (s Schema) current(ctx context.Context, q Querier) (int, error) {
	var v int
	err := q.QueryRow(ctx, "SELECT COALESCE(max(version), 0) FROM "+s.Table).Scan(&v)
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && pgErr.Code == "42P01" { // undefined_table
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if v > s.Version() {
		return 0, ErrSchemaTooNew
	}
	return v, nil
}

// An audit table, as every openum schema that records changes has it:
//
//	CREATE TABLE audit (
//	    id      bigserial PRIMARY KEY,
//	    at      timestamptz NOT NULL,
//	    os_user text NOT NULL,
//	    command text NOT NULL,
//	    changes text NOT NULL -- JSON list of directory.Change
//	);

// Execer is what a transaction offers for writing.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// AppendAudit adds to table one record naming actor and changes, inside
// the transaction tx that makes them, so that both commit together.
func AppendAudit(ctx context.Context, tx Execer, table string, actor directory.Actor, changes []directory.Change) error {
	record, _ := json.Marshal(changes)
	_, err := tx.Exec(ctx, "INSERT INTO "+table+" (at, os_user, command, changes) VALUES ($1, $2, $3, $4)",
		time.Now().UTC(), actor.User, actor.Command, string(record))
	return err
}

// ReadAudit returns the records of table, oldest first.
func ReadAudit(ctx context.Context, q interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}, table string) ([]directory.AuditRecord, error) {
	rows, err := q.Query(ctx, "SELECT at, os_user, command, changes FROM "+table+" ORDER BY id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []directory.AuditRecord
	for rows.Next() {
		var rec directory.AuditRecord
		var changes string
		if err := rows.Scan(&rec.Time, &rec.User, &rec.Command, &changes); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(changes), &rec.Changes); err != nil {
			return nil, err
		}
		rec.Time = rec.Time.UTC()
		out = append(out, rec)
	}
	return out, rows.Err()
}
