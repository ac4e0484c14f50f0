package sip

// The calls: admission of a new INVITE, the answer, the registry of calls in
// progress, and re-INVITE.

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/media"
)

// call is an answered call in the registry, under its dialog's ID (Call-ID
// and both tags, as sipgo's dialog cache keys it): an in-dialog request
// must name all three, and come from the peer (gateway or server) that
// placed the call, on the same transport, to reach it.
type call struct {
	id        string // the Call-ID
	placedBy  string // Peer.name of the peer that placed it
	transport string
	app       *Call     // the call as handed to voice mail: caller, target (CallsList)
	started   time.Time // when it was answered
	plan      directory.DialPlan
	cancel    context.CancelFunc
	stream    *media.Stream
	dialog    *sipgo.DialogServerSession
	// ack holds the body of the call's first ACK: a delayed offer's answer.
	ack chan []byte

	mu       sync.Mutex // serialises re-INVITEs and INFOs
	answer   *media.Local
	lastInfo uint32    // the CSeq of the last INFO (see onInfo)
	transfer *transfer // the transfer waiting for NOTIFYs (refer.go)
	// media is what watchMedia checks for silence, once the call is up;
	// it takes it to nil when it hangs the call up.
	media atomic.Pointer[mediaWatch]
}

func (s *Server) onInvite(req *sip.Request, tx sip.ServerTransaction, peer Peer) {
	ctx := context.Background()
	if req.To() != nil && req.To().Params.Has("tag") {
		s.reinvite(ctx, req, tx, peer)
		return
	}
	v := s.view.Load()
	// Before anything that costs: the refusal of an overloaded server
	// must stay cheap, or refusing becomes the overload.
	if !s.setups.enter() {
		s.rejectOrRedirect(ctx, tx, req, peer, s.overloaded(), "overloaded")
		return
	}
	inSetup := true
	setupDone := func() {
		if inSetup {
			inSetup = false
			s.setups.leave()
		}
	}
	defer setupDone()
	s.mu.Lock()
	draining, active := s.draining, s.inProgressLocked() // the server's own outcalls too
	s.mu.Unlock()
	if draining {
		s.rejectOrRedirect(ctx, tx, req, peer, stoppingRejection(), "stopping")
		return
	}
	adm, rej := v.admitInvite(peer, req, active)
	if rej != nil {
		s.rejectOrRedirect(ctx, tx, req, peer, rej, roomless(v, draining, active))
		return
	}
	s.answer(ctx, req, tx, peer, adm, setupDone)
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

	srv *Server
	leg *call // nil for a Call made outside a Server (Transfer refuses)
}

// CallHandler takes answered calls. HandleCall runs for the whole call: its
// ctx is done when the caller hangs up or MaxCallDuration passes, and when
// it returns, the server hangs up.
type CallHandler interface {
	HandleCall(ctx context.Context, c *Call)
}

