// Package sip is openum's signalling edge (SPEC SEC-1..SEC-5, PEER-1,
// PEER-2, PEER-4): it listens on TCP and mutual TLS (and UDP only when
// asked), lets only configured gateways in, ties every call to a dial plan
// through its hunt group, and enforces that dial plan's VoIP security mode.
//
// sipgo runs the transactions; this package owns the listeners in front of
// it, the admission of each request and the registry of calls.
package sip

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/openum/openum/internal/certs"
	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
)

// TLSSettings are the TLS knobs an administrator may turn.
type TLSSettings struct {
	MinVersion     uint16   // tls.VersionTLS12 (default) or tls.VersionTLS13
	SessionTickets bool     // some SIP stacks (sipp 3.6, sipsak) break on TLS 1.3 tickets
	CipherSuites   []uint16 // for TLS 1.2; nil keeps Go's secure defaults
}

// Config is what a Server is built from.
type Config struct {
	FQDN     string // the name of this server's record in the directory
	ListenIP string // the address to listen on; "" for all
	TCPPort  int    // 0: the server record's SipTcpListeningPort; -1: any free port
	TLSPort  int    // 0: the server record's SipTlsListeningPort; -1: any free port
	UDP      bool   // also listen on UDP (on the TCP port)
	// RTPPorts overrides the server record's RtpPortRange when not zero.
	RTPPorts     directory.PortRange
	StartSecured bool // with no dial plan associated, open the TLS listener (SPEC SEC-5)
	Limits       Limits
	TLS          TLSSettings
	// Directory is the configuration to start with; Apply gives the next.
	Directory *directory.Snapshot
	// HousekeepingEvery is how often expired bans are lifted and gateway
	// names resolved again when due (every minute); default 2 s.
	HousekeepingEvery time.Duration
	OptionsInterval   time.Duration // how often gateways get OPTIONS (SPEC DIAL-3, options.go); 0 for never
	// Messages, when set, turns message waiting on (SPEC UM-5, mwi.go):
	// the counts are polled every MessageWaitingPoll (default 1 s), and a
	// NOTIFY no gateway took is retried every MessageWaitingRetry (30 s)
	// for 5 minutes.
	Messages            MessageCounts
	MessageWaitingPoll  time.Duration
	MessageWaitingRetry time.Duration
	Certs               *certs.Manager
	Events              *events.Log
	Calls               CallHandler // takes answered calls; nil holds them silent
	// Ready, when set, is asked just before an admitted call is answered
	// whether the application can take it now (voice mail: is there disk
	// space to keep a message?); a Rejection refuses the call as it says.
	// A function, not part of CallHandler, so that sip knows nothing of
	// what is checked, and a handler with nothing to check needs no stub.
	// The Call it gets has no Audio yet.
	Ready  func(c *Call) *Rejection
	Logger *slog.Logger // sipgo's own debug log; nil discards it
	// Loads, when set, is the directory's load board: this server
	// publishes its load there every LoadEvery (default 3 s) and, when it
	// has no room, redirects new calls to a server that has (redirect.go).
	Loads     directory.LoadBoard
	LoadEvery time.Duration
}

// Server answers SIP for openum. Create it with New, run it with Start and
// stop it with Shutdown. Its methods are safe for concurrent use.
type Server struct {
	cfg     Config
	limits  Limits
	view    atomic.Pointer[view]
	sources *sources
	peers   sync.Map // connKey → Peer, for connections the guard let in
	// outcalls holds the calls openum placed (outbound.go, outbound_stop.go).
	outcalls ownCalls
	health   gatewayHealth  // what the OPTIONS pings found (options.go)
	stats    Stats          // what no event counts (stats.go)
	mwi      messageWaiting // NOTIFYs to send (mwi.go)
	subs     subscriptions  // SUBSCRIBEs to message waiting (subscribe.go)
	board    loadBoard      // the servers' loads as last read (load.go)
	setups   setupGate      // the new INVITEs being set up (overload.go)
	// dialogUAs holds the *sipgo.DialogUA of each transport (dialogUA).
	dialogUAs sync.Map

	ua     *sipgo.UserAgent
	sip    *sipgo.Server
	client *sipgo.Client

	mu        sync.Mutex
	calls     map[string]*call // by dialog ID: Call-ID and both tags (see dialogOf)
	draining  bool
	placing   int  // the outcalls in progress, ringing or answered (callslots.go)
	started   bool // Start has opened the listeners: Apply may open TLS
	listeners map[string]net.Addr
	closers   []func() error
	stop      context.CancelFunc
	wg        sync.WaitGroup
}

