package delivery

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openum/openum/internal/events"
)

// The hole: a/b@, a_b@ and a\b@ shared one folder, so one user read the
// others' voice mail. Each address now has its own; ordinary addresses
// keep the folder they had.
func TestMaildirNameSeparatesAddresses(t *testing.T) {
	for address, want := range map[string]string{
		"alice@example.test":        "alice@example.test",
		"Alice.Martin@Example.Test": "alice.martin@example.test",
		"a+b_c-d@example.test":      "a+b_c-d@example.test",
		"a_b@example.test":          "a_b@example.test",
		"a/b@example.test":          "a%2Fb@example.test",
		`a\b@example.test`:          "a%5Cb@example.test",
		"a%2Fb@example.test":        "a%252fb@example.test",
		"é@example.test":            "%C3%A9@example.test",
		".":                         "%2E",
		"..":                        "%2E.",
	} {
		if got := MaildirName(address); got != want {
			t.Errorf("MaildirName(%q) = %q; want %q", address, got, want)
		}
	}
}

// Two messages to two addresses the old rule confused land in two
// Maildirs, each holding only its own.
func TestMaildirDeliversCollidingAddressesApart(t *testing.T) {
	d := Maildir{Dir: t.TempDir()}
	for _, to := range []string{"a/b@example.test", "a_b@example.test", `a\b@example.test`, "a..b@example.test"} {
		m := testMessage("m-" + MaildirName(to))
		m.To = to
		if err := d.Deliver(context.Background(), m, []byte("raw")); err != nil {
			t.Fatal(err)
		}
	}
	boxes, _ := filepath.Glob(filepath.Join(d.Dir, "*"))
	if len(boxes) != 4 {
		t.Fatalf("%d Maildirs for 4 addresses: %v", len(boxes), boxes)
	}
	for _, box := range boxes {
		if files, _ := filepath.Glob(filepath.Join(box, "new", "*")); len(files) != 1 {
			t.Errorf("%s holds %d messages; want 1", box, len(files))
		}
	}
	if err := d.Deliver(context.Background(), &Message{ID: "x"}, nil); err == nil {
		t.Error("a message without an address was delivered")
	}
}

// FuzzMaildirName checks that a folder name is always one safe path
// element, and that percent-decoding gives the ASCII-lower-cased address
// back: two addresses share a folder only when they differ in ASCII case.
func FuzzMaildirName(f *testing.F) {
	for _, s := range []string{"alice@example.test", "a/b@x", `a\b@x`, "a..b@x", ".", "..", "%", "%2F", "É@x", "a\x00b"} {
		f.Add(s, strings.ToUpper(s))
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		name := MaildirName(a)
		if a == "" {
			return
		}
		if name == "" || name == "." || name == ".." || name[0] == '.' || !filepath.IsLocal(name) ||
			strings.ContainsFunc(name, func(r rune) bool { return !strings.ContainsRune(safeRunes, r) }) {
			t.Fatalf("MaildirName(%q) = %q: not one safe path element", a, name)
		}
		back, err := url.PathUnescape(name)
		if err != nil || back != asciiLower(a) {
			t.Fatalf("MaildirName(%q) = %q decodes to %q, %v", a, name, back, err)
		}
		if MaildirName(b) == name && asciiLower(a) != asciiLower(b) {
			t.Fatalf("%q and %q share the folder %q", a, b, name)
		}
	})
}

const safeRunes = "abcdefghijklmnopqrstuvwxyz0123456789.+_@-%ABCDEF"

