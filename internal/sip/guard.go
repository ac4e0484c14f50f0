package sip

// The request guard every request passes, the one place a Rejection becomes
// a response, and the small handlers (OPTIONS, ACK, BYE; INFO is in info.go).

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/openum/openum/internal/events"
)

// handler is a request handler that knows its peer.
type handler func(req *sip.Request, tx sip.ServerTransaction, peer Peer)

// guard runs the checks every request passes before its handler: a known
// peer, the per-source rate and a bounded header count. A request within
// a call in progress (ACK, BYE, INFO, re-INVITE) still counts towards the
// rate but is not refused for it: a gateway at its limit could otherwise
// neither confirm nor end the calls it has, and they would last until
// their timeouts.
func (s *Server) guard(h handler) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		peer, ok := s.peerOf(req)
		if !ok {
			return // no response: the peer learns nothing
		}
		ctx := context.Background()
		if !s.sources.allowRequest(peer.Addr.Addr()) && s.dialogOf(req, peer) == nil {
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
		if !req.IsAck() { // sipgo_stack.go: one shallow copy, not a deep one
			growStack()
		}
		h(req, tx, peer)
		if req.IsInvite() {
			releaseAnsweredInvite(tx)
		}
	}
}

func (s *Server) peerOf(req *sip.Request) (Peer, bool) {
	if p, ok := s.peers.Load(connKey(req.Transport(), req.Source())); ok {
		return p.(Peer), true
	}
	if req.Transport() != "UDP" {
		return s.dialledPeer(req)
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
// becomes a response and an event. An ACK gets no response (RFC 3261
// section 17): a refused one is dropped, with its event.
func (s *Server) reject(ctx context.Context, tx sip.ServerTransaction, req *sip.Request, peer Peer, r *Rejection) {
	ok, held := s.sources.mayLog(peer.Addr.Addr(), r.Event) // counted before the peer hears
	if !req.IsAck() {
		s.respond(tx, req, r.Status, nil, r.headers()...)
	}
	if !ok {
		return
	}
	attrs := append([]slog.Attr{
		slog.String("method", string(req.Method)), slog.Int("status", r.Status), slog.String("reason", r.Cause),
		slog.String("gateway", peer.Gateway), slog.String("source", peer.Addr.String()), slog.String("transport", peer.Transport),
	}, r.Attrs...)
	if peer.Server != "" {
		attrs = append(attrs, slog.String("server", peer.Server))
	}
	if held > 0 {
		attrs = append(attrs, slog.Int("Suppressed", held))
	}
	s.cfg.Events.Emit(ctx, r.Event, "request refused", attrs...)
}

// onOptions answers as an INVITE would be (RFC 3261 section 11.2): a
// server that takes no new calls, stopping or by the administrator's
// choice, says 503, so that a gateway or a dispatcher that pings it sends
// its calls elsewhere before it tries one. A server that is momentarily
// full still says 200: pings a minute apart would keep it out of rotation
// long after a call ended. The 503 writes no event: every ping would, and
// the state has its own (ServerStopping, the directory's audit).
func (s *Server) onOptions(req *sip.Request, tx sip.ServerTransaction, peer Peer) {
	v := s.view.Load()
	gw, rej := v.checkPeer(peer)
	if rej != nil {
		s.reject(context.Background(), tx, req, peer, rej)
		return
	}
	closed := v.noNewCalls(gw)
	if s.Draining() {
		closed = stoppingRejection()
	}
	if closed != nil {
		s.respond(tx, req, closed.Status, nil, append(closed.headers(), allow())...)
		return
	}
	s.respond(tx, req, 200, nil, allow(), sip.NewHeader("Accept", "application/sdp, "+dtmfTypes))
}

// stoppingRejection refuses a new call while the server stops (Shutdown).
func stoppingRejection() *Rejection {
	return &Rejection{Status: 503, Event: events.CallRefusedOverload, RetryAfter: 30, Cause: "server is stopping"}
}

// allow is the Allow header of OPTIONS and of the answer to an INVITE: the
// methods openum handles.
func allow() sip.Header {
	return sip.NewHeader("Allow", "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, NOTIFY")
}

// onAck confirms the dialog an ACK names; an ACK for no dialog gets no
// answer (none is ever sent to an ACK).
func (s *Server) onAck(req *sip.Request, tx sip.ServerTransaction, peer Peer) {
	if c := s.dialogOf(req, peer); c != nil {
		select {
		case c.ack <- req.Body(): // before ReadAck: the 200's sender reads it next
		default: // a retransmission, or the call has it already
		}
		_ = c.dialog.ReadAck(req, tx)
	}
}

// onBye ends the call a BYE names; a BYE for no dialog, or older than the
// dialog's last request, gets 481 and ends nothing.
func (s *Server) onBye(req *sip.Request, tx sip.ServerTransaction, peer Peer) {
	c := s.dialogOf(req, peer)
	if c == nil {
		if !s.byeOutcall(req, tx, peer) {
			s.respond(tx, req, 481, nil)
		}
		return
	}
	if err := c.dialog.ReadBye(req, tx); errors.Is(err, sipgo.ErrDialogInvalidCseq) {
		s.respond(tx, req, 481, nil)
	}
}
