package postgres

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/openum/openum/internal/msgstore"
	"github.com/openum/openum/internal/msgstore/msgstoretest"
	"github.com/openum/openum/internal/pgdb"
	"github.com/openum/openum/internal/pgtest"
)

// TestMain gives the tests a PostgreSQL cluster of their own; the helper
// process of the kill tests needs none, only the URL it is given.
func TestMain(m *testing.M) {
	if msgstoretest.InHelper() {
		os.Exit(m.Run())
	}
	pgtest.Main(m)
}

var engine = msgstoretest.Engine{
	New: func(t *testing.T) string {
		url := pgtest.Database(t)
		if _, err := Migrate(context.Background(), url); err != nil {
			t.Fatal(err)
		}
		return url
	},
	Open: func(ctx context.Context, url string) (msgstore.Store, error) { return Open(ctx, url) },
}

// TestConformance runs the suite every message store engine passes.
func TestConformance(t *testing.T) { msgstoretest.Run(t, engine) }

// TestCrashHelper is the process the kill tests kill.
func TestCrashHelper(t *testing.T) { msgstoretest.CrashHelper(t, engine) }

func TestKillDuringSave(t *testing.T) { msgstoretest.KillDuringSave(t, engine) }

func TestKillDuringStateChange(t *testing.T) { msgstoretest.KillDuringStateChange(t, engine) }

// Open refuses a store not yet migrated, saying what to run, and one a
// newer openum wrote; Migrate is idempotent.
func TestOpenChecksTheSchema(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Database(t)
	if _, err := Open(ctx, url); err == nil || !strings.Contains(err.Error(), "run openum directory migrate") {
		t.Fatalf("Open before migrate: %v; want an error saying to run openum directory migrate", err)
	}
	if n, err := Migrate(ctx, url); err != nil || n != SchemaVersion() {
		t.Fatalf("Migrate = %d, %v; want %d", n, err, SchemaVersion())
	}
	if n, err := Migrate(ctx, url); err != nil || n != 0 {
		t.Fatalf("Migrate again = %d, %v; want 0", n, err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "INSERT INTO msgstore_migrations (version, name) VALUES (999, 'future')"); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, url); !errors.Is(err, pgdb.ErrSchemaTooNew) || !strings.HasPrefix(err.Error(), "msgstore: ") {
		t.Fatalf("Open of a newer schema: %v; want ErrSchemaTooNew", err)
	}
	if _, err := Migrate(ctx, url); !errors.Is(err, pgdb.ErrSchemaTooNew) {
		t.Fatalf("Migrate of a newer schema: %v; want ErrSchemaTooNew", err)
	}
}
