package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/directory/directorytest"
	"github.com/openum/openum/internal/pgtest"
	"github.com/openum/openum/internal/storetest"
)

// TestMain gives the tests a PostgreSQL cluster of their own.
func TestMain(m *testing.M) { pgtest.Main(m) }

// newDatabase returns the URL of a new database with the schema migrated.
func newDatabase(t testing.TB) string {
	t.Helper()
	url := pgtest.Database(t)
	if _, err := Migrate(context.Background(), url); err != nil {
		t.Fatal(err)
	}
	return url
}

func openStore(tb testing.TB, url string) *Store {
	tb.Helper()
	return storetest.Open(tb, Open, url)
}

// TestConformance runs the suite every directory engine passes.
func TestConformance(t *testing.T) {
	directorytest.Run(t, directorytest.Engine{
		Optimistic: true,
		New: func(t *testing.T) func(*testing.T) directory.Directory {
			url := newDatabase(t)
			return func(t *testing.T) directory.Directory { return openStore(t, url) }
		},
	})
}

// Migrate applies every migration once, also when two servers run it at
// the same moment; and Open refuses a database not yet migrated, saying
// what to run.
func TestMigrateIsIdempotent(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Database(t)
	if _, err := Open(ctx, url); err == nil || !strings.Contains(err.Error(), "run openum directory migrate") {
		t.Fatalf("Open before migrate: %v; want an error saying to run openum directory migrate", err)
	}
	var wg sync.WaitGroup
	applied := make([]int, 3)
	errs := make([]error, 3)
	for i := range applied {
		wg.Go(func() { applied[i], errs[i] = Migrate(ctx, url) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if total := applied[0] + applied[1] + applied[2]; total != SchemaVersion() {
		t.Fatalf("three concurrent migrations applied %v, in all %d; want %d", applied, total, SchemaVersion())
	}
	if n, err := Migrate(ctx, url); err != nil || n != 0 {
		t.Fatalf("migrate again: %d applied, %v; want 0", n, err)
	}
	directorytest.Seed(t, openStore(t, url))
}

// A database written by a newer openum is refused by Open and by Migrate.
func TestOpenRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	url := newDatabase(t)
	exec(t, url, "INSERT INTO schema_migrations (version, name) VALUES (999, 'future')")
	if _, err := Open(ctx, url); !errors.Is(err, directory.ErrSchemaTooNew) {
		t.Fatalf("Open of a newer schema: %v; want ErrSchemaTooNew", err)
	}
	if _, err := Migrate(ctx, url); !errors.Is(err, directory.ErrSchemaTooNew) {
		t.Fatalf("Migrate of a newer schema: %v; want ErrSchemaTooNew", err)
	}
}

// A mailbox row an earlier openum wrote (its JSON lacking later fields, no
// shape) lists as this openum writes the mailbox, not as stored.
func TestMailboxesJSONOfEarlierRow(t *testing.T) {
	ctx := context.Background()
	url := newDatabase(t)
	directorytest.Seed(t, openStore(t, url))
	exec(t, url, `UPDATE mailboxes SET shape = '', config = '{"EmailAddress":"alice@example.test","UMDialPlan":"DP1","UMMailboxPolicy":"P1","Extensions":["12345"]}'`)
	s := openStore(t, url)
	m := directorytest.Mailbox(t, s, "alice@example.test")
	want, _ := json.Marshal(&m)
	if got, err := directory.MailboxesJSON(ctx, s); err != nil || len(got) != 1 || string(got[0]) != string(want) {
		t.Fatalf("MailboxesJSON = %s, %v; want %s", got, err, want)
	}
}

// The extension index backs up Validate: PostgreSQL itself refuses a second
// owner of one extension in a dial plan (at commit: the key is deferred).
func TestExtensionIndexRefusesDuplicates(t *testing.T) {
	url := newDatabase(t)
	directorytest.Seed(t, openStore(t, url))
	err := execErr(url, "INSERT INTO extensions VALUES ('dp1', '12345', 'alice@example.test')")
	if err == nil || !strings.Contains(err.Error(), "23505") {
		t.Fatalf("duplicate extension row: %v; want a unique violation (23505)", err)
	}
}

// A token hash that another token has is refused by the database, with a
// one-line error and nothing written.
func TestTokenHashUnique(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, newDatabase(t))
	hash := strings.Repeat("cd", 32)
	for i, name := range []string{"one", "two"} {
		_, err := s.Update(ctx, directorytest.Admin, func(n *directory.Snapshot) error {
			return n.AddAdminToken(directory.AdminToken{Name: name, Role: directory.RoleAdmin, Hash: hash})
		})
		if (i == 0) != (err == nil) || (err != nil && !strings.Contains(err.Error(), "already taken")) {
			t.Fatalf("token %s: %v", name, err)
		}
	}
	if log, _ := s.Audit(ctx); len(log) != 1 {
		t.Fatalf("%d audit records; want the first token's only", len(log))
	}
}

func exec(t *testing.T, url, sql string) {
	t.Helper()
	if err := execErr(url, sql); err != nil {
		t.Fatal(err)
	}
}

func execErr(url, sql string) error {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// BenchmarkMailboxEnable: go test -run '^$' -bench MailboxEnable ./internal/directory/...
func BenchmarkMailboxEnable(b *testing.B) {
	directorytest.BenchmarkMailboxEnable(b, openStore(b, newDatabase(b)), 1000)
}

// BenchmarkScale: go test -run '^$' -bench Scale -benchtime 20x ./internal/directory/postgres
func BenchmarkScale(b *testing.B) {
	url := newDatabase(b)
	directorytest.BenchmarkScale(b, func(tb testing.TB) directory.Directory { return openStore(tb, url) })
}
