package voicemail

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/openum/openum/internal/delivery"
	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/logon"
	"github.com/openum/openum/internal/media"
	"github.com/openum/openum/internal/msgstore"
)

// Logon by extension and PIN, "two new messages", both played (envelope,
// then the very audio stored), the first deleted with 7, the second saved
// with 9, then # leaves.
func TestAccessListenDeleteSave(t *testing.T) {
	t.Parallel()
	e := newAccessEnv(t, nil)
	at := time.Now().Add(-time.Minute).Truncate(time.Second)
	audio1, audio2 := chirp(1.2, 300), chirp(1.0, 900)
	m1 := e.leave("+15557001", at.Add(-time.Minute), audio1)
	m2 := e.leave("", at, audio2)

	p := e.dial("+15559999", accessNumber, nil)
	p.expect(PromptWelcome)
	p.expect(PromptEnterExtension)
	p.logOn("12345", alicePIN)
	p.expect(saySummary(2, 0)...)
	p.expect(mainMenu.say()...)
	p.press("1")
	p.expect(sayEnvelope("+15557001", m1.ReceivedAt, time.Now())...)
	p.expectPCM("the first message", audio1)
	p.expect(sayChoice(PromptToNext, '#')...) // the message menu; 7 stops it (barge-in)
	p.press("7")
	p.expect(PromptMessageDeleted)
	p.expect(sayEnvelope("", m2.ReceivedAt, time.Now())...)
	p.expectPCM("the second message", audio2)
	p.press("9")
	p.expect(PromptMessageSaved)
	p.expect(PromptEndOfMessages)
	p.expect(PromptMainMenu)
	p.press("#")
	p.expect(PromptGoodbye)
	p.ended(5 * time.Second)
	if s1, s2 := e.state(m1.ID), e.state(m2.ID); s1 != msgstore.Deleted || s2 != msgstore.Saved {
		t.Errorf("states %s, %s; want deleted, saved", s1, s2)
	}
	if !e.hasEvent(events.SubscriberAuthenticated) {
		t.Error("no event 1036")
	}
}

// From alice's own extension, only the PIN is asked for; * asks for
// another extension, and logs on to bob's mailbox.
func TestAccessSkipsTheExtensionOfTheCallingNumber(t *testing.T) {
	t.Parallel()
	e := newAccessEnv(t, nil)
	p := e.dial("12345", accessNumber, nil)
	p.expect(PromptWelcome)
	p.expect(append([]string{PromptEnterPIN}, sayChoice(PromptOtherExtension, '*')...)...)
	p.press(alicePIN + "#")
	p.expect(PromptNoMessages)
	p.expect(PromptMainMenu)
	p.press("*") // the menu again
	p.expect(PromptMainMenu)
	p.hangUp()
	p.ended(5 * time.Second)

	p = e.dial("12345", accessNumber, nil)
	p.expect(PromptEnterPIN)
	p.press("*")
	p.expect(PromptEnterExtension)
	p.logOn("23456", bobPIN)
	p.expect(PromptNoMessages)
	p.press("#")
	p.expect(PromptGoodbye)
	p.ended(5 * time.Second)
}

// A wrong extension, a wrong PIN and a locked mailbox with its right PIN
// sound the same, sample for sample; the third failure
// (LogonFailuresBeforeDisconnect) ends the call with event 1013.
func TestAccessWrongExtensionAndWrongPINSoundAlike(t *testing.T) {
	t.Parallel()
	e := newAccessEnv(t, nil)
	e.lockOut("bob@example.test")
	p := e.dial("+15559999", accessNumber, nil)
	p.expect(PromptWelcome)
	p.expect(PromptEnterExtension)
	p.logOn("99999", alicePIN)
	wrongExtension := append(p.expect(PromptInvalidLogon), p.expect(PromptEnterExtension)...)
	p.logOn("12345", "1357924680")
	e.pins = append(e.pins, "1357924680")
	wrongPIN := append(p.expect(PromptInvalidLogon), p.expect(PromptEnterExtension)...)
	if !bytes.Equal(wrongExtension, wrongPIN) {
		t.Errorf("a wrong extension and a wrong PIN sound different: %d and %d samples", len(wrongExtension), len(wrongPIN))
	}
	p.logOn("23456", bobPIN)
	p.expect(PromptInvalidLogon, PromptTooManyFailures, PromptGoodbye)
	p.ended(5 * time.Second)
	if !e.hasEvent(events.LogonFailuresDisconnect) {
		t.Error("no event 1013")
	}
	if m := e.mailbox("alice@example.test"); m.LogonFailures != 1 {
		t.Errorf("alice's failures: %d; want 1", m.LogonFailures)
	}
}

// A locked mailbox called from its own extension is told so before any
// PIN, and the call ends.
func TestAccessLockedMailboxHangsUp(t *testing.T) {
	t.Parallel()
	e := newAccessEnv(t, nil)
	e.lockOut("bob@example.test")
	p := e.dial("23456", accessNumber, nil)
	p.expect(PromptWelcome)
	p.expect(PromptMailboxLocked, PromptGoodbye)
	p.ended(5 * time.Second)
}

