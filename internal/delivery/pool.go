package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/msgstore"
)

// Pool is the mail ledger of the servers sharing one message store (see
// the package comment): with it, a Worker claims each voice message's
// lease before delivering it and marks it delivered after, and delivers
// from the store the mail of a server whose leases have expired.
type Pool struct {
	Ledger msgstore.MailLedger
	Audio  AudioSource   // the stored messages' audio
	Server string        // this server's name: the owner of its leases
	Lease  time.Duration // how long a lease lasts unrenewed (default 60 s)
}

// AudioSource reads a stored message's recording; msgstore.Store is one.
type AudioSource interface {
	Audio(ctx context.Context, id int64) ([]byte, error)
}

// claimBatch bounds the jobs one pass takes from the ledger.
const claimBatch = 100

func (p *Pool) lease() time.Duration {
	if p.Lease > 0 {
		return p.Lease
	}
	return time.Minute
}

// Job is the ledger's mail job for m, held by this server: Save records it
// with m's message, so that a message kept is a mail owed.
func (p *Pool) Job(m *Message) (*msgstore.MailJob, error) {
	note, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return &msgstore.MailJob{ID: m.ID, Owner: p.Server, Note: note, Lease: p.lease()}, nil
}

// claim takes m's lease and returns what it found and, when held, the end
// of the lease as this server reckons it: from before it asked, so never
// later than the database's.
func (p *Pool) claim(ctx context.Context, id string) (msgstore.Claim, time.Time, error) {
	start := time.Now()
	c, err := p.Ledger.Claim(ctx, id, p.Server, p.lease())
	return c, start.Add(p.lease()), err
}

func (p *Pool) setNote(ctx context.Context, m *Message) error {
	note, err := json.Marshal(m)
	if err == nil {
		err = p.Ledger.SetNote(ctx, m.ID, p.Server, note)
	}
	return err
}

