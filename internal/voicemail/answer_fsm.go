package voicemail

import (
	"context"
	"log/slog"
	"time"

	"github.com/openum/openum/internal/delivery"
	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/media"
	"github.com/openum/openum/internal/sip"
)

// answerCall is one call to a mailbox: admit (the quota), greet, tone,
// record, save. Each state is a method that returns the next one; nil ends
// the call.
type answerCall struct {
	a    *Answering
	call *sip.Call
	box  directory.Mailbox
	now  func() time.Time
	id   string

	msg     *delivery.Message // the message being recorded
	wav     string            // its recording's file
	started time.Time         // when recording began
	stop    stopReason        // why recording stopped
	samples int               // recorded samples, after trimming
	err     error             // why the message could not be kept
}

type state func(ctx context.Context) state

// stopReason is why recording stopped, as events 9300 and 9304 show it.
type stopReason string

// The reasons recording stops.
const (
	stopHangUp      stopReason = "hang-up"
	stopHash        stopReason = "#" // the caller pressed #
	stopSilence     stopReason = "silence"
	stopMaxDuration stopReason = "max duration"
	stopWriteError  stopReason = "write error"
)

func (m *answerCall) run(ctx context.Context) {
	for st := m.admit; st != nil; {
		st = st(ctx)
	}
}

// voiceLevel is the RMS above which a frame counts as voice for
// RecordingIdleTimeout: about -40 dBFS, above line noise and comfort noise.
const voiceLevel = 300

// greet plays the greeting, in which 0 asks for the operator (transfer.go).
func (m *answerCall) greet(ctx context.Context) state {
	greeting, release := m.a.greeting(m.box.EmailAddress)
	key, ok := playUntil(ctx, m.call.Audio, greeting, m.operatorKey)
	release()
	switch {
	case !ok:
		return nil // the caller hung up during the greeting: no message
	case key == keyOperator:
		return m.toOperator
	}
	if !play(ctx, m.call.Audio, beep()) {
		return nil
	}
	return m.record
}

// record records until the caller hangs up or presses #, or stays silent
// for RecordingIdleTimeout, or MaxRecordingDuration passes, or the recording
// cannot be written (a full disk): then at once, to tell the caller rather
// than let them speak into a file that is lost. Trailing silence is cut off.
func (m *answerCall) record(ctx context.Context) state {
	c := m.call
	m.started = m.now()
	m.msg = &delivery.Message{
		ID: m.id, To: m.box.EmailAddress, ToName: m.box.DisplayName, From: m.a.From,
		CallerID: c.Caller, CallerName: c.CallerName, CallID: c.ID, Received: m.started,
	}
	var err error
	m.wav, err = m.a.Spool.Begin(m.msg)
	var wav *media.WAVWriter
	if err == nil {
		wav, err = media.CreateWAV(m.wav)
	}
	if err != nil {
		m.err = err
		return m.lost
	}
	limit := time.Duration(m.call.DialPlan.MaxRecordingDuration) * time.Minute
	m.samples, m.stop, err = listen(ctx, m.call, m.now, m.started, limit, wav.Write)
	if err == nil {
		err = wav.Truncate(m.samples)
	}
	// Closed whatever happened: a removed file still open keeps its space.
	if cerr := wav.Close(); err == nil {
		err = cerr
	}
	switch {
	case err != nil:
		m.err = err
		return m.lost
	case m.samples == 0:
		m.a.Spool.Abandon(m.id) // nothing said: no message
		return nil
	}
	return m.save
}

// save keeps the message in the store, then queues its mail copy (in that
// order: see store.go), then tells the caller. The call's context ends
// with a hang-up, which must not stop the message being kept.
func (m *answerCall) save(ctx context.Context) state {
	c, msg := m.call, m.msg
	msg.Duration = time.Duration(m.samples) * time.Second / media.SampleRate
	kept, err := m.a.keep(context.WithoutCancel(ctx), msg, m.wav)
	if err != nil {
		m.err = err
		return m.lost
	}
	if err := m.a.Spool.Enqueue(msg); err != nil {
		// The message is kept: the caller hears "saved". Its recording and
		// note stay in the spool, so that the next start queues the mail.
		m.a.Events.Emit(ctx, events.DeliveryFailed, "voice message kept in the message store, but its mail copy could not be spooled: it is spooled at the next start",
			slog.String("id", m.id), slog.String("to", m.box.EmailAddress), slog.Int64("store_id", kept.ID),
			slog.String("file", failedFile(err)), slog.String("errno", errnoName(err)), slog.String("error", err.Error()))
	} else if m.a.Spooled != nil {
		m.a.Spooled()
	}
	m.a.Events.Emit(ctx, events.MessageRecorded, "voice message recorded",
		slog.String("id", m.id), slog.Int64("store_id", kept.ID), slog.String("mailbox", m.box.EmailAddress), slog.String("caller", c.Caller),
		slog.Duration("duration", msg.Duration), slog.String("stop", string(m.stop)), slog.String("callid", c.ID),
		slog.Uint64("packets", c.Audio.Stats().Packets.Load()), slog.Uint64("dropped_foreign", c.Audio.Stats().Foreign.Load()),
		slog.Uint64("dropped_bad", c.Audio.Stats().Bad.Load()), slog.Uint64("doubled_digits", c.Audio.Stats().DoubledDigits.Load()))
	if m.stop != stopHangUp {
		play(ctx, c.Audio, Prompt("saved"))
	}
	return nil
}

// lost ends a call whose message could not be written or kept (m.err, its
// recording closed): it removes what the spool holds of it, says so in the
// event log and tells the caller, who would otherwise believe it was saved.
func (m *answerCall) lost(ctx context.Context) state {
	m.a.Spool.Abandon(m.id)
	m.a.Events.Emit(ctx, events.RecordingFailed, "a voice message could not be saved",
		slog.String("file", failedFile(m.err)), slog.String("errno", errnoName(m.err)), slog.String("error", m.err.Error()),
		slog.String("id", m.id), slog.String("mailbox", m.box.EmailAddress), slog.String("callid", m.call.ID),
		slog.String("gateway", m.call.Gateway.Name), slog.String("stop", string(m.stop)))
	play(ctx, m.call.Audio, Prompt("notsaved"))
	return nil
}
