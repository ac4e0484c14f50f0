// Package directorytest is the conformance suite of directory engines: one
// set of behavioural tests that every directory.Directory (SQLite,
// PostgreSQL) must pass, run from each engine's own tests with Run.
package directorytest

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/openum/openum/internal/directory"
)

// Engine is what the suite needs of a directory engine.
type Engine struct {
	// New makes a new, empty store for t and returns the function that
	// opens it, as one more openum process would: each handle is its own
	// connection to the same store, closed when t ends.
	New func(t *testing.T) (open func(t *testing.T) directory.Directory)
	// Optimistic says that the engine's writers run their functions at the
	// same time and check at commit, so that of two writers of one object
	// one fails with a *directory.ConflictError; otherwise writers take
	// turns and both succeed, the second seeing the first's change.
	Optimistic bool
}

// Run runs the suite against e, each test as a subtest of t.
func Run(t *testing.T, e Engine) {
	tests := []struct {
		name string
		fn   func(*testing.T, Engine)
	}{
		{"UpdateIsAllOrNothing", testAllOrNothing},
		{"NamesIgnoreCase", testNamesIgnoreCase},
		{"AdminTokenKeepsHashOutOfAudit", testAdminTokenHash},
		{"ConcurrentWriters", testConcurrentWriters},
		{"SameObjectAtOnce", testSameObjectAtOnce},
		{"RuleAcrossWriters", testRuleAcrossWriters},
		{"VersionSeesAnotherProcess", testVersion},
		{"WatcherReadsOnlyChanges", testWatcher},
		{"FollowsOtherWriter", testFollowsOtherWriter},
		{"NotifierWakesAtOnce", testNotifier},
		{"OutcallUsage", testOutcallUsage},
		{"LoadBoard", testLoadBoard},
		{"MailboxesJSON", testMailboxesJSON},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, e) })
	}
}

// Admin is the actor of the suite's changes.
var Admin = directory.Actor{User: "test", Command: "go test"}

// Seed adds dial plan DP1 (5 digits), policy P1 and the mailbox
// alice@example.test at extension 12345: one audit record.
func Seed(t testing.TB, d directory.Directory) {
	t.Helper()
	_, err := d.Update(context.Background(), Admin, func(snap *directory.Snapshot) error {
		dp := directory.NewDialPlan("DP1")
		dp.NumberOfDigitsInExtension = 5
		return errors.Join(
			snap.AddDialPlan(dp),
			snap.AddMailboxPolicy(directory.NewMailboxPolicy("P1", "DP1")),
			snap.AddMailbox(directory.Mailbox{EmailAddress: "alice@example.test", UMDialPlan: "DP1", UMMailboxPolicy: "P1", Extensions: directory.List[string]{"12345"}}),
		)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func snapshot(t *testing.T, d directory.Directory) *directory.Snapshot {
	t.Helper()
	snap, err := d.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// A failed Update writes nothing: neither objects nor an audit record.
func testAllOrNothing(t *testing.T, e Engine) {
	ctx := context.Background()
	d := e.New(t)(t)
	Seed(t, d)
	before := snapshot(t, d)
	_, err := d.Update(ctx, Admin, func(snap *directory.Snapshot) error {
		dp, _ := snap.DialPlan("DP1")
		dp.MaxCallDuration = 60 // fine on its own...
		return snap.AddMailbox(directory.Mailbox{EmailAddress: "bob@example.test", UMDialPlan: "DP1", UMMailboxPolicy: "P1", Extensions: directory.List[string]{"12345"}})
	})
	var fe *directory.FieldError
	if !errors.As(err, &fe) || fe.Field != "Extensions" {
		t.Fatalf("Update with a taken extension: %v; want a FieldError on Extensions", err)
	}
	after := snapshot(t, d)
	if dp, _ := after.DialPlan("DP1"); dp.MaxCallDuration != 30 || after.Mailboxes.Len() != before.Mailboxes.Len() {
		t.Fatalf("a refused update wrote something: %+v", after)
	}
	if log, _ := d.Audit(ctx); len(log) != 1 {
		t.Fatalf("audit has %d records; want only the seed's", len(log))
	}
}

// Names are one name whatever their case, in look-ups, references and
// removal, and keep the spelling they were given.
func testNamesIgnoreCase(t *testing.T, e Engine) {
	ctx := context.Background()
	d := e.New(t)(t)
	Seed(t, d)
	_, err := d.Update(ctx, Admin, func(snap *directory.Snapshot) error {
		return snap.AddMailbox(directory.Mailbox{EmailAddress: "Bob@Example.test", UMDialPlan: "dp1", UMMailboxPolicy: "p1", Extensions: directory.List[string]{"12346"}})
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.Update(ctx, Admin, func(snap *directory.Snapshot) error { return snap.AddDialPlan(directory.NewDialPlan("dp1")) })
	var exists *directory.ExistsError
	if !errors.As(err, &exists) {
		t.Fatalf("dial plan dp1 beside DP1: %v; want an ExistsError", err)
	}
	m, err := snapshot(t, d).Mailbox("bob@example.TEST")
	if err != nil || m.EmailAddress != "Bob@Example.test" || m.UMDialPlan != "DP1" || m.UMMailboxPolicy != "P1" {
		t.Fatalf("mailbox by another case: %+v, %v; want its own spelling and its references spelled as DP1 and P1", m, err)
	}
	if _, err := d.Update(ctx, Admin, func(snap *directory.Snapshot) error {
		_, err := snap.Remove(directory.KindDialPlan, "dP1", true)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if snap := snapshot(t, d); len(snap.DialPlans)+len(snap.MailboxPolicies)+snap.Mailboxes.Len() != 0 {
		t.Fatalf("after removing dP1 with --force: %+v; want nothing left", snap)
	}
}

// An admin token keeps its hash in another handle, and neither the audit
// log nor the object's JSON holds the hash.
func testAdminTokenHash(t *testing.T, e Engine) {
	ctx := context.Background()
	open := e.New(t)
	d := open(t)
	hash := strings.Repeat("ab", 32)
	tok := directory.AdminToken{Name: "prometheus", Role: directory.RoleReadonly, Created: time.Now().UTC(), Hash: hash}
	if _, err := d.Update(ctx, Admin, func(n *directory.Snapshot) error { return n.AddAdminToken(tok) }); err != nil {
		t.Fatal(err)
	}
	bad := tok
	bad.Name, bad.Role = "x", "root"
	if _, err := d.Update(ctx, Admin, func(n *directory.Snapshot) error { return n.AddAdminToken(bad) }); err == nil ||
		!strings.Contains(err.Error(), "Role") {
		t.Fatalf("role root: %v, want a Role error", err)
	}
	other := open(t)
	got, err := snapshot(t, other).AdminToken("PROMETHEUS")
	if err != nil || got.Hash != hash || got.Role != directory.RoleReadonly {
		t.Fatalf("token read by another handle: %+v, %v", got, err)
	}
	audit, err := other.Audit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(audit)
	if !strings.Contains(string(b), "prometheus") || strings.Contains(string(b), hash) {
		t.Fatalf("audit must name the token and hold no hash: %s", b)
	}
	if b, _ := json.Marshal(got); strings.Contains(string(b), hash) {
		t.Fatalf("JSON of the token holds its hash: %s", b)
	}
	if _, err := other.Update(ctx, Admin, func(n *directory.Snapshot) error {
		_, err := n.Remove(directory.KindAdminToken, "prometheus", false)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if snap := snapshot(t, d); len(snap.AdminTokens) != 0 {
		t.Fatalf("tokens after removal: %+v", snap.AdminTokens)
	}
}
