package logon_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/logon"
)

const wrongPIN = "9301746528"

var caller = logon.Source{Gateway: "GW1", CallingNumber: "+14255550100", CallID: "call-1@gw1"}

// TestLogonOutcomes is the table of what one attempt comes to.
func TestLogonOutcomes(t *testing.T) {
	e := newEnv(t, 6, quick, nil)
	ctx := context.Background()
	_, err := e.db.Update(ctx, admin, func(s *directory.Snapshot) error {
		m2, _ := s.Mailbox(user(2))
		m2.LockedOut = true
		m3, _ := s.Mailbox(user(3))
		m3.PINExpired = true
		m4, _ := s.Mailbox(user(4))
		m4.PIN.SetAt = time.Now().Add(-61 * 24 * time.Hour) // PINLifetime is 60 days
		m4.DisplayName = "old PIN"                          // the audit diff sees no PIN change without a new hash
		m5, _ := s.Mailbox(user(5))
		m5.PIN = directory.PINState{} // no PIN at all
		dp2 := directory.NewDialPlan("DP2")
		dp2.NumberOfDigitsInExtension = 5
		return s.AddDialPlan(dp2)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, dialPlan, ext, pin string
		want                     logon.Outcome
	}{
		{"right PIN", "DP1", ext(0), e.pins[0], logon.Success},
		{"wrong PIN", "DP1", ext(1), wrongPIN, logon.Wrong},
		{"unknown extension", "DP1", "19999", e.pins[0], logon.Wrong},
		{"another mailbox's PIN", "DP1", ext(1), e.pins[0], logon.Wrong},
		{"extension of another dial plan", "DP2", ext(0), e.pins[0], logon.Wrong},
		{"empty PIN", "DP1", ext(1), "", logon.Wrong},
		{"locked out, right PIN", "DP1", ext(2), e.pins[2], logon.LockedOut},
		{"locked out, wrong PIN", "DP1", ext(2), wrongPIN, logon.LockedOut},
		{"PINExpired", "DP1", ext(3), e.pins[3], logon.PINExpired},
		{"PINLifetime reached", "DP1", ext(4), e.pins[4], logon.PINExpired},
		{"no PIN set", "DP1", ext(5), "", logon.Wrong},
	} {
		c := e.svc.Begin(tc.dialPlan, caller)
		began := time.Now()
		r := e.logon(c, tc.ext, tc.pin)
		took := time.Since(began)
		if r.Outcome != tc.want || r.Disconnect {
			t.Errorf("%s: %+v; want %v", tc.name, r, tc.want)
		}
		_, in := c.Mailbox()
		if in != (tc.want == logon.Success) {
			t.Errorf("%s: Mailbox() says logged on = %v", tc.name, in)
		}
		if tc.want != logon.Success && tc.want != logon.PINExpired && took < quick.FailureTime {
			t.Errorf("%s: a failure answered in %v, before FailureTime", tc.name, took)
		}
	}
	if m := e.mailbox(user(1)); m.LogonFailures != 3 {
		t.Errorf("user2 has %d failures; want 3 (wrong PIN, another's PIN, empty PIN)", m.LogonFailures)
	}
	if m := e.mailbox(user(2)); m.LogonFailures != 0 {
		t.Errorf("a locked-out mailbox counts failures: %d", m.LogonFailures)
	}
	ok := e.events(events.SubscriberAuthenticated)
	if len(ok) != 3 {
		t.Fatalf("1036 written %d times; want 3", len(ok))
	}
	a := ok[0].Attrs
	if a["Mailbox"] != user(0) || a["Gateway"] != "GW1" || a["CallingNumber"] != caller.CallingNumber || a["CallID"] != caller.CallID {
		t.Errorf("1036 = %+v", a)
	}
}

// TestCallerExtension: a calling number that is an extension of the dial
// plan skips the extension step.
func TestCallerExtension(t *testing.T) {
	e := newEnv(t, 1, quick, nil)
	ctx := context.Background()
	for number, want := range map[string]bool{ext(0): true, "10099": false, "": false} {
		c := e.svc.Begin("DP1", logon.Source{Gateway: "GW1", CallingNumber: number})
		got, ok, err := c.CallerExtension(ctx)
		if err != nil || ok != want || (ok && got != number) {
			t.Errorf("CallerExtension for %q = %q, %v, %v; want %v", number, got, ok, err, want)
		}
	}
}

// TestFailuresEqualTime: an unknown extension and a wrong PIN take the same
// time, FailureTime, although only one of them writes the directory. What
// is asserted is the floor both are held to; the ceiling only catches a
// wait served twice, since a loaded machine may add hundreds of ms.
func TestFailuresEqualTime(t *testing.T) {
	set := quick
	set.FailureTime = 300 * time.Millisecond
	e := newEnv(t, 1, set, nil)
	measure := func(extension string) time.Duration {
		c := e.svc.Begin("DP1", caller)
		began := time.Now()
		if r := e.logon(c, extension, wrongPIN); r.Outcome != logon.Wrong {
			t.Fatalf("%s: %v", extension, r.Outcome)
		}
		return time.Since(began)
	}
	unknown, known := measure("19999"), measure(ext(0))
	for name, d := range map[string]time.Duration{"unknown extension": unknown, "wrong PIN": known} {
		if d < set.FailureTime || d >= 2*set.FailureTime {
			t.Errorf("%s took %v; want %v (+ scheduling)", name, d, set.FailureTime)
		}
	}
}

// TestDisconnectAfterFailuresInOneCall: LogonFailuresBeforeDisconnect (3)
// failures in one call end it, with event 1013.
func TestDisconnectAfterFailuresInOneCall(t *testing.T) {
	e := newEnv(t, 1, quick, nil)
	c := e.svc.Begin("DP1", caller)
	for i := 1; i <= 3; i++ {
		r := e.logon(c, ext(0), wrongPIN)
		if r.Disconnect != (i == 3) {
			t.Fatalf("failure %d: Disconnect = %v", i, r.Disconnect)
		}
	}
	recs := e.events(events.LogonFailuresDisconnect)
	if len(recs) != 1 || recs[0].Level != "Warning" || recs[0].Attrs["Failures"] != float64(3) ||
		recs[0].Attrs["CallID"] != caller.CallID || recs[0].Attrs["DialPlan"] != "DP1" {
		t.Fatalf("1013 = %+v", recs)
	}
	// A new call starts counting afresh; the mailbox's count goes on.
	if r := e.logon(e.svc.Begin("DP1", caller), ext(0), wrongPIN); r.Disconnect {
		t.Fatal("a new call was told to disconnect at its first failure")
	}
	if m := e.mailbox(user(0)); m.LogonFailures != 4 {
		t.Fatalf("LogonFailures = %d; want 4", m.LogonFailures)
	}
}

// TestCountersSurviveRestart: the failures are in the directory, so a new
// server on the reopened database knows them; a good logon clears them.
func TestCountersSurviveRestart(t *testing.T) {
	e := newEnv(t, 1, quick, nil)
	c := e.svc.Begin("DP1", caller)
	e.logon(c, ext(0), wrongPIN)
	e.logon(c, ext(0), wrongPIN)
	e.restart(quick)
	if m := e.mailbox(user(0)); m.LogonFailures != 2 {
		t.Fatalf("after reopening, LogonFailures = %d; want 2", m.LogonFailures)
	}
	if r := e.logon(e.svc.Begin("DP1", caller), ext(0), e.pins[0]); r.Outcome != logon.Success {
		t.Fatalf("right PIN: %v", r.Outcome)
	}
	if m := e.mailbox(user(0)); m.LogonFailures != 0 {
		t.Fatalf("after a good logon, LogonFailures = %d", m.LogonFailures)
	}
	// Each failure and the reset are audited, the count shown, the PIN not.
	audit, err := e.db.Audit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	last := audit[len(audit)-1]
	if len(last.Changes) != 1 || last.Changes[0].Fields[0].Field != "LogonFailures" ||
		!strings.Contains(last.Command, "good logon") || !strings.Contains(last.Command, caller.CallID) {
		t.Fatalf("audit of the good logon: %+v", last)
	}
}
