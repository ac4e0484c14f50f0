package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/pgdb"
)

//go:embed migrations/*.sql
var migrations embed.FS

var files, _ = fs.Sub(migrations, "migrations")

// schema is the directory's: its tables, counted in schema_migrations.
var schema = pgdb.Schema{Files: files, Table: "schema_migrations", What: "the PostgreSQL schema"}

// SchemaVersion is the schema version this openum writes: the number of
// its migrations.
func SchemaVersion() int { return schema.Version() }

// Migrate brings the schema of the database at url up to date, applying
// each migration it lacks in its own transaction, and returns how many it
// applied. It is idempotent: on an up-to-date database it applies none. A
// schema newer than this openum's is refused (directory.ErrSchemaTooNew).
func Migrate(ctx context.Context, url string) (int, error) {
	applied, err := schema.Migrate(ctx, url)
	if errors.Is(err, pgdb.ErrSchemaTooNew) {
		return applied, directory.ErrSchemaTooNew
	}
	if err != nil {
		return applied, fmt.Errorf("directory: migrate: %w", err)
	}
	return applied, nil
}
