package sip

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/openum/openum/internal/events"
)

// Keepalive probes on the SIP TCP and TLS connections, which gateways keep
// open between calls: a peer silent for keepaliveIdle is probed every
// keepaliveInterval, and after keepaliveProbes unanswered probes the
// connection is gone. These are the values Go sets by default.
const (
	keepaliveIdle     = 15 // seconds
	keepaliveInterval = 15 // seconds
	keepaliveProbes   = 9
)

// listenTCP opens a SIP TCP or TLS listener on address. Its connections
// carry the keepalive settings above, set once on the listening socket:
// Linux copies them to each connection it accepts. Go would set them on
// each accepted connection instead, four system calls apiece, a part of a
// fresh handshake's CPU worth saving (SPEC PERF-3).
func listenTCP(address string) (net.Listener, error) {
	lc := net.ListenConfig{KeepAlive: -1, Control: func(_, _ string, c syscall.RawConn) error {
		var err error
		ctlErr := c.Control(func(fd uintptr) {
			for _, o := range []struct{ level, opt, value int }{
				{unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1},
				{unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, keepaliveIdle},
				{unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, keepaliveInterval},
				{unix.IPPROTO_TCP, unix.TCP_KEEPCNT, keepaliveProbes},
			} {
				if err = unix.SetsockoptInt(int(fd), o.level, o.opt, o.value); err != nil {
					return
				}
			}
		})
		if err = errors.Join(ctlErr, err); err != nil {
			return fmt.Errorf("TCP keepalive on the listening socket: %w", err)
		}
		return nil
	}}
	return lc.Listen(context.Background(), "tcp", address)
}

// guardedListener is the one layer openum puts in front of sipgo, which
// gives a request no access to the peer's certificate and sets no deadlines
// or limits. It accepts a connection, applies the per-source limits,
// completes the TLS handshake under a deadline, identifies the peer, records
// the identity for the connection, and only then hands the connection to
// sipgo's ServeTCP or ServeTLS.
type guardedListener struct {
	net.Listener
	transport string             // "TCP" or "TLS"
	tlsConfig func() *tls.Config // nil for TCP
	srv       *Server

	ready     chan net.Conn
	accepted  chan acceptedConn // to an idle admitter, if one waits
	done      chan struct{}
	closeOnce sync.Once
}

// acceptedConn is a connection the per-source limits let in, not yet
// admitted.
type acceptedConn struct {
	raw net.Conn
	ip  netip.Addr
}

// admitterLinger is how long an admitter that finished a connection waits
// for the next before it ends.
const admitterLinger = 5 * time.Second

func newGuardedListener(l net.Listener, transport string, tlsConfig func() *tls.Config, srv *Server) *guardedListener {
	g := &guardedListener{Listener: l, transport: transport, tlsConfig: tlsConfig, srv: srv,
		ready: make(chan net.Conn), accepted: make(chan acceptedConn), done: make(chan struct{})}
	go g.acceptLoop()
	return g
}

// Accept returns the next connection whose peer has been identified.
func (g *guardedListener) Accept() (net.Conn, error) {
	select {
	case c := <-g.ready:
		return c, nil
	case <-g.done:
		return nil, net.ErrClosed
	}
}

// Close stops accepting. Connections already handed out stay open.
func (g *guardedListener) Close() error {
	var err error
	g.closeOnce.Do(func() {
		close(g.done)
		err = g.Listener.Close()
	})
	return err
}

func (g *guardedListener) acceptLoop() {
	for {
		raw, err := g.Listener.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			g.Close()
			return
		}
		ip := addrPort(raw.RemoteAddr()).Addr()
		if why := g.srv.sources.openConn(ip); why != "" {
			g.srv.peerRefused(context.Background(), ip, g.transport, why)
			raw.Close()
			continue
		}
		// Handshakes run side by side: one slow peer must not hold up the rest.
		select {
		case g.accepted <- acceptedConn{raw, ip}:
		default:
			go g.admitter(acceptedConn{raw, ip})
		}
	}
}

// admitter admits c, then each connection handed to it while it waits,
// until none comes for admitterLinger. A goroutine started for each
// connection would grow its stack anew through each TLS handshake
// (crypto/tls runs deep): about 5 % of a fresh handshake's CPU went to
// copying stacks. An admitter keeps the stack it grew.
func (g *guardedListener) admitter(c acceptedConn) {
	idle := time.NewTimer(admitterLinger)
	defer idle.Stop()
	for {
		g.admit(c.raw, c.ip)
		idle.Reset(admitterLinger)
		select {
		case c = <-g.accepted:
		case <-idle.C:
			return
		case <-g.done:
			return
		}
	}
}

