package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/openum/openum/internal/msgstore"
	"github.com/openum/openum/internal/msgstore/msgstoretest"
	"github.com/openum/openum/internal/storetest"
)

var engine = msgstoretest.Engine{
	New: func(t *testing.T) string { return filepath.Join(t.TempDir(), "messages.db") },
	Open: func(ctx context.Context, file string) (msgstore.Store, error) {
		return Open(ctx, file)
	},
	Intact: func(t *testing.T, file string) {
		s, err := Open(context.Background(), file)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var check string
		var orphans int
		if err := s.db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
			t.Fatalf("integrity_check = %q, %v", check, err)
		}
		if err := s.db.QueryRow("SELECT count(*) FROM message_states WHERE message NOT IN (SELECT id FROM messages)").Scan(&orphans); err != nil || orphans != 0 {
			t.Fatalf("%d states of no message (%v)", orphans, err)
		}
	},
}

// TestConformance runs the suite every message store engine passes.
func TestConformance(t *testing.T) { msgstoretest.Run(t, engine) }

// TestCrashHelper is the process the kill tests kill.
func TestCrashHelper(t *testing.T) { msgstoretest.CrashHelper(t, engine) }

func TestKillDuringSave(t *testing.T) { msgstoretest.KillDuringSave(t, engine) }

func TestKillDuringStateChange(t *testing.T) { msgstoretest.KillDuringStateChange(t, engine) }

// The file holds voice messages: only its owner may read it.
func TestFileIsPrivate(t *testing.T) {
	file := engine.New(t)
	storetest.Open(t, Open, file)
	if info, err := os.Stat(file); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("messages.db mode %v, %v; want 0600", info.Mode(), err)
	}
}
