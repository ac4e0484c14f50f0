package voicemail

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/openum/openum/internal/atomicfile"
	"github.com/openum/openum/internal/media"
)

// record records the caller into memory, as listen says. A greeting lasts
// minutes at most (MaxGreetingDuration, 10 at most: 9.6 MB), and is kept
// only once the caller says so: memory, not a file that a hang-up would
// leave behind.
func (m *accessCall) record(ctx context.Context, limit time.Duration) ([]int16, stopReason) {
	var pcm []int16
	keep, stop, _ := listen(ctx, m.call, m.now, m.now(), limit, func(p []int16) error {
		pcm = append(pcm, p...)
		return nil
	})
	return pcm[:keep], stop
}

// saveGreeting makes pcm the mailbox's personal greeting, the one greeting
// plays to callers, in one atomic replacement: a caller hears the old
// greeting or the new one, never a part.
func (a *Answering) saveGreeting(email string, pcm []int16) error {
	if a.Greetings == "" {
		return errors.New("voicemail: no greetings directory")
	}
	if err := os.MkdirAll(a.Greetings, 0o700); err != nil {
		return fmt.Errorf("voicemail: %w", err)
	}
	path := a.greetingPath(email)
	if err := atomicfile.WriteFile(path, media.EncodeWAV(pcm), 0o600); err != nil {
		return fmt.Errorf("voicemail: greeting of %s: %w", email, err)
	}
	greetings.forget(path)
	return nil
}
