package logon_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/logon"
)

// failures returns every mailbox's LogonFailures.
func (e *env) failures() []int {
	out := make([]int, len(e.pins))
	for i := range e.pins {
		out[i] = e.mailbox(user(i)).LogonFailures
	}
	return out
}

// TestCoolDownCallingNumber: one calling number failing against 10
// mailboxes (through two gateways, so that neither reaches 10) is cooled
// down; its logons are then refused, even with a right PIN, and the
// victims' counters stay where they were. Other callers are not affected.
func TestCoolDownCallingNumber(t *testing.T) {
	e := newEnv(t, 12, quick, nil)
	attacker := func(i int) logon.Source {
		return logon.Source{Gateway: []string{"GW1", "GW2"}[i%2], CallingNumber: "+15550009999", CallID: fmt.Sprintf("a%d", i)}
	}
	for i := range 10 {
		if r := e.logon(e.svc.Begin("DP1", attacker(i)), ext(i), wrongPIN); r.Outcome != logon.Wrong {
			t.Fatalf("attempt %d: %v", i, r.Outcome)
		}
	}
	recs := e.events(events.LogonSourceCoolDown)
	if len(recs) != 1 {
		t.Fatalf("9401 written %d times; want 1: %+v", len(recs), recs)
	}
	a := recs[0].Attrs
	if recs[0].Level != "Warning" || a["SourceKind"] != "CallingNumber" || a["Source"] != "+15550009999" || a["Mailboxes"] != float64(10) || a["Until"] == nil {
		t.Fatalf("9401 = %+v", recs[0])
	}
	before := e.failures()
	for i := range 24 {
		c := e.svc.Begin("DP1", attacker(i))
		digits := wrongPIN
		if i%3 == 0 {
			digits = e.pins[i%12] // the right PIN is refused too
		}
		if r := e.logon(c, ext(i%12), digits); r.Outcome != logon.CoolingDown {
			t.Fatalf("cooled-down attempt %d: %v", i, r.Outcome)
		}
	}
	if after := e.failures(); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("the victims' counters moved during the cool-down: %v, then %v", before, after)
	}
	if r := e.logon(e.svc.Begin("DP1", logon.Source{Gateway: "GW1", CallingNumber: "+14255550100"}), ext(0), e.pins[0]); r.Outcome != logon.Success {
		t.Fatalf("another caller through the same gateway: %v", r.Outcome)
	}
}

// TestCoolDownGateway: a gateway whose calls (from ever other calling
// numbers) fail against 10 mailboxes is cooled down as a whole.
func TestCoolDownGateway(t *testing.T) {
	e := newEnv(t, 11, quick, nil)
	for i := range 10 {
		src := logon.Source{Gateway: "GW1", CallingNumber: fmt.Sprintf("+1555000%04d", i)}
		e.logon(e.svc.Begin("DP1", src), ext(i), wrongPIN)
	}
	recs := e.events(events.LogonSourceCoolDown)
	if len(recs) != 1 || recs[0].Attrs["SourceKind"] != "Gateway" || recs[0].Attrs["Source"] != "GW1" {
		t.Fatalf("9401 = %+v", recs)
	}
	before := e.failures()
	if r := e.logon(e.svc.Begin("DP1", logon.Source{Gateway: "GW1", CallingNumber: "+14255550100"}), ext(10), e.pins[10]); r.Outcome != logon.CoolingDown {
		t.Fatalf("through the cooled-down gateway: %v", r.Outcome)
	}
	if r := e.logon(e.svc.Begin("DP1", logon.Source{Gateway: "GW2", CallingNumber: "+14255550100"}), ext(10), e.pins[10]); r.Outcome != logon.Success {
		t.Fatalf("through another gateway: %v", r.Outcome)
	}
	if after := e.failures(); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("counters moved: %v, then %v", before, after)
	}
}

// TestCoolDownWindowAndEnd: failures older than SourceWindow do not count,
// a good logon forgives its mailbox's failures, and a cool-down ends.
func TestCoolDownWindowAndEnd(t *testing.T) {
	set := quick
	// Windows wide enough that a loaded machine finishes each step inside them.
	set.SourceMailboxes, set.SourceWindow, set.CoolDown = 3, 3*time.Second, time.Second
	e := newEnv(t, 4, set, nil)
	src := logon.Source{Gateway: "GW1", CallingNumber: "+15550001111"}
	try := func(i int, digits string) logon.Outcome {
		return e.logon(e.svc.Begin("DP1", src), ext(i), digits).Outcome
	}

	try(0, wrongPIN)
	try(1, wrongPIN)
	time.Sleep(set.SourceWindow)
	try(2, wrongPIN) // the first two have aged out
	if n := len(e.events(events.LogonSourceCoolDown)); n != 0 {
		t.Fatalf("old failures counted: %d cool-downs", n)
	}
	try(3, wrongPIN)
	if got := try(3, e.pins[3]); got != logon.Success { // forgives mailbox 3
		t.Fatalf("right PIN: %v", got)
	}
	try(0, wrongPIN) // 2 and 0 count: still below 3
	if n := len(e.events(events.LogonSourceCoolDown)); n != 0 {
		t.Fatalf("a forgiven mailbox counted: %d cool-downs", n)
	}
	try(1, wrongPIN)
	if got := try(3, e.pins[3]); got != logon.CoolingDown {
		t.Fatalf("after 3 mailboxes: %v", got)
	}
	time.Sleep(set.CoolDown)
	if got := try(3, e.pins[3]); got != logon.Success {
		t.Fatalf("after the cool-down: %v", got)
	}
}
