package msgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/openum/openum/internal/directory"
)

// FullError says that a mailbox has reached its policy's quota: a caller
// must hear "the mailbox is full" instead of being recorded.
type FullError struct {
	Mailbox string
	Usage   Usage
	Policy  directory.MailboxPolicy
}

func (e *FullError) Error() string {
	return fmt.Sprintf("msgstore: mailbox %s is full: %d messages (MaxMessages %d), %d bytes (MaxMessageStorage %d MB) of policy %s",
		e.Mailbox, e.Usage.Messages, e.Policy.MaxMessages, e.Usage.Bytes, e.Policy.MaxMessageStorage, e.Policy.Name)
}

// megabyte is the unit of MaxMessageStorage.
const megabyte = 1 << 20

// CheckQuota returns a *FullError when mailbox holds p.MaxMessages new and
// saved messages, or p.MaxMessageStorage megabytes of them, or more; nil
// while there is room for one more message. A message may take the mailbox
// past the quota by its own size, never more: it is checked before the
// recording starts, and a recorded message is always kept.
func CheckQuota(ctx context.Context, s Store, mailbox string, p directory.MailboxPolicy) error {
	u, err := s.Usage(ctx, mailbox)
	if err != nil {
		return err
	}
	if u.Messages >= p.MaxMessages || u.Bytes >= int64(p.MaxMessageStorage)*megabyte {
		return &FullError{Mailbox: mailbox, Usage: u, Policy: p}
	}
	return nil
}

// Retention returns how long each mailbox of snap keeps its deleted
// messages, its policy's DeletedMessageRetention, for Purge. A mailbox the
// directory no longer has keeps them for the default retention, so that
// an administrator who disabled a mailbox by mistake has time to act.
func Retention(snap *directory.Snapshot) func(mailbox string) time.Duration {
	days := func(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }
	fallback := days(directory.NewMailboxPolicy("", "").DeletedMessageRetention)
	return func(mailbox string) time.Duration {
		m, err := snap.Mailbox(mailbox)
		if err != nil {
			return fallback
		}
		p, err := snap.MailboxPolicy(m.UMMailboxPolicy)
		if err != nil {
			return fallback
		}
		return days(p.DeletedMessageRetention)
	}
}

// PurgeInterval is how often a running server purges deleted messages: the
// retention is counted in days, so an hour late is soon enough.
const PurgeInterval = time.Hour

// RunPurge purges s at once, then every interval until ctx ends, each run
// with the retention of the directory as snapshot returns it then. A run
// that fails is reported to failed and retried at the next interval.
func RunPurge(ctx context.Context, s Store, actor directory.Actor, interval time.Duration,
	snapshot func(context.Context) (*directory.Snapshot, error), failed func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		snap, err := snapshot(ctx)
		if err == nil {
			_, err = s.Purge(ctx, actor, time.Now(), Retention(snap))
		}
		if err != nil && ctx.Err() == nil {
			failed(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
