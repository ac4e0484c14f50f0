package directorytest

import (
	"context"
	"testing"

	"github.com/openum/openum/internal/directory"
)

// Mailbox returns the mailbox of email as d holds it now, for a test to
// check what a call or a command changed; it fails t when there is none.
func Mailbox(t testing.TB, d directory.Directory, email string) directory.Mailbox {
	t.Helper()
	snap, err := d.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m, err := snap.Mailbox(email)
	if err != nil {
		t.Fatal(err)
	}
	return *m
}
