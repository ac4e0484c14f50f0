// Package pin checks mailbox PINs against a mailbox policy (SPEC UM-4) and
// keeps them only as salted argon2id hashes. Nothing here logs or returns a
// PIN in an error.
package pin

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Policy is the part of a mailbox policy that governs PINs.
type Policy struct {
	MinLength           int
	HistoryCount        int // how many earlier PINs may not be reused
	AllowCommonPatterns bool
}

// MaxLength bounds a PIN, as the keypad entry buffer does.
const MaxLength = 24

// Rule names a PIN rule, so that a caller can tell which one a PIN broke
// (the phone menu speaks a prompt for each) without reading the message.
type Rule int

// The rules Check enforces.
const (
	RuleDigits        Rule = iota + 1 // digits only
	RuleMinLength                     // at least MinLength digits
	RuleMaxLength                     // at most MaxLength digits
	RuleCommonPattern                 // no repeated, ascending or descending digits
	RuleExtension                     // not the mailbox extension (a common pattern too)
	RuleHistory                       // not one of the last HistoryCount PINs
)

// RuleError is the error of Check: the rule a PIN breaks, and a message
// naming it (never the PIN).
type RuleError struct {
	Rule Rule
	msg  string
}

func (e *RuleError) Error() string { return e.msg }

func broke(r Rule, format string, args ...any) error {
	return &RuleError{Rule: r, msg: fmt.Sprintf(format, args...)}
}

// Check returns nil when pin satisfies p for a mailbox with the given
// extensions and PIN history (hashes, newest first), or a *RuleError naming
// the rule it breaks.
func Check(p Policy, pin string, extensions, history []string) error {
	switch {
	case strings.Trim(pin, "0123456789") != "":
		return broke(RuleDigits, "PIN must be digits only")
	case len(pin) < p.MinLength:
		return broke(RuleMinLength, "PIN must be at least %d digits (MinPINLength)", p.MinLength)
	case len(pin) > MaxLength:
		return broke(RuleMaxLength, "PIN must be at most %d digits", MaxLength)
	}
	if !p.AllowCommonPatterns {
		if rule, why := commonPattern(pin, extensions); why != "" {
			return broke(rule, "PIN is a common pattern (%s), which the policy does not allow (AllowCommonPatterns is false)", why)
		}
	}
	for _, h := range history[:min(len(history), p.HistoryCount)] {
		if Verify(h, pin) {
			return broke(RuleHistory, "PIN was used recently: it must differ from the last %d PINs (PINHistoryCount)", p.HistoryCount)
		}
	}
	return nil
}

// commonPattern says which easily guessed pattern pin follows, or "".
func commonPattern(pin string, extensions []string) (Rule, string) {
	ascending, descending, repeated := true, true, true
	for i := 1; i < len(pin); i++ {
		step := int(pin[i]) - int(pin[i-1])
		ascending = ascending && step == 1
		descending = descending && step == -1
		repeated = repeated && step == 0
	}
	switch {
	case repeated:
		return RuleCommonPattern, "one digit repeated"
	case ascending:
		return RuleCommonPattern, "ascending digits"
	case descending:
		return RuleCommonPattern, "descending digits"
	}
	for _, ext := range extensions {
		if strings.Contains(pin, ext) || strings.HasSuffix(ext, pin) {
			return RuleExtension, "the mailbox extension"
		}
	}
	return 0, ""
}

// Generate returns a random PIN that satisfies p.
func Generate(p Policy, extensions, history []string) (string, error) {
	length := max(p.MinLength, 6)
	for range 100 {
		var b strings.Builder
		for range length {
			d, err := rand.Int(rand.Reader, big.NewInt(10))
			if err != nil {
				return "", err
			}
			b.WriteByte(byte('0' + d.Int64()))
		}
		if Check(p, b.String(), extensions, history) == nil {
			return b.String(), nil
		}
	}
	return "", errors.New("pin: no random PIN satisfied the policy")
}

// Assign returns the PIN a mailbox gets and its hash: given, when it
// satisfies p, else (given empty) a random PIN that does. shown is the PIN
// to show once, the random one; it is empty when the PIN was given.
func Assign(p Policy, given string, extensions, history []string) (shown, hash string, err error) {
	value := given
	if value == "" {
		if value, err = Generate(p, extensions, history); err != nil {
			return "", "", err
		}
		shown = value
	} else if err := Check(p, value, extensions, history); err != nil {
		return "", "", err
	}
	if hash, err = Hash(value); err != nil {
		return "", "", err
	}
	return shown, hash, nil
}

// argon2id parameters: OWASP's recommended minimum (19 MiB, 2 passes, 1
// lane). A PIN is short, so the hash must be slow; these take tens of
// milliseconds here.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
	saltLen      = 16
)

var b64 = base64.RawStdEncoding

// Hash returns a salted argon2id hash of pin in the PHC string format.
func Hash(pin string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pin), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify reports whether pin matches hash. A malformed hash matches nothing.
func Verify(hash, pin string) bool {
	var version int
	var memory, time uint32
	var threads uint8
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &memory, &time, &threads); err != nil || memory > 1<<20 || time > 16 {
		return false
	}
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(pin), salt, time, memory, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}
