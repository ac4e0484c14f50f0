package playonphone

import (
	"context"
	"time"

	"github.com/openum/openum/internal/certs"
	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/sip"
)

// NewDialer builds the outbound path for a process other than openum
// serve: a sip.Server for server record fqdn on snap that listens nowhere
// (sip.Server.Close releases it), presenting to gateways the certificate
// openum serve would choose from store. It never generates a certificate:
// with none usable it presents none, and a gateway over mutual TLS refuses
// the call (a gateway failure, event 9501). It does not know which
// gateways answer OPTIONS: it tries them as configured.
func NewDialer(ctx context.Context, snap *directory.Snapshot, fqdn string, store *certs.Store, log *events.Log) (*sip.Server, error) {
	sv, err := snap.Server(fqdn)
	if err != nil {
		return nil, err
	}
	cfg := sip.Config{FQDN: sv.Name, Directory: snap, Events: log}
	c, err := store.Load()
	if err != nil {
		return nil, err
	}
	if sel := certs.Select(c, certs.Policy{FQDN: sv.Name, Pin: sv.CertificateThumbprint, Now: time.Now()}); sel.Chosen != nil {
		// No events: the running server reports its certificate (9100s).
		if cfg.Certs, err = certs.NewManager(ctx, store, certs.ManagerOptions{FQDN: sv.Name, Pin: sv.CertificateThumbprint}); err != nil {
			return nil, err
		}
	}
	return sip.New(ctx, cfg)
}
