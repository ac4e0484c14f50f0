package dialing

import (
	"testing"

	"github.com/openum/openum/internal/directory"
)

// usDialPlan is Exchange's documented North American set-up: outside line
// 9, national prefix 1, international access 011, and its example rules.
func usDialPlan() directory.DialPlan {
	dp := directory.NewDialPlan("US")
	dp.NumberOfDigitsInExtension = 5
	dp.CountryOrRegionCode = "1"
	dp.OutsideLineAccessCode = "9"
	dp.NationalNumberPrefix = "1"
	dp.InternationalAccessCode = "011"
	dp.ConfiguredInCountryOrRegionGroups = directory.List[directory.DialingRuleGroup]{
		{Name: "Local", NumberMask: "91425xxxxxxx", DialedNumber: "9xxxxxxx", Comment: "Exchange's example"},
		{Name: "LongDistance", NumberMask: "91xxxxxxxxxx", DialedNumber: "91xxxxxxxxxx"},
		{Name: "TollFree", NumberMask: "91800xxxxxxx", DialedNumber: "91800xxxxxxx"},
		{Name: "Seattle", NumberMask: "91206xxxxxxx", DialedNumber: "9xxxxxxx"},
		{Name: "Tie", NumberMask: "912x65xxxxxx", DialedNumber: "91x65xxxxxx"},
	}
	dp.ConfiguredInternationalGroups = directory.List[directory.DialingRuleGroup]{
		{Name: "AnyIntl", NumberMask: "9011*", DialedNumber: "9011*"},
		{Name: "UK", NumberMask: "901144*", DialedNumber: "901144*"},
		{Name: "France", NumberMask: "901133xxxxxxxxx", DialedNumber: "+33xxxxxxxxx", Comment: "E.164 to the trunk"},
	}
	return dp
}

