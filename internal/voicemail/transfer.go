package voicemail

// Transfers (SPEC DIAL-3): a caller who presses 0 during a mailbox's
// greeting is put through to the dial plan's operator (OperatorExtension),
// and a subscriber may call a message's caller back from the message menu
// when the mailbox policy allows it (AllowCallBack) and the number passes
// the subscriber's dialing restrictions. Both are blind transfers
// (sip.Call.Transfer): the PBX places the new call, and openum's leg ends
// once the PBX reports it answered. A transfer that fails leaves the
// caller where they were, told so, never in silence.
//
// 0 works during the greeting only, not while recording: a caller who has
// begun a message is leaving it, and a stray key must not lose it. With no
// OperatorExtension, 0 is ignored and the greeting plays on: a caller
// leaving a message is not told off for a key the greeting never offered.

import (
	"context"
	"errors"
	"log/slog"

	"github.com/openum/openum/internal/dialing"
	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/media"
	"github.com/openum/openum/internal/msgstore"
	"github.com/openum/openum/internal/sip"
)

// keyOperator, during a mailbox's greeting, asks for the operator.
const keyOperator = '0'

// The features that transfer a call, as events 9520 and 9521 name them.
const (
	featureOperator = "Operator"
	featureCallBack = "CallBack"
)

// transfer puts call c through to number (a dial string) for feature, on
// behalf of mailbox (its address; Referred-By names it). It says
// PromptTransferring first, and drains the caller's audio while the PBX
// works. nil means the caller is put through: the call handler returns
// and openum hangs its leg up. Otherwise the caller is still here: ctx's
// error when they hung up, or why the transfer failed (event 9521).
func (a *Answering) transfer(ctx context.Context, c *sip.Call, feature, mailbox, number string) error {
	if !play(ctx, c.Audio, Prompt(PromptTransferring)) {
		return context.Canceled
	}
	by := ""
	if mailbox != "" {
		by = "sip:" + mailbox
	}
	result := make(chan error, 1)
	go func() { result <- c.Transfer(ctx, number, by) }()
	err := drainUntil(c.Audio, result)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	attrs := []slog.Attr{slog.String("feature", feature), slog.String("mailbox", mailbox), slog.String("number", number),
		slog.String("gateway", c.Gateway.Name), slog.String("callid", c.ID)}
	if err == nil {
		a.Events.Emit(ctx, events.TransferDone, "caller put through", attrs...)
		return nil
	}
	a.transferFailed(ctx, c, feature, mailbox, number, err)
	return err
}

// transferFailed records a transfer that did not happen.
func (a *Answering) transferFailed(ctx context.Context, c *sip.Call, feature, mailbox, number string, err error) {
	status := 0
	if te := (*sip.TransferError)(nil); errors.As(err, &te) {
		status = te.Status
	}
	a.Events.Emit(ctx, events.TransferFailed, "transfer failed: the caller is back",
		slog.String("feature", feature), slog.String("mailbox", mailbox), slog.String("number", number),
		slog.String("gateway", c.Gateway.Name), slog.String("callid", c.ID), slog.Int("status", status), slog.String("reason", err.Error()))
}

// drainUntil reads and drops the caller's audio and keys, so that the
// stream never backs up, until result has the transfer's outcome.
func drainUntil(audio *media.Stream, result <-chan error) error {
	received := audio.Received()
	for {
		select {
		case err := <-result:
			return err
		case _, ok := <-received:
			if !ok {
				received = nil // the call is ending: ctx ends the transfer
			}
		}
	}
}

// playUntil plays pcm as play does, but stops at a key that stop accepts,
// and returns it (0 when none was pressed). ok is false when the caller
// hung up.
func playUntil(ctx context.Context, audio *media.Stream, pcm []int16, stop func(byte) bool) (key byte, ok bool) {
	p := audio.StartPlay(pcm) // the stream's clock plays it: no goroutine of our own
	defer p.Stop()
	for {
		select {
		case err := <-p.Done():
			return 0, err == nil
		case <-ctx.Done():
			return 0, false
		case r, open := <-audio.Received():
			switch {
			case !open:
				return 0, false
			case r.Digit != 0 && stop(r.Digit):
				return r.Digit, ctx.Err() == nil
			}
		}
	}
}

// operatorKey reports whether key asks for the operator: 0, when the dial
// plan has one.
func (m *answerCall) operatorKey(key byte) bool {
	return key == keyOperator && m.call.DialPlan.OperatorExtension != ""
}

// toOperator transfers the caller to the dial plan's operator; when that
// fails, the caller hears so and the greeting again.
func (m *answerCall) toOperator(ctx context.Context) state {
	c := m.call
	number, err := dialing.Operator(&c.DialPlan)
	if err != nil {
		m.a.transferFailed(ctx, c, featureOperator, m.box.EmailAddress, c.DialPlan.OperatorExtension, err)
	} else {
		err = m.a.transfer(ctx, c, featureOperator, m.box.EmailAddress, number)
	}
	if err == nil || ctx.Err() != nil {
		return nil
	}
	if !play(ctx, c.Audio, Prompt(PromptOperatorUnavailable)) {
		return nil
	}
	return m.greet
}

// messageChoices is the message menu for msg, with call back when the
// mailbox policy allows it and msg's caller passes the subscriber's
// dialing restrictions (dialing.Authorize, CallBack), and the dial string
// to call back ("" when not offered). A refusal is not an event: nobody
// asked to dial, and the key is simply not offered.
func (m *accessCall) messageChoices(msg msgstore.Message) (menu, string) {
	if !m.policy.AllowCallBack || msg.CallerNumber == "" {
		return messageMenu, ""
	}
	d := dialing.Authorize(m.call.Directory, &m.call.DialPlan,
		dialing.Caller{Kind: dialing.CallBack, Mailbox: m.box.EmailAddress}, msg.CallerNumber)
	if !d.Allowed {
		return messageMenu, ""
	}
	return messageMenu.with(callBackChoice), d.DialString
}

// callBack puts the subscriber through to the caller of the message
// playing; when that fails, the subscriber hears so and the message menu
// again.
func (m *accessCall) callBack(ctx context.Context) state {
	_, number := m.messageChoices(m.queue[m.pos])
	if number == "" {
		return m.messageMenu
	}
	err := m.a.transfer(ctx, m.call, featureCallBack, m.box.EmailAddress, number)
	if err == nil || ctx.Err() != nil {
		return nil
	}
	if !m.sayLast(ctx, PromptCallFailed) {
		return nil
	}
	return m.messageMenu
}
