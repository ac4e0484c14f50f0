package sip

// The server as a SIP client (SPEC PEER-3, DIAL-3): the one outbound path
// of every feature that places a call through a gateway (Play on Phone,
// transfer, call back) or sends it a request (message waiting).
//
// A gateway is chosen through the hunt groups of the dial plan, in their
// order. The connection is sipgo's: its transport layer keeps connections
// by remote address and reuses an open one (connection reuse is on by
// default), so calls to one gateway share one TCP or TLS connection. On a
// SIPSecured or Secured dial plan it is mutual TLS to the gateway's FQDN
// and port: openum presents its certificate, and DialTLSConfig verifies the
// gateway's against the trusted store (chain or pinned certificate, no CA
// leaf, validity, serverAuth, the FQDN).

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/openum/openum/internal/dialing"
	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/media"
)

// Purpose is why the server calls out: it decides which gateways may carry
// the call (dialing.Purpose, named here for the callers of Outcall).
type Purpose = dialing.Purpose

// The purposes, each with the gateway switch that allows it.
const (
	ForOutcall        = dialing.ForOutcall        // a call: gateways with OutcallsAllowed
	ForMessageWaiting = dialing.ForMessageWaiting // message waiting: gateways with MessageWaitingIndicatorAllowed
)

// OutcallRequest is a call for the server to place.
type OutcallRequest struct {
	DialPlan string // whose gateways carry the call, and whose VoIP security mode it keeps
	Number   string // the dial string, as the dialing rules built it: the Request-URI's user part
	Purpose  Purpose
	From     string // the calling number shown to the called party; "" for "openum"
	Mailbox  string // whose call it is (Play on Phone's mailbox), named in events 9501 and 9502; "" for none
	// RequestedBy is who asked for the call (an admin API token's name, a
	// command line's user), named in events 9501 and 9502; "" for the
	// server itself.
	RequestedBy string
	// Admit, when set, runs once the call holds its place among the
	// server's calls (MaxCallsAllowed) and before anything is dialled:
	// Play on Phone spends its outcall budgets there, so that a call the
	// full server refuses spends none. Its error refuses the call: Outcall
	// returns it as it is and dials nothing.
	Admit func() error
}

// ErrNoGateway is wrapped by Outcall's error when no gateway of the dial
// plan could carry the call: none may (disabled, not allowed, not answering
// OPTIONS), or each one tried failed.
var ErrNoGateway = errors.New("sip: no gateway could carry the call")

// Outcall places r's call through a gateway of its dial plan (SPEC PEER-3,
// DIAL-3) and returns it answered, its media running: on a Secured plan
// the offer is SRTP only. Gateways are tried in hunt-group order; one that
// fails (no connection, its certificate refused, a 5xx, no response) gets
// event 9501 and the next is tried. A 4xx or 6xx is the called number's
// answer (busy, not found) and ends the hunt with a *RejectedError. Event
// 9502 records the outcome. ctx bounds the setup, ringing included; the
// call then runs until Hangup or the far end hangs up.
//
// The call counts among the server's calls in progress (MaxCallsAllowed)
// from before its INVITE until it ends, however it ends; a server already
// at its limit dials nothing and returns a *FullError. A server stopping
// dials nothing and returns ErrStopping; Shutdown cancels a call still
// ringing (the error wraps ErrStopping) and hangs up one answered
// (Outcall.Err).
func (s *Server) Outcall(ctx context.Context, r OutcallRequest) (*Outcall, error) {
	setup, stopping, done, err := s.outcalls.begin(ctx)
	if err != nil {
		s.outcallPlaced(ctx, r, "", "refused: the server is stopping")
		return nil, err
	}
	out, err := s.outcall(setup, r)
	if err != nil {
		done()
		return nil, err
	}
	keep(out, stopping, done)
	return out, nil
}

// outcall is Outcall once the call is counted among the server's own.
func (s *Server) outcall(ctx context.Context, r OutcallRequest) (*Outcall, error) {
	release, err := s.takeSlot()
	if err != nil {
		return nil, err
	}
	if r.Admit != nil {
		if err := r.Admit(); err != nil {
			release()
			return nil, err
		}
	}
	var out *Outcall
	err = s.hunt(ctx, r, func(v *view, dp *directory.DialPlan, gw *directory.IPGateway) error {
		var err error
		out, err = s.dialGateway(ctx, v, dp, gw, r)
		return err
	})
	if err != nil {
		release()
		return nil, err
	}
	context.AfterFunc(out.ctx, release)
	return out, nil
}

