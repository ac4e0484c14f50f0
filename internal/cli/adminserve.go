package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"

	"github.com/openum/openum/internal/admin"
	"github.com/openum/openum/internal/certs"
	"github.com/openum/openum/internal/delivery"
	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/logon"
	"github.com/openum/openum/internal/msgstore"
	"github.com/openum/openum/internal/ops"
	"github.com/openum/openum/internal/playonphone"
)

// Version is the release openum was built as (main sets it), for
// openum_build_info.
var Version = "dev"

// adminOptions are openum serve's flags for the admin API.
type adminOptions struct {
	listen      string
	plainHTTP   bool
	metricsOpen bool
	certRole    string
}

func addAdminFlags(f *pflag.FlagSet, o *adminOptions) {
	f.StringVar(&o.listen, "admin-listen", admin.DefaultAddr, `HTTPS address of the admin API: health, /metrics, /debug/pprof, the web console at /console/ ("" or off: none)`)
	f.BoolVar(&o.plainHTTP, "admin-plain-http", false, "serve the admin API as plain HTTP: refused unless --admin-listen is a loopback address")
	f.BoolVar(&o.metricsOpen, "metrics-loopback-open", false, "let clients on loopback scrape /metrics without a token")
	f.StringVar(&o.certRole, "admin-client-cert-role", "", `let an administrator's client certificate stand for a token: one that chains to the trusted store and whose common name is an admin token's name acts as that token, with at most this role (readonly, operator or admin; "": off)`)
}

// startAdmin opens the admin API and web console of n, the server whose
// directory record is server and whose event log is eventLog, and serves
// them in the background until n stops; nothing when --admin-listen is off.
func (n *node) startAdmin(ctx context.Context, dir directory.Directory, spool *delivery.Spool, msgs msgstore.Store, logons *logon.Service, o adminOptions, server, eventLog string) error {
	if o.listen == "" || o.listen == "off" {
		return nil
	}
	var certRole directory.AdminRole
	if o.certRole != "" {
		var err error
		if certRole, err = directory.ParseEnum("--admin-client-cert-role", o.certRole, directory.AdminRoles); err != nil {
			return err
		}
	}
	live := &admin.Live{Directory: dir, ServerName: server, SIP: n.srv, EventLog: eventLog, Messages: msgs}
	// Play on Phone from the API goes out through this server's own SIP
	// layer; a directory without outcall budgets has none.
	live.PlayOnPhone, _ = playonphone.NewService(server, n.srv, msgs, dir, n.log)
	src := admin.Sources{Version: Version, Events: n.log, SIP: n.srv, Spool: spool, Certs: n.manager}
	if logons != nil {
		src.Logon = logons.Stats()
	}
	// The certificate store the server's TLS reads, which the API's cert
	// operations change (the manager picks a change up, CERT-8).
	store, err := certs.OpenStore(filepath.Join(filepath.Dir(eventLog), "certs"))
	if err != nil {
		return err
	}
	srv, err := admin.New(admin.Config{
		Addr: o.listen, PlainHTTP: o.plainHTTP, Certs: n.manager, Snapshot: n.watcher.Snapshot,
		Ready: n.readiness(dir, server), Registry: admin.NewRegistry(src), MetricsLoopbackOpen: o.metricsOpen, Events: n.log,
		Console:        &admin.Console{Directory: dir, ServerName: server, SIP: n.srv, Spool: spool, EventLog: eventLog},
		ClientCertRole: certRole, Live: live,
		// The directory's operations, as the command line runs them; a pin
		// is checked against this server's certificate store, in the data
		// directory that holds the event log.
		API: &admin.API{Directory: dir, Audit: []ops.AuditLog{dir, msgs}, UsableThumbprint: usableIn(filepath.Dir(eventLog)),
			CertStore: store, ServerName: server},
	})
	if err != nil {
		return err
	}
	n.admin = srv
	go func() { _ = srv.Serve(ctx) }()
	return nil
}

// readiness is /readyz: the SIP listeners are open, the directory answers,
// the certificate is valid when a TLS listener serves it, and the server
// is not draining: neither stopping nor marked NoNewCalls or Disabled in
// its directory record (the console's Drain).
func (n *node) readiness(dir directory.Directory, server string) func(context.Context) error {
	return func(ctx context.Context) error {
		addrs, status := n.srv.Addrs(), n.recordStatus(ctx, server)
		switch {
		case n.srv.Draining():
			return errors.New("draining: new calls are refused")
		case status != directory.Enabled:
			return fmt.Errorf("this server's record is %s: new calls are refused", status)
		case len(addrs) == 0:
			return errors.New("no SIP listener is open")
		}
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if _, err := dir.Version(ctx); err != nil {
			return errors.New("the directory cannot be read")
		}
		if _, secured := addrs["TLS"]; secured {
			c := n.manager.Current().X509
			if now := time.Now(); now.After(c.NotAfter) || now.Before(c.NotBefore) {
				return fmt.Errorf("the certificate in use is not valid now (%s to %s)",
					c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339))
			}
		}
		return nil
	}
}

// recordStatus is the status of this server's directory record as the
// server runs it; Enabled when it cannot be read (the directory check
// below says so).
func (n *node) recordStatus(ctx context.Context, server string) directory.Status {
	snap, err := n.watcher.Snapshot(ctx)
	if err != nil {
		return directory.Enabled
	}
	if rec, err := snap.Server(server); err == nil {
		return rec.Status
	}
	return directory.Enabled
}

// stopAdmin stops the admin API, if any, waiting up to a second for
// requests in progress.
func (n *node) stopAdmin() {
	if n.admin == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = n.admin.Shutdown(ctx)
}
