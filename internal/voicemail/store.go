package voicemail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/openum/openum/internal/delivery"
	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/msgstore"
)

// The message store is where a voice message lives (SPEC UM-6); the spool
// only queues its mail copy. So the store is the source of truth, and a
// message goes there first:
//
//  1. the recording is written into the spool (Spool.Begin, with a note);
//  2. it is saved in the store, one synced transaction: the message is
//     kept, whole or not at all;
//  3. it is queued for mail, marked Stored;
//  4. only then does the caller hear "saved".
//
// A crash before 2 leaves the recording and its note: OpenSpool queues
// what was said, and Recover saves it in the store. A crash between 2 and
// 3 leaves the same, but the store already has the message: Recover finds
// it by its Call-ID (a call leaves one message at most) and saves nothing.
// After 3, Recover skips it (Stored). So whatever the moment of the crash,
// the message ends up once in the store and once in mail, and a message
// deleted and purged from the store is never brought back by a mail copy
// that was still waiting.

// Recover saves in the store the spooled messages a crash kept out of it
// (see above), and marks them Stored. Run it once at start, after
// OpenSpool and before delivery runs: a delivered message leaves the spool.
func (a *Answering) Recover(ctx context.Context) error {
	pending, err := a.Spool.Pending()
	if err != nil {
		return err
	}
	for _, q := range pending {
		if q.Stored || q.Notice != nil { // a notice is a mail, not a message
			continue
		}
		kept, err := a.Store.List(ctx, q.To, "")
		if err != nil {
			return fmt.Errorf("voicemail: recovering message %s: %w", q.ID, err)
		}
		if q.CallID == "" || !slices.ContainsFunc(kept, func(s msgstore.Message) bool { return s.CallID == q.CallID }) {
			wav, err := a.Spool.Audio(q.ID)
			if err == nil {
				_, err = a.save(ctx, q, wav)
			}
			if err != nil {
				return fmt.Errorf("voicemail: recovering message %s: %w", q.ID, err)
			}
		}
		q.Stored = true
		if err := a.Spool.Update(q); err != nil {
			return fmt.Errorf("voicemail: recovering message %s: %w", q.ID, err)
		}
	}
	return nil
}

// saving bounds the messages being read and stored at once: two, what
// keeps the cores busy. A message is a megabyte and more of recording to
// copy; when many calls end together (2,000 recordings of two minutes
// ending within 20 s), unbounded saves fill the scheduler's queues and
// the collector's work, the media clocks wait behind them for seconds,
// and the calls still talking lose packets in the kernel's full socket
// buffers (bench/load.sh 2000 at DURATION=110: 1.6-2 % lost, all of it
// while the calls ended).
var saving = make(chan struct{}, 2)

// keep saves the recording at path, and q, in the store, once one of the
// saving slots is free.
func (a *Answering) keep(ctx context.Context, q *delivery.Message, path string) (msgstore.Message, error) {
	saving <- struct{}{}
	defer func() { <-saving }()
	wav, err := os.ReadFile(path)
	if err != nil {
		return msgstore.Message{}, err
	}
	return a.save(ctx, q, wav)
}

// save keeps q in the store, marked Stored, with its mail job when the
// server is part of a pool: in one transaction, so that the pool owes the
// mail of every message kept.
func (a *Answering) save(ctx context.Context, q *delivery.Message, wav []byte) (msgstore.Message, error) {
	q.Stored = true
	m := storeMessage(q)
	if a.Pool != nil {
		var err error
		if m.Mail, err = a.Pool.Job(q); err != nil {
			return msgstore.Message{}, fmt.Errorf("voicemail: the mail job of message %s: %w", q.ID, err)
		}
	}
	return a.Store.Save(ctx, directory.Actor{}, m, wav)
}

// storeMessage is the store's record of a spooled message. The caller's
// number and name are kept as received, with control characters (which a
// display name may hold, a tab say) made spaces: the store refuses them,
// and a message must never be lost for its caller's name.
func storeMessage(q *delivery.Message) msgstore.Message {
	oneLine := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r < ' ' || r == 0x7f {
				return ' '
			}
			return r
		}, s)
	}
	return msgstore.Message{Mailbox: q.To, CallerNumber: oneLine(q.CallerID), CallerName: oneLine(q.CallerName),
		CallID: oneLine(q.CallID), ReceivedAt: q.Received}
}

// admit checks the mailbox's quota before anything is played. A full
// mailbox takes no message: the caller hears so and goodbye, and the
// administrator gets 9308; nothing is recorded to be lost unheard. When
// the store cannot be read, the caller is told at once that no message can
// be saved (9304), rather than after speaking.
func (m *answerCall) admit(ctx context.Context) state {
	policy := directory.NewMailboxPolicy(m.box.UMMailboxPolicy, m.box.UMDialPlan) // the defaults, should the policy be gone
	if p, err := m.call.Directory.MailboxPolicy(m.box.UMMailboxPolicy); err == nil {
		policy = *p
	}
	err := msgstore.CheckQuota(ctx, m.a.Store, m.box.EmailAddress, policy)
	var full *msgstore.FullError
	switch {
	case errors.As(err, &full):
		m.a.Events.Emit(ctx, events.MailboxFull, "the mailbox is full: the caller was told, and no message was recorded",
			slog.String("mailbox", m.box.EmailAddress), slog.String("policy", policy.Name),
			slog.Int("messages", full.Usage.Messages), slog.Int("MaxMessages", policy.MaxMessages),
			slog.Int64("bytes", full.Usage.Bytes), slog.Int("MaxMessageStorage", policy.MaxMessageStorage),
			slog.String("caller", m.call.Caller), slog.String("callid", m.call.ID), slog.String("gateway", m.call.Gateway.Name))
		play(ctx, m.call.Audio, concat(PromptMailboxFull, PromptGoodbye))
		return nil
	case err != nil:
		m.err = err
		return m.lost
	}
	return m.greet
}
