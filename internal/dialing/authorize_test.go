package dialing

import (
	"strings"
	"testing"

	"github.com/openum/openum/internal/directory"
)

// testSnapshot is a valid directory: dial plan US with its rules, policies
// Staff (no call back), Sales (call back, any extension, any country) and
// Kiosk (nothing inside the dial plan), and a mailbox under each.
func testSnapshot(t *testing.T) (*directory.Snapshot, *directory.DialPlan) {
	t.Helper()
	dp := usDialPlan()
	dp.AllowedInCountryOrRegionGroups = directory.List[string]{"Local", "TollFree"}
	staff := directory.NewMailboxPolicy("Staff", "US")
	staff.AllowedInCountryOrRegionGroups = directory.List[string]{"local", "LongDistance", "TollFree"}
	staff.AllowedInternationalGroups = directory.List[string]{"UK"}
	sales := directory.NewMailboxPolicy("Sales", "US")
	sales.AllowCallBack, sales.AllowExtensions = true, true
	sales.AllowedInternationalGroups = directory.List[string]{"AnyIntl"}
	kiosk := directory.NewMailboxPolicy("Kiosk", "US")
	kiosk.AllowDialPlanSubscribers = false
	other := directory.NewDialPlan("Other")
	other.NumberOfDigitsInExtension = 4
	s := &directory.Snapshot{
		DialPlans:       []directory.DialPlan{other, dp},
		MailboxPolicies: []directory.MailboxPolicy{staff, sales, kiosk, directory.NewMailboxPolicy("OtherPolicy", "Other")},
		Mailboxes: directory.MailboxesOf(
			directory.Mailbox{EmailAddress: "alice@example.test", UMDialPlan: "US", UMMailboxPolicy: "Staff", Extensions: directory.List[string]{"12345"}},
			directory.Mailbox{EmailAddress: "bob@example.test", UMDialPlan: "US", UMMailboxPolicy: "Sales", Extensions: directory.List[string]{"12346"}},
			directory.Mailbox{EmailAddress: "kim@example.test", UMDialPlan: "US", UMMailboxPolicy: "Kiosk", Extensions: directory.List[string]{"12347"}},
			directory.Mailbox{EmailAddress: "olga@example.test", UMDialPlan: "Other", UMMailboxPolicy: "OtherPolicy", Extensions: directory.List[string]{"1234"}},
		),
	}
	if err := directory.Validate(s, nil); err != nil {
		t.Fatal(err)
	}
	p, _ := s.DialPlan("US")
	return s, p
}

