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
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/openum/openum/internal/certs"
	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/media"
)

// Snapshotter is where the server reads its configuration from.
type Snapshotter interface {
	Snapshot(ctx context.Context) (*directory.Snapshot, error)
}

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
	// ReloadEvery is how often the directory is read for changes.
	ReloadEvery time.Duration
	Directory   Snapshotter
	Certs       *certs.Manager
	Events      *events.Log
	Calls       CallHandler // takes answered calls; nil holds them silent
	// Ready, when set, is asked just before an admitted call is answered
	// whether the application can take it now (voice mail: is there disk
	// space to keep a message?); a Rejection refuses the call as it says.
	// A function, not part of CallHandler, so that sip knows nothing of
	// what is checked, and a handler with nothing to check needs no stub.
	// The Call it gets has no Audio yet.
	Ready  func(c *Call) *Rejection
	Logger *slog.Logger // sipgo's own debug log; nil discards it
}

// Server answers SIP for openum. Create it with New, run it with Start and
// stop it with Shutdown. Its methods are safe for concurrent use.
type Server struct {
	cfg     Config
	limits  Limits
	view    atomic.Pointer[view]
	sources *sources
	peers   sync.Map // connKey → Peer, for connections the guard let in

	ua      *sipgo.UserAgent
	sip     *sipgo.Server
	client  *sipgo.Client
	dialogs map[string]*sipgo.DialogServerCache // by transport

	mu        sync.Mutex
	calls     map[string]*call // by Call-ID
	draining  bool
	listeners map[string]net.Addr
	closers   []func() error
	stop      context.CancelFunc
	wg        sync.WaitGroup
}

type call struct {
	id     string
	plan   directory.DialPlan
	cancel context.CancelFunc
	stream *media.Stream

	mu     sync.Mutex // serialises re-INVITEs
	answer *media.Answer
}

