package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/openum/openum/internal/directory"
)

//go:embed migrations/*.sql
var migrations embed.FS

// files lists the migrations in the order they apply: migration i (from 1)
// is files[i-1].
func files() []string {
	names, _ := fs.Glob(migrations, "migrations/*.sql")
	sort.Strings(names)
	return names
}

// SchemaVersion is the schema version this openum writes: the number of
// its migrations.
func SchemaVersion() int { return len(files()) }

// migrateLock is the advisory lock key that keeps two migrations of one
// database apart (two servers upgraded at once).
const migrateLock = 0x6f70656e756d // "openum"

// Migrate brings the schema of the database at url up to date, applying
// each migration it lacks in its own transaction, and returns how many it
// applied. It is idempotent: on an up-to-date database it applies none. A
// schema newer than this openum's is refused (directory.ErrSchemaTooNew).
func Migrate(ctx context.Context, url string) (applied int, err error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return 0, fmt.Errorf("directory: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for {
		done, err := migrateOne(ctx, conn)
		if err != nil || done {
			return applied, err
		}
		applied++
	}
}

// migrateOne applies the next migration the database lacks, if any, and
// reports whether there was none.
func migrateOne(ctx context.Context, conn *pgx.Conn) (done bool, err error) {
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrateLock); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer PRIMARY KEY,
			name       text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return err
		}
		v, err := schemaVersion(ctx, tx)
		if err != nil {
			return err
		}
		all := files()
		if v >= len(all) {
			done = true
			return nil
		}
		name := all[v]
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		// Without arguments Exec sends the file as one simple query, every
		// statement of it.
		if _, err := tx.Exec(ctx, string(body)); err != nil {
			return fmt.Errorf("migration %s: %w", path.Base(name), err)
		}
		_, err = tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
			v+1, strings.TrimSuffix(path.Base(name), ".sql"))
		return err
	})
	if errors.Is(err, directory.ErrSchemaTooNew) {
		return false, err
	}
	if err != nil {
		return false, fmt.Errorf("directory: migrate: %w", err)
	}
	return done, nil
}

// schemaVersion returns the number of migrations the database has (0 when
// none), or directory.ErrSchemaTooNew when it has more than this openum
// knows.
func schemaVersion(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) (int, error) {
	var v int
	err := q.QueryRow(ctx, "SELECT COALESCE(max(version), 0) FROM schema_migrations").Scan(&v)
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && pgErr.Code == "42P01" { // undefined_table
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if v > SchemaVersion() {
		return 0, directory.ErrSchemaTooNew
	}
	return v, nil
}
