package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/directory/directorytest"
	"github.com/openum/openum/internal/directory/postgres"
	"github.com/openum/openum/internal/directory/sqlite"
	"github.com/openum/openum/internal/ops"
	"github.com/openum/openum/internal/pgtest"
)

// mailbox get --json of every mailbox, which reads the mailboxes' stored
// JSON alone, prints byte for byte what the operations' list of decoded
// mailboxes encodes (as it was printed before), on both engines, and never
// a PIN hash.
func TestMailboxGetJSONAsListed(t *testing.T) {
	ctx := context.Background()
	engines := map[string]func(t *testing.T) (directory.Directory, []string){
		"SQLite": func(t *testing.T) (directory.Directory, []string) {
			data := t.TempDir()
			dir, err := sqlite.Open(ctx, filepath.Join(data, "directory.db"))
			if err != nil {
				t.Fatal(err)
			}
			return dir, []string{"--data", data}
		},
		"PostgreSQL": func(t *testing.T) (directory.Directory, []string) {
			url := pgtest.Server(t)
			if _, err := postgres.Migrate(ctx, url); err != nil {
				t.Fatal(err)
			}
			dir, err := postgres.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			return dir, []string{"--data", t.TempDir(), "--directory", url}
		},
	}
	for name, open := range engines {
		t.Run(name, func(t *testing.T) {
			dir, args := open(t)
			defer dir.Close()
			directorytest.Seed(t, dir)
			_, err := dir.Update(ctx, directorytest.Admin, func(s *directory.Snapshot) error {
				for i, email := range []string{"Bob@Example.test", "Ábd@example.test", "ábc@example.test"} {
					if err := s.AddMailbox(directory.Mailbox{EmailAddress: email, DisplayName: `<B> & "Co" é`, UMDialPlan: "DP1",
						UMMailboxPolicy: "P1", Extensions: directory.List[string]{string(rune('2'+i)) + "2345"}, LockedOut: i == 1}); err != nil {
						return err
					}
				}
				for _, m := range s.Mailboxes.All() {
					added, _ := s.Mailbox(m.EmailAddress)
					added.SetPIN("secret-hash-"+m.EmailAddress, time.Now(), false)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			list, err := ops.Do(ctx, ops.Env{Directory: dir}, ops.Request{Verb: ops.List, Kind: directory.KindMailbox})
			if err != nil {
				t.Fatal(err)
			}
			objs, err := items(list)
			if err != nil {
				t.Fatal(err)
			}
			var want, got, errs bytes.Buffer
			if err := printJSONList(&want, objs); err != nil {
				t.Fatal(err)
			}
			if code := Main(append(args, "mailbox", "get", "--json"), &got, &errs); code != 0 {
				t.Fatalf("exit %d: %s", code, errs.String())
			}
			if got.String() != want.String() {
				t.Fatalf("mailbox get --json:\n%s\nwant\n%s", got.String(), want.String())
			}
			if strings.Contains(got.String(), "secret-hash") || strings.Contains(got.String(), `"PIN"`) {
				t.Fatalf("mailbox get --json shows a PIN:\n%s", got.String())
			}
		})
	}
}
