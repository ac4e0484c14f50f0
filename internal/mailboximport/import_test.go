package mailboximport

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/directory/sqlite"
	"github.com/openum/openum/internal/pin"
)

// openDir returns a real SQLite directory with dial plans DP0..DP(plans-1)
// of 5-digit extensions, each with one policy P0...
func openDir(t testing.TB, plans int) directory.Directory {
	t.Helper()
	ctx := context.Background()
	dir, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "directory.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dir.Close() })
	_, err = dir.Update(ctx, directory.Actor{User: "test"}, func(s *directory.Snapshot) error {
		for i := range plans {
			d := directory.NewDialPlan(fmt.Sprintf("DP%d", i))
			d.NumberOfDigitsInExtension = 5
			if err := s.AddDialPlan(d); err != nil {
				return err
			}
			if err := s.AddMailboxPolicy(directory.NewMailboxPolicy(fmt.Sprintf("P%d", i), fmt.Sprintf("DP%d", i))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

const header = "EmailAddress,DisplayName,Extension,DialPlan,Policy\n"

// Every imported mailbox logs on with the PIN the import handed out, and
// the directory keeps only its hash.
func TestImportPINsVerify(t *testing.T) {
	ctx := context.Background()
	dir := openDir(t, 2)
	file := header + "# two dial plans\n" +
		"a@example.test,Ann,10001,DP0,P0\n" +
		"b@example.test,\"Bee, B.\",10001,dp1,p1\n" +
		"c@example.test,Cee,10002,DP1,P1\n"
	rows, bad, err := Parse(strings.NewReader(file))
	if err != nil || len(bad) != 0 || len(rows) != 3 || rows[0].Line != 3 {
		t.Fatalf("Parse: %d rows (first on line %d), %v, %v", len(rows), rows[0].Line, bad, err)
	}
	s, _ := dir.Snapshot(ctx)
	if bad := Check(s, rows); len(bad) != 0 {
		t.Fatalf("Check: %v", bad)
	}
	creds, err := GeneratePINs(ctx, s, rows, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dir.Update(ctx, directory.Actor{User: "test"}, func(s *directory.Snapshot) error {
		return Apply(s, rows, creds, time.Now())
	}); err != nil {
		t.Fatal(err)
	}
	s, _ = dir.Snapshot(ctx)
	for i, r := range rows {
		m, err := s.Mailbox(r.Mailbox.EmailAddress)
		if err != nil {
			t.Fatal(err)
		}
		if creds[i].PIN == "" || !pin.Verify(m.PIN.Hash, creds[i].PIN) || strings.Contains(m.PIN.Hash, creds[i].PIN) {
			t.Errorf("%s: its PIN does not verify against the stored hash", m.EmailAddress)
		}
		if !m.PINExpired {
			t.Errorf("%s: an imported PIN must be expired", m.EmailAddress)
		}
	}
	if m, _ := s.Mailbox("b@example.test"); m.DisplayName != "Bee, B." || m.UMDialPlan != "DP1" {
		t.Errorf("b: %+v", m)
	}
}

// Every wrong row is named with its line and rule, including a clash with
// an earlier row of the same file.
func TestCheckNamesEveryWrongRow(t *testing.T) {
	ctx := context.Background()
	dir := openDir(t, 2)
	if _, err := dir.Update(ctx, directory.Actor{User: "test"}, func(s *directory.Snapshot) error {
		return s.AddMailbox(directory.Mailbox{EmailAddress: "Zed@example.test", UMDialPlan: "DP0", UMMailboxPolicy: "P0", Extensions: []string{"19999"}})
	}); err != nil {
		t.Fatal(err)
	}
	file := header +
		"good@example.test,G,10001,DP0,P0\n" + // line 2
		"bad address,A,10002,DP0,P0\n" + // 3
		"short@example.test,S,12,DP0,P0\n" + // 4
		"other@example.test,O,10003,DP0,P1\n" + // 5
		"zed@EXAMPLE.test,Z,10004,DP0,P0\n" + // 6
		"taken@example.test,T,19999,DP0,P0\n" + // 7
		"twin@example.test,T,10001,DP0,P0\n" + // 8
		"few@example.test,F\n" + // 9
		"GOOD@example.test,G,10009,DP0,P0\n" // 10
	rows, bad, err := Parse(strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	s, _ := dir.Snapshot(ctx)
	bad = append(bad, Check(s, rows)...)
	want := map[int]string{
		3:  "EmailAddress must not contain spaces",
		4:  `Extensions "12" must be exactly 5 digits`,
		5:  "names policy P1 of dial plan DP1",
		6:  `mailbox "zed@EXAMPLE.test" already exists`,
		7:  "19999 is already the extension of Zed@example.test",
		8:  "10001 is already the extension of good@example.test in dial plan DP0 (line 2)",
		9:  "has 2 fields, the header 5",
		10: `mailbox "GOOD@example.test" already exists (names are unique per kind, ignoring case) (line 2)`,
	}
	got := map[int]string{}
	for _, e := range bad {
		got[e.Line] = e.Error()
	}
	for line, rule := range want {
		if !strings.Contains(got[line], rule) {
			t.Errorf("line %d: got %q, want %q", line, got[line], rule)
		}
	}
	if len(got) != len(want) {
		t.Errorf("wrong rows: %v", got)
	}
}