// hunt tries the gateways that may carry r, in order, until try succeeds
// or fails in a way that is not the gateway's; it logs 9501 for each
// gateway that failed and, for an outcall, 9502 for the outcome.
func (s *Server) hunt(ctx context.Context, r OutcallRequest, try func(*view, *directory.DialPlan, *directory.IPGateway) error) error {
	v := s.view.Load()
	attrs := outcallAttrs(r)
	placed := func(gateway, result string) { s.outcallPlaced(ctx, r, gateway, result) }
	dp, gateways, why := v.outboundGateways(r.DialPlan, r.Purpose, s.gatewayDown)
	if len(gateways) == 0 {
		placed("", "no gateway: "+why)
		return fmt.Errorf("%w: %s", ErrNoGateway, why)
	}
	for _, gw := range gateways {
		err := try(v, dp, &gw)
		var rejected *RejectedError
		switch {
		case err == nil:
			placed(gw.Name, "answered")
			return nil
		case errors.Is(context.Cause(ctx), ErrStopping):
			placed(gw.Name, "cancelled: the server is stopping")
			return fmt.Errorf("%w: the call through gateway %s was cancelled", ErrStopping, gw.Name)
		case errors.As(err, &rejected) && (rejected.Status < 500 || rejected.Status >= 600):
			placed(gw.Name, fmt.Sprintf("refused: %d %s", rejected.Status, rejected.Reason))
			return err
		case ctx.Err() != nil:
			placed(gw.Name, "no answer: "+ctx.Err().Error())
			return err
		}
		s.cfg.Events.Emit(ctx, events.OutcallGatewayFailed, "gateway failed: trying the next",
			append(attrs, slog.String("gateway", gw.Name), slog.String("reason", err.Error()))...)
	}
	placed("", "failed: every gateway failed")
	return fmt.Errorf("%w: every gateway of dial plan %s failed", ErrNoGateway, dp.Name)
}

// outcallPlaced logs event 9502, r's outcome through gateway ("" when none
// carried it), unless r is message waiting's, whose outcome is 9510 or
// 9511 (mwi.go).
func (s *Server) outcallPlaced(ctx context.Context, r OutcallRequest, gateway, result string) {
	if r.Purpose == ForMessageWaiting {
		return
	}
	s.cfg.Events.Emit(ctx, events.OutcallPlaced, "outcall", append(outcallAttrs(r), slog.String("gateway", gateway), slog.String("result", result))...)
}

// outcallAttrs are the attributes of r's events 9501 and 9502.
func outcallAttrs(r OutcallRequest) []slog.Attr {
	attrs := []slog.Attr{slog.String("dialplan", r.DialPlan), slog.String("purpose", r.Purpose.String()), slog.String("number", r.Number)}
	if r.RequestedBy != "" {
		attrs = append(attrs, slog.String("user", r.RequestedBy))
	}
	if r.Mailbox != "" {
		attrs = append(attrs, slog.String("mailbox", r.Mailbox))
	}
	return attrs
}

// outboundGateways returns the dial plan and the gateways that may carry a
// call for purpose: dialing.Gateways' choice on the directory, less those
// that are down (not answering OPTIONS). With none, it says why.
func (v *view) outboundGateways(plan string, p Purpose, down func(gateway, transport string) bool) (*directory.DialPlan, []directory.IPGateway, string) {
	dp, err := v.dir.DialPlan(plan)
	if err != nil || !v.serves(dp.Name) {
		return nil, nil, fmt.Sprintf("dial plan %q is not served by %s", plan, v.server.Name)
	}
	usable, skipped := dialing.Gateways(v.dir, dp, p)
	var out []directory.IPGateway
	for _, gw := range usable {
		if down(gw.Name, gatewayTransport(dp)) {
			skipped = append(skipped, gw.Name+" does not answer OPTIONS")
		} else {
			out = append(out, gw)
		}
	}
	if len(out) == 0 {
		if len(skipped) == 0 {
			skipped = []string{"it has no hunt group"}
		}
		return dp, nil, fmt.Sprintf("dial plan %s: %s", dp.Name, strings.Join(skipped, "; "))
	}
	return dp, out, ""
}

// gatewayURI is where a request for user goes through gw: its address and
// port, over TLS when dp's signalling is secured.
func gatewayURI(gw *directory.IPGateway, dp *directory.DialPlan, user string) sip.Uri {
	params := sip.NewParams()
	params.Add("transport", strings.ToLower(gatewayTransport(dp)))
	return sip.Uri{User: user, Host: gw.Address, Port: gw.Port, UriParams: params}
}

