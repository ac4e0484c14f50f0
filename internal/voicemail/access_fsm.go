package voicemail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/logon"
	"github.com/openum/openum/internal/media"
	"github.com/openum/openum/internal/msgstore"
	"github.com/openum/openum/internal/pin"
	"github.com/openum/openum/internal/sip"
)

// accessCall is one subscriber access call (SPEC UM-3): welcome, logon by
// extension and PIN, a forced change of an expired PIN, then the menus of
// listening to messages and personal options. Each state is a method that
// returns the next one; nil ends the call (after the state said goodbye,
// unless the caller hung up). The keys are in menu.go, reading them in
// input.go, the greeting's recording in greeting.go.
//
// Whatever the caller types is never logged: an extension may be a PIN
// typed in the wrong place.
type accessCall struct {
	a     *Answering
	call  *sip.Call
	logon *logon.Call
	now   func() time.Time

	keys     []byte // pressed during a prompt, not yet read
	failures int    // inputs in a row that made no sense, or silences

	extension string // the extension logging on
	typed     bool   // the caller typed it (else it is their calling number)

	box      directory.Mailbox       // once logged on
	policy   directory.MailboxPolicy // the mailbox's
	afterPIN state                   // where a PIN change goes once done

	queue    []msgstore.Message // the messages of listen, new then saved
	pos      int                // the one playing
	greeting []int16            // recorded, not yet kept
}

func (m *accessCall) run(ctx context.Context) {
	for st := m.welcome; st != nil; {
		st = st(ctx)
	}
}

func (m *accessCall) welcome(ctx context.Context) state {
	if !m.say(ctx, PromptWelcome) {
		return nil
	}
	ext, own, err := m.logon.CallerExtension(ctx)
	if err != nil {
		return m.fault(ctx, err)
	}
	if !own {
		return m.askExtension
	}
	m.extension = ext
	// The caller's mailbox is known from the calling number alone: saying
	// it is locked before any PIN tells nothing a PIN could.
	if b := findMailbox(m.call.Directory, &m.call.DialPlan, ext); b != nil && b.LockedOut {
		return m.locked
	}
	return m.askPIN
}

func (m *accessCall) askExtension(ctx context.Context) state {
	e, ok := m.enter(ctx, []string{PromptEnterExtension}, false)
	if !ok {
		return nil
	}
	m.extension, m.typed = e.digits, true
	return m.askPIN
}

// askPIN asks for the PIN and logs on. A wrong extension, a wrong PIN, a
// source in cool-down and a locked mailbox reached by a typed extension
// all sound the same: PromptInvalidLogon.
func (m *accessCall) askPIN(ctx context.Context) state {
	prompt := []string{PromptEnterPIN}
	if !m.typed {
		prompt = append(prompt, sayChoice(PromptOtherExtension, keyOtherExtension)...)
	}
	e, ok := m.enter(ctx, prompt, !m.typed)
	switch {
	case !ok:
		return nil
	case e.other:
		return m.askExtension
	}
	res, err := m.logon.Logon(ctx, m.extension, e.digits)
	if err != nil {
		return m.fault(ctx, err)
	}
	m.failures = 0 // logon failures are logon's to count
	switch {
	case res.Outcome == logon.Success:
		return m.loggedOn
	case res.Outcome == logon.PINExpired:
		return m.expired
	case res.Outcome == logon.LockedOut && !m.typed:
		return m.locked
	case res.Disconnect:
		m.sayLast(ctx, PromptInvalidLogon, PromptTooManyFailures, PromptGoodbye)
		return nil
	}
	m.keys = nil
	if !m.say(ctx, PromptInvalidLogon) {
		return nil
	}
	if m.typed {
		return m.askExtension
	}
	return m.askPIN
}

func (m *accessCall) locked(ctx context.Context) state {
	m.sayLast(ctx, PromptMailboxLocked, PromptGoodbye)
	return nil
}

// expired makes the caller choose a new PIN before anything else.
func (m *accessCall) expired(ctx context.Context) state {
	m.mailbox()
	if !m.sayLast(ctx, PromptPINExpired) {
		return nil
	}
	m.afterPIN = m.loggedOn
	return m.changePIN
}

