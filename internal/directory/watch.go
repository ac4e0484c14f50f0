package directory

import (
	"context"
	"errors"
	"sync"
)

// Watcher hands each new configuration to the parts of a server that
// follow it (the SIP layer, the certificate manager), in the order they
// subscribed. It reads a Snapshot only when Version says the directory
// changed, or when told to (Reload), so it may be asked every second.
//
// A Watcher is safe for concurrent use: Check and Reload run one at a
// time. Make one with NewWatcher.
type Watcher struct {
	dir Directory

	mu          sync.Mutex
	version     uint64
	last        *Snapshot // the last read, of that version; nil before the first
	subscribers []func(context.Context, *Snapshot) error
}

// NewWatcher returns a watcher of dir with no subscribers.
func NewWatcher(dir Directory) *Watcher { return &Watcher{dir: dir} }

// Snapshot returns the configuration last read from the directory, which
// the subscribers were handed; the first call reads it, and the next Check
// compares with its version. A server reads its first configuration so,
// before it subscribes, and its other parts the running one, without
// asking the directory. The snapshot is shared: it must not be changed.
func (w *Watcher) Snapshot(ctx context.Context) (*Snapshot, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.last != nil {
		return w.last, nil
	}
	return w.snapshot(ctx)
}

// Subscribe adds fn, which Check and Reload call with each new snapshot.
// fn keeps what it has when it returns an error.
func (w *Watcher) Subscribe(fn func(context.Context, *Snapshot) error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.subscribers = append(w.subscribers, fn)
}

// Check reads the directory and hands it to the subscribers when its
// Version changed since the last read; otherwise it reads nothing more. A
// configuration that a subscriber refuses is not offered again until the
// directory changes again (or Reload), so its error is returned once.
func (w *Watcher) Check(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	v, err := w.dir.Version(ctx)
	if err != nil {
		return err
	}
	if w.last != nil && v == w.version {
		return nil
	}
	return w.reload(ctx)
}

// Reload reads the directory and hands it to the subscribers, changed or
// not (SIGHUP). It returns every subscriber's error, joined.
func (w *Watcher) Reload(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.reload(ctx)
}

func (w *Watcher) reload(ctx context.Context) error {
	snap, err := w.snapshot(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, fn := range w.subscribers {
		errs = append(errs, fn(ctx, snap))
	}
	return errors.Join(errs...)
}

// snapshot reads the version before the snapshot: a change written between
// the two is then seen again by the next Check, never missed.
func (w *Watcher) snapshot(ctx context.Context) (*Snapshot, error) {
	v, err := w.dir.Version(ctx)
	if err != nil {
		return nil, err
	}
	snap, err := w.dir.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	snap.Mailboxes.freeze() // its readers are many: none may copy on write
	w.version, w.last = v, snap
	return snap, nil
}

// Notifier is a Directory that can also say at once that it changed, as
// PostgreSQL's LISTEN/NOTIFY does, so that a server need not wait for its
// next poll. A notification may be lost (a dropped connection) or come
// twice: Version stays the truth, and polling the way to catch up.
type Notifier interface {
	// Changed returns a channel that receives soon after a change by any
	// process; several changes may make one receive.
	Changed() <-chan struct{}
}

// Changed returns the channel of the directory's Notifier, or nil, which
// never receives, when the directory cannot tell.
func (w *Watcher) Changed() <-chan struct{} {
	if n, ok := w.dir.(Notifier); ok {
		return n.Changed()
	}
	return nil
}
