package ops

import (
	"errors"
	"strconv"
	"strings"

	"github.com/openum/openum/internal/logon"
)

// The PIN verbs of a mailbox, after Exchange's Set-UMMailboxPIN: a PIN
// given or random, expired by default as there, and the lift of a
// lock-out, in one audited update (logon.SetPIN) that records that the
// PIN changed, never the PIN. A PIN openum generates is shown once.
const (
	SetPIN   Verb = "set-pin"
	ResetPIN Verb = "reset-pin" // a new random PIN, expired and unlocked
)

// setPINParams are set-pin's parameters.
var setPINParams = []Param{
	{Name: "pin", Type: "string", Usage: "the PIN, checked against the mailbox policy"},
	{Name: "generate", Type: "bool", Usage: "a random PIN that meets the policy, shown once (the default without pin or unlock)"},
	{Name: "expired", Type: "bool", Usage: "the user must choose a new PIN at next logon (default with a new PIN)"},
	{Name: "unlock", Type: "bool", Usage: "lift a lock-out and clear the failed logons (a new PIN does so too)"},
}

// pinChange reads what a PIN verb's parameters ask for.
func pinChange(v Verb, p Params) (logon.PINChange, error) {
	if v == ResetPIN {
		return logon.PINChange{Generate: true, Expired: true}, nil
	}
	var c logon.PINChange
	if given := p["pin"]; len(given) > 0 {
		c.PIN = strings.TrimSpace(last(given))
	}
	flags := map[string]*bool{"generate": &c.Generate, "expired": &c.Expired, "unlock": &c.Unlock}
	for name, b := range flags {
		if v := p[name]; len(v) > 0 {
			value, err := strconv.ParseBool(strings.TrimSpace(last(v)))
			if err != nil {
				return c, &ParamError{Param: name, Err: errors.New("must be true or false")}
			}
			*b = value
		}
	}
	if c.PIN != "" && c.Generate {
		return c, errors.New("give --pin or --generate, not both")
	}
	c.Generate = c.Generate || c.PIN == "" && !c.Unlock
	if len(p["expired"]) == 0 {
		// Unlocking alone leaves the PIN as it is, expiry included.
		c.Expired = c.Generate || c.PIN != ""
	}
	return c, nil
}