// answer takes the admitted call up: it opens the media port, answers the
// offer, and runs the call handler until one side hangs up. setupDone
// ends the set-up (overload.go) when the 200 goes out.
func (s *Server) answer(ctx context.Context, req *sip.Request, tx sip.ServerTransaction, peer Peer, adm *admission, setupDone func()) {
	begun := time.Now()
	v := s.view.Load()
	caller, name := callerOf(req)
	app := &Call{
		ID: req.CallID().Value(), Gateway: adm.Gateway, HuntGroup: adm.HuntGroup, DialPlan: adm.DialPlan, Directory: v.dir,
		Caller: caller, CallerName: name, Target: targetOf(req), Transport: peer.Transport, srv: s,
	}
	if s.cfg.Ready != nil {
		if rej := s.cfg.Ready(app); rej != nil {
			s.reject(ctx, tx, req, peer, rej)
			return
		}
	}
	ports := s.rtpPorts(v)
	ip, err := s.localMediaIP(peer)
	if err != nil {
		s.reject(ctx, tx, req, peer, refuse(503, events.CallRefusedOverload, "no media port: %v", err))
		return
	}
	port, err := media.OpenPort(media.Ports{IP: ip, First: ports.First, Last: ports.Last}, adm.Offer, adm.DialPlan.VoIPSecurity == directory.Secured)
	var stream *media.Stream
	if err == nil && adm.Offer != nil {
		stream, err = port.Start(adm.Offer)
	}
	if err != nil {
		rej := refuse(488, events.SRTPNegotiationFailed, "%v", err)
		if errors.Is(err, media.ErrNoPort) {
			rej = refuse(503, events.CallRefusedOverload, "no media port: %v", err)
		}
		s.reject(ctx, tx, req, peer, rej)
		return
	}
	// What ends the call, run in reverse once it is over: here when the
	// set-up fails, else by hold.
	var ends []func()
	defer func() { endAll(ends) }()
	ends = append(ends, func() { s.stats.addMedia(stream); closeMedia(port, stream) })
	answer := port.Local
	dlg, err := s.dialogUA(peer.Transport).ReadInvite(req, setupTx{tx, setupDone})
	if err != nil {
		s.reject(ctx, tx, req, peer, refuse(400, events.MalformedRequest, "%v", err))
		return
	}
	ends = append(ends, func() { _ = dlg.Close() })
	// The caller hanging up (the dialog ending) ends the call too.
	callCtx, cancel := context.WithTimeout(dlg.Context(), time.Duration(adm.DialPlan.MaxCallDuration)*time.Minute)
	ends = append(ends, cancel)
	c := &call{id: req.CallID().Value(), placedBy: peer.name(), transport: peer.Transport, plan: adm.DialPlan,
		app: app, started: time.Now(), cancel: cancel, stream: stream, dialog: dlg, answer: answer, ack: make(chan []byte, 1)}
	app.leg = c
	s.mu.Lock()
	s.calls[dlg.ID] = c
	s.mu.Unlock()
	ends = append(ends, func() {
		s.mu.Lock()
		delete(s.calls, dlg.ID)
		s.mu.Unlock()
	})
	if adm.Offer == nil {
		// A delayed offer: openum offers in the 200, the ACK answers.
		if stream, err = s.offerInOK(ctx, c, port, peer); err != nil {
			return
		}
		answer = c.answer
	} else if err := dlg.Respond(200, "OK", answer.Marshal(), sip.NewHeader("Content-Type", "application/sdp"), allow()); err != nil {
		return
	}
	suite := "none"
	if answer.Crypto != nil {
		suite = answer.Crypto.Suite
	}
	s.cfg.Events.Emit(ctx, events.CallAdmitted, "call admitted",
		peer.attr(), slog.String("huntgroup", adm.HuntGroup.Name),
		slog.String("dialplan", adm.DialPlan.Name), slog.String("security", string(adm.DialPlan.VoIPSecurity)),
		slog.String("transport", peer.Transport), slog.String("srtp", suite), slog.String("callid", c.id),
		slog.Duration("setup", time.Since(begun)))
	held := ends
	ends = nil
	go s.hold(ctx, callCtx, c, stream, held)
}

// hold runs an answered call until one side hangs up, then ends it: ends
// run in reverse. It runs on a goroutine of its own, and sipgo's request
// goroutine, whose stack grew to 16 KiB through the set-up, ends with the
// 200: under a call's long wait its frames (sipgo's, the guard's,
// onInvite's, answer's) would keep the collector from shrinking that
// stack, and 2,000 calls hold 2,000 of them. The INVITE's transaction
// ends with sipgo's goroutine; the dialog's requests (ACK, BYE,
// re-INVITE) have transactions of their own.
func (s *Server) hold(ctx, callCtx context.Context, c *call, stream *media.Stream, ends []func()) {
	defer endAll(ends)
	c.media.Store(&mediaWatch{stream: stream, since: time.Now()})
	if s.cfg.Calls != nil {
		c.app.Audio = stream
		s.cfg.Calls.HandleCall(callCtx, c.app)
	} else {
		<-callCtx.Done()
	}
	c.media.Store(nil) // ending: its silence says nothing more
	if c.dialog.Context().Err() == nil {
		sendBye(ctx, c)
	}
}