// New builds a server. It reads the directory once, so that a server whose
// record is broken fails here rather than on the first call.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.ReloadEvery <= 0 {
		cfg.ReloadEvery = 2 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, limits: cfg.Limits.withDefaults(), calls: map[string]*call{}, listeners: map[string]net.Addr{}}
	s.sources = newSources(s.limits, time.Now)
	if err := s.Reload(ctx); err != nil {
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

// Reload reads the directory and makes new calls follow it; calls in
// progress keep the configuration they began with. On error the current
// configuration stays.
func (s *Server) Reload(ctx context.Context) error {
	snap, err := s.cfg.Directory.Snapshot(ctx)
	if err != nil {
		return fmt.Errorf("sip: reload: %w", err)
	}
	return s.apply(ctx, snap)
}

// refresh reloads when the directory changed, or when the gateways' names
// are due to be resolved again (dnsRefresh): the housekeeping tick is short
// and name look-ups are not free.
func (s *Server) refresh(ctx context.Context) error {
	snap, err := s.cfg.Directory.Snapshot(ctx)
	if err != nil {
		return fmt.Errorf("sip: reload: %w", err)
	}
	if old := s.view.Load(); old != nil && reflect.DeepEqual(old.dir, snap) && time.Since(old.built) < dnsRefresh {
		return nil
	}
	return s.apply(ctx, snap)
}

// dnsRefresh is how often gateway FQDNs are resolved again for TCP peers.
const dnsRefresh = time.Minute

func (s *Server) apply(ctx context.Context, snap *directory.Snapshot) error {
	v, err := newView(ctx, snap, s.cfg.FQDN)
	if err != nil {
		return err
	}
	old := s.view.Swap(v)
	for _, clash := range v.shared {
		if old == nil || !slices.Contains(old.shared, clash) {
			// Exchange's 1175: over TCP such a source is taken for the first gateway.
			s.cfg.Events.Emit(ctx, events.GatewaysShareAddress, "two gateways share an address", slog.String("gateways", clash))
		}
	}
	if s.cfg.Certs != nil {
		// A new name or pinned certificate applies without a restart.
		s.cfg.Certs.SetServer(v.server.Name, v.server.CertificateThumbprint)
	}
	return nil
}

func newView(ctx context.Context, snap *directory.Snapshot, fqdn string) (*view, error) {
	sv, err := snap.Server(fqdn)
	if err != nil {
		return nil, fmt.Errorf("sip: no server record %q in the directory (openum server set --name %s)", fqdn, fqdn)
	}
	v := &view{dir: snap, server: *sv, byIP: map[netip.Addr]string{}, byFQDN: map[string]string{}, built: time.Now()}
	// Over TCP a gateway is known by its address: the one configured, or
	// those its FQDN resolves to now. A configured address comes first.
	claim := func(ip netip.Addr, gateway string) {
		if other, taken := v.byIP[ip]; !taken {
			v.byIP[ip] = gateway
		} else if other != gateway {
			v.shared = append(v.shared, fmt.Sprintf("%s and %s are both %s", other, gateway, ip))
		}
	}
	var named []directory.IPGateway
	for _, g := range snap.IPGateways {
		if g.Status == directory.Disabled {
			continue
		}
		if ip, err := netip.ParseAddr(g.Address); err == nil {
			claim(ip.Unmap(), g.Name)
		} else {
			v.byFQDN[strings.ToLower(strings.TrimSuffix(g.Address, "."))] = g.Name
			named = append(named, g)
		}
	}
	for _, g := range named {
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		addrs, _ := net.DefaultResolver.LookupNetIP(rctx, "ip", g.Address)
		cancel()
		for _, a := range addrs {
			claim(a.Unmap(), g.Name)
		}
	}
	return v, nil
}

// Start opens the listeners and serves until Shutdown. With dial plans
// associated, it listens on TCP and TLS at once (SPEC SEC-1); with none, the
// TLS listener opens only with StartSecured (SPEC SEC-5).
func (s *Server) Start(ctx context.Context) error {
	v := s.view.Load()
	ctx, s.stop = context.WithCancel(ctx)
	tcpPort, tlsPort := port(s.cfg.TCPPort, v.server.SipTcpListeningPort), port(s.cfg.TLSPort, v.server.SipTlsListeningPort)
	tcp, err := net.Listen("tcp", net.JoinHostPort(s.cfg.ListenIP, strconv.Itoa(tcpPort)))
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
		if s.cfg.Certs == nil {
			s.closeAll()
			return errors.New("sip: the TLS listener needs a certificate manager")
		}
		tl, err := net.Listen("tcp", net.JoinHostPort(s.cfg.ListenIP, strconv.Itoa(tlsPort)))
		if err != nil {
			s.closeAll()
			return fmt.Errorf("sip: listen on TLS: %w", err)
		}
		s.serve(tl, "TLS", s.serverTLSConfig, s.sip.ServeTLS)
		cert := s.cfg.Certs.Current()
		s.cfg.Events.Emit(ctx, events.StartedSecured, "started in secured mode",
			slog.String("address", tl.Addr().String()), slog.String("thumbprint", cert.Thumbprint()),
			slog.String("sha256", cert.SHA256()))
	}
	for transport, addr := range s.Addrs() {
		s.cfg.Events.Emit(ctx, events.Listening, "listening", slog.String("transport", transport), slog.String("address", addr.String()))
	}
	s.wg.Go(func() { s.housekeeping(ctx) })
	return nil
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

// housekeeping reloads the directory and lifts expired bans.
func (s *Server) housekeeping(ctx context.Context) {
	t := time.NewTicker(s.cfg.ReloadEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := s.refresh(ctx); err != nil {
			s.cfg.Events.Emit(ctx, events.DirectoryReloadFailed, "directory reload failed; the current configuration stays", slog.String("error", err.Error()))
		}
		s.liftBans(ctx)
	}
}

// ActiveCalls returns the number of calls in progress.
func (s *Server) ActiveCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

// Shutdown drains the server: new calls get 503, calls in progress go on
// until they end or ctx is done, when they are hung up. Then the listeners
// close. Shutdown returns ctx's error if calls had to be cut.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.draining = true
	s.mu.Unlock()
	s.cfg.Events.Emit(ctx, events.ServerStopping, "stopping: no new calls", slog.Int("calls", s.ActiveCalls()))
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	var err error
	for s.ActiveCalls() > 0 && err == nil {
		select {
		case <-ctx.Done():
			err = ctx.Err()
		case <-t.C:
		}
	}
	s.mu.Lock()
	for _, c := range s.calls {
		c.cancel()
	}
	s.mu.Unlock()
	s.closeAll()
	if s.stop != nil {
		s.stop()
	}
	s.wg.Wait()
	return err
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

func (s *Server) serverTLSConfig() *tls.Config {
	c := s.cfg.Certs.ServerTLSConfig()
	s.applyTLSSettings(c)
	return c
}

func (s *Server) clientTLSConfig() *tls.Config {
	if s.cfg.Certs == nil {
		return &tls.Config{MinVersion: tls.VersionTLS12}
	}
	c := s.cfg.Certs.ClientTLSConfig("")
	s.applyTLSSettings(c)
	return c
}

func (s *Server) applyTLSSettings(c *tls.Config) {
	c.MinVersion = max(s.cfg.TLS.MinVersion, tls.VersionTLS12)
	c.SessionTicketsDisabled = !s.cfg.TLS.SessionTickets
	if s.cfg.TLS.CipherSuites != nil {
		c.CipherSuites = s.cfg.TLS.CipherSuites
	}
}

// identify finds the gateway at the other end (SPEC PEER-1, PEER-2): over
// TLS by the names in its verified certificate, otherwise by its address.
// It returns why not when the peer is no configured gateway.
func (s *Server) identify(ip netip.Addr, transport string, state *tls.ConnectionState) (Peer, string) {
	v := s.view.Load()
	if state == nil {
		if name, ok := v.byIP[ip]; ok {
			return Peer{Gateway: name, Transport: transport}, ""
		}
		return Peer{}, "address is not a configured gateway"
	}
	if len(state.VerifiedChains) == 0 || len(state.PeerCertificates) == 0 {
		return Peer{}, "no verified client certificate"
	}
	leaf := state.PeerCertificates[0]
	names := certs.Names(leaf)
	for _, n := range names {
		if name, ok := v.byFQDN[strings.ToLower(n)]; ok {
			return Peer{Gateway: name, Transport: transport, Certificate: certs.Thumbprint(leaf)}, ""
		}
	}
	return Peer{}, fmt.Sprintf("certificate %s names %s, which is no enabled gateway's FQDN",
		certs.Thumbprint(leaf), strings.Join(names, ", "))
}

// peerRefused logs a refusal and bans a source refused too often; a
// banned source's refusals are counted instead.
func (s *Server) peerRefused(ctx context.Context, ip netip.Addr, transport, why string) {
	if s.refusedWhileBanned(ctx, ip, transport) {
		return
	}
	s.cfg.Events.Emit(ctx, events.PeerRefused, "peer refused",
		slog.String("source", ip.String()), slog.String("transport", transport), slog.String("reason", why))
	if s.sources.refused(ip) {
		s.cfg.Events.Emit(ctx, events.BanAdded, "source banned after repeated refusals",
			slog.String("source", ip.String()), slog.Duration("for", s.limits.BanFor))
	}
}

// handshakeFailed logs a failed TLS handshake: Exchange's 1113 (the
// certificate exchange failed) with the Reason when the peer's certificate
// was missing or refused, else 9209.
func (s *Server) handshakeFailed(ctx context.Context, ip netip.Addr, err error) {
	if s.refusedWhileBanned(ctx, ip, "TLS") {
		return
	}
	id := events.TLSHandshakeFailed
	attrs := []slog.Attr{slog.String("source", ip.String()), slog.String("error", err.Error())}
	if reason, ok := certificateRefused(err); ok {
		id = events.GatewayTLSFailed
		attrs = append(attrs, slog.String("Reason", reason))
	}
	s.cfg.Events.Emit(ctx, id, "TLS handshake failed", attrs...)
	if s.sources.refused(ip) {
		s.cfg.Events.Emit(ctx, events.BanAdded, "source banned after repeated refusals",
			slog.String("source", ip.String()), slog.Duration("for", s.limits.BanFor))
	}
}

// certificateRefused returns why the peer's certificate was refused, when
// that is why a handshake failed: by openum's trust rules (PEER-2), or by
// crypto/x509's.
func certificateRefused(err error) (string, bool) {
	var refused *certs.PeerCertificateError
	var invalid *tls.CertificateVerificationError
	switch {
	case errors.As(err, &refused):
		return refused.Reason, true
	case errors.As(err, &invalid):
		return invalid.Err.Error(), true
	case strings.Contains(err.Error(), "certificate"):
		// crypto/tls has no error type for a client certificate missing
		// or unparsable: its message is all there is.
		return err.Error(), true
	}
	return "", false
}

// filterDatagram drops UDP datagrams from banned or unknown sources before
// sipgo parses them: a scanner gets no answer at all. Streams were already
// checked when their connection was accepted.
func (s *Server) filterDatagram(info sip.TransportReadProps, data []byte) ([]byte, error) {
	if info.Transport != "UDP" {
		return data, nil
	}
	ip := addrPort(info.RemoteAddr).Addr()
	if s.refusedWhileBanned(context.Background(), ip, "UDP") {
		return nil, nil
	}
	if _, ok := s.view.Load().byIP[ip]; !ok {
		s.peerRefused(context.Background(), ip, "UDP", "address is not a configured gateway")
		return nil, nil
	}
	return data, nil
}

// handler is a request handler that knows its peer.
type handler func(req *sip.Request, tx sip.ServerTransaction, peer Peer)

// guard runs the checks every request passes before its handler: a known
// peer, the per-source rate and a bounded header count.
func (s *Server) guard(h handler) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		peer, ok := s.peerOf(req)
		if !ok {
			return // no response: the peer learns nothing
		}
		ctx := context.Background()
		if !s.sources.allowRequest(peer.Addr.Addr()) {
			s.reject(ctx, tx, req, peer, &Rejection{Status: 503, Event: events.CallRefusedOverload, RetryAfter: 5,
				Cause: "request rate above the per-source limit"})
			return
		}
		if n := len(req.Headers()); n > s.limits.MaxHeaders {
			s.reject(ctx, tx, req, peer, refuse(400, events.MalformedRequest, "%d header fields, more than %d", n, s.limits.MaxHeaders))
			return
		}
		if rej := checkRequest(req); rej != nil {
			s.reject(ctx, tx, req, peer, rej)
			return
		}
		h(req, tx, peer)
	}
}

