package delivery

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/openum/openum/internal/events"
)

// Worker delivers the spool's messages and retries each one, with
// exponential back-off, until its transport accepts it: a mail server
// outage delays messages but loses none. Run it once per spool.
type Worker struct {
	Spool     *Spool
	Transport Transport
	Events    *events.Log
	// Pool, when set, shares delivery with the other servers of a pool
	// through the message store's mail ledger (pool.go).
	Pool *Pool
	// MinBackoff and MaxBackoff bound the wait between attempts (default 5 s
	// and 10 min). Escalate is how long a message may fail before event
	// 1185 says so (default 1 h); it is still retried after that.
	MinBackoff, MaxBackoff, Escalate time.Duration
	Now                              func() time.Time

	kick chan struct{}
	once sync.Once // Kick (from calls) and Run may be the first to need the defaults
}

func (w *Worker) defaults() { w.once.Do(w.setDefaults) }

func (w *Worker) setDefaults() {
	if w.MinBackoff <= 0 {
		w.MinBackoff = 5 * time.Second
	}
	if w.MaxBackoff <= 0 {
		w.MaxBackoff = 10 * time.Minute
	}
	if w.Escalate <= 0 {
		w.Escalate = time.Hour
	}
	if w.Now == nil {
		w.Now = time.Now
	}
	if w.kick == nil {
		w.kick = make(chan struct{}, 1)
	}
}

// Kick makes Run look at the spool now, as after a new message.
func (w *Worker) Kick() {
	w.defaults()
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Run delivers until ctx is done.
func (w *Worker) Run(ctx context.Context) error {
	w.defaults()
	if w.Pool != nil {
		go w.renew(ctx)
		w.dropDelivered(ctx)
	}
	for {
		next := w.deliverDue(ctx)
		wait := min(time.Until(next), time.Second)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-w.kick:
		case <-time.After(max(wait, 10*time.Millisecond)):
		}
	}
}

// deliverDue tries every message whose time has come and returns when the
// next one is due.
func (w *Worker) deliverDue(ctx context.Context) time.Time {
	next := w.Now().Add(time.Second)
	pending, err := w.Spool.Pending()
	if err != nil {
		w.Events.Emit(ctx, events.DeliveryFailed, "cannot read the delivery spool", slog.String("error", err.Error()))
		return next
	}
	for _, q := range w.Spool.Quarantined() {
		w.Events.Emit(ctx, events.SpoolQuarantined, "a spooled voice message cannot be read: moved to quarantine, the others are delivered",
			slog.String("File", q.File), slog.String("Reason", q.Reason), slog.String("Quarantine", q.Path))
	}
	for _, m := range pending {
		if ctx.Err() != nil {
			return next
		}
		if m.NextAttempt.After(w.Now()) {
			next = minTime(next, m.NextAttempt)
			continue
		}
		if it := w.fromSpool(ctx, m); it != nil {
			next = w.attempt(ctx, it, next)
		}
	}
	if w.Pool == nil || ctx.Err() != nil {
		return next
	}
	items, next := w.fromLedger(ctx, next)
	for _, it := range items {
		next = w.attempt(ctx, it, next)
	}
	return next
}

// item is a message to deliver, and where its state lives: the spool, the
// pool's ledger, or both.
type item struct {
	m      *Message
	audio  func(context.Context) ([]byte, error)
	record func(context.Context, *Message) error // its attempts
	done   func(context.Context) error           // it was delivered
	// deadline, when set, is the end of the lease it is delivered under:
	// past it another server may take it over, so the attempt stops.
	deadline time.Time
}

// attempt delivers it once, and schedules a retry when that fails.
func (w *Worker) attempt(ctx context.Context, it *item, next time.Time) time.Time {
	if err := w.deliver(ctx, it); err != nil {
		w.failed(ctx, it, err)
		next = minTime(next, it.m.NextAttempt)
	}
	return next
}

func (w *Worker) deliver(ctx context.Context, it *item) error {
	m := it.m
	send := ctx
	if !it.deadline.IsZero() {
		var cancel context.CancelFunc
		send, cancel = context.WithDeadline(ctx, it.deadline)
		defer cancel()
	}
	var audio []byte
	if m.Notice == nil {
		var err error
		if audio, err = it.audio(send); err != nil {
			return err
		}
	}
	if err := w.Transport.Deliver(send, m, Compose(m, audio)); err != nil {
		return err
	}
	if err := it.done(ctx); err != nil {
		return err
	}
	w.Events.Emit(ctx, events.MessageDelivered, "voice message delivered",
		slog.String("id", m.ID), slog.String("to", m.To), slog.Int("attempts", m.Attempts+1), slog.Bool("notice", m.Notice != nil))
	return nil
}

// failed records a failed attempt and schedules the next.
func (w *Worker) failed(ctx context.Context, it *item, cause error) {
	m, now := it.m, w.Now()
	m.Attempts++
	if m.FirstFailure.IsZero() {
		m.FirstFailure = now
	}
	backoff := w.MinBackoff << min(m.Attempts-1, 20)
	m.NextAttempt = now.Add(min(backoff, w.MaxBackoff))
	id := events.DeliveryFailed
	var tlsErr *TLSError
	if errors.As(cause, &tlsErr) {
		id = events.MailTLSFailed
	}
	attrs := []slog.Attr{slog.String("id", m.ID), slog.String("to", m.To), slog.Int("attempts", m.Attempts),
		slog.Time("next", m.NextAttempt), slog.String("error", cause.Error())}
	w.Events.Emit(ctx, id, "voice message delivery failed; it will be retried", attrs...)
	if !m.Escalated && now.Sub(m.FirstFailure) >= w.Escalate {
		m.Escalated = true
		w.Events.Emit(ctx, events.DeliveryFailedFinal, "voice message still undelivered; it stays in the spool and is retried", attrs...)
	}
	if err := it.record(ctx, m); err != nil {
		w.Events.Emit(ctx, events.DeliveryFailed, "cannot record the delivery attempt", slog.String("id", m.ID), slog.String("error", err.Error()))
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
