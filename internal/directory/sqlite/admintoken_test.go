package sqlite

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openum/openum/internal/directory"
)

// An admin token keeps its hash across a reopen, and neither the audit log
// nor the object's JSON holds the hash.
func TestAdminTokenKeepsHashOutOfAudit(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "directory.db")
	s, err := Open(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	hash := strings.Repeat("ab", 32)
	tok := directory.AdminToken{Name: "prometheus", Role: directory.RoleReadonly, Created: time.Now().UTC(), Hash: hash}
	if _, err := s.Update(ctx, admin, func(n *directory.Snapshot) error { return n.AddAdminToken(tok) }); err != nil {
		t.Fatal(err)
	}
	bad := tok
	bad.Name, bad.Role = "x", "root"
	if _, err := s.Update(ctx, admin, func(n *directory.Snapshot) error { return n.AddAdminToken(bad) }); err == nil ||
		!strings.Contains(err.Error(), "Role") {
		t.Fatalf("role root: %v, want a Role error", err)
	}
	s.Close()
	if s, err = Open(ctx, file); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	snap, err := s.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, err := snap.AdminToken("PROMETHEUS")
	if err != nil || got.Hash != hash || got.Role != directory.RoleReadonly {
		t.Fatalf("token after reopen: %+v, %v", got, err)
	}
	audit, err := s.Audit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(audit)
	if !strings.Contains(string(b), "prometheus") || strings.Contains(string(b), hash) {
		t.Fatalf("audit must name the token and hold no hash: %s", b)
	}
	if b, _ := json.Marshal(got); strings.Contains(string(b), hash) {
		t.Fatalf("JSON of the token holds its hash: %s", b)
	}
	if _, err := s.Update(ctx, admin, func(n *directory.Snapshot) error {
		_, err := n.Remove(directory.KindAdminToken, "prometheus", false)
		return err
	}); err != nil {
		t.Fatal(err)
	}
}
