package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	"github.com/openum/openum/internal/admin"
	"github.com/openum/openum/internal/certs"
	"github.com/openum/openum/internal/delivery"
	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/msgstore"
	"github.com/openum/openum/internal/sip"
	"github.com/openum/openum/internal/voicemail"
)

// serveOptions are the flags of openum serve.
type serveOptions struct {
	fqdn, listen      string
	sipPort, tlsPort  int
	udp, startSecured bool
	tlsMin            string
	tickets           bool
	ciphers           []string
	rtpPorts          string
	drain             time.Duration
	optionsInterval   time.Duration
	smtp              string
	mailLease         time.Duration
	minFree           string
	limits            sip.Limits
	eventLogSize      string
	eventLogFiles     int
	gcPercent         int
	admin             adminOptions
}

func (a *app) serveCommand() *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Answer SIP calls: TCP 5060 and mutual TLS 5061, per-dial-plan VoIP security",
		Long: `Answer SIP calls from the gateways in the directory.

The server listens on TCP and on mutual TLS at once (UDP only with --udp),
refuses every peer that is not a configured gateway or openum server, and
holds each call to the VoIP security mode of its dial plan. Directory and
certificate changes apply to new calls within seconds, or at once on SIGHUP.
SIGINT or SIGTERM drains: new calls get 503, calls in progress finish (up to
--drain-timeout, or until a second signal), and those still up then are hung up,
their messages kept and delivered.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.serve(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.fqdn, "fqdn", "", "this server's FQDN, the name of its directory record (default: the only record, else the host name)")
	f.StringVar(&o.listen, "listen", "", "IP address to listen on (default: all)")
	f.IntVar(&o.sipPort, "sip-port", 0, "SIP over TCP port (default: the record's SipTcpListeningPort; -1: any free port)")
	f.IntVar(&o.tlsPort, "tls-port", 0, "SIP over TLS port (default: the record's SipTlsListeningPort; -1: any free port)")
	f.BoolVar(&o.udp, "udp", false, "also listen on UDP (where spoofing and amplification live)")
	f.BoolVar(&o.startSecured, "start-secured", false, "open the TLS listener even with no dial plan associated")
	f.StringVar(&o.tlsMin, "tls-min-version", "1.2", "lowest TLS version accepted: 1.2 or 1.3")
	f.BoolVar(&o.tickets, "tls-session-tickets", false, "send TLS session tickets (sipp 3.6 and sipsak hang on TLS 1.3 tickets)")
	f.StringSliceVar(&o.ciphers, "tls-cipher-suites", nil, "TLS 1.2 cipher suites, by Go's names (default: Go's secure list)")
	f.StringVar(&o.rtpPorts, "rtp-ports", "", "UDP ports for media, first-last (default: the record's RtpPortRange)")
	f.StringVar(&o.smtp, "smtp", "", "deliver voice mail to this mail server (HOST:PORT) with STARTTLS and a client certificate, instead of DATA/mail")
	f.DurationVar(&o.mailLease, "mail-lease", time.Minute, "how long this server's lease on each undelivered voice message lasts unrenewed; once it expires (the server died), another server sharing the message store delivers the message. Longer than a mail server's answer takes")
	f.DurationVar(&o.drain, "drain-timeout", 30*time.Second, "on SIGTERM, how long calls in progress may go on (a second SIGTERM hangs them up at once)")
	f.DurationVar(&o.optionsInterval, "options-interval", time.Minute, "how often each gateway the server calls out through gets OPTIONS; one that does not answer is skipped (0: never)")
	f.StringVar(&o.minFree, "min-free-space", defaultMinFreeSpace, "free space DATA/spool needs for a call to be answered, else 503 (0: no check)")
	d := sip.DefaultLimits
	f.IntVar(&o.limits.MaxConnsPerSource, "max-conns-per-source", d.MaxConnsPerSource, "open connections from one address")
	f.DurationVar(&o.limits.HandshakeTimeout, "handshake-timeout", d.HandshakeTimeout, "time to complete a TLS handshake")
	f.DurationVar(&o.limits.IdleTimeout, "idle-timeout", d.IdleTimeout, "a connection silent this long is closed")
	f.DurationVar(&o.limits.MessageTimeout, "message-timeout", d.MessageTimeout, "a SIP message must arrive whole this long after its first byte")
	f.IntVar(&o.limits.MaxMessageSize, "max-message-size", d.MaxMessageSize, "bytes in one SIP message")
	f.IntVar(&o.limits.MaxHeaders, "max-headers", d.MaxHeaders, "header fields in one request")
	f.Float64Var(&o.limits.RequestRate, "request-rate", d.RequestRate, "requests per second from one address")
	f.IntVar(&o.limits.RequestBurst, "request-burst", d.RequestBurst, "requests above the rate allowed in a burst")
	f.IntVar(&o.limits.MaxSetups, "max-setups", d.MaxSetups, "new calls being set up at once (INVITE to ACK), all gateways together; past it a new INVITE gets 503 with Retry-After at once (overload)")
	f.IntVar(&o.limits.BanAfter, "ban-after", d.BanAfter, "refusals within a minute that ban a source")
	f.DurationVar(&o.limits.BanFor, "ban-for", d.BanFor, "how long a ban lasts")
	f.DurationVar(&o.limits.TransferTimeout, "transfer-timeout", d.TransferTimeout, "how long a transfer (0 for the operator, call back) waits for the PBX's final NOTIFY before the caller is taken back")
	f.StringVar(&o.eventLogSize, "event-log-file-size", humanize.Bytes(uint64(events.DefaultRotation.FileSize)),
		"events.log is renamed events.log.1 (older ones shift) when it would grow past this size (10MB, 512KiB)")
	f.IntVar(&o.eventLogFiles, "event-log-files", events.DefaultRotation.Files, "event log files kept, the current one included; the oldest go")
	f.IntVar(&o.gcPercent, "gc-percent", 0, "a fixed target for the garbage collector, as GOGC: a collection when the heap has grown by this % of what is live (default: 200 while the server holds little, falling to 50 as calls in progress hold more, for some 24 MiB of growth between collections; more costs memory, less costs CPU per call)")
	addAdminFlags(f, &o.admin)
	return cmd
}

func (a *app) serve(cmd *cobra.Command, o serveOptions) error {
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := applyGCPolicy(ctx, cmd.Flags(), o.gcPercent); err != nil {
		return err
	}
	record, err := a.serverRecord(cmd, o.fqdn)
	if err != nil {
		return err
	}
	n, err := a.start(ctx, record, o)
	if err != nil {
		return err
	}
	for transport, addr := range n.srv.Addrs() {
		fmt.Fprintf(a.out, "openum: %s listening on %s %s\n", record.Name, transport, addr)
	}
	if n.admin != nil {
		fmt.Fprintf(a.out, "openum: admin API at %s\n", n.admin.URL())
	}
	if _, ok := n.srv.Addrs()["TLS"]; ok {
		c := n.manager.Current()
		fmt.Fprintf(a.out, "openum: secured mode with certificate %s (%s)\n", c.Thumbprint(), c.X509.Subject)
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
wait:
	for {
		select {
		case <-hup:
			if err := n.reload(ctx, true); err != nil {
				fmt.Fprintf(a.out, "openum: reload: %v (the running configuration stays)\n", err)
			}
		case <-ctx.Done():
			break wait
		}
	}
	// The first signal is spent: a second one ends the drain at once,
	// its calls hung up as they are at --drain-timeout.
	again, stopAgain := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopAgain()
	stop()
	fmt.Fprintf(a.out, "openum: stopping; %d call(s) in progress may finish (a second signal hangs them up now)\n", n.srv.ActiveCalls())
	if err := n.stop(again, o.drain); err != nil {
		why := "drain timeout"
		if again.Err() != nil {
			why = "second signal"
		}
		fmt.Fprintf(a.out, "openum: %s: calls in progress were hung up\n", why)
	}
	return nil
}

// defaultMinFreeSpace is about 16 minutes of recording (16 kB/s): room for
// a long message, and a margin before the disk is full.
const defaultMinFreeSpace = "16MB"

// node is one running openum: the SIP server and what it is wired to.
type node struct {
	log     *events.Log
	manager *certs.Manager
	srv     *sip.Server
	watcher *directory.Watcher // the directory, for srv and manager (see watch)
	done    context.CancelFunc // stops delivery and the watch
	mail    *delivery.Worker   // delivery, flushed when the node stops
	admin   *admin.Server      // the admin API; nil when off (adminserve.go)
}

// start wires and starts the server for record: event log, certificates,
// delivery, voice mail and SIP. It runs until stop.
func (a *app) start(ctx context.Context, record *directory.Server, o serveOptions) (*node, error) {
	if err := checkServeFlags(o); err != nil {
		return nil, err
	}
	tlsMin := map[string]uint16{"1.2": tls.VersionTLS12, "1.3": tls.VersionTLS13}[o.tlsMin]
	if tlsMin == 0 {
		return nil, fmt.Errorf("--tls-min-version must be 1.2 or 1.3, not %q", o.tlsMin)
	}
	ciphers, err := cipherSuites(o.ciphers)
	if err != nil {
		return nil, err
	}
	var rtp directory.PortRange
	if o.rtpPorts != "" {
		if rtp, err = directory.ParsePortRange(o.rtpPorts); err != nil || rtp.First < 1024 || rtp.Last <= rtp.First {
			return nil, fmt.Errorf("--rtp-ports must be two ports from 1024 to 65535, the first below the last, as 20000-29999, not %q", o.rtpPorts)
		}
	}
	minFree, err := humanize.ParseBytes(o.minFree)
	if err != nil {
		return nil, fmt.Errorf("--min-free-space must be a size such as 16MB or 512KiB, not %q", o.minFree)
	}
	rotation, err := eventLogRotation(o.eventLogSize, o.eventLogFiles)
	if err != nil {
		return nil, err
	}
	log, err := events.OpenWith(filepath.Join(a.dataDir, "events.log"), rotation)
	if err != nil {
		return nil, err
	}
	// Delivery and the certificate watch outlive a stop signal: messages
	// recorded while calls drain go out too.
	bg, done := context.WithCancel(context.WithoutCancel(ctx))
	n := &node{log: log, done: done}
	fail := func(err error) (*node, error) {
		done()
		log.Close()
		return nil, err
	}
	store, err := a.certStore()
	if err != nil {
		return fail(err)
	}
	if n.manager, err = certs.NewManager(ctx, store, certs.ManagerOptions{FQDN: record.Name, Pin: record.CertificateThumbprint, Events: log}); err != nil {
		return fail(err)
	}
	dir, err := a.directory(ctx)
	if err != nil {
		return fail(err)
	}
	n.watcher = directory.NewWatcher(dir)
	snap, err := n.watcher.Snapshot(ctx)
	if err != nil {
		return fail(err)
	}
	spool, err := delivery.OpenSpool(filepath.Join(a.dataDir, "spool"))
	if err != nil {
		return fail(err)
	}
	msgs, err := a.messages(ctx)
	if err != nil {
		return fail(err)
	}
	maildir := delivery.Maildir{Dir: filepath.Join(a.dataDir, "mail")}
	var transport delivery.Transport = maildir
	if o.smtp != "" {
		transport = delivery.SMTP{Addr: o.smtp, TLSConfig: func() *tls.Config { return n.manager.ClientTLSConfig("") }}
	} else if err := migrateMaildirs(ctx, dir, maildir, log); err != nil {
		return fail(err)
	}
	worker := &delivery.Worker{Spool: spool, Transport: transport, Events: log}
	n.mail = worker
	answering := &voicemail.Answering{Spool: spool, Spooled: worker.Kick, Store: msgs, Events: log,
		From: "voicemail@" + record.Name, Greetings: filepath.Join(a.dataDir, "greetings"), MinFreeSpace: minFree}
	if ledger, ok := msgs.(msgstore.MailLedger); ok { // a pool's servers share delivery (SPEC OPS-4)
		worker.Pool = &delivery.Pool{Ledger: ledger, Audio: msgs, Server: record.Name, Lease: o.mailLease}
		answering.Pool = worker.Pool
	}
	if answering.Logon, err = logonService(dir, log, spool, answering.From, worker.Kick); err != nil {
		return fail(err)
	}
	// Before delivery: a message a crash kept out of the store is still in the spool.
	if err := answering.Recover(ctx); err != nil {
		return fail(err)
	}
	loads, _ := dir.(directory.LoadBoard) // every engine keeps one: redirects (SPEC OPS-4)
	n.srv, err = sip.New(ctx, sip.Config{
		FQDN: record.Name, ListenIP: o.listen, TCPPort: o.sipPort, TLSPort: o.tlsPort,
		UDP: o.udp, StartSecured: o.startSecured, Limits: o.limits,
		TLS: sip.TLSSettings{MinVersion: tlsMin, SessionTickets: o.tickets, CipherSuites: ciphers}, RTPPorts: rtp,
		Directory: snap, Certs: n.manager, Events: log, Calls: answering, Ready: answering.Ready,
		OptionsInterval: o.optionsInterval,
		Messages:        msgs, // message waiting (SPEC UM-5)
		Loads:           loads,
	})
	if err != nil {
		return fail(err)
	}
	if err := n.srv.Start(ctx); err != nil {
		return fail(err)
	}
	if err := n.startAdmin(bg, dir, spool, msgs, answering.Logon, o.admin, record.Name, filepath.Join(a.dataDir, "events.log")); err != nil {
		_ = n.srv.Shutdown(context.Background())
		return fail(err)
	}
	go func() { _ = worker.Run(bg) }()
	go msgstore.RunPurge(bg, msgs, a.actor(), msgstore.PurgeInterval, n.watcher.Snapshot,
		func(err error) {
			fmt.Fprintf(a.out, "openum: purge of deleted messages: %v (retried in an hour)\n", err)
		})
	n.watcher.Subscribe(n.srv.Apply)
	n.watcher.Subscribe(followServer(n.manager, record.Name))
	go n.watch(bg)
	return n, nil
}

// migrateMaildirs gives the directory's mailboxes the Maildir folder names
// of this version, before the first delivery (delivery.Maildir.Migrate).
func migrateMaildirs(ctx context.Context, dir directory.Directory, maildir delivery.Maildir, log *events.Log) error {
	snap, err := dir.Snapshot(ctx)
	if err != nil {
		return err
	}
	addresses := make([]string, snap.Mailboxes.Len())
	for i, m := range snap.Mailboxes.All() {
		addresses[i] = m.EmailAddress
	}
	return maildir.Migrate(ctx, addresses, log)
}

// cipherSuites maps names to Go's secure TLS 1.2 suites; an insecure or
// unknown name is refused.
func cipherSuites(names []string) ([]uint16, error) {
	var ids []uint16
	for _, name := range names {
		i := slices.IndexFunc(tls.CipherSuites(), func(c *tls.CipherSuite) bool { return c.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("--tls-cipher-suites: %q is not a secure TLS cipher suite Go knows (e.g. TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)", name)
		}
		ids = append(ids, tls.CipherSuites()[i].ID)
	}
	return ids, nil
}

// stop drains the calls (up to drain, or until ctx is done), then stops
// delivery and closes the event log. It returns an error when calls had
// to be cut.
func (n *node) stop(ctx context.Context, drain time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, drain)
	defer cancel()
	err := n.srv.Shutdown(ctx)
	n.stopAdmin()
	n.flushDelivery(deliveryFlush)
	n.done()
	return errors.Join(err, n.log.Close())
}

// deliveryFlush is how long a stopping server goes on delivering, for the
// messages its last calls left: time enough for a Maildir or a mail
// server that answers, not for one that fails (its messages wait in the
// spool for the next start, or for another server of the pool).
const deliveryFlush = 5 * time.Second

// flushDelivery waits, up to limit, until delivery has nothing queued.
func (n *node) flushDelivery(limit time.Duration) {
	n.mail.Kick()
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if queued, _, err := n.mail.Spool.Depth(); err != nil || queued == 0 {
			return
		}
	}
}

// serverRecord returns this server's directory record (the one named fqdn,
// else directory.Snapshot.LocalServer's), creating it on the first run.
func (a *app) serverRecord(cmd *cobra.Command, fqdn string) (*directory.Server, error) {
	var name string
	_, err := a.update(cmd, func(s *directory.Snapshot) error {
		sv, err := s.AddLocalServer(fqdn)
		if err != nil && fqdn == "" {
			return fmt.Errorf("%w: say which with --fqdn", err)
		}
		if err == nil {
			name = sv.Name
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	s, err := a.snapshot(cmd)
	if err != nil {
		return nil, err
	}
	return s.Server(name)
}
