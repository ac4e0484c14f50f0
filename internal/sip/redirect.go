package sip

// Redirection (SPEC OPS-4), as Exchange 2010 did: a server that is full,
// in NoNewCalls or stopping answers a new call with 302 and the Contact of
// another Enabled server of the call's dial plan whose published load
// shows room; only when none has, with 503.
//
// A redirected call never loops: the Contact carries the URI parameter
// openum-redirected=<the servers that refused it, joined by "+">, which
// the caller's new INVITE carries in its request URI. A gateway's call so
// marked is never redirected again (one hop, as Exchange 2010): the
// second server answers it or refuses it with 503. A call from another
// openum server (SPEC PEER-5) may go on from server to server, but never
// to the server that sent it nor to one that already refused it, so it
// ends once every server of the dial plan was tried.

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
)

// redirectedParam marks a redirected call's request URI.
const redirectedParam = "openum-redirected"

// staleAfter is how many load periods a row stays fresh: a server that
// missed three is taken for dead.
const staleAfter = 3

// rejectOrRedirect answers a refused new INVITE: with 302 when the refusal
// is this server's lack of room (why) and another server has some, else
// with the refusal.
func (s *Server) rejectOrRedirect(ctx context.Context, tx sip.ServerTransaction, req *sip.Request, peer Peer, rej *Rejection, why string) {
	v := s.view.Load()
	if why != "" && rej.Status == 503 && rej.Event == events.CallRefusedOverload {
		if plan, to, ok := s.redirectTarget(v, req, peer); ok {
			contact := s.redirectContact(v, req, peer.Transport, to)
			s.respond(tx, req, 302, nil, contact)
			if ok, _ := s.sources.mayLog(peer.Addr.Addr(), events.CallRedirected); ok {
				s.cfg.Events.Emit(ctx, events.CallRedirected, "call redirected", slog.String("to", to.Server),
					slog.String("why", why), slog.String("dialplan", plan), peer.attr(),
					slog.String("callid", req.CallID().Value()), slog.String("contact", contact.Address.String()))
			}
			return
		}
		rej.Cause += "; no other server of the dial plan has room"
	}
	s.reject(ctx, tx, req, peer, rej)
}

// roomless says why this server has no room for a new call ("" when it
// has, or when it refuses calls altogether: Disabled).
func roomless(v *view, draining bool, active int) string {
	switch {
	case v.server.Status == directory.Disabled:
		return ""
	case draining:
		return "stopping"
	case v.server.Status == directory.NoNewCalls:
		return "NoNewCalls"
	case active >= v.server.MaxCallsAllowed:
		return "MaxCallsAllowed reached"
	}
	return ""
}

// redirectTarget finds the server to send a new call to: of the servers
// of its dial plan, Enabled in the directory, with a fresh row on the
// board showing room and a port for the call's transport, the one with the
// most room. Never this server, the server that sent the call, or one the
// call was already redirected by; never a gateway's call already
// redirected.
func (s *Server) redirectTarget(v *view, req *sip.Request, peer Peer) (string, directory.Load, bool) {
	rows := s.board.rows.Load()
	refused := refusedBy(req)
	if rows == nil || (peer.Gateway != "" && len(refused) > 0) {
		return "", directory.Load{}, false
	}
	plan, ok := v.planOf(req, peer)
	if !ok {
		return "", directory.Load{}, false
	}
	skip := append(refused, v.server.Name, peer.Server)
	fresh := time.Now().Add(-staleAfter * s.loadEvery())
	var best directory.Load
	found := false
	for _, l := range *rows {
		if slices.ContainsFunc(skip, func(n string) bool { return directory.SameName(n, l.Server) }) ||
			!l.HasRoom(fresh) || portFor(l, peer.Transport) == 0 {
			continue
		}
		sv, err := v.dir.Server(l.Server)
		if err != nil || sv.Status != directory.Enabled || !servesPlan(sv, plan) {
			continue
		}
		if !found || l.MaxCallsAllowed-l.Calls > best.MaxCallsAllowed-best.Calls {
			best, found = l, true
		}
	}
	return plan, best, found
}

// planOf is the dial plan of a new call: a gateway's, through its hunt
// group; another server's, as serverPlan admits it.
func (v *view) planOf(req *sip.Request, peer Peer) (string, bool) {
	if peer.Gateway == "" {
		a, rej := v.serverPlan(peer, pilotOf(req), req.Body())
		if rej != nil {
			return "", false
		}
		return a.DialPlan.Name, true
	}
	gw, err := v.dir.IPGateway(peer.Gateway)
	if err != nil || gw.Status != directory.Enabled {
		return "", false
	}
	hg := v.huntGroup(gw.Name, pilotOf(req))
	if hg == nil {
		return "", false
	}
	return hg.UMDialPlan, true
}

// refusedBy lists the servers that already redirected the call, from its
// request URI's mark (none when unmarked).
func refusedBy(req *sip.Request) []string {
	mark, ok := req.Recipient.UriParams.Get(redirectedParam)
	if !ok {
		return nil
	}
	return strings.Split(mark, "+")
}

// redirectContact is the 302's Contact: the other server's FQDN, the port
// of the transport the call came on, the pilot number, and the mark (the
// servers that refused the call, this one last) that stops a loop.
func (s *Server) redirectContact(v *view, req *sip.Request, transport string, to directory.Load) *sip.ContactHeader {
	params := sip.NewParams()
	params.Add("transport", strings.ToLower(transport))
	params.Add(redirectedParam, strings.Join(append(refusedBy(req), v.server.Name), "+"))
	return &sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: pilotOf(req), Host: to.Server, Port: portFor(to, transport), UriParams: params}}
}

func portFor(l directory.Load, transport string) int {
	if transport == "TLS" {
		return l.TLSPort
	}
	return l.TCPPort
}

func servesPlan(sv *directory.Server, dialPlan string) bool {
	for _, d := range sv.DialPlans {
		if directory.SameName(d, dialPlan) {
			return true
		}
	}
	return false
}

// pilotOf is the number a new call is for: the request URI's user, else
// the To's.
func pilotOf(req *sip.Request) string {
	if req.Recipient.User != "" || req.To() == nil {
		return req.Recipient.User
	}
	return req.To().Address.User
}