// New builds a server on the configuration cfg.Directory, so that a server
// whose record is broken fails here rather than on the first call.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.HousekeepingEvery <= 0 {
		cfg.HousekeepingEvery = 2 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, limits: cfg.Limits.withDefaults(), calls: map[string]*call{}, listeners: map[string]net.Addr{}}
	s.mwi.kick = make(chan struct{}, 1)
	s.setups.max = int64(s.limits.MaxSetups)
	s.sources = newSources(s.limits, time.Now)
	if cfg.Directory == nil {
		return nil, errors.New("sip: no configuration (Config.Directory)")
	}
	if err := s.Apply(ctx, cfg.Directory); err != nil {
		return nil, err
	}
	parser := sip.NewParser()
	parser.MaxMessageLength = s.limits.MaxMessageSize
	ua, err := sipgo.NewUA(
		sipgo.WithUserAgent("openum"),
		sipgo.WithUserAgentHostname(cfg.FQDN),
		sipgo.WithUserAgentParser(parser),
		sipgo.WithUserAgenTLSConfig(s.clientTLSConfig()),
		sipgo.WithUserAgentTransportLayerOptions(
			sip.WithTransportLayerReadFilter(s.filterDatagram), sip.WithTransportLayerLogger(cfg.Logger)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(cfg.Logger)),
	)
	if err != nil {
		return nil, fmt.Errorf("sip: %w", err)
	}
	s.ua = ua
	if s.sip, err = sipgo.NewServer(ua, sipgo.WithServerLogger(cfg.Logger)); err != nil {
		return nil, fmt.Errorf("sip: %w", err)
	}
	if s.client, err = sipgo.NewClient(ua, sipgo.WithClientLogger(cfg.Logger)); err != nil {
		return nil, fmt.Errorf("sip: %w", err)
	}
	s.sip.OnOptions(s.guard(s.onOptions))
	s.sip.OnInvite(s.guard(s.onInvite))
	s.sip.OnAck(s.guard(s.onAck))
	s.sip.OnBye(s.guard(s.onBye))
	s.sip.OnInfo(s.guard(s.onInfo))
	s.sip.OnNotify(s.guard(s.onNotify))
	s.sip.OnSubscribe(s.guard(s.onSubscribe))
	// sipgo answers a CANCEL that matches an INVITE in progress itself; one
	// that reaches here matches nothing.
	s.sip.OnCancel(s.guard(func(req *sip.Request, tx sip.ServerTransaction, _ Peer) {
		s.respond(tx, req, 481, nil)
	}))
	s.sip.OnNoRoute(s.guard(func(req *sip.Request, tx sip.ServerTransaction, _ Peer) {
		s.respond(tx, req, 501, nil)
	}))
	return s, nil
}

// Start opens the listeners and serves until Shutdown. With dial plans
// associated, it listens on TCP and TLS at once (SPEC SEC-1); with none, the
// TLS listener opens only with StartSecured (SPEC SEC-5).
func (s *Server) Start(ctx context.Context) error {
	v := s.view.Load()
	ctx, s.stop = context.WithCancel(ctx)
	tcpPort := port(s.cfg.TCPPort, v.server.SipTcpListeningPort)
	tcp, err := listenTCP(net.JoinHostPort(s.cfg.ListenIP, strconv.Itoa(tcpPort)))
	if err != nil {
		return fmt.Errorf("sip: listen on TCP: %w", err)
	}
	s.serve(tcp, "TCP", nil, s.sip.ServeTCP)
	if s.cfg.UDP {
		udp, err := net.ListenPacket("udp", tcp.Addr().String())
		if err != nil {
			s.closeAll()
			return fmt.Errorf("sip: listen on UDP: %w", err)
		}
		s.track("UDP", udp.LocalAddr(), udp.Close)
		s.wg.Go(func() { _ = s.sip.ServeUDP(udp) })
	}
	if len(v.server.DialPlans) > 0 || s.cfg.StartSecured {
		if err := s.openTLS(ctx, v); err != nil {
			s.closeAll()
			return err
		}
	}
	for transport, addr := range s.Addrs() {
		s.cfg.Events.Emit(ctx, events.Listening, "listening", slog.String("transport", transport), slog.String("address", addr.String()))
	}
	s.mu.Lock()
	s.started = true
	s.mu.Unlock()
	s.wg.Go(func() { s.housekeeping(ctx) })
	s.wg.Go(func() { s.watchMedia(ctx) })
	s.wg.Go(func() { s.pingGateways(ctx) })
	if s.cfg.Loads != nil {
		s.wg.Go(func() { s.publishLoads(ctx) })
	}
	if s.cfg.Messages != nil {
		s.wg.Go(func() { s.pollMessages(ctx) })
		s.wg.Go(func() { s.sendNotifies(ctx) })
	}
	return nil
}

