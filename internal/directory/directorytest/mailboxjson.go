package directorytest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/openum/openum/internal/directory"
)

// MailboxesJSON of an engine is every mailbox as json.Marshal writes the
// Snapshot's, in its order, also for addresses that the engine's
// collation orders otherwise (SQLite's NOCASE puts "Ábd" before "ábc"),
// and never a PIN hash; a directory that is no MailboxReader gives the
// same through its Snapshot.
func testMailboxesJSON(t *testing.T, e Engine) {
	ctx := context.Background()
	d := e.New(t)(t)
	Seed(t, d)
	_, err := d.Update(ctx, Admin, func(s *directory.Snapshot) error {
		for i, email := range []string{"Bob@Example.test", "Ábd@example.test", "ábc@example.test", "carol@example.test"} {
			m := directory.Mailbox{EmailAddress: email, DisplayName: `<Bob> & "Co"`, UMDialPlan: "DP1", UMMailboxPolicy: "P1",
				Extensions: directory.List[string]{string(rune('2'+i)) + "2345"}}
			if err := s.AddMailbox(m); err != nil {
				return err
			}
		}
		for _, m := range s.Mailboxes.All() {
			added, _ := s.Mailbox(m.EmailAddress)
			added.SetPIN("secret-hash-of-"+m.EmailAddress, time.Now(), true)
			added.LogonFailures = len(m.EmailAddress) % 3
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := d.(directory.MailboxReader); !ok {
		t.Fatalf("%T reads no mailboxes alone (directory.MailboxReader)", d)
	}
	var want []json.RawMessage
	s := snapshot(t, d)
	for _, m := range s.Mailboxes.All() {
		b, _ := json.Marshal(&m)
		want = append(want, b)
	}
	for _, dir := range []directory.Directory{d, struct{ directory.Directory }{d}} {
		got, err := directory.MailboxesJSON(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		if g, w := lines(got), lines(want); g != w {
			t.Fatalf("MailboxesJSON of %T:\n%s\nwant\n%s", dir, g, w)
		}
		if all := lines(got); strings.Contains(all, "secret-hash") || strings.Contains(all, `"PIN"`) {
			t.Fatalf("MailboxesJSON shows a PIN: %s", all)
		}
	}
}

// lines writes each object on a line of its own.
func lines(objs []json.RawMessage) string {
	var b strings.Builder
	for _, o := range objs {
		b.Write(o)
		b.WriteByte('\n')
	}
	return b.String()
}