func (s *Server) peerOf(req *sip.Request) (Peer, bool) {
	if p, ok := s.peers.Load(connKey(req.Transport(), req.Source())); ok {
		return p.(Peer), true
	}
	if req.Transport() != "UDP" {
		return Peer{}, false
	}
	src, err := netip.ParseAddrPort(req.Source())
	if err != nil {
		return Peer{}, false
	}
	peer, why := s.identify(src.Addr().Unmap(), "UDP", nil)
	peer.Addr = src
	return peer, why == ""
}

func (s *Server) respond(tx sip.ServerTransaction, req *sip.Request, status int, body []byte, headers ...sip.Header) {
	res := sip.NewResponseFromRequest(req, status, reason(status), body)
	res.SipVersion = "SIP/2.0" // sipgo copies the request's, whatever it says
	for _, h := range headers {
		res.AppendHeader(h)
	}
	_ = tx.Respond(res)
}

// reject answers a refused request in the one place where a Rejection
// becomes a response and an event.
func (s *Server) reject(ctx context.Context, tx sip.ServerTransaction, req *sip.Request, peer Peer, r *Rejection) {
	var headers []sip.Header
	if r.RetryAfter > 0 {
		headers = append(headers, sip.NewHeader("Retry-After", strconv.Itoa(r.RetryAfter)))
	}
	if r.Unsupported != "" {
		headers = append(headers, sip.NewHeader("Unsupported", r.Unsupported))
	}
	ok, held := s.sources.mayLog(peer.Addr.Addr(), r.Event) // counted before the peer hears
	s.respond(tx, req, r.Status, nil, headers...)
	if !ok {
		return
	}
	attrs := append([]slog.Attr{
		slog.String("method", string(req.Method)), slog.Int("status", r.Status), slog.String("reason", r.Cause),
		slog.String("gateway", peer.Gateway), slog.String("source", peer.Addr.String()), slog.String("transport", peer.Transport),
	}, r.Attrs...)
	if held > 0 {
		attrs = append(attrs, slog.Int("Suppressed", held))
	}
	s.cfg.Events.Emit(ctx, r.Event, "request refused", attrs...)
}

