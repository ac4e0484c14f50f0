package directory

import (
	"encoding/json"
	"testing"
)

// A policy stored before the message store's settings existed reads with
// their defaults, so that it still validates and every later update of the
// directory passes.
func TestPolicyFromEarlierVersionTakesNewDefaults(t *testing.T) {
	var p MailboxPolicy
	old := `{"Name":"P1","UMDialPlan":"DP1","MinPINLength":8,"PINLifetime":60,"PINHistoryCount":5,"LogonFailuresBeforePINReset":5,"MaxLogonAttempts":15,"MaxGreetingDuration":5}`
	if err := json.Unmarshal([]byte(old), &p); err != nil {
		t.Fatal(err)
	}
	if p.MinPINLength != 8 || p.MaxMessages != 100 || p.MaxMessageStorage != 200 || p.DeletedMessageRetention != 14 {
		t.Fatalf("read %+v; want MinPINLength 8 kept and the message store's defaults", p)
	}
	// A stored zero stays zero: only an absent field takes the default.
	if err := json.Unmarshal([]byte(`{"Name":"P1","DeletedMessageRetention":0}`), &p); err != nil || p.DeletedMessageRetention != 0 {
		t.Fatalf("DeletedMessageRetention 0 read as %d, %v", p.DeletedMessageRetention, err)
	}
	s := &Snapshot{DialPlans: []DialPlan{NewDialPlan("DP1")}}
	s.DialPlans[0].NumberOfDigitsInExtension = 5
	var q MailboxPolicy
	_ = json.Unmarshal([]byte(old), &q)
	s.MailboxPolicies = []MailboxPolicy{q}
	if err := Validate(s, nil); err != nil {
		t.Fatalf("an earlier version's policy does not validate: %v", err)
	}
}