// renew keeps this server's leases until ctx is done, renewing them three
// times a lease, so that a live server, even one waiting to retry, keeps
// its mail.
func (w *Worker) renew(ctx context.Context) {
	t := time.NewTicker(w.Pool.lease() / 3)
	defer t.Stop()
	failing := false
	for {
		_, err := w.Pool.Ledger.Renew(ctx, w.Pool.Server, w.Pool.lease())
		if err != nil && !failing && ctx.Err() == nil {
			w.Events.Emit(ctx, events.DeliveryFailed, "cannot renew this server's mail leases: once they expire another server of the pool may deliver its mail",
				slog.String("error", err.Error()))
		}
		failing = err != nil
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// dropDelivered removes, at start, the spool's copies of mail the ledger
// says went (another server took them over while this one was down),
// rather than leave each until its next attempt is due.
func (w *Worker) dropDelivered(ctx context.Context) {
	pending, err := w.Spool.Pending()
	if err != nil {
		return // deliverDue says so
	}
	for _, m := range pending {
		if m.NextAttempt.After(w.Now()) {
			w.fromSpool(ctx, m)
		}
	}
}

// fromSpool is a spooled message as the worker delivers it: with a pool,
// a message kept in the store only under its lease. It returns nil when
// the message is not this server's to deliver now.
func (w *Worker) fromSpool(ctx context.Context, m *Message) *item {
	it := &item{m: m,
		audio:  func(context.Context) ([]byte, error) { return w.Spool.Audio(m.ID) },
		record: func(_ context.Context, m *Message) error { return w.Spool.Update(m) },
		done:   func(context.Context) error { return w.Spool.Done(m.ID) },
	}
	if w.Pool == nil || !m.Stored || m.Notice != nil {
		return it
	}
	claim, deadline, err := w.Pool.claim(ctx, m.ID)
	switch {
	case err != nil:
		w.Events.Emit(ctx, events.DeliveryFailed, "cannot claim a spooled voice message's lease: it waits", slog.String("id", m.ID), slog.String("error", err.Error()))
		return nil
	case claim == msgstore.ClaimUnknown: // spooled before the ledger, or its message purged
		return it
	case claim == msgstore.ClaimBusy:
		return nil
	case claim == msgstore.ClaimDelivered:
		if err := w.Spool.Done(m.ID); err == nil {
			w.Events.Emit(ctx, events.MailCopyDropped, "a spooled voice message was delivered already, from the message store: this spool's copy is removed, not sent again",
				slog.String("id", m.ID), slog.String("to", m.To))
		}
		return nil
	}
	it.deadline = deadline
	it.record = func(ctx context.Context, m *Message) error {
		return errors.Join(w.Spool.Update(m), w.Pool.setNote(ctx, m))
	}
	it.done = func(ctx context.Context) error {
		return errors.Join(w.delivered(ctx, m), w.Spool.Done(m.ID))
	}
	return it
}

// delivered marks m delivered in the ledger. A lease lost meanwhile is
// written to the event log, not retried: m went, and sending it again
// would only add a copy.
func (w *Worker) delivered(ctx context.Context, m *Message) error {
	err := w.Pool.Ledger.Delivered(ctx, m.ID, w.Pool.Server)
	if errors.Is(err, msgstore.ErrLeaseLost) {
		w.Events.Emit(ctx, events.DeliveryFailed, "a voice message was delivered after its lease passed to another server, which may deliver it again",
			slog.String("id", m.ID), slog.String("to", m.To), slog.String("error", err.Error()))
		return nil
	}
	return err
}

// fromLedger claims the ledger's jobs this server may deliver and that its
// spool does not hold: those of servers whose leases expired, and its own
// whose spool copy is gone. It reports the take-overs (9309) and returns
// the jobs held, and when the next is due.
func (w *Worker) fromLedger(ctx context.Context, next time.Time) ([]*item, time.Time) {
	jobs, ok := w.claimable(ctx)
	if !ok || len(jobs) == 0 {
		return nil, next
	}
	// Then what the spool holds, and the jobs again: a job read after
	// the spool and not in it is not the spool's to deliver (a message
	// is in the spool from its recording's start until it is delivered).
	// Reading the spool only when the ledger has jobs spares a server
	// with 2,000 calls recording a listing of 2,000 notes a second.
	local := w.Spool.spooledIDs()
	if jobs, ok = w.claimable(ctx); !ok {
		return nil, next
	}
	var items []*item
	taken := map[string][]string{} // the server taken over → the mail IDs
	for _, j := range jobs {
		if local[j.ID] {
			continue
		}
		m := new(Message)
		if err := json.Unmarshal(j.Note, m); err != nil || m.ID != j.ID {
			w.quarantineJob(ctx, j, err)
			continue
		}
		// A job taken over is tried at once: the back-off was the dead
		// server's, with its own path to its mail server.
		if j.Owner == w.Pool.Server && m.NextAttempt.After(w.Now()) {
			next = minTime(next, m.NextAttempt)
			continue
		}
		claim, deadline, err := w.Pool.claim(ctx, j.ID)
		if err != nil || claim != msgstore.ClaimHeld {
			continue
		}
		if j.Owner != w.Pool.Server {
			taken[j.Owner] = append(taken[j.Owner], j.ID)
		}
		items = append(items, &item{m: m, deadline: deadline,
			audio:  func(ctx context.Context) ([]byte, error) { return w.Pool.Audio.Audio(ctx, j.Message) },
			record: w.Pool.setNote,
			done:   func(ctx context.Context) error { return w.delivered(ctx, m) },
		})
	}
	for from, ids := range taken {
		w.Events.Emit(ctx, events.MailTakenOver, "took over undelivered voice messages of another server, whose leases had expired: they are delivered from the message store",
			slog.String("server", from), slog.Int("messages", len(ids)), slog.Any("ids", ids))
	}
	return items, next
}

// quarantineJob sets aside a job whose note cannot be read (9306).
func (w *Worker) quarantineJob(ctx context.Context, j msgstore.MailJob, cause error) {
	reason := "its note names another mail"
	if cause != nil {
		reason = "its note is not a message: " + cause.Error()
	}
	if err := w.Pool.Ledger.Quarantine(ctx, j.ID, reason); err != nil {
		reason += "; it could not be set aside: " + err.Error()
	}
	w.Events.Emit(ctx, events.SpoolQuarantined, "a voice message's mail job in the message store cannot be read: set aside, the others are delivered",
		slog.String("File", fmt.Sprintf("mail job %s of message %d", j.ID, j.Message)), slog.String("Reason", reason), slog.String("Quarantine", "mail_jobs.quarantined"))
}

// claimable is the ledger's jobs this server may claim, or false after
// saying in the event log why they cannot be read.
func (w *Worker) claimable(ctx context.Context) ([]msgstore.MailJob, bool) {
	jobs, err := w.Pool.Ledger.Claimable(ctx, w.Pool.Server, claimBatch)
	if err != nil {
		w.Events.Emit(ctx, events.DeliveryFailed, "cannot read the pool's mail jobs", slog.String("error", err.Error()))
		return nil, false
	}
	return jobs, true
}

// spooledIDs is every message ID the spool holds, queued or still being
// recorded (a message saved in the store is queued just after): the
// ledger's copies of these are the spool's to deliver.
func (s *Spool) spooledIDs() map[string]bool {
	ids := map[string]bool{}
	queued, _ := os.ReadDir(filepath.Join(s.dir, "queue"))
	for _, e := range queued {
		ids[strings.TrimSuffix(e.Name(), ".new")] = true
	}
	notes, _ := filepath.Glob(filepath.Join(s.dir, "recording", "*.json"))
	for _, n := range notes {
		ids[strings.TrimSuffix(filepath.Base(n), ".json")] = true
	}
	return ids
}