func (s *Server) onOptions(req *sip.Request, tx sip.ServerTransaction, peer Peer) {
	if _, rej := s.view.Load().checkPeer(peer); rej != nil {
		s.reject(context.Background(), tx, req, peer, rej)
		return
	}
	s.respond(tx, req, 200, nil,
		sip.NewHeader("Allow", "INVITE, ACK, BYE, CANCEL, OPTIONS"),
		sip.NewHeader("Accept", "application/sdp"))
}

func (s *Server) onInvite(req *sip.Request, tx sip.ServerTransaction, peer Peer) {
	ctx := context.Background()
	if req.To() != nil && req.To().Params.Has("tag") {
		s.reinvite(ctx, req, tx, peer)
		return
	}
	v := s.view.Load()
	s.mu.Lock()
	draining, active := s.draining, len(s.calls)
	s.mu.Unlock()
	if draining {
		s.reject(ctx, tx, req, peer, &Rejection{Status: 503, Event: events.CallRefusedOverload, RetryAfter: 30, Cause: "server is stopping"})
		return
	}
	adm, rej := v.admitInvite(peer, req, active)
	if rej != nil {
		s.reject(ctx, tx, req, peer, rej)
		return
	}
	s.answer(ctx, req, tx, peer, adm)
}

// Call is an answered call, as the server hands it to the application
// (voice mail). Everything in it was checked by admission.
type Call struct {
	ID         string // the SIP Call-ID
	Gateway    directory.IPGateway
	HuntGroup  directory.HuntGroup
	DialPlan   directory.DialPlan
	Directory  *directory.Snapshot // the configuration the call began with
	Caller     string              // the calling number
	CallerName string
	Target     string // the number the call is for: Diversion, else History-Info, else the request URI
	Transport  string
	Audio      *media.Stream
}

