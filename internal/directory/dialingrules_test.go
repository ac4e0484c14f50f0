package directory

import (
	"strings"
	"testing"
)

func TestCheckRules(t *testing.T) {
	rules := []DialingRuleGroup{
		{Name: "Local", NumberMask: "91425xxxxxxx", DialedNumber: "9xxxxxxx"},
		{Name: "Local", NumberMask: "91206xxxxxxx", DialedNumber: "9xxxxxxx"}, // a group of two rules, as in Exchange
		{Name: "Intl", NumberMask: "9011*", DialedNumber: "+*"},
		{Name: "Plus", NumberMask: "+44*", DialedNumber: "9011*"},
		{Name: "MoreX", NumberMask: "9xx", DialedNumber: "xxx"},
		{Name: "Star", NumberMask: "9xx", DialedNumber: "9*"},
		{Name: "Again", NumberMask: "91425XXXXXXX", DialedNumber: "9xxxxxxx"},
		{Name: "", NumberMask: "9", DialedNumber: "9"},
		{Name: "ThisNameIsLongerThanThirtyTwoChars", NumberMask: "9", DialedNumber: "9"},
		{Name: "Note", NumberMask: "8", DialedNumber: "8", Comment: "two\nlines"},
		{Name: "PlusOnly", NumberMask: "7", DialedNumber: "+"},
	}
	want := map[int]string{
		3:  `group "Plus": NumberMask must be digits and x`,
		4:  `group "MoreX": DialedNumber xxx has 3 x, more than the 2 of NumberMask 9xx`,
		5:  `group "Star": DialedNumber 9* ends in *, but NumberMask 9xx has no *`,
		6:  `group "Again": NumberMask 91425XXXXXXX is already the mask of a rule of group "Local"`,
		7:  `Name must be 1 to 32 characters`,
		8:  `Name must be 1 to 32 characters`,
		9:  `group "Note": Comment must be one line`,
		10: `group "PlusOnly": DialedNumber must be digits and x`,
	}
	errs := CheckRules(rules)
	if len(errs) != len(want) {
		t.Fatalf("CheckRules = %v, want %d errors", errs, len(want))
	}
	for _, e := range errs {
		if w, ok := want[e.Index]; !ok || !strings.HasPrefix(e.Error(), w) {
			t.Errorf("rule %d: %q, want %q", e.Index, e, w)
		}
	}
}

func TestOutcallBudgetValidation(t *testing.T) {
	dp := NewDialPlan("DP")
	dp.NumberOfDigitsInExtension = 4
	p := NewMailboxPolicy("P", "DP")
	sv := NewServer("um.example.test")
	s := &Snapshot{DialPlans: []DialPlan{dp}, MailboxPolicies: []MailboxPolicy{p}, Servers: []Server{sv}}
	if err := Validate(s, nil); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, tt := range []struct {
		change func(*Snapshot)
		want   string
	}{
		{func(s *Snapshot) { s.MailboxPolicies[0].MaxOutcallsPerDay = -1 }, "policy P: MaxOutcallsPerDay must be between 0 and 1000, not -1"},
		{func(s *Snapshot) { s.MailboxPolicies[0].MaxOutcallMinutesPerDay = 1441 }, "policy P: MaxOutcallMinutesPerDay must be between 0 and 1440, not 1441"},
		{func(s *Snapshot) { s.Servers[0].MaxOutcallsPerDay = 100001 }, "server um.example.test: MaxOutcallsPerDay must be between 0 and 100000"},
		{func(s *Snapshot) { s.Servers[0].MaxOutcallMinutesPerDay = -5 }, "server um.example.test: MaxOutcallMinutesPerDay must be between 0 and"},
	} {
		c := s.Clone()
		tt.change(c)
		if err := Validate(c, nil); err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("got %v, want %q", err, tt.want)
		}
	}
}

func TestOldRecordsTakeNewDefaults(t *testing.T) {
	var dp DialPlan
	var sv Server
	if err := dp.UnmarshalJSON([]byte(`{"Name":"DP","NumberOfDigitsInExtension":4}`)); err != nil {
		t.Fatal(err)
	}
	if err := sv.UnmarshalJSON([]byte(`{"Name":"um.example.test"}`)); err != nil {
		t.Fatal(err)
	}
	if !dp.AllowDialPlanSubscribers || dp.AllowExtensions || sv.MaxOutcallsPerDay != 200 || sv.MaxOutcallMinutesPerDay != 1000 {
		t.Fatalf("an earlier record read as %+v and %+v", dp, sv)
	}
}
