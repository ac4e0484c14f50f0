package logon_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/logon"
	"github.com/openum/openum/internal/pin"
)

// TestResetThenLockOutAcrossCalls: wrong PINs over several calls reset the
// PIN at LogonFailuresBeforePINReset (5) and lock the mailbox at
// MaxLogonAttempts (15); then the right PIN fails too, until Unlock.
func TestResetThenLockOutAcrossCalls(t *testing.T) {
	e := newEnv(t, 1, quick, nil)
	ctx := context.Background()
	email := user(0)
	var c *logon.Call
	for i := 1; i <= 15; i++ {
		if i%3 == 1 { // three failures a call (LogonFailuresBeforeDisconnect)
			c = e.svc.Begin("DP1", caller)
		}
		r := e.logon(c, ext(0), wrongPIN)
		want := logon.Wrong
		if i == 15 {
			want = logon.LockedOut
		}
		if r.Outcome != want || r.Disconnect != (i%3 == 0) {
			t.Fatalf("failure %d: %+v; want %v", i, r, want)
		}
		if i == 5 {
			checkReset(t, e, email)
		}
	}
	m := e.mailbox(email)
	if !m.LockedOut || m.LogonFailures != 15 {
		t.Fatalf("after 15 failures: LockedOut %v, LogonFailures %d", m.LockedOut, m.LogonFailures)
	}
	lock := e.events(events.PINLockout)
	if len(lock) != 1 || lock[0].Level != "Warning" || lock[0].Attrs["Mailbox"] != email || lock[0].Attrs["Failures"] != float64(15) {
		t.Fatalf("1012 = %+v", lock)
	}
	if n := len(e.events(events.LogonFailuresDisconnect)); n != 5 {
		t.Fatalf("1013 written %d times; want 5 (one per call)", n)
	}
	newPIN := e.notified.pin(email)
	if r := e.logon(e.svc.Begin("DP1", caller), ext(0), newPIN); r.Outcome != logon.LockedOut {
		t.Fatalf("the right PIN of a locked mailbox: %v", r.Outcome)
	}

	if _, err := e.db.Update(ctx, admin, func(s *directory.Snapshot) error { return logon.Unlock(s, email) }); err != nil {
		t.Fatal(err)
	}
	c = e.svc.Begin("DP1", caller)
	if r := e.logon(c, ext(0), newPIN); r.Outcome != logon.PINExpired {
		t.Fatalf("after Unlock, the reset PIN: %v; want PINExpired", r.Outcome)
	}
	if _, in := c.Mailbox(); in {
		t.Fatal("logged on before the expired PIN was changed")
	}
	changePIN(t, e, c, newPIN)
	if m := e.mailbox(email); m.LockedOut || m.PINExpired || m.LogonFailures != 0 {
		t.Fatalf("after the change: %+v", m)
	}
}

// checkReset: the PIN was replaced by a random one that meets the policy,
// marked expired, and handed to the Notifier; the old one no longer works.
func checkReset(t *testing.T, e *env, email string) {
	t.Helper()
	newPIN := e.notified.pin(email)
	e.use(newPIN)
	m := e.mailbox(email)
	if newPIN == "" || !pin.Verify(m.PIN.Hash, newPIN) || !m.PINExpired || m.LogonFailures != 5 {
		t.Fatalf("after 5 failures: notified %v, expired %v, failures %d", newPIN != "", m.PINExpired, m.LogonFailures)
	}
	// The PIN it replaced is in the history, so Check refuses to reuse it.
	p := directory.NewMailboxPolicy("P1", "DP1")
	if err := pin.Check(p.PINRules(), newPIN, m.Extensions, m.PIN.History); err != nil {
		t.Fatalf("the reset PIN breaks the policy: %v", err)
	}
	if r := e.logon(e.svc.Begin("DP1", logon.Source{Gateway: "GW2"}), ext(0), e.pins[0]); r.Outcome != logon.Wrong {
		t.Fatalf("the replaced PIN: %v", r.Outcome)
	}
	// That was failure 6; take it back so the caller's count stays as planned.
	_, err := e.db.Update(context.Background(), admin, func(s *directory.Snapshot) error {
		m, _ := s.Mailbox(email)
		m.LogonFailures--
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// changePIN: each refusal carries the rule the menu speaks; a good PIN is
// taken and the call is then logged on.
func changePIN(t *testing.T, e *env, c *logon.Call, current string) {
	t.Helper()
	ctx := context.Background()
	for _, tc := range []struct {
		pin  string
		rule pin.Rule
	}{
		{"", pin.RuleMinLength},
		{"48071", pin.RuleMinLength},
		{current, pin.RuleHistory},
		{e.pins[0], pin.RuleHistory},
		{"123456", pin.RuleCommonPattern},
		{"555555", pin.RuleCommonPattern},
		{"9" + ext(0), pin.RuleExtension},
	} {
		e.use(tc.pin)
		err := c.ChangePIN(ctx, tc.pin)
		var re *pin.RuleError
		if !errors.As(err, &re) || re.Rule != tc.rule {
			t.Errorf("ChangePIN refused with %v; want rule %d", err, tc.rule)
		}
		if tc.pin != "" && err != nil && strings.Contains(err.Error(), tc.pin) {
			t.Errorf("the refusal repeats the PIN: %v", err)
		}
	}
	const chosen = "7302958164"
	e.use(chosen)
	if err := c.ChangePIN(ctx, chosen); err != nil {
		t.Fatal(err)
	}
	if got, in := c.Mailbox(); !in || got != user(0) {
		t.Fatalf("after the change, Mailbox() = %q, %v", got, in)
	}
	if r := e.logon(e.svc.Begin("DP1", caller), ext(0), chosen); r.Outcome != logon.Success {
		t.Fatalf("the new PIN: %v", r.Outcome)
	}
}

// TestChangePINNeedsLogon: a call that has not logged on changes nothing.
func TestChangePINNeedsLogon(t *testing.T) {
	e := newEnv(t, 1, quick, nil)
	c := e.svc.Begin("DP1", caller)
	e.logon(c, ext(0), wrongPIN)
	if err := c.ChangePIN(context.Background(), "7302958164"); !errors.Is(err, logon.ErrNotLoggedOn) {
		t.Fatalf("ChangePIN before logon: %v", err)
	}
}