// CallHandler takes answered calls. HandleCall runs for the whole call: its
// ctx is done when the caller hangs up or MaxCallDuration passes, and when
// it returns, the server hangs up.
type CallHandler interface {
	HandleCall(ctx context.Context, c *Call)
}

// answer takes the admitted call up: it opens the media port, answers the
// offer, and runs the call handler until one side hangs up.
func (s *Server) answer(ctx context.Context, req *sip.Request, tx sip.ServerTransaction, peer Peer, adm *admission) {
	secure := adm.DialPlan.VoIPSecurity == directory.Secured
	if adm.Offer == nil {
		// openum answers offers; it does not make them (no late offer).
		s.reject(ctx, tx, req, peer, refuse(488, events.SRTPNegotiationFailed,
			"dial plan %s: the INVITE carries no SDP offer", adm.DialPlan.Name))
		return
	}
	v := s.view.Load()
	caller, name := callerOf(req)
	app := &Call{
		ID: req.CallID().Value(), Gateway: adm.Gateway, HuntGroup: adm.HuntGroup, DialPlan: adm.DialPlan, Directory: v.dir,
		Caller: caller, CallerName: name, Target: targetOf(req), Transport: peer.Transport,
	}
	if s.cfg.Ready != nil {
		if rej := s.cfg.Ready(app); rej != nil {
			s.reject(ctx, tx, req, peer, rej)
			return
		}
	}
	ip, err := s.localMediaIP(peer)
	var conn *net.UDPConn
	if err == nil {
		ports := v.server.RtpPortRange
		if s.cfg.RTPPorts.Last != 0 {
			ports = s.cfg.RTPPorts
		}
		conn, err = media.ListenUDP(ip, ports.First, ports.Last)
	}
	if err != nil {
		s.reject(ctx, tx, req, peer, refuse(503, events.CallRefusedOverload, "no media port: %v", err))
		return
	}
	answer, err := media.NewAnswer(adm.Offer, addrPort(conn.LocalAddr()), secure)
	if err != nil {
		conn.Close()
		s.reject(ctx, tx, req, peer, refuse(488, events.SRTPNegotiationFailed, "%v", err))
		return
	}
	stream, err := media.NewStream(conn, adm.Offer, answer)
	if err != nil {
		conn.Close()
		s.reject(ctx, tx, req, peer, refuse(488, events.SRTPNegotiationFailed, "%v", err))
		return
	}
	defer stream.Close()
	dlg, err := s.dialogCache(peer.Transport).ReadInvite(req, tx)
	if err != nil {
		s.reject(ctx, tx, req, peer, refuse(400, events.MalformedRequest, "%v", err))
		return
	}
	defer dlg.Close()
	callCtx, cancel := context.WithTimeout(ctx, time.Duration(adm.DialPlan.MaxCallDuration)*time.Minute)
	defer cancel()
	c := &call{id: req.CallID().Value(), plan: adm.DialPlan, cancel: cancel, stream: stream, answer: answer}
	s.mu.Lock()
	s.calls[c.id] = c
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.calls, c.id)
		s.mu.Unlock()
	}()
	if err := dlg.Respond(200, "OK", answer.Marshal(), sip.NewHeader("Content-Type", "application/sdp")); err != nil {
		return
	}
	suite := "none"
	if answer.Crypto != nil {
		suite = answer.Crypto.Suite
	}
	s.cfg.Events.Emit(ctx, events.CallAdmitted, "call admitted",
		slog.String("gateway", adm.Gateway.Name), slog.String("huntgroup", adm.HuntGroup.Name),
		slog.String("dialplan", adm.DialPlan.Name), slog.String("security", string(adm.DialPlan.VoIPSecurity)),
		slog.String("transport", peer.Transport), slog.String("srtp", suite), slog.String("callid", c.id))

	// The caller hanging up, or its media going silent for MediaTimeout
	// (a gateway that lost the call without a BYE), ends the call.
	go func() {
		started := time.Now()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-dlg.Context().Done():
				cancel()
				return
			case <-callCtx.Done():
				return
			case <-tick.C:
				if stream.Quiet(s.limits.MediaTimeout, started) {
					s.cfg.Events.Emit(ctx, events.CallEnded, "no media from the caller: hanging up",
						slog.String("callid", c.id), slog.Duration("silent", s.limits.MediaTimeout))
					cancel()
					return
				}
			}
		}
	}()
	if s.cfg.Calls != nil {
		app.Audio = stream
		s.cfg.Calls.HandleCall(callCtx, app)
	} else {
		<-callCtx.Done()
	}
	if dlg.Context().Err() == nil {
		byeCtx, cancelBye := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		_ = dlg.Bye(byeCtx)
		cancelBye()
	}
}

