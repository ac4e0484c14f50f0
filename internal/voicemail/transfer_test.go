package voicemail

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openum/openum/internal/delivery"
	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/msgstore"
	"github.com/openum/openum/internal/sip"
)

// These calls have no SIP dialog, so every transfer fails: what the caller
// hears then is tested here; a transfer that succeeds, through a PBX, is
// tested with Kamailio (cmd/openum).

func TestZeroDuringTheGreetingWithoutOperatorIsIgnored(t *testing.T) {
	t.Parallel()
	e := newAccessEnv(t, nil)
	withSpool(t, e)
	p := e.dial("+15559999", "12345", nil)
	time.Sleep(300 * time.Millisecond) // into the greeting
	p.press("0")
	p.expect("greeting") // whole
	p.expectPCM("the tone", beep())
	p.hangUp()
	p.ended(5 * time.Second)
	if e.hasEvent(events.TransferFailed) || e.hasEvent(events.TransferDone) {
		t.Error("0 without an operator tried a transfer")
	}
}

func TestOperatorUnreachableBringsTheGreetingBack(t *testing.T) {
	t.Parallel()
	e := newAccessEnv(t, func(dp *directory.DialPlan, _ *directory.MailboxPolicy) { dp.OperatorExtension = "10000" })
	withSpool(t, e)
	p := e.dial("+15559999", "12345", nil)
	time.Sleep(300 * time.Millisecond)
	p.press("0")
	cut := p.expect(PromptTransferring)
	if bytes.Contains(cut, ulaw(Prompt("greeting"))) {
		t.Error("the greeting played whole before the transfer: 0 did not stop it")
	}
	p.expect(PromptOperatorUnavailable)
	p.expect("greeting") // again, whole
	p.expectPCM("the tone", beep())
	p.hangUp()
	p.ended(5 * time.Second)
	recs, _ := events.Read(e.events, events.Filter{ID: events.TransferFailed})
	if len(recs) != 1 {
		t.Fatalf("%d events 9521; want 1", len(recs))
	}
}

func TestCallBackIsOfferedOnlyWhenAllowed(t *testing.T) {
	t.Parallel()
	local := directory.DialingRuleGroup{Name: "Local", NumberMask: "555xxxx", DialedNumber: "9555xxxx"}
	for _, tc := range []struct {
		name     string
		allow    bool
		groups   []string
		caller   string
		dial     string // "" when call back is not offered
		wantKey5 bool
	}{
		{name: "off by default", allow: false, groups: []string{"Local"}, caller: "5551234"},
		{name: "allowed", allow: true, groups: []string{"Local"}, caller: "5551234", dial: "95551234", wantKey5: true},
		{name: "group not allowed by the policy", allow: true, caller: "5551234"},
		{name: "no rule matches", allow: true, groups: []string{"Local"}, caller: "4441234"},
		{name: "no caller number", allow: true, groups: []string{"Local"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newAccessEnv(t, func(dp *directory.DialPlan, p *directory.MailboxPolicy) {
				dp.ConfiguredInCountryOrRegionGroups = directory.List[directory.DialingRuleGroup]{local}
				p.AllowCallBack, p.AllowedInCountryOrRegionGroups = tc.allow, tc.groups
			})
			snap, err := e.db.Snapshot(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			dp, _ := snap.DialPlan("DP")
			policy, _ := snap.MailboxPolicy("P")
			m := &accessCall{a: e.a, call: &sip.Call{DialPlan: *dp, Directory: snap}, box: e.mailbox("alice@example.test"), policy: *policy}
			mn, dial := m.messageChoices(msgstore.Message{CallerNumber: tc.caller})
			if dial != tc.dial || (mn.action('5') == actCallBack) != tc.wantKey5 {
				t.Errorf("dial %q, key 5 %v; want %q, %v", dial, mn.action('5') == actCallBack, tc.dial, tc.wantKey5)
			}
			if messageMenu.action('5') != actNone {
				t.Error("messageMenu itself gained the call back key")
			}
		})
	}
}

// TestCallBackFailureGoesBackToTheMessage runs the call back state (the
// menu's key 5, once access_fsm.go takes it) on a call that cannot be
// transferred: the subscriber hears why, then the message menu again.
func TestCallBackFailureGoesBackToTheMessage(t *testing.T) {
	t.Parallel()
	e := newAccessEnv(t, func(dp *directory.DialPlan, p *directory.MailboxPolicy) {
		dp.ConfiguredInCountryOrRegionGroups = directory.List[directory.DialingRuleGroup]{{Name: "Local", NumberMask: "555xxxx", DialedNumber: "9555xxxx"}}
		p.AllowCallBack, p.AllowedInCountryOrRegionGroups = true, directory.List[string]{"Local"}
	})
	server, caller := streamPair(t)
	p := newPhone(t, caller, nil)
	snap, _ := e.db.Snapshot(context.Background())
	dp, _ := snap.DialPlan("DP")
	policy, _ := snap.MailboxPolicy("P")
	m := &accessCall{a: e.a, call: &sip.Call{ID: "cb", DialPlan: *dp, Directory: snap, Audio: server}, now: time.Now,
		box: e.mailbox("alice@example.test"), policy: *policy, queue: []msgstore.Message{{CallerNumber: "5551234"}}}
	next := m.callBack(context.Background())
	p.expect(PromptTransferring)
	p.expect(PromptCallFailed)
	if next == nil {
		t.Fatal("a failed call back ended the call")
	}
	recs, _ := events.Read(e.events, events.Filter{ID: events.TransferFailed})
	if len(recs) != 1 || !strings.Contains(recs[0].Attrs["number"].(string), "95551234") {
		t.Fatalf("events 9521: %v; want one for 95551234", recs)
	}
}

// withSpool gives e's Answering a spool, for calls that reach recording.
func withSpool(t *testing.T, e *accessEnv) {
	t.Helper()
	spool, err := delivery.OpenSpool(filepath.Join(e.dir, "spool"))
	if err != nil {
		t.Fatal(err)
	}
	e.a.Spool = spool
}
