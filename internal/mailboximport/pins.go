package mailboximport

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/pin"
)

// Credential is a generated PIN and its hash. The PIN leaves the process
// only through the PINs file or the mailbox it belongs to.
type Credential struct {
	PIN, Hash string
}

// GeneratePINs gives every row a random PIN under its policy (pin.Assign)
// on runtime.NumCPU() workers, since each argon2id hash takes tens of
// milliseconds. progress, when not nil, is called with the number of PINs
// done so far, from one goroutine at a time. The rows must have passed
// Check: their policies exist.
func GeneratePINs(ctx context.Context, s *directory.Snapshot, rows []Row, progress func(done int)) ([]Credential, error) {
	rules := make([]pin.Policy, len(rows))
	for i, r := range rows {
		p, err := s.MailboxPolicy(r.Mailbox.UMMailboxPolicy)
		if err != nil {
			return nil, err
		}
		rules[i] = p.PINRules()
	}
	out := make([]Credential, len(rows))
	next := make(chan int)
	var (
		wg       sync.WaitGroup
		done     atomic.Int64
		mu       sync.Mutex // one progress call at a time
		firstErr error
		once     sync.Once
	)
	for range runtime.NumCPU() {
		wg.Go(func() {
			for i := range next {
				shown, hash, err := pin.Assign(rules[i], "", rows[i].Mailbox.Extensions, nil)
				if err != nil {
					once.Do(func() { firstErr = err })
					continue
				}
				out[i] = Credential{PIN: shown, Hash: hash}
				n := done.Add(1)
				if progress != nil {
					mu.Lock()
					progress(int(n))
					mu.Unlock()
				}
			}
		})
	}
feed:
	for i := range rows {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}

// Apply adds every row's mailbox to s with its PIN hash, inside the
// caller's directory update, so that the mailboxes are written together or
// not at all. A row that no longer fits (another writer took its address
// or extension since Check) fails the whole update, naming its line.
func Apply(s *directory.Snapshot, rows []Row, creds []Credential, now time.Time) error {
	for i, r := range rows {
		m := r.Mailbox
		m.SetPIN(creds[i].Hash, now, m.PINExpired)
		if err := s.AddMailbox(m); err != nil {
			return &RowError{Line: r.Line, Err: err}
		}
	}
	return nil
}
