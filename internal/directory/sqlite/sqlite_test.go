package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/directory/directorytest"
	"github.com/openum/openum/internal/sqlitedb"
	"github.com/openum/openum/internal/storetest"
)

var admin = directorytest.Admin

// TestConformance runs the suite every directory engine passes.
func TestConformance(t *testing.T) {
	directorytest.Run(t, directorytest.Engine{New: func(t *testing.T) func(*testing.T) directory.Directory {
		file := newFile(t)
		return func(t *testing.T) directory.Directory { return openStore(t, file) }
	}})
}

// newFile names a new database file for tb.
func newFile(tb testing.TB) string { return filepath.Join(tb.TempDir(), "directory.db") }

// openStore opens the database at file for tb, closed when tb ends.
func openStore(tb testing.TB, file string) *Store {
	tb.Helper()
	return storetest.Open(tb, Open, file)
}

// A database written by the first schema version is upgraded on open, its
// objects kept and the later tables filled from them.
func TestOpenUpgradesOlderSchema(t *testing.T) {
	ctx := context.Background()
	file := newFile(t)

	old, err := Open(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	old.db.Close()
	// Rebuild the file as version 1 wrote it.
	raw, err := sql.Open("sqlite", file)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		"DROP TABLE extensions", "DROP TABLE audit", "DROP TABLE admin_tokens", "DROP TABLE outcall_usage", "DROP TABLE server_load",
		"ALTER TABLE mailboxes DROP COLUMN shape", "PRAGMA user_version = 1",
		`INSERT INTO dial_plans VALUES ('DP1', '{"Name":"DP1","NumberOfDigitsInExtension":5,"URIType":"TelExtn","VoIPSecurity":"Secured","MaxCallDuration":30,"MaxRecordingDuration":20,"RecordingIdleTimeout":5,"IdleTimeout":10,"LogonFailuresBeforeDisconnect":3,"InputFailuresBeforeDisconnect":3}')`,
		`INSERT INTO mailbox_policies VALUES ('P1', 'DP1', '{"Name":"P1","UMDialPlan":"DP1","MinPINLength":6,"PINLifetime":60,"PINHistoryCount":5,"LogonFailuresBeforePINReset":5,"MaxLogonAttempts":15,"MaxGreetingDuration":5}')`,
		`INSERT INTO mailboxes VALUES ('alice@example.test', 'DP1', 'P1', '{"EmailAddress":"alice@example.test","UMDialPlan":"DP1","UMMailboxPolicy":"P1","Extensions":["12345","12346"]}', '{}')`,
	} {
		if _, err := raw.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	raw.Close()

	s, err := Open(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var version int
	if err := s.db.QueryRow("PRAGMA user_version").Scan(&version); err != nil || version != len(sqlitedb.Migrations(schema)) {
		t.Fatalf("user_version = %d, %v; want %d", version, err, len(sqlitedb.Migrations(schema)))
	}
	snap, err := s.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if m, err := snap.Mailbox("alice@example.test"); err != nil || len(m.Extensions) != 2 {
		t.Fatalf("mailbox after upgrade: %+v, %v", m, err)
	}
	// Its JSON, which lacks the keys of later fields, lists as this
	// openum writes the mailbox, not as stored.
	m, _ := snap.Mailbox("alice@example.test")
	want, _ := json.Marshal(m)
	if got, err := directory.MailboxesJSON(ctx, s); err != nil || len(got) != 1 || string(got[0]) != string(want) {
		t.Fatalf("MailboxesJSON after upgrade = %s, %v; want %s", got, err, want)
	}
	var n int
	if err := s.db.QueryRow("SELECT count(*) FROM extensions WHERE dial_plan = 'DP1'").Scan(&n); err != nil || n != 2 {
		t.Fatalf("extensions filled from version 1 mailboxes: %d, %v; want 2", n, err)
	}
	// The upgraded database takes audited changes.
	if _, err := s.Update(ctx, admin, func(s *directory.Snapshot) error {
		d, _ := s.DialPlan("DP1")
		d.IdleTimeout = 20
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if log, err := s.Audit(ctx); err != nil || len(log) != 1 {
		t.Fatalf("audit after upgrade: %v, %v", log, err)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	file := newFile(t)
	s, err := Open(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec("PRAGMA user_version = 999"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(ctx, file); !errors.Is(err, directory.ErrSchemaTooNew) {
		t.Fatalf("Open of a newer schema: %v; want ErrSchemaTooNew", err)
	}
}

// The extension index backs up Validate: SQLite itself refuses a second
// owner of one extension in a dial plan.
func TestExtensionIndexRefusesDuplicates(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	directorytest.Seed(t, s)
	_, err := s.db.ExecContext(ctx, "INSERT INTO extensions VALUES ('dp1', '12345', 'alice@example.test')")
	if err == nil || !strings.Contains(err.Error(), "UNIQUE") {
		t.Fatalf("duplicate extension row: %v; want a UNIQUE constraint error", err)
	}
}

func newStore(t *testing.T) *Store { return openStore(t, newFile(t)) }

// BenchmarkMailboxEnable: go test -run '^$' -bench MailboxEnable ./internal/directory/...
func BenchmarkMailboxEnable(b *testing.B) {
	directorytest.BenchmarkMailboxEnable(b, openStore(b, newFile(b)), 1000)
}

// BenchmarkScale: go test -run '^$' -bench Scale -benchtime 20x ./internal/directory/sqlite
func BenchmarkScale(b *testing.B) {
	file := newFile(b)
	directorytest.BenchmarkScale(b, func(tb testing.TB) directory.Directory { return openStore(tb, file) })
}
