package logon

import (
	"context"
	"errors"
	"fmt"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/pin"
)

// ErrNotLoggedOn is ChangePIN's error on a call that has not logged on.
var ErrNotLoggedOn = errors.New("logon: the call has not logged on")

// ChangePIN makes newPIN the PIN of the mailbox the call logged on to,
// when the mailbox's policy allows it (length, history, common patterns,
// the extension), and lifts the need to change an expired PIN. A PIN the
// policy refuses is a *pin.RuleError (errors.As), whose Rule the menu
// speaks (pin.RuleMinLength, RuleHistory, RuleCommonPattern,
// RuleExtension, ...); the error never holds the PIN.
func (c *Call) ChangePIN(ctx context.Context, newPIN string) error {
	if c.mailbox == "" {
		return ErrNotLoggedOn
	}
	_, err := c.svc.dir.Update(ctx, c.actor("PIN changed"), func(s *directory.Snapshot) error {
		if newPIN != "" {
			_, err := s.AssignPIN(c.mailbox, newPIN, false)
			return err
		}
		// AssignPIN would make up a PIN; an empty one is too short.
		m, err := s.Mailbox(c.mailbox)
		if err != nil {
			return err
		}
		p, err := s.MailboxPolicy(m.UMMailboxPolicy)
		if err != nil {
			return err
		}
		return pin.Check(p.PINRules(), newPIN, m.Extensions, nil)
	})
	if err != nil {
		return fmt.Errorf("logon: %w", err)
	}
	c.mustChange = false
	return nil
}

// PINChange is what an administrator changes with SetPIN, after Exchange's
// Set-UMMailboxPIN.
type PINChange struct {
	// PIN is the new PIN, checked against the mailbox's policy. Empty
	// keeps the PIN unless Generate is set.
	PIN string
	// Generate gives a new random PIN that meets the policy instead.
	Generate bool
	// Expired makes the user choose a new PIN at next logon (-PinExpired).
	Expired bool
	// Unlock lifts a lock-out and clears the failed logons (-LockedOut
	// $false). A new PIN does so too.
	Unlock bool
}

// SetPIN applies an administrator's change to a mailbox inside a directory
// update (the caller's Update names the administrator in the audit log,
// which records that the PIN changed, never the PIN). It returns the PIN
// to show once when Generate made one.
func SetPIN(s *directory.Snapshot, email string, c PINChange) (shown string, err error) {
	if c.Generate && c.PIN != "" {
		return "", errors.New("logon: give a PIN or generate one, not both")
	}
	if c.Generate || c.PIN != "" {
		return s.AssignPIN(email, c.PIN, c.Expired)
	}
	m, err := s.Mailbox(email)
	if err != nil {
		return "", err
	}
	m.PINExpired = m.PINExpired || c.Expired
	if c.Unlock {
		return "", Unlock(s, email)
	}
	return "", nil
}

// Unlock lifts a mailbox's lock-out and clears its failed logons, inside a
// directory update: only an administrator does so (set-pin --unlock).
func Unlock(s *directory.Snapshot, email string) error {
	m, err := s.Mailbox(email)
	if err != nil {
		return err
	}
	m.LockedOut = false
	m.LogonFailures = 0
	return nil
}
