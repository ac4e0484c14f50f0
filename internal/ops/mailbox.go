package ops

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/openum/openum/internal/directory"
)

// Mailboxes are the UM-enabled mailboxes: enabled with a PIN, changed,
// disabled, given a PIN (pin.go), and unlocked by an operator.
var Mailboxes Noun = &mailboxNoun{noun[directory.Mailbox]{
	kind:     directory.KindMailbox,
	short:    "UM-enabled mailboxes: extensions, policy, PIN",
	verbs:    []Verb{List, Get, New, Set, Remove, Unlock, SetPIN, ResetPIN},
	uses:     map[Verb]string{New: "enable", Remove: "disable"},
	list:     func(s *directory.Snapshot) []directory.Mailbox { return s.Mailboxes.Slice() },
	get:      (*directory.Snapshot).Mailbox,
	columns:  []string{"EmailAddress", "DisplayName", "UMDialPlan", "Extensions", "UMMailboxPolicy", "PINExpired", "LockedOut", "LogonFailures"},
	fields:   mailboxFields,
	extra:    map[Verb][]Param{New: {{Name: "pin", Type: "string", Usage: "the PIN (default: a random one, printed once)"}}, SetPIN: setPINParams},
	required: []string{"dialplan", "extension"},
}}

// mailboxNoun enables a mailbox: its fields, its dial plan's only policy
// unless one is named, and a PIN its policy accepts.
type mailboxNoun struct{ noun[directory.Mailbox] }

func (n *mailboxNoun) doNew(s *directory.Snapshot, email string, p Params) (string, error) {
	m := directory.Mailbox{EmailAddress: email, PINExpired: true}
	if err := apply(n.fields, &m, p); err != nil {
		return "", err
	}
	if m.UMMailboxPolicy == "" {
		policy, err := onlyPolicy(s, m.UMDialPlan)
		if err != nil {
			return "", err
		}
		m.UMMailboxPolicy = policy
	}
	if err := s.AddMailbox(m); err != nil {
		return "", err
	}
	// The mailbox must be sound before its policy judges the PIN.
	if err := directory.Validate(s, []directory.Ref{{Kind: directory.KindMailbox, Name: m.EmailAddress}}); err != nil {
		return "", err
	}
	var given string
	if v := p["pin"]; len(v) > 0 {
		given = strings.TrimSpace(last(v))
	}
	return s.AssignPIN(email, given, m.PINExpired)
}

// onlyPolicy returns the dial plan's policy when it has exactly one.
func onlyPolicy(s *directory.Snapshot, dialPlan string) (string, error) {
	if _, err := s.DialPlan(dialPlan); err != nil {
		return "", err
	}
	var names []string
	for _, p := range s.MailboxPolicies {
		if directory.SameName(p.UMDialPlan, dialPlan) {
			names = append(names, p.Name)
		}
	}
	if len(names) != 1 {
		return "", fmt.Errorf("--policy is required: dial plan %q has %d mailbox policies", dialPlan, len(names))
	}
	return names[0], nil
}

// MailboxesJSON is List of the mailboxes as JSON, each as json.Marshal
// writes it, for a listing that only prints them (get --json): it reads
// the mailboxes alone (directory.MailboxesJSON), neither the rest of the
// directory nor the PIN hashes, and decodes none that this openum wrote.
func MailboxesJSON(ctx context.Context, env Env) ([]json.RawMessage, error) {
	return directory.MailboxesJSON(ctx, env.Directory)
}
