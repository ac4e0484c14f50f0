package directory

import (
	"errors"
	"slices"
	"testing"
)

func sample(t *testing.T) *Snapshot {
	t.Helper()
	s := &Snapshot{}
	d1, d2 := NewDialPlan("DP1"), NewDialPlan("DP2")
	d1.NumberOfDigitsInExtension, d2.NumberOfDigitsInExtension = 5, 5
	gw := NewIPGateway("GW1")
	gw.Address = "gw1.example.test"
	sv := NewServer("um1.example.test")
	sv.DialPlans = List[string]{"DP1", "DP2"}
	err := errors.Join(
		s.AddDialPlan(d1), s.AddDialPlan(d2), s.AddIPGateway(gw), s.AddServer(sv),
		s.AddHuntGroup(HuntGroup{Name: "HG1", UMIPGateway: "GW1", UMDialPlan: "DP1", PilotIdentifier: "5000"}),
		s.AddHuntGroup(HuntGroup{Name: "HG2", UMIPGateway: "GW1", UMDialPlan: "DP2", PilotIdentifier: "6000"}),
		s.AddMailboxPolicy(NewMailboxPolicy("P1", "DP1")),
		s.AddMailbox(Mailbox{EmailAddress: "a@example.test", UMDialPlan: "DP1", UMMailboxPolicy: "P1", Extensions: List[string]{"10001"}}),
	)
	if err != nil {
		t.Fatal(err)
	}
	if err := Validate(s, nil); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRemoveRefusesWhileInUse(t *testing.T) {
	s := sample(t)
	_, err := s.Remove(KindDialPlan, "dp1", false)
	var inUse *InUseError
	if !errors.As(err, &inUse) {
		t.Fatalf("Remove of a used dial plan: %v", err)
	}
	want := []Ref{{Kind: KindHuntGroup, Name: "HG1"}, {Kind: KindMailbox, Name: "a@example.test"},
		{Kind: KindMailboxPolicy, Name: "P1"}, {Kind: KindServer, Name: "um1.example.test", Field: "DialPlans"}}
	if !slices.Equal(inUse.Dependants, want) {
		t.Fatalf("dependants %v; want %v", inUse.Dependants, want)
	}
	if len(s.DialPlans) != 2 || len(s.HuntGroups) != 2 {
		t.Fatal("a refused Remove changed the snapshot")
	}
}

func TestRemoveForceCascades(t *testing.T) {
	s := sample(t)
	old := s.Clone()
	removed, err := s.Remove(KindDialPlan, "DP1", true)
	if err != nil || len(removed) != 4 {
		t.Fatalf("Remove --force: %v, %v", removed, err)
	}
	if err := Validate(s, nil); err != nil {
		t.Fatalf("after a forced remove the directory breaks a rule: %v", err)
	}
	if len(s.HuntGroups) != 1 || s.Mailboxes.Len() != 0 || len(s.MailboxPolicies) != 0 || !slices.Equal(s.Servers[0].DialPlans, List[string]{"DP2"}) {
		t.Fatalf("after remove: %+v", s)
	}
	// The original is untouched: Clone shares nothing.
	if len(old.Servers[0].DialPlans) != 2 || len(old.HuntGroups) != 2 {
		t.Fatal("Remove on a clone changed the original")
	}
	var actions []string
	for _, c := range Diff(old, s) {
		actions = append(actions, string(c.Action)+" "+c.Object.String())
	}
	want := []string{"removed dialplan DP1", "removed huntgroup HG1", "changed server um1.example.test", "removed policy P1", "removed mailbox a@example.test"}
	if !slices.Equal(actions, want) {
		t.Fatalf("Diff = %v; want %v", actions, want)
	}
}

func TestDiffRecordsPINChangeWithoutValue(t *testing.T) {
	s := sample(t)
	next := s.Clone()
	m, _ := next.Mailbox("a@example.test")
	m.PIN.Hash = "$argon2id$secret"
	changes := Diff(s, next)
	if len(changes) != 1 || len(changes[0].Fields) != 1 || changes[0].Fields[0].Field != "PIN" {
		t.Fatalf("Diff = %+v", changes)
	}
	if f := changes[0].Fields[0]; string(f.New) != `"(set)"` || f.Old != nil {
		t.Fatalf("PIN change recorded as %s -> %s", f.Old, f.New)
	}
}

func TestPrepareSpellsReferencesAsStored(t *testing.T) {
	s := sample(t)
	next, _, err := Prepare(s, func(s *Snapshot) error {
		return s.AddHuntGroup(HuntGroup{Name: "HG3", UMIPGateway: "gw1", UMDialPlan: "dp2", PilotIdentifier: "7000"})
	})
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := next.HuntGroup("hg3"); h.UMIPGateway != "GW1" || h.UMDialPlan != "DP2" {
		t.Fatalf("references kept as typed: %+v", h)
	}
}

func TestHostNamesAndPortRanges(t *testing.T) {
	for name, want := range map[string]bool{
		"gw1.example.test": true, "localhost": true, "gw-1.example.test.": true,
		"": false, "-gw.example": false, "gw_1.example": false, "10.0.0.1": false, "a..b": false,
	} {
		if IsHostName(name) != want {
			t.Errorf("IsHostName(%q) = %v", name, !want)
		}
	}
	r, err := ParsePortRange("20000-29999")
	if err != nil || r != (PortRange{20000, 29999}) {
		t.Fatalf("ParsePortRange: %v, %v", r, err)
	}
	for _, bad := range []string{"20000", "a-b", "1-2-3", " 1-2", "1 - 2"} {
		if _, err := ParsePortRange(bad); err == nil {
			t.Errorf("ParsePortRange(%q) accepted", bad)
		}
	}
}

// Diff pairs objects by name exactly as SameName does, Unicode folding
// included: "DPſ" is DPS renamed, not one plan removed and another added.
func TestDiffPairsNamesAsSameNameDoes(t *testing.T) {
	old := &Snapshot{DialPlans: []DialPlan{NewDialPlan("DPS"), NewDialPlan("Kiosk"), NewDialPlan("gone")}}
	next := &Snapshot{DialPlans: []DialPlan{NewDialPlan("DPſ"), NewDialPlan("kiosk"), NewDialPlan("new")}}
	var actions []string
	for _, c := range Diff(old, next) {
		actions = append(actions, string(c.Action)+" "+c.Object.String())
	}
	want := []string{"removed dialplan gone", "changed dialplan DPſ", "changed dialplan kiosk", "added dialplan new"}
	if !slices.Equal(actions, want) {
		t.Fatalf("Diff = %v; want %v", actions, want)
	}
	for _, p := range [][2]string{{"DPS", "dpſ"}, {"Kiosk", "\u212Aiosk"}, {"Σίσυφος", "ΣΊΣΥΦΟΣ"}, {"a", "b"}, {"ab", "a"}, {"\xff", "\xfe"}, {"ß", "ss"}} {
		if same := foldName(p[0]) == foldName(p[1]); same != SameName(p[0], p[1]) {
			t.Errorf("foldName(%q) == foldName(%q) is %v; SameName says %v", p[0], p[1], same, !same)
		}
	}
}
