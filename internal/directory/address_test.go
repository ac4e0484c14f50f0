package directory

import (
	"errors"
	"strings"
	"testing"
)

// An address names its mailbox's Maildir folder: one that could be read
// as a path, or confused with another, is refused with a one-line error
// naming the field and the rule.
func TestAddMailboxRefusesUnsafeAddresses(t *testing.T) {
	tooLong := strings.Repeat("a", 242) + "@example.test" // 255 characters
	for address, want := range map[string]string{
		"a/b@example.test":       `mailbox a/b@example.test: EmailAddress must not contain / or \`,
		`a\b@example.test`:       `mailbox a\b@example.test: EmailAddress must not contain / or \`,
		"a..b@example.test":      "mailbox a..b@example.test: EmailAddress must not contain ..",
		"../x@example.test":      `mailbox ../x@example.test: EmailAddress must not contain / or \`,
		"a b@example.test":       "mailbox a b@example.test: EmailAddress must not contain spaces",
		"a\u00a0b@example.test":  `mailbox "a\u00a0b@example.test": EmailAddress must not contain spaces`,
		"a\nb@example.test":      `mailbox "a\nb@example.test": EmailAddress must not contain control characters`,
		"a\x00b@example.test":    `mailbox "a\x00b@example.test": EmailAddress must not contain control characters`,
		"Alice <a@example.test>": "mailbox Alice <a@example.test>: EmailAddress must not contain spaces",
		"<a@example.test>":       "mailbox <a@example.test>: EmailAddress must be a plain e-mail address such as alice@example.com",
		"":                       "mailbox : EmailAddress must be a plain e-mail address such as alice@example.com",
		tooLong:                  "mailbox " + tooLong + ": EmailAddress must be at most 254 characters (RFC 5321)",
	} {
		s := sample(t)
		err := s.AddMailbox(Mailbox{EmailAddress: address, UMDialPlan: "DP1", UMMailboxPolicy: "P1", Extensions: List[string]{"10002"}})
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "EmailAddress" || err.Error() != want || strings.Contains(err.Error(), "\n") {
			t.Errorf("AddMailbox(%q): %v; want %s", address, err, want)
		}
		if s.Mailboxes.Len() != 1 {
			t.Errorf("AddMailbox(%q) added the mailbox", address)
		}
	}
	for _, ok := range []string{"a_b@example.test", "a.b+voice@example.test", "é@example.test", "a%2Fb@example.test", tooLong[1:]} {
		if err := sample(t).AddMailbox(Mailbox{EmailAddress: ok, UMDialPlan: "DP1", UMMailboxPolicy: "P1", Extensions: List[string]{"10002"}}); err != nil {
			t.Errorf("AddMailbox(%q): %v", ok, err)
		}
	}
}

// Addresses are unique ignoring case, as mail systems compare them: Bob@
// and bob@ are one mailbox, whose Maildir folder is one.
func TestMailboxAddressesIgnoreCase(t *testing.T) {
	for _, taken := range []string{"A@example.test", "a@EXAMPLE.TEST"} {
		err := sample(t).AddMailbox(Mailbox{EmailAddress: taken, UMDialPlan: "DP1", UMMailboxPolicy: "P1", Extensions: List[string]{"10002"}})
		var exists *ExistsError
		if !errors.As(err, &exists) {
			t.Errorf("AddMailbox(%q) beside a@example.test: %v; want ExistsError", taken, err)
		}
	}
	s := sample(t)
	if err := s.AddMailbox(Mailbox{EmailAddress: "É@example.test", UMDialPlan: "DP1", UMMailboxPolicy: "P1", Extensions: List[string]{"10002"}}); err != nil {
		t.Fatal(err)
	}
	var exists *ExistsError
	if err := s.AddMailbox(Mailbox{EmailAddress: "é@example.test", UMDialPlan: "DP1", UMMailboxPolicy: "P1", Extensions: List[string]{"10003"}}); !errors.As(err, &exists) {
		t.Errorf("é@ beside É@: %v; want ExistsError", err)
	}
}

// A mailbox that an earlier version stored under an address now refused
// does not brick the directory: other changes, and changes to it, still
// pass, and it can be disabled.
func TestStoredUnsafeAddressStaysUsable(t *testing.T) {
	s := sample(t)
	// As a storage engine loads it: appended, not added.
	s.Mailboxes = MailboxesOf(append(s.Mailboxes.Slice(), Mailbox{EmailAddress: "a/b@example.test", UMDialPlan: "DP1", UMMailboxPolicy: "P1", Extensions: List[string]{"10002"}})...)
	for name, change := range map[string]func(*Snapshot) error{
		"dial plan": func(s *Snapshot) error {
			d, _ := s.DialPlan("DP1")
			d.MaxCallDuration = 60
			return nil
		},
		"the mailbox": func(s *Snapshot) error {
			m, err := s.Mailbox("a/b@example.test")
			if err == nil {
				m.DisplayName = "A B"
			}
			return err
		},
		"disable": func(s *Snapshot) error {
			_, err := s.Remove(KindMailbox, "a/b@example.test", false)
			return err
		},
	} {
		if _, _, err := Prepare(s, change); err != nil {
			t.Errorf("change of %s beside a stored a/b@example.test: %v", name, err)
		}
	}
}
