package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/openum/openum/internal/dialing"
	"github.com/openum/openum/internal/directory"
)

// numberTest is what test-number reports: how the dial plan reads the
// number, and each caller's decision.
type numberTest struct {
	DialPlan   string
	Number     string
	Kind       dialing.Kind
	Match      string                      // what the masks were matched against
	Rule       *directory.DialingRuleGroup // the rule that matched, if any
	DialString string                      // what would be sent, for a caller allowed to
	Gateways   directory.List[string]      // the gateways that may carry it, in the order they are tried
	Skipped    []string                    `json:",omitempty"` // the dial plan's other gateways, and why not
	Callers    []callerDecision
}

// callerDecision is one caller's decision, For naming the caller.
type callerDecision struct {
	For string
	dialing.Decision
}

func (a *app) testNumberCommand() *cobra.Command {
	var policy, mailbox string
	cmd := &cobra.Command{
		Use:   "test-number DP NUMBER [--policy P | --mailbox EMAIL]",
		Short: "Show which dialing rule a number matches, for whom it is allowed, and the exact string sent to which gateway",
		Long: `Show how dial plan DP reads NUMBER: its kind (extension, in-country/region,
international), the string its rules' masks are matched against, the rule that
matches, and the exact string that would be sent, through which gateways
(Enabled, OutcallsAllowed, of the dial plan's hunt groups), in the order the
server tries them. The gateways are as configured: a running server also
skips those that do not answer its OPTIONS (event 1400). Then, for
unauthenticated callers and each mailbox policy of the dial plan (or only the
one --policy or --mailbox names), whether the call is allowed, for a
subscriber or Play on Phone and for call back, and why. Nothing is dialled.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return fmt.Errorf("%s takes a DP and a NUMBER (got %d arguments)", cmd.CommandPath(), len(args))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&policy, "policy", "", "only this mailbox policy's subscribers")
	cmd.Flags().StringVar(&mailbox, "mailbox", "", "only this mailbox (its policy)")
	cmd.MarkFlagsMutuallyExclusive("policy", "mailbox")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		s, err := a.snapshot(cmd)
		if err != nil {
			return err
		}
		dp, err := s.DialPlan(args[0])
		if err != nil {
			return err
		}
		t, err := testNumber(s, dp, args[1], policy, mailbox)
		if err != nil {
			return err
		}
		if a.json {
			return a.printJSON(t)
		}
		return a.printNumberTest(t)
	}
	return cmd
}

// testNumber builds the report; a number the dial plan cannot read, or a
// policy or mailbox that is not of it, is an error.
func testNumber(s *directory.Snapshot, dp *directory.DialPlan, number, policy, mailbox string) (numberTest, error) {
	n, err := dialing.Parse(dp, number)
	if err != nil {
		return numberTest{}, err
	}
	t := numberTest{DialPlan: dp.Name, Number: number, Kind: n.Kind, Match: n.Match, Gateways: directory.List[string]{}}
	if n.Kind == dialing.Extension {
		t.DialString = n.Match
	} else if m, ok := dialing.MatchRule(dialing.Rules(dp, n.Kind), n.Match); ok {
		t.Rule, t.DialString = &m.Rule, m.DialString
	}
	usable, skipped := dialing.Gateways(s, dp, dialing.ForOutcall)
	t.Skipped = skipped
	for _, g := range usable {
		t.Gateways = append(t.Gateways, fmt.Sprintf("%s (%s:%d)", g.Name, g.Address, g.Port))
	}
	type who struct {
		label  string
		caller dialing.Caller
	}
	var callers []who
	subscriber := func(label string, c dialing.Caller) {
		c.Kind = dialing.Subscriber
		callers = append(callers, who{label + ", subscriber or Play on Phone", c})
		c.Kind = dialing.CallBack
		callers = append(callers, who{label + ", call back", c})
	}
	switch {
	case mailbox != "":
		m, err := s.Mailbox(mailbox)
		if err != nil {
			return numberTest{}, err
		}
		subscriber(fmt.Sprintf("mailbox %s (policy %s)", m.EmailAddress, m.UMMailboxPolicy), dialing.Caller{Mailbox: m.EmailAddress})
	case policy != "":
		p, err := s.MailboxPolicy(policy)
		if err != nil {
			return numberTest{}, err
		}
		subscriber("policy "+p.Name, dialing.Caller{Policy: p.Name})
	default:
		callers = append(callers, who{"unauthenticated callers", dialing.Caller{Kind: dialing.Unauthenticated}})
		for _, p := range s.MailboxPolicies {
			if directory.SameName(p.UMDialPlan, dp.Name) {
				subscriber("policy "+p.Name, dialing.Caller{Policy: p.Name})
			}
		}
	}
	for _, c := range callers {
		d := dialing.Authorize(s, dp, c.caller, number)
		if d.Reason == dialing.UnknownCaller {
			return numberTest{}, fmt.Errorf("%s", strings.TrimPrefix(d.Detail, "dialing: "))
		}
		t.Callers = append(t.Callers, callerDecision{c.label, d})
	}
	return t, nil
}

// printNumberTest prints the report for an administrator.
func (a *app) printNumberTest(t numberTest) error {
	w := tabwriter.NewWriter(a.out, 0, 4, 1, ' ', 0)
	fmt.Fprintf(w, "Number\t: %s\n", t.Number)
	fmt.Fprintf(w, "Kind\t: %s\n", t.Kind)
	fmt.Fprintf(w, "Matched as\t: %s\n", t.Match)
	switch {
	case t.Rule != nil:
		fmt.Fprintf(w, "Rule\t: group %s, mask %s, dialled as %s\n", t.Rule.Name, t.Rule.NumberMask, t.Rule.DialedNumber)
	case t.Kind == dialing.Extension:
		fmt.Fprintf(w, "Rule\t: none: an extension of dial plan %s, dialled as it is\n", t.DialPlan)
	default:
		fmt.Fprintf(w, "Rule\t: none matches: refused for everyone (the rules are an allow-list)\n")
	}
	if t.DialString != "" {
		fmt.Fprintf(w, "Dial string\t: %s\n", t.DialString)
	}
	if len(t.Gateways) == 0 {
		fmt.Fprintf(w, "Gateways\t: none: no Enabled gateway with OutcallsAllowed in dial plan %s's hunt groups, so no call can be placed\n", t.DialPlan)
	} else {
		fmt.Fprintf(w, "Gateways\t: %s (tried in this order; as configured: a running server also skips those not answering OPTIONS)\n", strings.Join(t.Gateways, ", "))
	}
	if len(t.Skipped) > 0 {
		fmt.Fprintf(w, "Not used\t: %s\n", strings.Join(t.Skipped, "; "))
	}
	for _, c := range t.Callers {
		verdict := "allowed"
		if !c.Allowed {
			verdict = "refused (" + string(c.Reason) + ")"
		}
		fmt.Fprintf(w, "%s\t: %s: %s\n", c.For, verdict, c.Detail)
	}
	return w.Flush()
}