// changePIN asks for a new PIN twice; a refusal (the policy's rules, or
// two different PINs) says why and asks again, counting towards
// InputFailuresBeforeDisconnect.
func (m *accessCall) changePIN(ctx context.Context) state {
	first, ok := m.enter(ctx, []string{PromptEnterNewPIN}, false)
	if !ok {
		return nil
	}
	again, ok := m.enter(ctx, []string{PromptReenterNewPIN}, false)
	if !ok {
		return nil
	}
	if first.digits != again.digits {
		if !m.failed(ctx, PromptPINsDiffer) {
			return nil
		}
		return m.changePIN
	}
	err := m.logon.ChangePIN(ctx, first.digits)
	if rule := (*pin.RuleError)(nil); errors.As(err, &rule) {
		if !m.failed(ctx, sayPINRefusal(err, m.policy.MinPINLength)...) {
			return nil
		}
		return m.changePIN
	}
	if err != nil {
		return m.fault(ctx, err)
	}
	m.failures = 0
	if !m.sayLast(ctx, PromptPINChanged) {
		return nil
	}
	return m.afterPIN
}

func (m *accessCall) loggedOn(ctx context.Context) state {
	m.mailbox()
	return m.summary
}

// mailbox finds the mailbox logged on to, and its policy, in the call's
// configuration.
func (m *accessCall) mailbox() {
	email, _ := m.logon.Mailbox()
	m.policy = directory.NewMailboxPolicy("", "")
	if b, err := m.call.Directory.Mailbox(email); err == nil {
		m.box = *b
		if p, err := m.call.Directory.MailboxPolicy(b.UMMailboxPolicy); err == nil {
			m.policy = *p
		}
	}
	m.box.EmailAddress = email
}

func (m *accessCall) summary(ctx context.Context) state {
	if err := m.list(ctx); err != nil {
		return m.fault(ctx, err)
	}
	saved := 0
	for _, msg := range m.queue {
		if msg.State == msgstore.Saved {
			saved++
		}
	}
	if !m.say(ctx, saySummary(len(m.queue)-saved, saved)...) {
		return nil
	}
	return m.mainMenu
}

// list reads the mailbox's messages into the queue: new ones first, then
// saved ones, each oldest first.
func (m *accessCall) list(ctx context.Context) error {
	m.queue, m.pos = nil, 0
	for _, s := range []msgstore.State{msgstore.New, msgstore.Saved} {
		msgs, err := m.a.Store.List(ctx, m.box.EmailAddress, s)
		if err != nil {
			return err
		}
		m.queue = append(m.queue, msgs...)
	}
	return nil
}

func (m *accessCall) mainMenu(ctx context.Context) state {
	switch m.choose(ctx, mainMenu) {
	case actListen:
		return m.listen
	case actPersonalOptions:
		return m.personalOptions
	case actRepeat:
		return m.mainMenu
	case actLeave:
		m.sayLast(ctx, PromptGoodbye)
	}
	return nil
}

func (m *accessCall) listen(ctx context.Context) state {
	if err := m.list(ctx); err != nil {
		return m.fault(ctx, err)
	}
	if len(m.queue) == 0 {
		if !m.say(ctx, PromptNoMessages) {
			return nil
		}
		return m.mainMenu
	}
	return m.envelope
}

// envelope says who left the message playing and when, or that there are
// no more.
func (m *accessCall) envelope(ctx context.Context) state {
	if m.pos >= len(m.queue) {
		if !m.say(ctx, PromptEndOfMessages) {
			return nil
		}
		return m.mainMenu
	}
	msg := m.queue[m.pos]
	if !m.say(ctx, sayEnvelope(msg.CallerNumber, msg.ReceivedAt, m.now())...) {
		return nil
	}
	return m.playMessage
}