// asciiLower lower-cases s byte by byte, as MaildirName does, leaving
// other bytes, valid UTF-8 or not, as they are.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// The Maildir of an earlier version's folder name moves to the new name
// at start, messages and all, with event 9303; ordinary ones stay put.
func TestMigrateMovesOldFolder(t *testing.T) {
	d, log, logPath := migrationSite(t)
	old := oldMaildir(t, d, "a_b@example.test", "1.m1.host")
	oldMaildir(t, d, "alice@example.test", "1.m2.host")
	if err := d.Migrate(context.Background(), []string{"a/b@example.test", "Alice@Example.test"}, log); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(d.Dir, "a%2Fb@example.test", "new", "1.m1.host")); err != nil {
		t.Fatalf("message not in the new folder: %v", err)
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Fatalf("old folder still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(d.Dir, "alice@example.test", "new", "1.m2.host")); err != nil {
		t.Fatalf("an ordinary Maildir moved: %v", err)
	}
	recs, _ := events.Read(logPath, events.Filter{ID: events.MaildirMigrated})
	if len(recs) != 1 || recs[0].Level != "Information" || recs[0].Attrs["Mailbox"] != "a/b@example.test" ||
		recs[0].Attrs["From"] != filepath.Join(d.Dir, "a_b@example.test") || recs[0].Attrs["To"] != filepath.Join(d.Dir, "a%2Fb@example.test") {
		t.Fatalf("9303 events: %+v", recs)
	}
	// Once moved, a second start has nothing to do.
	if err := d.Migrate(context.Background(), []string{"a/b@example.test", "Alice@Example.test"}, log); err != nil {
		t.Fatal(err)
	}
	if all, _ := events.Read(logPath, events.Filter{}); len(all) != 1 {
		t.Fatalf("a second start emitted %+v", all[1:])
	}
}

// Where the old rule gave two mailboxes one folder, whose message is which
// cannot be told: the folder stays, files and all, and 9307 names both
// mailboxes and the folder, at each start until each has its own folder.
func TestMigrateLeavesSharedFolder(t *testing.T) {
	d, log, logPath := migrationSite(t)
	old := oldMaildir(t, d, "a_b@example.test", "1.m1.host")
	mailboxes := []string{"a_b@example.test", "a/b@example.test"}
	for range 2 {
		if err := d.Migrate(context.Background(), mailboxes, log); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(old); err != nil {
		t.Fatalf("the shared folder's message is gone: %v", err)
	}
	if _, err := os.Stat(filepath.Join(d.Dir, "a%2Fb@example.test")); !os.IsNotExist(err) {
		t.Fatalf("a folder was guessed for a/b: %v", err)
	}
	recs, _ := events.Read(logPath, events.Filter{ID: events.MaildirAmbiguous})
	if len(recs) != 2 || recs[0].Level != "Warning" || recs[0].Attrs["Folder"] != filepath.Join(d.Dir, "a_b@example.test") {
		t.Fatalf("9307 events: %+v", recs)
	}
	if got, _ := recs[0].Attrs["Mailboxes"].([]any); len(got) != 2 || got[0] != "a_b@example.test" || got[1] != "a/b@example.test" {
		t.Fatalf("9307 names %v; want both mailboxes", recs[0].Attrs["Mailboxes"])
	}
	// Once the administrator gave a/b its own folder, the warning stops.
	if err := os.Mkdir(filepath.Join(d.Dir, "a%2Fb@example.test"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := d.Migrate(context.Background(), mailboxes, log); err != nil {
		t.Fatal(err)
	}
	if recs, _ := events.Read(logPath, events.Filter{ID: events.MaildirAmbiguous}); len(recs) != 2 {
		t.Fatalf("%d 9307 events after the folders were sorted out; want still 2", len(recs))
	}
}

// A mailbox whose old and new folders both exist is not merged by guess.
func TestMigrateLeavesBothFolders(t *testing.T) {
	d, log, logPath := migrationSite(t)
	oldMaildir(t, d, "a_b@example.test", "1.m1.host")
	oldMaildir(t, d, "a%2Fb@example.test", "2.m2.host")
	if err := d.Migrate(context.Background(), []string{"a/b@example.test"}, log); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"a_b@example.test/new/1.m1.host", "a%2Fb@example.test/new/2.m2.host"} {
		if _, err := os.Stat(filepath.Join(d.Dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	if recs, _ := events.Read(logPath, events.Filter{ID: events.MaildirAmbiguous}); len(recs) != 1 {
		t.Fatalf("%d 9307 events; want 1", len(recs))
	}
}

func migrationSite(t *testing.T) (Maildir, *events.Log, string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "events.log")
	log, err := events.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	return Maildir{Dir: filepath.Join(dir, "mail")}, log, path
}

// oldMaildir makes a Maildir folder as an earlier version left it, with
// one message, and returns the message's path.
func oldMaildir(t *testing.T, d Maildir, folder, message string) string {
	t.Helper()
	for _, sub := range []string{"tmp", "new", "cur"} {
		if err := os.MkdirAll(filepath.Join(d.Dir, folder, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(d.Dir, folder, "new", message)
	if err := os.WriteFile(path, []byte("raw"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
