package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/pgdb"
)

//go:embed migrations/*.sql
var migrations embed.FS

var files, _ = fs.Sub(migrations, "migrations")

// schema is the directory's: its tables, counted in schema_migrations.
var schema = pgdb.Schema{Files: files, Table: "schema_migrations"}

// SchemaVersion is the schema version this openum writes: the number of
// its migrations.
func SchemaVersion() int { return schema.Version() }

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
	applied, err = schema.Migrate(ctx, conn)
	if errors.Is(err, pgdb.ErrSchemaTooNew) {
		return applied, directory.ErrSchemaTooNew
	}
	if err != nil {
		return applied, fmt.Errorf("directory: migrate: %w", err)
	}
	return applied, nil
}

// schemaVersion returns the number of migrations the database has (0 when
// none), or directory.ErrSchemaTooNew when it has more than this openum
// knows.
func schemaVersion(ctx context.Context, q pgdb.Querier) (int, error) {
	v, err := schema.Current(ctx, q)
	if errors.Is(err, pgdb.ErrSchemaTooNew) {
		return 0, directory.ErrSchemaTooNew
	}
	return v, err
}