// openTLS opens the TLS listener on the port v's record names (or the
// configured one) and logs the secured start (Exchange's 1112).
func (s *Server) openTLS(ctx context.Context, v *view) error {
	if s.cfg.Certs == nil {
		return errors.New("sip: the TLS listener needs a certificate manager")
	}
	tlsPort := port(s.cfg.TLSPort, v.server.SipTlsListeningPort)
	tl, err := listenTCP(net.JoinHostPort(s.cfg.ListenIP, strconv.Itoa(tlsPort)))
	if err != nil {
		return fmt.Errorf("sip: listen on TLS: %w", err)
	}
	s.serve(tl, "TLS", s.serverTLSConfig, s.sip.ServeTLS)
	cert := s.cfg.Certs.Current()
	s.cfg.Events.Emit(ctx, events.SecuredStart, "started in secured mode",
		slog.String("address", tl.Addr().String()), slog.String("thumbprint", cert.Thumbprint()),
		slog.String("sha256", cert.SHA256()))
	return nil
}

// tlsDue reports whether v asks for the TLS listener that a running
// server has not opened: the server started with no dial plan and has
// been given one since (SPEC SEC-4, SEC-5).
func (s *Server) tlsDue(v *view) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, open := s.listeners["TLS"]
	return s.started && !s.draining && !open && len(v.server.DialPlans) > 0
}

func port(flag, record int) int {
	switch {
	case flag > 0:
		return flag
	case flag < 0:
		return 0
	}
	return record
}

func (s *Server) serve(l net.Listener, transport string, tlsConfig func() *tls.Config, serve func(net.Listener) error) {
	g := newGuardedListener(l, transport, tlsConfig, s)
	s.track(transport, l.Addr(), g.Close)
	s.wg.Go(func() { _ = serve(g) })
}

func (s *Server) track(transport string, addr net.Addr, closer func() error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.listeners[transport] = addr
	s.closers = append(s.closers, closer)
}

// Addrs returns the address of each open listener, by transport.
func (s *Server) Addrs() map[string]net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]net.Addr, len(s.listeners))
	for k, v := range s.listeners {
		out[k] = v
	}
	return out
}

// housekeeping lifts expired bans and resolves gateway names again.
func (s *Server) housekeeping(ctx context.Context) {
	everyTick(ctx, s.cfg.HousekeepingEvery, func() {
		s.resolveAgain(ctx)
		s.liftBans(ctx)
	})
}

// everyTick calls fn every interval, the first time one interval from now,
// until ctx is done: the loop of the server's background goroutines.
func everyTick(ctx context.Context, every time.Duration, fn func()) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fn()
	}
}

// ActiveCalls returns the number of answered calls in progress, those
// Shutdown waits for; MaxCallsAllowed counts the server's outcalls too
// (callslots.go).
func (s *Server) ActiveCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

// Shutdown drains the server: new calls get 503, calls in progress go on
// until they end or ctx is done, when they are hung up. The server's own
// calls end at once: Outcall refuses new ones with ErrStopping, and those
// in progress are cancelled or hung up (outbound_stop.go). A call cut is
// ended as a hang-up ends it: its handler finishes (voice mail keeps what
// was recorded) and the caller gets a BYE, for up to cutGrace; then the
// listeners close. Shutdown returns ctx's error if calls had to be cut.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.draining = true
	s.mu.Unlock()
	s.outcalls.shutdown(ctx) // the server's own calls: none placed from now, those in progress ended
	s.cfg.Events.Emit(ctx, events.ServerStopping, "stopping: no new calls", slog.Int("calls", s.ActiveCalls()))
	if s.cfg.Loads != nil {
		s.refreshBoard(ctx) // at once: the others stop sending calls here
	}
	err := s.waitForCalls(ctx)
	if err != nil {
		s.mu.Lock()
		for _, c := range s.calls {
			c.cancel()
		}
		s.mu.Unlock()
		grace, cancel := context.WithTimeout(context.WithoutCancel(ctx), cutGrace)
		_ = s.waitForCalls(grace)
		cancel()
	}
	s.closeAll()
	if s.stop != nil {
		s.stop()
	}
	s.wg.Wait()
	return err
}

// cutGrace is how long Shutdown gives the calls it cuts to end: a BYE
// unanswered gives up after 5 s (sendBye), and a message is saved in less.
const cutGrace = 10 * time.Second

// waitForCalls returns once no call is in progress, or ctx's error.
func (s *Server) waitForCalls(ctx context.Context) error {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for s.ActiveCalls() > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

func (s *Server) closeAll() {
	s.mu.Lock()
	closers := s.closers
	s.closers = nil
	s.mu.Unlock()
	for _, c := range closers {
		_ = c()
	}
	_ = s.client.Close()
	_ = s.sip.Close()
	_ = s.ua.Close()
}
