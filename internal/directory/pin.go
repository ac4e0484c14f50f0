package directory

import (
	"fmt"
	"time"

	"github.com/openum/openum/internal/pin"
)

// PINRules is the part of the policy that governs PINs, for package pin.
func (p *MailboxPolicy) PINRules() pin.Policy {
	return pin.Policy{MinLength: p.MinPINLength, HistoryCount: p.PINHistoryCount, AllowCommonPatterns: p.AllowCommonPatterns}
}

// AssignPIN gives the mailbox a PIN under its policy (pin.Assign): given,
// when the policy allows it, else a random one, which it returns to be
// shown once. Only the PIN's hash is kept; expired makes the user choose a
// new PIN at next logon.
func (s *Snapshot) AssignPIN(email, given string, expired bool) (shown string, err error) {
	m, err := s.Mailbox(email)
	if err != nil {
		return "", err
	}
	p, err := s.MailboxPolicy(m.UMMailboxPolicy)
	if err != nil {
		return "", err
	}
	shown, hash, err := pin.Assign(p.PINRules(), given, m.Extensions, m.PIN.Recent())
	if err != nil && given != "" {
		return "", fmt.Errorf("mailbox %s: %w (policy %s)", m.EmailAddress, err, p.Name)
	}
	if err != nil {
		return "", err
	}
	m.SetPIN(hash, time.Now(), expired)
	return shown, nil
}