// reinvite changes a call's media (SPEC MEDIA-3): a new address or port,
// hold and resume, new keys. The dial plan's mode still holds: a Secured
// call that would lose SRTP gets 488 and goes on as it was.
func (s *Server) reinvite(ctx context.Context, req *sip.Request, tx sip.ServerTransaction, peer Peer) {
	s.mu.Lock()
	c := s.calls[req.CallID().Value()]
	s.mu.Unlock()
	if c == nil {
		s.respond(tx, req, 481, nil)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	contact := s.contact(peer.Transport)
	if len(req.Body()) == 0 {
		// An offer-less re-INVITE (a session refresh): repeat the answer.
		s.respond(tx, req, 200, c.answer.Marshal(), sip.NewHeader("Content-Type", "application/sdp"), contact)
		return
	}
	offer, err := media.ParseOffer(req.Body())
	if err == nil {
		if rej := mediaMatchesMode(&c.plan, offer); rej != nil {
			s.reject(ctx, tx, req, peer, rej)
			return
		}
	}
	var answer *media.Answer
	if err == nil {
		answer, err = c.answer.Reanswer(offer)
	}
	if err == nil {
		err = c.stream.Update(offer, answer)
	}
	if err != nil {
		s.reject(ctx, tx, req, peer, refuse(488, events.SRTPNegotiationFailed, "re-INVITE on dial plan %s: %v", c.plan.Name, err))
		return
	}
	c.answer = answer
	s.respond(tx, req, 200, answer.Marshal(), sip.NewHeader("Content-Type", "application/sdp"), contact)
}

// localMediaIP is the address openum advertises for a call's audio: the
// listening address, or the local address that routes to the peer.
func (s *Server) localMediaIP(peer Peer) (netip.Addr, error) {
	if ip, err := netip.ParseAddr(s.cfg.ListenIP); err == nil && !ip.IsUnspecified() {
		return ip, nil
	}
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(peer.Addr.Addr(), 9)))
	if err != nil {
		return netip.Addr{}, err
	}
	defer conn.Close()
	return addrPort(conn.LocalAddr()).Addr(), nil
}

func (s *Server) dialogCache(transport string) *sipgo.DialogServerCache {
	contact := s.contact(transport)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dialogs == nil {
		s.dialogs = map[string]*sipgo.DialogServerCache{}
	}
	d := s.dialogs[transport]
	if d == nil {
		d = sipgo.NewDialogServerCache(s.client, *contact)
		s.dialogs[transport] = d
	}
	return d
}

// contact is openum's Contact on a transport: its listening address.
func (s *Server) contact(transport string) *sip.ContactHeader {
	addr := s.Addrs()[transport]
	host, portStr, _ := net.SplitHostPort(addr.String())
	p, _ := strconv.Atoi(portStr)
	if ip, err := netip.ParseAddr(host); err == nil && ip.IsUnspecified() {
		host = s.cfg.FQDN
	}
	params := sip.NewParams()
	params.Add("transport", strings.ToLower(transport))
	return &sip.ContactHeader{Address: sip.Uri{User: "openum", Host: host, Port: p, UriParams: params}}
}

func (s *Server) onAck(req *sip.Request, tx sip.ServerTransaction, peer Peer) {
	_ = s.dialogCache(peer.Transport).ReadAck(req, tx)
}

func (s *Server) onBye(req *sip.Request, tx sip.ServerTransaction, peer Peer) {
	if err := s.dialogCache(peer.Transport).ReadBye(req, tx); err != nil {
		s.respond(tx, req, 481, nil)
	}
}