// admit completes the handshake and identifies the peer, or closes the
// connection and says why in the event log.
func (g *guardedListener) admit(raw net.Conn, ip netip.Addr) {
	ctx := context.Background()
	conn := raw
	var state *tls.ConnectionState
	if g.tlsConfig != nil {
		tc := tls.Server(raw, g.tlsConfig())
		// A deadline on the socket, not HandshakeContext: a context that can
		// be done costs crypto/tls a goroutine to watch it, on every
		// handshake.
		_ = raw.SetDeadline(time.Now().Add(g.srv.limits.HandshakeTimeout))
		err := tc.Handshake()
		_ = raw.SetDeadline(time.Time{})
		if err != nil {
			g.srv.handshakeFailed(ctx, ip, err)
			raw.Close()
			g.srv.sources.closeConn(ip)
			return
		}
		g.srv.stats.TLSHandshakes.Add(1)
		cs := tc.ConnectionState()
		state, conn = &cs, tc
	}
	peer, why := g.srv.identify(ip, g.transport, state)
	if why != "" {
		g.srv.peerRefused(ctx, ip, g.transport, why)
		conn.Close()
		g.srv.sources.closeConn(ip)
		return
	}
	peer.Addr, peer.Local = addrPort(raw.RemoteAddr()), addrPort(raw.LocalAddr()).Addr().Unmap()
	pc := &peerConn{Conn: conn, idle: g.srv.limits.IdleTimeout, whole: g.srv.limits.MessageTimeout,
		frame:        framer{max: g.srv.limits.MaxMessageSize},
		onIncomplete: func(size int) { g.srv.messageIncomplete(peer, size) },
		local:        newFormattedAddr(conn.LocalAddr()), remote: newFormattedAddr(conn.RemoteAddr())}
	key := connKey(g.transport, raw.RemoteAddr().String())
	g.srv.peers.Store(key, peer)
	pc.onClose = func() {
		g.srv.peers.Delete(key)
		g.srv.sources.closeConn(ip)
	}
	select {
	case g.ready <- pc:
	case <-g.done:
		pc.Close()
	}
}

// peerConn closes a connection that stays silent longer than idle, or whose
// message has not arrived whole within whole of its first byte, and forgets
// the peer when it closes. It sees the plaintext of a TLS connection: each
// Read's deadline is absolute, so a trickle of partial TLS records is bounded
// by it as well as a trickle of bytes.
type peerConn struct {
	net.Conn
	idle         time.Duration
	whole        time.Duration // Limits.MessageTimeout
	frame        framer
	onIncomplete func(size int) // a message did not arrive whole in time
	onClose      func()
	closeOnce    sync.Once
	// The connection's addresses, formatted once (see formattedAddr).
	local, remote *formattedAddr
}

// LocalAddr is the connection's local address.
func (c *peerConn) LocalAddr() net.Addr { return c.local }

// RemoteAddr is the peer's address.
func (c *peerConn) RemoteAddr() net.Addr { return c.remote }

// formattedAddr is an address whose String is formatted once. sipgo
// formats both addresses of a connection for its debug log each time it
// takes or releases the connection for a request or a response
// (TCPConnection.Ref and TryClose), even with the log off: a
// *net.TCPAddr would format them anew, three allocations each, some
// twenty-five per call.
type formattedAddr struct {
	net.Addr
	s string
}

func newFormattedAddr(a net.Addr) *formattedAddr { return &formattedAddr{Addr: a, s: a.String()} }

func (a *formattedAddr) String() string { return a.s }

// Read waits for the idle deadline between messages; within one, for the
// earlier of that and the message's own deadline, which later reads do not
// move: one byte now and then must not hold a connection and its buffers.
func (c *peerConn) Read(b []byte) (int, error) {
	deadline := time.Now().Add(c.idle)
	since, _, partial := c.frame.partial()
	bounded := partial && since.Add(c.whole).Before(deadline)
	if bounded {
		deadline = since.Add(c.whole)
	}
	if err := c.Conn.SetReadDeadline(deadline); err != nil {
		return 0, err
	}
	n, err := c.Conn.Read(b)
	c.frame.feed(b[:n], time.Now())
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		if bounded {
			_, size, _ := c.frame.partial()
			c.onIncomplete(size)
		}
		// sipgo treats only net.ErrClosed and EOF as a quiet end.
		c.Close()
		return n, net.ErrClosed
	}
	return n, err
}

func (c *peerConn) Close() error {
	err := c.Conn.Close()
	c.closeOnce.Do(c.onClose)
	return err
}

// messageIncomplete logs a connection closed because a message of size
// bytes so far did not arrive whole within MessageTimeout.
func (s *Server) messageIncomplete(peer Peer, size int) {
	s.cfg.Events.Emit(context.Background(), events.MessageIncomplete, "message not whole in time: connection closed",
		slog.String("Source", peer.Addr.String()), slog.String("Transport", peer.Transport),
		slog.String("Gateway", peer.Gateway), slog.Int("Bytes", size), slog.String("Bound", s.limits.MessageTimeout.String()))
}

func connKey(transport, remote string) string { return transport + " " + remote }

func addrPort(a net.Addr) netip.AddrPort {
	ap, _ := netip.ParseAddrPort(a.String())
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
