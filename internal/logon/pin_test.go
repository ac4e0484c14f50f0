package logon_test

import (
	"context"
	"strings"
	"testing"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/logon"
	"github.com/openum/openum/internal/pin"
)

// TestSetPIN is the administrator's Set-UMMailboxPIN: a given or generated
// PIN (which unlocks and clears the failures), --expired, --unlock alone.
func TestSetPIN(t *testing.T) {
	e := newEnv(t, 1, quick, nil)
	ctx := context.Background()
	email := user(0)
	set := func(c logon.PINChange) (string, error) {
		var shown string
		_, err := e.db.Update(ctx, admin, func(s *directory.Snapshot) (err error) {
			shown, err = logon.SetPIN(s, email, c)
			return err
		})
		e.use(shown)
		return shown, err
	}
	lock := func() {
		_, err := e.db.Update(ctx, admin, func(s *directory.Snapshot) error {
			m, _ := s.Mailbox(email)
			m.LockedOut, m.LogonFailures = true, 15
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	lock()
	shown, err := set(logon.PINChange{Generate: true, Expired: true})
	m := e.mailbox(email)
	if err != nil || !pin.Verify(m.PIN.Hash, shown) || !m.PINExpired || m.LockedOut || m.LogonFailures != 0 {
		t.Fatalf("--generate --expired: %v; %+v", err, m)
	}
	lock()
	const given = "6093817245"
	e.use(given)
	if shown, err = set(logon.PINChange{PIN: given}); err != nil || shown != "" {
		t.Fatalf("--pin: %q, %v", shown, err)
	}
	if m = e.mailbox(email); !pin.Verify(m.PIN.Hash, given) || m.PINExpired || m.LockedOut || m.LogonFailures != 0 {
		t.Fatalf("--pin: %+v", m)
	}
	if _, err := set(logon.PINChange{PIN: "111111"}); err == nil || !strings.Contains(err.Error(), "common pattern") {
		t.Fatalf("a PIN the policy refuses: %v", err)
	}
	if _, err := set(logon.PINChange{PIN: given, Generate: true}); err == nil {
		t.Fatal("--pin with --generate accepted")
	}
	lock()
	hash := e.mailbox(email).PIN.Hash
	if _, err := set(logon.PINChange{Unlock: true, Expired: true}); err != nil {
		t.Fatal(err)
	}
	if m = e.mailbox(email); m.PIN.Hash != hash || m.LockedOut || m.LogonFailures != 0 || !m.PINExpired {
		t.Fatalf("--unlock --expired changed the PIN or did not unlock: %+v", m)
	}
	if r := e.logon(e.svc.Begin("DP1", caller), ext(0), given); r.Outcome != logon.PINExpired {
		t.Fatalf("after --unlock --expired: %v", r.Outcome)
	}
}
