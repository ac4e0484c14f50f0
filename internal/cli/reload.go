package cli

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/openum/openum/internal/certs"
	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
)

// watchEvery is how often a running server asks whether the directory or
// the certificate store changed: a change reaches new calls within a
// second (SPEC SEC-4, CERT-8, DIR-4), the reload included, even on SQLite,
// which cannot notify. Asking costs a query and a few stat calls.
const watchEvery = 500 * time.Millisecond

// watch is the one reload path of a running server: every watchEvery the
// watcher asks the directory for its version and, on a change, hands the
// new snapshot to the SIP layer and the certificate manager; then the
// manager looks at its store. A directory that can tell of a change
// (PostgreSQL's NOTIFY) wakes it at once as well; the ticker stays, for
// the certificate store and for a notification lost. It runs until ctx is
// done.
func (n *node) watch(ctx context.Context) {
	t := time.NewTicker(watchEvery)
	defer t.Stop()
	changed := n.watcher.Changed()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-changed:
		}
		_ = n.reload(ctx, false)
	}
}

// reload applies the directory when it changed, or at once when force
// (SIGHUP), then checks the certificate store. A reload that fails keeps
// the running configuration and says why (9211); the manager's problems
// are events of their own.
func (n *node) reload(ctx context.Context, force bool) error {
	apply := n.watcher.Check
	if force {
		apply = n.watcher.Reload
	}
	err := apply(ctx)
	if err != nil {
		n.log.Emit(ctx, events.DirectoryReloadFailed, "directory reload failed; the running configuration stays", slog.String("error", err.Error()))
	}
	return errors.Join(err, n.manager.Check(ctx))
}

// followServer keeps the certificate manager on this server's record: the
// name its certificate must have and the certificate pinned.
func followServer(m *certs.Manager, fqdn string) func(context.Context, *directory.Snapshot) error {
	return func(ctx context.Context, snap *directory.Snapshot) error {
		sv, err := snap.Server(fqdn)
		if err != nil {
			return err
		}
		m.SetServer(sv.Name, sv.CertificateThumbprint)
		return m.Check(ctx)
	}
}
