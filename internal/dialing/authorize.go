package dialing

import (
	"fmt"
	"slices"

	"github.com/openum/openum/internal/directory"
)

// CallerKind is who asks the server to place a call.
type CallerKind string

// The callers. An unauthenticated caller is held to the dial plan's
// allowed groups; the others to their mailbox policy's.
const (
	Unauthenticated CallerKind = "Unauthenticated" // a caller who has not logged on
	Subscriber      CallerKind = "Subscriber"      // a subscriber logged on by phone
	PlayOnPhone     CallerKind = "PlayOnPhone"     // a mailbox's message played on a phone
	CallBack        CallerKind = "CallBack"        // a subscriber calling back a message's caller
)

// Caller is who a call is placed for.
type Caller struct {
	Kind CallerKind
	// Mailbox is the subscriber's e-mail address; empty for an
	// unauthenticated caller.
	Mailbox string
	// Policy, when Mailbox is empty, names the mailbox policy to hold a
	// subscriber to: an administrator's "what if" (openum dialplan
	// test-number --policy).
	Policy string
}

// Reason is why a call is allowed or refused: a stable code for scripts
// and event filters.
type Reason string

// The reasons.
const (
	Allowed                Reason = "allowed"
	InvalidNumber          Reason = "invalid-number"
	NoMatchingRule         Reason = "no-matching-rule"
	GroupNotAllowed        Reason = "group-not-allowed"
	SubscriberNotAllowed   Reason = "subscriber-not-allowed"
	ExtensionNotAllowed    Reason = "extension-not-allowed"
	CallBackOff            Reason = "call-back-off"
	UnknownCaller          Reason = "unknown-caller"
	MailboxCallsExceeded   Reason = "mailbox-calls-exceeded"
	MailboxMinutesExceeded Reason = "mailbox-minutes-exceeded"
	ServerCallsExceeded    Reason = "server-calls-exceeded"
	ServerMinutesExceeded  Reason = "server-minutes-exceeded"
	NoGateway              Reason = "no-gateway"  // no gateway of the dial plan may carry outcalls (Gateways)
	ServerFull             Reason = "server-full" // the server has MaxCallsAllowed calls in progress, its own outcalls among them
)

// Decision is the answer to "may this caller dial this number".
type Decision struct {
	Allowed bool
	Reason  Reason
	Detail  string // one line for the administrator, never for the caller
	Number  string // as entered
	Kind    Kind   `json:",omitempty"`
	Match   string `json:",omitempty"` // what the masks were matched against
	// Rule is the dialing rule that matched (Rule.Name is its group); nil
	// for an extension or when none matched.
	Rule       *directory.DialingRuleGroup `json:",omitempty"`
	DialString string                      `json:",omitempty"` // what would be sent, when allowed
	// Policy is the mailbox policy that decided; empty when the dial plan
	// did (an unauthenticated caller).
	Policy string `json:",omitempty"`
}

// limits is what one caller may dial inside and outside the dial plan.
type limits struct {
	subscribers, extensions bool
	inCountry, intl         []string
	callBack                bool
	policy                  string
}

