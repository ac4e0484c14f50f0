package msgstore_test

import (
	"testing"
	"time"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/msgstore"
)

// Retention reads each mailbox's policy, and keeps the default for a
// mailbox the directory no longer has.
func TestRetentionFollowsThePolicy(t *testing.T) {
	p := directory.NewMailboxPolicy("Short", "DP1")
	p.DeletedMessageRetention = 2
	snap := &directory.Snapshot{
		MailboxPolicies: []directory.MailboxPolicy{p},
		Mailboxes:       directory.MailboxesOf(directory.Mailbox{EmailAddress: "alice@example.test", UMMailboxPolicy: "Short"}),
	}
	r := msgstore.Retention(snap)
	if got := r("ALICE@example.test"); got != 48*time.Hour {
		t.Errorf("alice: %v; want 48h", got)
	}
	if got := r("gone@example.test"); got != 14*24*time.Hour {
		t.Errorf("a mailbox not in the directory: %v; want the default 14 days", got)
	}
}
