package directory

import (
	"net/mail"
	"strings"
	"unicode"
)

// maxAddressLen is the longest address SMTP carries (RFC 5321 §4.5.3.1.3,
// the path less its angle brackets); it also keeps a mailbox's folder name
// within a file name's 255 bytes when it is ASCII.
const maxAddressLen = 254

// checkAddress holds a new mailbox's address to the rules of a bare e-mail
// address that can name a Maildir folder and a file safely. It judges an
// address when it is chosen (AddMailbox): the address is the mailbox's
// identity and never changes afterwards, so a mailbox an earlier version
// stored under an address now refused still loads, receives voice mail and
// can be changed or disabled.
func checkAddress(address string) error {
	obj := Ref{Kind: KindMailbox, Name: address}
	rule := func(format string, args ...any) error { return fieldErr(obj, "EmailAddress", format, args...) }
	switch {
	case len(address) > maxAddressLen:
		return rule("must be at most %d characters (RFC 5321)", maxAddressLen)
	case strings.ContainsFunc(address, unicode.IsControl):
		return rule("must not contain control characters")
	case strings.ContainsFunc(address, unicode.IsSpace):
		return rule("must not contain spaces")
	case strings.ContainsAny(address, `/\`):
		return rule(`must not contain / or \`)
	case strings.Contains(address, ".."):
		return rule("must not contain ..")
	}
	return plainAddress(obj, address)
}

// plainAddress is the rule every stored mailbox meets: its address is a
// bare address, without display name, comment or angle brackets.
func plainAddress(obj Ref, address string) error {
	if a, err := mail.ParseAddress(address); err != nil || a.Address != address {
		return fieldErr(obj, "EmailAddress", "must be a plain e-mail address such as alice@example.com")
	}
	return nil
}