// Authorize decides whether who may have the server dial number from dial
// plan dp (SPEC DIAL-2), and the string it would send. It reads s only.
func Authorize(s *directory.Snapshot, dp *directory.DialPlan, who Caller, number string) Decision {
	d := Decision{Number: number}
	lim, err := limitsFor(s, dp, who)
	if err != nil {
		return d.refuse(UnknownCaller, err.Error())
	}
	d.Policy = lim.policy
	if who.Kind == CallBack && !lim.callBack {
		return d.refuse(CallBackOff, fmt.Sprintf("call back is off in mailbox policy %s (AllowCallBack)", lim.policy))
	}
	n, err := Parse(dp, number)
	if err != nil {
		return d.refuse(InvalidNumber, err.Error())
	}
	d.Kind, d.Match = n.Kind, n.Match
	whose := "dial plan " + dp.Name
	if lim.policy != "" {
		whose = "mailbox policy " + lim.policy
	}
	if n.Kind == Extension {
		return d.extension(s, dp, lim, whose)
	}
	m, ok := MatchRule(Rules(dp, n.Kind), n.Match)
	if !ok {
		return d.refuse(NoMatchingRule, fmt.Sprintf("%s, matched as %s, matches no %s dialing rule of dial plan %s", number, n.Match, n.Kind, dp.Name))
	}
	d.Rule = &m.Rule
	allowed := lim.inCountry
	if n.Kind == International {
		allowed = lim.intl
	}
	if !slices.ContainsFunc(allowed, func(g string) bool { return directory.SameName(g, m.Rule.Name) }) {
		return d.refuse(GroupNotAllowed, fmt.Sprintf("%s matches group %s (mask %s), which %s does not allow", number, m.Rule.Name, m.Rule.NumberMask, whose))
	}
	d.Allowed, d.Reason, d.DialString = true, Allowed, m.DialString
	d.Detail = fmt.Sprintf("%s matches group %s (mask %s), allowed by %s: dial %s", number, m.Rule.Name, m.Rule.NumberMask, whose, m.DialString)
	return d
}

func (d Decision) refuse(r Reason, detail string) Decision {
	d.Allowed, d.Reason, d.Detail, d.DialString = false, r, detail, ""
	return d
}

// extension decides a call inside the dial plan.
func (d Decision) extension(s *directory.Snapshot, dp *directory.DialPlan, lim limits, whose string) Decision {
	subscriber := s.MailboxByExtension(dp.Name, d.Match) != nil
	switch {
	case lim.extensions, subscriber && lim.subscribers:
		d.Allowed, d.Reason, d.DialString = true, Allowed, d.Match
		d.Detail = fmt.Sprintf("%s is an extension of dial plan %s, allowed by %s: dial %s", d.Number, dp.Name, whose, d.Match)
		return d
	case subscriber:
		return d.refuse(SubscriberNotAllowed, fmt.Sprintf("%s is a mailbox's extension of dial plan %s, but %s allows neither AllowDialPlanSubscribers nor AllowExtensions", d.Number, dp.Name, whose))
	}
	return d.refuse(ExtensionNotAllowed, fmt.Sprintf("%s is an extension of dial plan %s that no mailbox has, and %s does not allow AllowExtensions", d.Number, dp.Name, whose))
}

// limitsFor returns what who may dial from dp.
func limitsFor(s *directory.Snapshot, dp *directory.DialPlan, who Caller) (limits, error) {
	if who.Kind == Unauthenticated {
		return limits{
			subscribers: dp.AllowDialPlanSubscribers, extensions: dp.AllowExtensions,
			inCountry: dp.AllowedInCountryOrRegionGroups, intl: dp.AllowedInternationalGroups,
		}, nil
	}
	name := who.Policy
	if who.Mailbox != "" {
		m, err := s.Mailbox(who.Mailbox)
		if err != nil {
			return limits{}, fmt.Errorf("dialing: %w", err)
		}
		if !directory.SameName(m.UMDialPlan, dp.Name) {
			return limits{}, fmt.Errorf("dialing: mailbox %s is in dial plan %s, not %s", m.EmailAddress, m.UMDialPlan, dp.Name)
		}
		name = m.UMMailboxPolicy
	}
	p, err := s.MailboxPolicy(name)
	if err != nil {
		return limits{}, fmt.Errorf("dialing: a %s call needs a mailbox or policy: %w", who.Kind, err)
	}
	if !directory.SameName(p.UMDialPlan, dp.Name) {
		return limits{}, fmt.Errorf("dialing: mailbox policy %s is of dial plan %s, not %s", p.Name, p.UMDialPlan, dp.Name)
	}
	return limits{
		subscribers: p.AllowDialPlanSubscribers, extensions: p.AllowExtensions,
		inCountry: p.AllowedInCountryOrRegionGroups, intl: p.AllowedInternationalGroups,
		callBack: p.AllowCallBack, policy: p.Name,
	}, nil
}
