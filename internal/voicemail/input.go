package voicemail

import (
	"context"
	"time"
)

// What subscriber access hears from the caller: keys read from the media
// stream's Received channel, where RFC 4733 events and SIP INFO both
// arrive, with the dial plan's IdleTimeout and
// InputFailuresBeforeDisconnect. A caller may press keys while a prompt
// plays: the prompt stops (barge-in) and the keys are kept for what reads
// next, so that a caller who knows the menus need not wait for them.

// heard is what one wait for a key came to.
type heard int

const (
	heardKey     heard = iota // the caller pressed a key
	heardNothing              // IdleTimeout passed without a key
	heardHangUp               // the caller hung up
)

// say plays the named prompts, stopping at the first key the caller
// presses. Prompts are skipped while keys are already waiting. It returns
// false when the caller hung up.
func (m *accessCall) say(ctx context.Context, names ...string) bool {
	return m.playPCM(ctx, concat(names...))
}

// playPCM plays pcm as say does.
func (m *accessCall) playPCM(ctx context.Context, pcm []int16) bool {
	if len(m.keys) > 0 {
		return true
	}
	_, ok := playUntil(ctx, m.call.Audio, pcm, func(key byte) bool {
		m.keys = append(m.keys, key)
		return true
	})
	return ok
}

// sayLast plays the named prompts whole, whatever the caller presses: the
// last words of a call, or news the caller must not miss.
func (m *accessCall) sayLast(ctx context.Context, names ...string) bool {
	m.keys = nil
	return play(ctx, m.call.Audio, concat(names...))
}

// key waits for the next key, up to the dial plan's IdleTimeout.
func (m *accessCall) key(ctx context.Context) (byte, heard) {
	if len(m.keys) > 0 {
		k := m.keys[0]
		m.keys = m.keys[1:]
		return k, heardKey
	}
	deadline := m.now().Add(time.Duration(m.call.DialPlan.IdleTimeout) * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return 0, heardHangUp
		case r, ok := <-m.call.Audio.Received():
			switch {
			case !ok:
				return 0, heardHangUp
			case r.Digit != 0:
				return r.Digit, heardKey
			}
		case <-tick.C:
			if !m.now().Before(deadline) {
				return 0, heardNothing
			}
		}
	}
}

// failed counts one input that made no sense, or a silence, after saying
// why (names, may be none). At the dial plan's
// InputFailuresBeforeDisconnect in a row it says goodbye and returns false:
// the call ends.
func (m *accessCall) failed(ctx context.Context, names ...string) bool {
	m.keys = nil // what was typed ahead followed a mistake
	m.failures++
	if m.failures >= m.call.DialPlan.InputFailuresBeforeDisconnect {
		m.sayLast(ctx, append(names, PromptGoodbye)...)
		return false
	}
	return len(names) == 0 || m.say(ctx, names...)
}

// choose says a menu (after the prompts of intro) and returns the action
// of the key the caller presses. An unknown key is not understood, a
// silence repeats the menu; both count towards
// InputFailuresBeforeDisconnect. It returns actNone when the call ends.
func (m *accessCall) choose(ctx context.Context, mn menu, intro ...string) action {
	for {
		if !m.say(ctx, append(intro, mn.say()...)...) {
			return actNone
		}
		intro = nil
		k, h := m.key(ctx)
		switch {
		case h == heardHangUp:
			return actNone
		case h == heardNothing:
			if !m.failed(ctx) {
				return actNone
			}
		case mn.action(k) == actNone:
			if !m.failed(ctx, PromptNotUnderstood) {
				return actNone
			}
		default:
			m.failures = 0
			return mn.action(k)
		}
	}
}

// entry is what the caller typed at an entry prompt.
type entry struct {
	digits string // the keys before the end key
	other  bool   // the caller pressed keyOtherExtension instead (only when asked for)
}

// enter says prompt and reads digits up to keyEnd. With other,
// keyOtherExtension ends the entry at once (entry.other). An empty or too
// long entry, a stray key and a silence count towards
// InputFailuresBeforeDisconnect and ask again. ok is false when the call
// ends. The digits may be a PIN: they are never logged.
func (m *accessCall) enter(ctx context.Context, prompt []string, other bool) (e entry, ok bool) {
	for {
		if !m.say(ctx, prompt...) {
			return entry{}, false
		}
		digits, h := m.readEntry(ctx, other)
		switch h {
		case entryHangUp:
			return entry{}, false
		case entryDone:
			m.failures = 0
			return entry{digits: digits}, true
		case entryOther:
			m.failures = 0
			return entry{other: true}, true
		case entrySilence:
			if !m.failed(ctx) {
				return entry{}, false
			}
		default:
			if !m.failed(ctx, PromptNotUnderstood) {
				return entry{}, false
			}
		}
	}
}

// How reading one entry ended.
type entryEnd int

const (
	entryDone entryEnd = iota
	entryOther
	entrySilence
	entryBad
	entryHangUp
)

func (m *accessCall) readEntry(ctx context.Context, other bool) (string, entryEnd) {
	var digits []byte
	for {
		k, h := m.key(ctx)
		switch {
		case h == heardHangUp:
			return "", entryHangUp
		case h == heardNothing:
			return "", entrySilence
		case k == keyEnd && len(digits) > 0:
			return string(digits), entryDone
		case k == keyOtherExtension && other && len(digits) == 0:
			return "", entryOther
		case k < '0' || k > '9' || len(digits) == maxEntry:
			return "", entryBad
		}
		digits = append(digits, k)
	}
}
