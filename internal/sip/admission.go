package sip

import (
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/media"
)

// Rejection is a refused request. The peer gets Status and a stock reason
// phrase; the event log gets Event and Cause. Nothing of the cause reaches
// the peer (SPEC PEER-1).
type Rejection struct {
	Status     int
	Event      events.EventID
	Cause      string
	RetryAfter int // seconds, for 503; 0 for none
	// Unsupported lists the option tags a 420 names in its Unsupported header.
	Unsupported string
	// Accept lists the bodies a 415 names in its Accept header.
	Accept string
	// Headers are more header fields of the response (Min-Expires,
	// Allow-Events).
	Headers []sip.Header
	Attrs   []slog.Attr // more detail for the event
}

func (r *Rejection) Error() string {
	return fmt.Sprintf("%d %s: %s", r.Status, reason(r.Status), r.Cause)
}

// headers are the header fields the refusal's response carries.
func (r *Rejection) headers() []sip.Header {
	var headers []sip.Header
	if r.RetryAfter > 0 {
		headers = append(headers, sip.NewHeader("Retry-After", strconv.Itoa(r.RetryAfter)))
	}
	if r.Unsupported != "" {
		headers = append(headers, sip.NewHeader("Unsupported", r.Unsupported))
	}
	if r.Accept != "" {
		headers = append(headers, sip.NewHeader("Accept", r.Accept))
	}
	return append(headers, r.Headers...)
}

func refuse(status int, event events.EventID, format string, args ...any) *Rejection {
	return &Rejection{Status: status, Event: event, Cause: fmt.Sprintf(format, args...)}
}

// reason is the stock reason phrase of each status openum sends.
func reason(status int) string {
	switch status {
	case 200:
		return "OK"
	case 302:
		return "Moved Temporarily"
	case 400:
		return "Bad Request"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 406:
		return "Not Acceptable"
	case 416:
		return "Unsupported URI Scheme"
	case 420:
		return "Bad Extension"
	case 423:
		return "Interval Too Brief"
	case 481:
		return "Call/Transaction Does Not Exist"
	case 488:
		return "Not Acceptable Here"
	case 489:
		return "Bad Event"
	case 500:
		return "Server Internal Error"
	case 501:
		return "Not Implemented"
	case 505:
		return "Version Not Supported"
	case 503:
		return "Service Unavailable"
	}
	return ""
}

// Peer is who is at the other end of a connection or datagram.
type Peer struct {
	Gateway     string         // the configured gateway's name, when the peer is one
	Server      string         // else the openum server's record name (SPEC PEER-5)
	Addr        netip.AddrPort // source address
	Local       netip.Addr     // the address its TCP or TLS connection reached here; invalid over UDP
	Transport   string         // "TCP", "TLS" or "UDP"
	Certificate string         // the SHA-1 thumbprint of its certificate, over TLS
}

// name tells peers apart: a gateway and a server of one name are two peers.
func (p Peer) name() string {
	if p.Gateway != "" {
		return "gateway " + p.Gateway
	}
	return "server " + p.Server
}

// attr is p as an event attribute: `gateway`, or `server` for another
// openum server, only the one that applies.
func (p Peer) attr() slog.Attr {
	if p.Gateway != "" {
		return slog.String("gateway", p.Gateway)
	}
	return slog.String("server", p.Server)
}

// named reports whether name is p's name(), without building it: a call's
// in-dialog requests are matched to the peer that placed it this way.
func (p Peer) named(name string) bool {
	kind, who := "server ", p.Server
	if p.Gateway != "" {
		kind, who = "gateway ", p.Gateway
	}
	return len(name) == len(kind)+len(who) && strings.HasPrefix(name, kind) && name[len(kind):] == who
}

// admission is the verdict on an INVITE: the hunt group and dial plan the
// call belongs to, and its SDP offer.
type admission struct {
	Gateway   directory.IPGateway
	HuntGroup directory.HuntGroup
	DialPlan  directory.DialPlan
	Offer     *media.Remote
}