func (m *accessCall) playMessage(ctx context.Context) state {
	wav, err := m.a.Store.Audio(ctx, m.queue[m.pos].ID)
	if err != nil {
		return m.fault(ctx, err)
	}
	pcm, err := media.ReadWAV(bytes.NewReader(wav))
	if err != nil {
		return m.fault(ctx, fmt.Errorf("voicemail: message %d: %w", m.queue[m.pos].ID, err))
	}
	if !m.playPCM(ctx, pcm) {
		return nil
	}
	return m.messageMenu
}

// messageMenu acts on the message playing. A new message skipped with
// the next key stays new: only the save key makes it saved, so the message
// waiting light stays on for what the subscriber has not dealt with
// (Exchange marks a message read once played).
func (m *accessCall) messageMenu(ctx context.Context) state {
	msg := m.queue[m.pos]
	var to msgstore.State
	var said string
	choices, _ := m.messageChoices(msg)
	switch m.choose(ctx, choices) {
	case actNext:
		m.pos++
		return m.envelope
	case actReplay:
		return m.playMessage
	case actMainMenu:
		return m.mainMenu
	case actDelete:
		to, said = msgstore.Deleted, PromptMessageDeleted
	case actSave:
		to, said = msgstore.Saved, PromptMessageSaved
	case actCallBack:
		return m.callBack
	default:
		return nil
	}
	actor := directory.Actor{User: m.box.EmailAddress, Command: fmt.Sprintf("subscriber access by phone (Call-ID %s)", m.call.ID)}
	if _, err := m.a.Store.SetState(ctx, actor, msg.ID, to, m.now()); err != nil {
		return m.fault(ctx, err)
	}
	if !m.say(ctx, said) {
		return nil
	}
	m.pos++
	return m.envelope
}

func (m *accessCall) personalOptions(ctx context.Context) state {
	switch m.choose(ctx, personalMenu) {
	case actRecordGreeting:
		return m.recordGreeting
	case actChangePIN:
		m.afterPIN = m.personalOptions
		return m.changePIN
	case actMainMenu:
		return m.mainMenu
	}
	return nil
}

// recordGreeting records the personal greeting after the tone, up to the
// policy's MaxGreetingDuration; a greeting without a word is not
// understood.
func (m *accessCall) recordGreeting(ctx context.Context) state {
	if !m.sayLast(ctx, append([]string{PromptRecordGreeting}, sayChoice(PromptWhenFinished, keyEnd)...)...) ||
		!play(ctx, m.call.Audio, beep()) {
		return nil
	}
	pcm, stop := m.record(ctx, time.Duration(m.policy.MaxGreetingDuration)*time.Minute)
	switch {
	case stop == stopHangUp:
		return nil // not kept: the caller did not say to keep it
	case len(pcm) == 0:
		if !m.failed(ctx, PromptNotUnderstood) {
			return nil
		}
		return m.recordGreeting
	}
	m.greeting = pcm
	return m.reviewGreeting
}

// reviewGreeting plays the greeting back and asks whether to keep it.
func (m *accessCall) reviewGreeting(ctx context.Context) state {
	if !m.playPCM(ctx, m.greeting) {
		return nil
	}
	switch m.choose(ctx, greetingMenu) {
	case actKeepGreeting:
		if err := m.a.saveGreeting(m.box.EmailAddress, m.greeting); err != nil {
			return m.fault(ctx, err)
		}
		m.greeting = nil
		if !m.sayLast(ctx, PromptGreetingSaved) {
			return nil
		}
		return m.personalOptions
	case actRecordAgain:
		return m.recordGreeting
	}
	return nil
}

// fault ends a call that the directory or the message store failed: the
// caller hears goodbye rather than silence, and the event log says why.
// The errors come from the stores, never from what the caller typed.
func (m *accessCall) fault(ctx context.Context, err error) state {
	m.a.Events.Emit(ctx, events.SubscriberAccessFault, "subscriber access ended: a store failed",
		slog.String("Mailbox", m.box.EmailAddress), slog.String("DialPlan", m.call.DialPlan.Name),
		slog.String("Gateway", m.call.Gateway.Name), slog.String("CallID", m.call.ID), slog.String("Error", err.Error()))
	m.sayLast(ctx, PromptGoodbye)
	return nil
}