func gatewayTransport(dp *directory.DialPlan) string {
	if dp.VoIPSecurity.SignalingSecured() {
		return "TLS"
	}
	return "TCP"
}

// dialGateway places r's call through gw.
func (s *Server) dialGateway(ctx context.Context, v *view, dp *directory.DialPlan, gw *directory.IPGateway, r OutcallRequest) (*Outcall, error) {
	ip, err := s.mediaIPFor(ctx, gw.Address)
	if err != nil {
		return nil, fmt.Errorf("sip: gateway %s: %w", gw.Name, err)
	}
	rtp := s.rtpPorts(v)
	ports := media.Ports{IP: ip, First: rtp.First, Last: rtp.Last}
	ua := &sipgo.DialogUA{Client: s.client, ContactHDR: *s.contact(gatewayTransport(dp))}
	user := r.From
	if user == "" {
		user = "openum"
	}
	from := sip.NewHeader("From", fmt.Sprintf("<sip:%s@%s>;tag=%s", user, s.cfg.FQDN, sip.GenerateTagN(16)))
	out, err := dial(ctx, ports, dp.VoIPSecurity == directory.Secured, func(offer []byte) (*sipgo.DialogClientSession, error) {
		return ua.Invite(ctx, gatewayURI(gw, dp, r.Number), offer, sip.NewHeader("Content-Type", "application/sdp"), from)
	})
	if err != nil {
		return nil, err
	}
	id := out.dialog.ID
	s.outcalls.byDialog.Store(id, placedCall{dialog: out.dialog, gateway: gw.Name})
	context.AfterFunc(out.ctx, func() { s.outcalls.byDialog.Delete(id) })
	return out, nil
}

// placedCall is an outcall in progress, in Server.outcalls by dialog ID.
type placedCall struct {
	dialog  *sipgo.DialogClientSession
	gateway string
}

// byeOutcall ends the outcall a BYE from its gateway names; false when the
// BYE names none.
func (s *Server) byeOutcall(req *sip.Request, tx sip.ServerTransaction, peer Peer) bool {
	id, err := sip.DialogIDFromRequestUAC(req)
	if err != nil {
		return false
	}
	c, ok := s.outcalls.byDialog.Load(id)
	if !ok || c.(placedCall).gateway != peer.Gateway {
		return false
	}
	_ = c.(placedCall).dialog.ReadBye(req, tx)
	return true
}

// dialledPeer identifies the peer at the far end of a connection openum
// opened (an outcall's, an OPTIONS ping's), which passed no guarded
// listener: as an accepted connection is, by its certificate over TLS (as
// DialTLSConfig verified it) or by its address over TCP.
func (s *Server) dialledPeer(req *sip.Request) (Peer, bool) {
	c, err := s.ua.TransportLayer().GetConnection(req.Transport(), req.Source())
	if err != nil || c == nil {
		return Peer{}, false
	}
	c.Ref(-1) // GetConnection took a reference; looking at the connection needs none
	tc, ok := c.(*sip.TCPConnection)
	if !ok {
		return Peer{}, false
	}
	src := addrPort(tc.RemoteAddr())
	var state *tls.ConnectionState
	switch conn := tc.Conn.(type) {
	case *tls.Conn:
		cs := conn.ConnectionState()
		state = &cs
	case *net.TCPConn:
	default: // an accepted connection (a peerConn): known by s.peers or closed
		return Peer{}, false
	}
	peer, why := s.identify(src.Addr(), req.Transport(), state)
	peer.Addr = src
	return peer, why == ""
}

// mediaIPFor is the address openum advertises for audio to host.
func (s *Server) mediaIPFor(ctx context.Context, host string) (netip.Addr, error) {
	ip, err := netip.ParseAddr(host)
	if err != nil {
		ips, lerr := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if lerr != nil || len(ips) == 0 {
			return netip.Addr{}, fmt.Errorf("resolve %s: %v", host, lerr)
		}
		ip = ips[0]
	}
	return s.localMediaIP(Peer{Addr: netip.AddrPortFrom(ip.Unmap(), 0)})
}

// rtpPorts is the range media ports come from.
func (s *Server) rtpPorts(v *view) directory.PortRange {
	if s.cfg.RTPPorts.Last != 0 {
		return s.cfg.RTPPorts
	}
	return v.server.RtpPortRange
}
