package directorytest

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/openum/openum/internal/directory"
)

// A handle that read the configuration once follows another process's
// changes (added, changed, removed; mailboxes, dial plans, tokens) to the
// letter: after each, what it reads is what a handle opened afresh reads,
// and its own Updates are checked against them (an extension the other
// process took is refused).
func testFollowsOtherWriter(t *testing.T, e Engine) {
	open := e.New(t)
	d, other := open(t), open(t)
	Seed(t, d)
	snapshot(t, d)
	same := func(step string) {
		t.Helper()
		// The JSON leaves out the PINs and token hashes: they are compared
		// on their own.
		type secrets struct {
			PINs   []directory.PINState
			Hashes []string
		}
		read := func(d directory.Directory) string {
			snap := snapshot(t, d)
			var sec secrets
			for _, m := range snap.Mailboxes.All() {
				sec.PINs = append(sec.PINs, m.PIN)
			}
			for _, tok := range snap.AdminTokens {
				sec.Hashes = append(sec.Hashes, tok.Hash)
			}
			b, _ := json.Marshal([]any{snap, sec})
			return string(b)
		}
		if got, want := read(d), read(open(t)); got != want {
			t.Fatalf("after %s, the handle that read before reads\n%s\nand a new handle\n%s", step, got, want)
		}
	}
	steps := []struct {
		name string
		fn   func(*directory.Snapshot) error
	}{
		{"a new mailbox", func(s *directory.Snapshot) error {
			return s.AddMailbox(directory.Mailbox{EmailAddress: "Bob@example.test", UMDialPlan: "DP1", UMMailboxPolicy: "P1", Extensions: directory.List[string]{"12346"}})
		}},
		{"a PIN", func(s *directory.Snapshot) error {
			m, err := s.Mailbox("alice@example.test")
			if err == nil {
				m.SetPIN("hash-1", time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), false)
			}
			return err
		}},
		{"a dial plan changed and another added", func(s *directory.Snapshot) error {
			dp, err := s.DialPlan("DP1")
			if err != nil {
				return err
			}
			dp.IdleTimeout = 20
			dp2 := directory.NewDialPlan("DP2")
			dp2.NumberOfDigitsInExtension = 4
			return errors.Join(s.AddDialPlan(dp2), s.AddMailboxPolicy(directory.NewMailboxPolicy("P2", "DP2")))
		}},
		{"a token", func(s *directory.Snapshot) error {
			return s.AddAdminToken(directory.AdminToken{Name: "t1", Role: directory.RoleAdmin, Hash: strings.Repeat("ab", 32), Created: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
		}},
		{"a mailbox moved to another dial plan", func(s *directory.Snapshot) error {
			m, err := s.Mailbox("bob@example.test")
			if err == nil {
				m.UMDialPlan, m.UMMailboxPolicy, m.Extensions = "DP2", "P2", directory.List[string]{"1234"}
			}
			return err
		}},
		{"a mailbox removed", func(s *directory.Snapshot) error {
			_, err := s.Remove(directory.KindMailbox, "alice@example.test", false)
			return err
		}},
	}
	for _, st := range steps {
		if _, err := other.Update(t.Context(), Admin, st.fn); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		same(st.name)
	}
	// bob holds 1234 of DP2 since the other process moved him there.
	_, err := d.Update(t.Context(), Admin, func(s *directory.Snapshot) error {
		return s.AddMailbox(directory.Mailbox{EmailAddress: "carol@example.test", UMDialPlan: "DP2", UMMailboxPolicy: "P2", Extensions: directory.List[string]{"1234"}})
	})
	var fe *directory.FieldError
	if !errors.As(err, &fe) || fe.Field != "Extensions" {
		t.Fatalf("carol at bob's new extension: %v; want a FieldError on Extensions", err)
	}
	// ...and 12346 of DP1 is free again.
	if _, err := d.Update(t.Context(), Admin, func(s *directory.Snapshot) error {
		return s.AddMailbox(directory.Mailbox{EmailAddress: "carol@example.test", UMDialPlan: "DP1", UMMailboxPolicy: "P1", Extensions: directory.List[string]{"12346"}})
	}); err != nil {
		t.Fatalf("carol at bob's old extension: %v", err)
	}
	same("the handle's own change")
}