// checkRequest refuses a request that RFC 3261 says a UAS must not act on
// (RFC 4475 sections 3.1.2 and 3.3 have examples): one without the header
// fields every request carries, with more than one Content-Length or
// whose CSeq names another method (400),
// one for a URI scheme openum does not serve (416), one of another SIP
// version (505; sipgo would answer it in kind), and one that requires
// an extension (420: openum implements none). ACK gets no answer, so it
// is never refused here.
func checkRequest(req *sip.Request) *Rejection {
	if req.IsAck() {
		return nil
	}
	if req.SipVersion != "SIP/2.0" {
		return refuse(505, events.MalformedRequest, "SIP version %q", req.SipVersion)
	}
	if req.From() == nil || req.To() == nil || req.CallID() == nil || req.CSeq() == nil {
		return refuse(400, events.MalformedRequest, "%s without From, To, Call-ID or CSeq", req.Method)
	}
	// sipgo takes the last of several Content-Length values; RFC 4475
	// (mcl01) says a message with more than one has no known length.
	if n := len(namedFields(req, "Content-Length")); n > 1 {
		return refuse(400, events.MalformedRequest, "%d Content-Length header fields", n)
	}
	// sipgo upper-cases some method names and not others: compare as it does.
	if m := req.CSeq().MethodName; !strings.EqualFold(string(m), string(req.Method)) {
		return refuse(400, events.MalformedRequest, "CSeq method %s on a %s request", m, req.Method)
	}
	switch strings.ToLower(req.Recipient.Scheme) {
	case "sip", "sips", "tel":
	default:
		return refuse(416, events.MalformedRequest, "request URI scheme %q", req.Recipient.Scheme)
	}
	if req.IsCancel() {
		return nil // RFC 3261 9.1: a CANCEL's Require is not acted on
	}
	var tags []string
	for _, h := range namedFields(req, "Require") {
		for _, tag := range strings.Split(h.Value(), ",") {
			if tag = strings.TrimSpace(tag); tag != "" {
				tags = append(tags, tag)
			}
		}
	}
	if len(tags) > 0 {
		r := refuse(420, events.MalformedRequest, "requires extensions openum does not implement: %s", strings.Join(tags, ", "))
		r.Unsupported = strings.Join(tags, ", ")
		return r
	}
	return nil
}

// checkPeer refuses a request from a peer that the view no longer
// trusts: a gateway removed or disabled, or a server removed, since its
// connection opened. It returns the gateway; nil for a server.
func (v *view) checkPeer(p Peer) (*directory.IPGateway, *Rejection) {
	if p.Server != "" {
		if _, err := v.dir.Server(p.Server); err != nil {
			return nil, refuse(403, events.PeerRefused, "server %q is no longer in the directory", p.Server)
		}
		return nil, nil
	}
	gw, err := v.dir.IPGateway(p.Gateway)
	if err != nil {
		return nil, refuse(403, events.PeerRefused, "gateway %q is no longer in the directory", p.Gateway)
	}
	if gw.Status == directory.Disabled {
		return nil, refuse(403, events.PeerRefused, "gateway %s is disabled", gw.Name)
	}
	return gw, nil
}

// noNewCalls refuses every new call from gw (nil for a server of the
// pool) while the administrator says so: this server Disabled or
// NoNewCalls, or the gateway NoNewCalls. It returns nil otherwise.
func (v *view) noNewCalls(gw *directory.IPGateway) *Rejection {
	switch {
	case v.server.Status == directory.Disabled:
		return refuse(503, events.CallRefusedOverload, "server %s is disabled", v.server.Name)
	case v.server.Status == directory.NoNewCalls:
		return refuse(503, events.CallRefusedOverload, "server %s takes no new calls (NoNewCalls)", v.server.Name)
	case gw != nil && gw.Status == directory.NoNewCalls:
		return refuse(503, events.CallRefusedOverload, "gateway %s takes no new calls (NoNewCalls)", gw.Name)
	}
	return nil
}