// An expired PIN must be changed at once: each refusal says why, then the
// new PIN is taken, and it is alice's PIN from then on.
func TestAccessExpiredPINIsChanged(t *testing.T) {
	t.Parallel()
	e := newAccessEnv(t, func(dp *directory.DialPlan, _ *directory.MailboxPolicy) { dp.InputFailuresBeforeDisconnect = 5 })
	e.update(func(s *directory.Snapshot) error {
		_, err := logon.SetPIN(s, "alice@example.test", logon.PINChange{Expired: true})
		return err
	})
	const newPIN = "5830291746"
	e.pins = append(e.pins, newPIN, "123456", "5830291747")
	p := e.dial("12345", accessNumber, nil)
	p.expect(PromptEnterPIN)
	p.press(alicePIN + "#")
	p.expect(PromptPINExpired)
	p.expect(PromptEnterNewPIN)
	p.press("12#")
	p.expect(PromptReenterNewPIN)
	p.press("12#")
	p.expect(PromptPINTooShort, PromptPINAtLeast, "six", PromptDigits)
	p.expect(PromptEnterNewPIN)
	p.press("123456#")
	p.expect(PromptReenterNewPIN)
	p.press("123456#")
	p.expect(PromptPINTooEasy)
	p.expect(PromptEnterNewPIN)
	p.press(newPIN + "#")
	p.expect(PromptReenterNewPIN)
	p.press("5830291747#")
	p.expect(PromptPINsDiffer)
	p.expect(PromptEnterNewPIN)
	p.press(newPIN + "#")
	p.expect(PromptReenterNewPIN)
	p.press(newPIN + "#")
	p.expect(PromptPINChanged)
	p.expect(PromptNoMessages)
	p.hangUp()
	p.ended(5 * time.Second)
	if m := e.mailbox("alice@example.test"); m.PINExpired {
		t.Error("the PIN is still expired")
	}
	res, err := e.a.Logon.Begin("DP", logon.Source{Gateway: "GW"}).Logon(context.Background(), "12345", newPIN)
	if err != nil || res.Outcome != logon.Success {
		t.Errorf("logon with the new PIN: %v, %v", res.Outcome, err)
	}
}

// A greeting recorded by phone is kept with #, and call answering plays
// it to the next caller.
func TestAccessGreetingIsRecordedAndAnswersCalls(t *testing.T) {
	t.Parallel()
	e := newAccessEnv(t, nil)
	greeting, err := e.recordGreeting(t)
	if err != nil || seconds(greeting) < 0.8 || seconds(greeting) > 1.8 {
		t.Fatalf("greeting of %.2f s (%v); want the second spoken and a breath", seconds(greeting), err)
	}
	// Call answering: the caller hears the new greeting, then the tone.
	e.a.Spool, err = delivery.OpenSpool(filepath.Join(e.dir, "spool"))
	if err != nil {
		t.Fatal(err)
	}
	p := e.dial("+15559999", "12345", nil)
	p.expectPCM("the recorded greeting", greeting)
	p.expectPCM("the tone", beep())
	p.hangUp()
	p.ended(5 * time.Second)
}

// A caller who says nothing hears the prompt again after IdleTimeout,
// then goodbye (InputFailuresBeforeDisconnect 2). The clock runs ten
// times faster: the IdleTimeout of 5 s is half a second.
func TestAccessSilenceHangsUp(t *testing.T) {
	t.Parallel()
	e := newAccessEnv(t, func(dp *directory.DialPlan, _ *directory.MailboxPolicy) { dp.InputFailuresBeforeDisconnect = 2 })
	start := time.Now()
	fast := func() time.Time { return start.Add(10 * time.Since(start)) }
	p := e.dial("+15559999", accessNumber, fast)
	p.expect(PromptWelcome)
	p.expect(PromptEnterExtension)
	p.expect(PromptEnterExtension)
	p.expect(PromptGoodbye)
	p.ended(5 * time.Second)
}

// Keys a menu does not have are not understood; the third in a row
// (InputFailuresBeforeDisconnect) ends the call with goodbye.
func TestAccessInputFailuresHangUp(t *testing.T) {
	t.Parallel()
	e := newAccessEnv(t, nil)
	p := e.aliceAtMainMenu()
	p.press("5")
	p.expect(PromptNotUnderstood)
	p.expect(PromptMainMenu)
	p.press("6")
	p.expect(PromptNotUnderstood)
	p.expect(PromptMainMenu)
	p.press("8")
	p.expect(PromptNotUnderstood, PromptGoodbye)
	p.ended(5 * time.Second)
}

// Every menu's keys are distinct, and every choice says a prompt.
func TestMenusHaveDistinctKeys(t *testing.T) {
	for _, mn := range []menu{mainMenu, messageMenu, personalMenu, greetingMenu} {
		seen := map[byte]bool{}
		for _, c := range mn.choices {
			if seen[c.key] || c.action == actNone {
				t.Errorf("menu %q: key %c twice, or without action", mn.title, c.key)
			}
			seen[c.key] = true
			_ = concat(sayChoice(c.prompt, rune(c.key))...) // panics on a missing prompt
		}
	}
}

// recordGreeting records Alice's greeting by phone (the personal options,
// one second spoken, saved) and returns what was written to her greeting
// file.
func (e *accessEnv) recordGreeting(t *testing.T) ([]int16, error) {
	t.Helper()
	p := e.aliceAtMainMenu()
	p.press("3")
	p.expect(personalMenu.say()...)
	p.press("1")
	p.expect(append([]string{PromptRecordGreeting}, sayChoice(PromptWhenFinished, '#')...)...)
	p.expectPCM("the tone", beep())
	p.speak(1)
	p.press("#")
	p.expect(greetingMenu.say()...)
	p.press("#")
	p.expect(PromptGreetingSaved)
	p.expect(PromptPersonalOptions)
	p.hangUp()
	p.ended(5 * time.Second)
	f, err := os.Open(filepath.Join(e.a.Greetings, delivery.MaildirName("alice@example.test")+".wav"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return media.ReadWAV(f)
}