// sendBye sends the caller a BYE. It is hold's end, in a frame of its own:
// hold's stays on the stack of every call for as long as it lasts (see
// voicemail's listen).
func sendBye(ctx context.Context, c *call) {
	byeCtx, cancelBye := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancelBye()
	_ = c.dialog.Bye(byeCtx)
}

// endAll runs ends in reverse, as defers would.
func endAll(ends []func()) {
	for i := len(ends) - 1; i >= 0; i-- {
		ends[i]()
	}
}

// reinvite changes a call's media (SPEC MEDIA-3): a new address or port,
// hold and resume, new keys. The dial plan's mode still holds: a Secured
// call that would lose SRTP gets 488 and goes on as it was.
func (s *Server) reinvite(ctx context.Context, req *sip.Request, tx sip.ServerTransaction, peer Peer) {
	c := s.inDialog(req, tx, peer)
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.dialog.ReadRequest(req, tx); err != nil {
		// An older CSeq than the dialog's last (RFC 3261 12.2.2).
		s.reject(ctx, tx, req, peer, refuse(500, events.MalformedRequest, "re-INVITE on call %s: %v", c.id, err))
		return
	}
	contact := s.contact(peer.Transport)
	if len(req.Body()) == 0 {
		// An offer-less re-INVITE (a session refresh): repeat the answer.
		s.respond(tx, req, 200, c.answer.Marshal(), sip.NewHeader("Content-Type", "application/sdp"), contact)
		return
	}
	offer, rej := admitOffer(&c.plan, req.Body())
	if rej != nil {
		rej.Cause = "re-INVITE: " + rej.Cause
		s.reject(ctx, tx, req, peer, rej)
		return
	}
	answer, err := c.answer.Reanswer(offer)
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
// listening address; on a server listening on all addresses, the one the
// peer's connection reached, else the local address that routes to the
// peer (a UDP socket asked, on each call: over UDP there is no connection).
func (s *Server) localMediaIP(peer Peer) (netip.Addr, error) {
	if ip, err := netip.ParseAddr(s.cfg.ListenIP); err == nil && !ip.IsUnspecified() {
		return ip, nil
	}
	if peer.Local.IsValid() && !peer.Local.IsUnspecified() {
		return peer.Local, nil
	}
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(peer.Addr.Addr(), 9)))
	if err != nil {
		return netip.Addr{}, err
	}
	defer conn.Close()
	return addrPort(conn.LocalAddr()).Addr(), nil
}

// dialogOf finds the call an in-dialog request belongs to: the one whose
// dialog its Call-ID, From tag and To tag name (RFC 3261 12.2.2), placed by
// the same peer over the same transport. nil means 481.
func (s *Server) dialogOf(req *sip.Request, peer Peer) *call {
	id, err := sip.DialogIDFromRequestUAS(req)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	c := s.calls[id]
	s.mu.Unlock()
	if c == nil || !peer.named(c.placedBy) || c.transport != peer.Transport {
		return nil
	}
	return c
}

// inDialog is dialogOf for a request that needs its call: when it names
// none, it answers 481 and returns nil.
func (s *Server) inDialog(req *sip.Request, tx sip.ServerTransaction, peer Peer) *call {
	c := s.dialogOf(req, peer)
	if c == nil {
		s.respond(tx, req, 481, nil)
	}
	return c
}

// dialogUA answers the calls that come on transport: one for all of them,
// as sipgo's own dialog cache keeps, since its Contact (the listening
// address) is the same for each.
func (s *Server) dialogUA(transport string) *sipgo.DialogUA {
	if ua, ok := s.dialogUAs.Load(transport); ok {
		return ua.(*sipgo.DialogUA)
	}
	ua, _ := s.dialogUAs.LoadOrStore(transport, &sipgo.DialogUA{Client: s.client, ContactHDR: *s.contact(transport)})
	return ua.(*sipgo.DialogUA)
}

// contact is openum's Contact on a transport: its listening address.
func (s *Server) contact(transport string) *sip.ContactHeader {
	host, p := s.contactAddr(transport)
	params := sip.NewParams()
	params.Add("transport", strings.ToLower(transport))
	return &sip.ContactHeader{Address: sip.Uri{User: "openum", Host: host, Port: p, UriParams: params}}
}