// admitInvite applies SPEC SEC-3 and PEER-4 to an INVITE from peer, with
// active calls in progress (answered and placed: callslots.go).
func (v *view) admitInvite(p Peer, req *sip.Request, active int) (*admission, *Rejection) {
	gw, rej := v.checkPeer(p)
	if rej != nil {
		return nil, rej
	}
	if rej := v.noNewCalls(gw); rej != nil {
		return nil, rej
	}
	pilot := pilotOf(req)
	var a *admission
	if gw != nil {
		hg := v.huntGroup(gw.Name, pilot)
		if hg == nil {
			return nil, refuse(404, events.NoHuntGroup, "no hunt group of gateway %s for pilot %q", gw.Name, pilot)
		}
		dp, err := v.dir.DialPlan(hg.UMDialPlan)
		if err != nil || !v.serves(dp.Name) {
			return nil, refuse(404, events.NoHuntGroup, "dial plan %s of hunt group %s is not served by %s", hg.UMDialPlan, hg.Name, v.server.Name)
		}
		a = &admission{Gateway: *gw, HuntGroup: *hg, DialPlan: *dp}
	} else if a, rej = v.serverPlan(p, pilot, req.Body()); rej != nil {
		return nil, rej
	}
	dp := &a.DialPlan
	if dp.VoIPSecurity.SignalingSecured() && p.Transport != "TLS" {
		return nil, refuse(403, events.CallRefusedSecurity,
			"secure transport required: dial plan %s is %s but the call came over %s", dp.Name, dp.VoIPSecurity, p.Transport)
	}
	offer, rej := admitOffer(dp, req.Body())
	if rej != nil {
		return nil, rej
	}
	if active >= v.server.MaxCallsAllowed {
		return nil, &Rejection{Status: 503, Event: events.CallRefusedOverload, RetryAfter: 30,
			Cause: fmt.Sprintf("MaxCallsAllowed (%d) reached", v.server.MaxCallsAllowed)}
	}
	a.Offer = offer
	return a, nil
}

// admitOffer is the one judge of an SDP offer, in an INVITE and in a
// re-INVITE alike. An INVITE without one (a delayed offer) is admitted
// with a nil offer: openum then offers in its 200, in the dial plan's mode,
// and the ACK must answer (lateoffer.go). It enforces SPEC SEC-2: SRTP for
// Secured, RTP otherwise; an offer that cannot be met gets 488, never a
// downgrade.
func admitOffer(dp *directory.DialPlan, body []byte) (*media.Remote, *Rejection) {
	if len(body) == 0 {
		return nil, nil
	}
	offer, err := media.ParseRemote(body)
	if err != nil {
		return nil, refuse(488, events.SRTPNegotiationFailed, "dial plan %s: %v", dp.Name, err)
	}
	if rej := offerMatchesMode(dp, offer); rej != nil {
		return nil, rej
	}
	return offer, nil
}

func offerMatchesMode(dp *directory.DialPlan, offer *media.Remote) *Rejection {
	if dp.VoIPSecurity == directory.Secured {
		if !offer.Secure {
			return refuse(488, events.SRTPNegotiationFailed, "dial plan %s is Secured but the offer is RTP/AVP, not SRTP", dp.Name)
		}
		if _, ok := offer.Acceptable(); !ok {
			return refuse(488, events.SRTPNegotiationFailed, "dial plan %s is Secured but the offer has no acceptable a=crypto (accepted: %s)",
				dp.Name, strings.Join(media.SuiteNames(), ", "))
		}
		return nil
	}
	if offer.Secure {
		return refuse(488, events.SRTPNegotiationFailed, "dial plan %s is %s (RTP) but the offer is SRTP only", dp.Name, dp.VoIPSecurity)
	}
	return nil
}

// huntGroup finds the gateway's hunt group for pilot, else its default one.
func (v *view) huntGroup(gateway, pilot string) *directory.HuntGroup {
	var fallback *directory.HuntGroup
	for i, h := range v.dir.HuntGroups {
		if !directory.SameName(h.UMIPGateway, gateway) {
			continue
		}
		switch h.PilotIdentifier {
		case pilot:
			return &v.dir.HuntGroups[i]
		case "":
			fallback = &v.dir.HuntGroups[i]
		}
	}
	return fallback
}

// serves reports whether this server answers the dial plan.
func (v *view) serves(dialPlan string) bool { return servesPlan(&v.server, dialPlan) }
