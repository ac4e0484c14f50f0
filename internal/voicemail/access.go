package voicemail

import (
	"context"
	"strings"
	"time"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/logon"
	"github.com/openum/openum/internal/sip"
)

// access runs a subscriber access call (access_fsm.go).
func (a *Answering) access(ctx context.Context, c *sip.Call) {
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	src := logon.Source{Gateway: c.Gateway.Name, CallingNumber: c.Caller, CallID: c.ID}
	m := &accessCall{a: a, call: c, logon: a.Logon.Begin(c.DialPlan.Name, src), now: now}
	m.run(ctx)
}

// isAccessNumber reports whether number, as a call's target, is one of
// plan's AccessTelephoneNumbers, with or without a leading +.
func isAccessNumber(plan *directory.DialPlan, number string) bool {
	number = strings.TrimPrefix(number, "+")
	for _, n := range plan.AccessTelephoneNumbers {
		if number != "" && strings.TrimPrefix(n, "+") == number {
			return true
		}
	}
	return false
}