func TestParseAndMatch(t *testing.T) {
	us := usDialPlan()
	bare := directory.NewDialPlan("Bare") // no codes at all
	bare.NumberOfDigitsInExtension = 4
	bare.ConfiguredInCountryOrRegionGroups = directory.List[directory.DialingRuleGroup]{{Name: "Any", NumberMask: "*", DialedNumber: "*"}}
	bare.ConfiguredInternationalGroups = directory.List[directory.DialingRuleGroup]{{Name: "Intl", NumberMask: "44*", DialedNumber: "0044*"}}
	tests := []struct {
		name, number string
		dp           *directory.DialPlan
		kind         Kind
		match        string
		group, dial  string // group "" with a kind: no rule matched
		invalid      bool
	}{
		{name: "Exchange's local example", number: "425 555 0100", dp: &us, kind: InCountry, match: "914255550100", group: "Local", dial: "95550100"},
		{name: "national prefix typed", number: "1-425-555-0100", dp: &us, kind: InCountry, match: "914255550100", group: "Local", dial: "95550100"},
		{name: "E.164 of the own country", number: "+1 (425) 555-0100", dp: &us, kind: InCountry, match: "914255550100", group: "Local", dial: "95550100"},
		{name: "access code and own country", number: "011 1 425 555 0100", dp: &us, kind: InCountry, match: "914255550100", group: "Local", dial: "95550100"},
		{name: "Exchange's play on phone national example", number: "8005551212", dp: &us, kind: InCountry, match: "918005551212", group: "TollFree", dial: "918005551212"},
		{name: "fewer literal digits lose", number: "312.555.0100", dp: &us, kind: InCountry, match: "913125550100", group: "LongDistance", dial: "913125550100"},
		{name: "tie between equally specific masks: first listed", number: "206 555 0100", dp: &us, kind: InCountry, match: "912065550100", group: "Seattle", dial: "95550100"},
		{name: "Exchange's play on phone international example", number: "+44 12345678", dp: &us, kind: International, match: "90114412345678", group: "UK", dial: "90114412345678"},
		{name: "international access code typed", number: "011 44 12345678", dp: &us, kind: International, match: "90114412345678", group: "UK", dial: "90114412345678"},
		{name: "star takes the rest", number: "+49 30 1234567", dp: &us, kind: International, match: "901149301234567", group: "AnyIntl", dial: "901149301234567"},
		{name: "plus kept in the dialled number", number: "+33 1 23 45 67 89", dp: &us, kind: International, match: "901133123456789", group: "France", dial: "+33123456789"},
		{name: "exact length beats star", number: "+33 1 23 45 67 8", dp: &us, kind: International, match: "90113312345678", group: "AnyIntl", dial: "90113312345678"},
		{name: "extension", number: "12345", dp: &us, kind: Extension, match: "12345"},
		{name: "shorter than every mask", number: "555 0100", dp: &us, kind: InCountry, match: "915550100"},
		{name: "one digit short", number: "425555010", dp: &us, kind: InCountry, match: "91425555010"},
		{name: "one digit long", number: "42555501000", dp: &us, kind: InCountry, match: "9142555501000"},
		{name: "no codes: as typed", number: "4255550100", dp: &bare, kind: InCountry, match: "4255550100", group: "Any", dial: "4255550100"},
		{name: "no country code: every + is international", number: "+44 20 7946 0958", dp: &bare, kind: International, match: "442079460958", group: "Intl", dial: "00442079460958"},
		{name: "letter", number: "425-555-010O", dp: &us, invalid: true},
		{name: "plus inside", number: "425+5550100", dp: &us, invalid: true},
		{name: "hash", number: "#4255550100", dp: &us, invalid: true},
		{name: "star key", number: "*69", dp: &us, invalid: true},
		{name: "empty", number: " - ", dp: &us, invalid: true},
		{name: "plus alone", number: "+", dp: &us, invalid: true},
		{name: "access code alone", number: "011", dp: &us, invalid: true},
		{name: "too long", number: "+123456789012345678901234567890123", dp: &us, invalid: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := Parse(tt.dp, tt.number)
			if tt.invalid {
				if err == nil {
					t.Fatalf("Parse(%q) = %+v, want an error", tt.number, n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n.Kind != tt.kind || n.Match != tt.match {
				t.Fatalf("Parse(%q) = %s %s, want %s %s", tt.number, n.Kind, n.Match, tt.kind, tt.match)
			}
			m, ok := MatchRule(Rules(tt.dp, n.Kind), n.Match)
			switch {
			case tt.group == "" && ok:
				t.Fatalf("%s matched group %s (mask %s), want no rule", n.Match, m.Rule.Name, m.Rule.NumberMask)
			case tt.group != "" && !ok:
				t.Fatalf("%s matched no rule, want group %s", n.Match, tt.group)
			case ok && (m.Rule.Name != tt.group || m.DialString != tt.dial):
				t.Fatalf("%s matched %s and dials %s, want %s and %s", n.Match, m.Rule.Name, m.DialString, tt.group, tt.dial)
			}
		})
	}
}

func TestMatchRuleSpecificity(t *testing.T) {
	rule := func(name, mask, dialed string) directory.DialingRuleGroup {
		return directory.DialingRuleGroup{Name: name, NumberMask: mask, DialedNumber: dialed}
	}
	tests := []struct {
		name  string
		rules []directory.DialingRuleGroup
		s     string
		group string
		dial  string
	}{
		{"first listed of a tie", []directory.DialingRuleGroup{rule("B", "912x65xxxxxx", "x"), rule("A", "91206xxxxxxx", "x")}, "912065550100", "B", "0"},
		{"more literal digits beat listing order", []directory.DialingRuleGroup{rule("Any", "9*", "*"), rule("Nine5", "95*", "95*")}, "95550100", "Nine5", "95550100"},
		{"no star beats star", []directory.DialingRuleGroup{rule("Star", "9*", "9*"), rule("Seven", "9xxxxxxx", "9xxxxxxx")}, "95550100", "Seven", "95550100"},
		{"fewer x among stars", []directory.DialingRuleGroup{rule("Xs", "9xxx*", "9xxx*"), rule("Star", "9*", "8*")}, "95550100", "Star", "85550100"},
		{"star matches no digit", []directory.DialingRuleGroup{rule("Intl", "9011*", "00*")}, "9011", "Intl", "00"},
		{"fewer x in the dialled number take the last digits", []directory.DialingRuleGroup{rule("Drop", "9xxxxxxxxxx", "xxxxxxx")}, "94255550100", "Drop", "5550100"},
		{"upper-case X", []directory.DialingRuleGroup{rule("Up", "9XXX", "8XX")}, "9123", "Up", "823"},
		{"a rule the directory would refuse never matches", []directory.DialingRuleGroup{rule("Bad", "9x", "xx")}, "91", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, ok := MatchRule(tt.rules, tt.s)
			if tt.group == "" {
				if ok {
					t.Fatalf("matched %s, want none", m.Rule.Name)
				}
				return
			}
			if !ok || m.Rule.Name != tt.group || m.DialString != tt.dial {
				t.Fatalf("MatchRule(%s) = %s %q (%v), want %s %q", tt.s, m.Rule.Name, m.DialString, ok, tt.group, tt.dial)
			}
		})
	}
}