func TestAuthorize(t *testing.T) {
	s, dp := testSnapshot(t)
	anyone := Caller{Kind: Unauthenticated}
	alice := Caller{Kind: Subscriber, Mailbox: "alice@example.test"}
	tests := []struct {
		name   string
		who    Caller
		number string
		reason Reason
		group  string
		dial   string
		policy string
	}{
		{"unauthenticated, allowed group", anyone, "425 555 0100", Allowed, "Local", "95550100", ""},
		{"unauthenticated, group only policies allow", anyone, "312 555 0100", GroupNotAllowed, "LongDistance", "", ""},
		{"unauthenticated, international", anyone, "+44 12345678", GroupNotAllowed, "UK", "", ""},
		{"unauthenticated, a mailbox's extension", anyone, "12346", Allowed, "", "12346", ""},
		{"unauthenticated, an extension no mailbox has", anyone, "19999", ExtensionNotAllowed, "", "", ""},
		{"subscriber, policy's group (named in another case)", alice, "4255550100", Allowed, "Local", "95550100", "Staff"},
		{"subscriber, long distance", alice, "312 555 0100", Allowed, "LongDistance", "913125550100", "Staff"},
		{"subscriber, no rule matches", alice, "555 0100", NoMatchingRule, "", "", "Staff"},
		{"subscriber, invalid number", alice, "555-CALL", InvalidNumber, "", "", "Staff"},
		{"subscriber, extension of the dial plan", alice, "12346", Allowed, "", "12346", "Staff"},
		{"subscriber, AllowExtensions off", alice, "19999", ExtensionNotAllowed, "", "", "Staff"},
		{"play on phone, allowed country", Caller{Kind: PlayOnPhone, Mailbox: "ALICE@example.test"}, "+44 12345678", Allowed, "UK", "90114412345678", "Staff"},
		{"play on phone, country not allowed", Caller{Kind: PlayOnPhone, Mailbox: "alice@example.test"}, "+49 30 1234567", GroupNotAllowed, "AnyIntl", "", "Staff"},
		{"call back off by default", Caller{Kind: CallBack, Mailbox: "alice@example.test"}, "4255550100", CallBackOff, "", "", "Staff"},
		{"call back on, the policy's groups still apply", Caller{Kind: CallBack, Mailbox: "bob@example.test"}, "4255550100", GroupNotAllowed, "Local", "", "Sales"},
		{"call back on, allowed group", Caller{Kind: CallBack, Mailbox: "bob@example.test"}, "+49 30 1234567", Allowed, "AnyIntl", "901149301234567", "Sales"},
		{"AllowExtensions: any extension", Caller{Kind: Subscriber, Policy: "Sales"}, "19999", Allowed, "", "19999", "Sales"},
		{"AllowDialPlanSubscribers off", Caller{Kind: Subscriber, Mailbox: "kim@example.test"}, "12345", SubscriberNotAllowed, "", "", "Kiosk"},
		{"unknown mailbox", Caller{Kind: Subscriber, Mailbox: "nobody@example.test"}, "4255550100", UnknownCaller, "", "", ""},
		{"mailbox of another dial plan", Caller{Kind: Subscriber, Mailbox: "olga@example.test"}, "4255550100", UnknownCaller, "", "", ""},
		{"policy of another dial plan", Caller{Kind: PlayOnPhone, Policy: "OtherPolicy"}, "4255550100", UnknownCaller, "", "", ""},
		{"subscriber without mailbox or policy", Caller{Kind: Subscriber}, "4255550100", UnknownCaller, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Authorize(s, dp, tt.who, tt.number)
			group := ""
			if d.Rule != nil {
				group = d.Rule.Name
			}
			if d.Reason != tt.reason || d.Allowed != (tt.reason == Allowed) || group != tt.group || d.DialString != tt.dial || d.Policy != tt.policy {
				t.Fatalf("Authorize(%+v, %q) = %+v\nwant reason %s, group %q, dial %q, policy %q", tt.who, tt.number, d, tt.reason, tt.group, tt.dial, tt.policy)
			}
			if d.Detail == "" || d.Number != tt.number {
				t.Fatalf("decision %+v lacks its detail or the number as entered", d)
			}
		})
	}
}

func TestGateways(t *testing.T) {
	s, dp := testSnapshot(t)
	gw := func(name string, status directory.Status, outcalls bool) directory.IPGateway {
		g := directory.NewIPGateway(name)
		g.Address, g.Status, g.OutcallsAllowed = name+".example.test", status, outcalls
		return g
	}
	s.IPGateways = []directory.IPGateway{
		gw("a", directory.Enabled, true), gw("b", directory.Enabled, false), gw("c", directory.Disabled, true),
		gw("d", directory.Enabled, true), gw("e", directory.NoNewCalls, true), gw("f", directory.Enabled, true),
	}
	s.HuntGroups = []directory.HuntGroup{
		{Name: "0f", UMIPGateway: "f", UMDialPlan: "US", PilotIdentifier: "0"}, // the first hunt group: f is tried first
		{Name: "a1", UMIPGateway: "a", UMDialPlan: "US", PilotIdentifier: "1"},
		{Name: "a2", UMIPGateway: "A", UMDialPlan: "us", PilotIdentifier: "2"},
		{Name: "b", UMIPGateway: "b", UMDialPlan: "US"},
		{Name: "c", UMIPGateway: "c", UMDialPlan: "US"},
		{Name: "d", UMIPGateway: "d", UMDialPlan: "Other"},
		{Name: "e", UMIPGateway: "e", UMDialPlan: "US"},
		{Name: "f", UMIPGateway: "f", UMDialPlan: "US"},
	}
	if err := directory.Validate(s, nil); err != nil {
		t.Fatal(err)
	}
	usable, skipped := Gateways(s, dp, ForOutcall)
	var names []string
	for _, g := range usable {
		names = append(names, g.Name)
	}
	if got := strings.Join(names, " "); got != "f a" {
		t.Fatalf("Gateways = [%s], want [f a]: enabled, outcalls allowed, of the dial plan, each once, in hunt-group order", got)
	}
	if got, want := strings.Join(skipped, "; "), "b does not allow Outcall; c is Disabled; e is NoNewCalls"; got != want {
		t.Fatalf("skipped: %q; want %q", got, want)
	}
	s.IPGateways[0].MessageWaitingIndicatorAllowed = false // a
	usable, _ = Gateways(s, dp, ForMessageWaiting)
	if len(usable) != 2 || usable[0].Name != "f" || usable[1].Name != "b" {
		t.Fatalf("message-waiting gateways: %v; want [f b]", usable)
	}
}
