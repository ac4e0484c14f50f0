package logon

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/pin"
)

// Logon decides one attempt: extension (the caller's, or the one entered)
// and the PIN entered. A failed attempt answers no sooner than
// Settings.FailureTime after it began, whatever made it fail. An error
// means the directory could not be read or written, or a reset PIN could
// not be handed to the Notifier; the Result then says to disconnect.
func (c *Call) Logon(ctx context.Context, extension, digits string) (Result, error) {
	s := c.svc
	began := time.Now()
	snap, err := s.dir.Snapshot(ctx)
	if err != nil {
		return Result{Disconnect: true}, fmt.Errorf("logon: %w", err)
	}
	out := CoolingDown
	if !s.coolingDown(c.src, began) {
		out, err = c.check(ctx, snap, extension, digits)
	}
	switch {
	case err != nil:
		return Result{Disconnect: true}, err
	case out == Success || out == PINExpired:
		s.stats.Logons.Add(1)
		return Result{Outcome: out}, nil
	}
	s.stats.Failures.Add(1)
	c.failures++
	res := Result{Outcome: out}
	// A dial plan that is gone ends the call rather than leave guessing open.
	limit := 1
	if dp, err := snap.DialPlan(c.dialPlan); err == nil {
		limit = dp.LogonFailuresBeforeDisconnect
	}
	if c.failures >= limit {
		res.Disconnect = true
		s.log.Emit(ctx, events.LogonFailuresDisconnect, "caller disconnected after failed logons",
			append(c.src.attrs(), slog.String("DialPlan", c.dialPlan), slog.Int("Failures", c.failures))...)
	}
	wait(ctx, began.Add(s.set.FailureTime))
	return res, nil
}

// check verifies the PIN and updates the mailbox's counters. Every path
// verifies one argon2id hash, a dummy one when there is no mailbox or no
// PIN, so that they take the same time.
func (c *Call) check(ctx context.Context, snap *directory.Snapshot, extension, digits string) (Outcome, error) {
	s := c.svc
	m := snap.MailboxByExtension(c.dialPlan, extension)
	hash := s.dummy
	if m != nil && m.PIN.Hash != "" {
		hash = m.PIN.Hash
	}
	good := pin.Verify(hash, digits) && hash != s.dummy
	switch {
	case m == nil:
		// The typed extension is never logged: a caller may have typed
		// the PIN in its place.
		s.failedFrom(ctx, c.src, "extension "+extension)
		return Wrong, nil
	case m.LockedOut:
		s.failedFrom(ctx, c.src, m.EmailAddress)
		return LockedOut, nil
	case good:
		return c.succeeded(ctx, snap, m.EmailAddress)
	}
	s.failedFrom(ctx, c.src, m.EmailAddress)
	return c.failed(ctx, m.EmailAddress)
}

// succeeded clears the mailbox's failures and says whether its PIN must
// be changed.
func (c *Call) succeeded(ctx context.Context, snap *directory.Snapshot, email string) (Outcome, error) {
	s := c.svc
	m, _ := snap.Mailbox(email)
	if m.LogonFailures > 0 {
		_, err := s.dir.Update(ctx, c.actor("good logon"), func(next *directory.Snapshot) error {
			nm, err := next.Mailbox(email)
			if err != nil {
				return err
			}
			nm.LogonFailures = 0
			return nil
		})
		if err != nil {
			return Wrong, fmt.Errorf("logon: %w", err)
		}
	}
	s.forgive(c.src, email)
	s.log.Emit(ctx, events.SubscriberAuthenticated, "subscriber logged on", append(c.src.attrs(), slog.String("Mailbox", email))...)
	c.mailbox = email
	c.mustChange = expired(snap, m, time.Now())
	if c.mustChange {
		return PINExpired, nil
	}
	return Success, nil
}

// expired reports whether m's PIN must be changed: marked so, or older
// than its policy's PINLifetime (days).
func expired(snap *directory.Snapshot, m *directory.Mailbox, now time.Time) bool {
	if m.PINExpired {
		return true
	}
	p, err := snap.MailboxPolicy(m.UMMailboxPolicy)
	if err != nil || p.PINLifetime == 0 || m.PIN.SetAt.IsZero() {
		return false
	}
	return !now.Before(m.PIN.SetAt.Add(time.Duration(p.PINLifetime) * 24 * time.Hour))
}

// failed counts one more consecutive failure of the mailbox, in one
// transaction with what it leads to: at LogonFailuresBeforePINReset a new
// random PIN, expired; at MaxLogonAttempts a lock-out. The new PIN goes to
// the Notifier only once it is stored.
func (c *Call) failed(ctx context.Context, email string) (Outcome, error) {
	s := c.svc
	var newPIN string
	var locked bool
	var failures int
	var mailbox directory.Mailbox
	_, err := s.dir.Update(ctx, c.actor("failed logon"), func(next *directory.Snapshot) error {
		newPIN, locked, failures = "", false, 0
		m, err := next.Mailbox(email)
		if err != nil {
			return err
		}
		p, err := next.MailboxPolicy(m.UMMailboxPolicy)
		if err != nil {
			return err
		}
		if m.LockedOut { // locked meanwhile, by another call or server
			locked = true
			return nil
		}
		failures = m.LogonFailures + 1
		if failures == p.LogonFailuresBeforePINReset {
			if newPIN, err = next.AssignPIN(email, "", true); err != nil {
				return err
			}
		}
		m.LogonFailures = failures // after AssignPIN, which clears it
		m.LockedOut = failures >= p.MaxLogonAttempts
		locked = m.LockedOut
		mailbox = *m
		return nil
	})
	if err != nil {
		return Wrong, fmt.Errorf("logon: mailbox %s: %w", email, err)
	}
	if locked && failures > 0 {
		s.stats.LockOuts.Add(1)
		s.log.Emit(ctx, events.PINLockout, "mailbox locked out after failed PIN logons",
			append(c.src.attrs(), slog.String("Mailbox", email), slog.Int("Failures", failures))...)
	}
	if newPIN != "" && s.notifier != nil {
		if err := s.notifier.Notify(ctx, mailbox, newPIN); err != nil {
			return Wrong, fmt.Errorf("logon: mailbox %s: the reset PIN could not be sent: %w", email, err)
		}
	}
	if locked {
		return LockedOut, nil
	}
	return Wrong, nil
}

// actor names the call in the audit log: source and Call-ID, never digits.
func (c *Call) actor(what string) directory.Actor {
	return directory.Actor{User: c.svc.set.User, Command: fmt.Sprintf("subscriber access by phone: %s (gateway %s, calling number %q, Call-ID %s)",
		what, c.src.Gateway, c.src.CallingNumber, c.src.CallID)}
}

// attrs are the event attributes naming the call's source.
func (src Source) attrs() []slog.Attr {
	return []slog.Attr{slog.String("Gateway", src.Gateway), slog.String("CallingNumber", src.CallingNumber), slog.String("CallID", src.CallID)}
}

// wait sleeps until deadline or until ctx is done.
func wait(ctx context.Context, deadline time.Time) {
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
