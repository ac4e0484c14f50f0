package sip

import (
	"fmt"
	"net/netip"
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
}

func (r *Rejection) Error() string {
	return fmt.Sprintf("%d %s: %s", r.Status, reason(r.Status), r.Cause)
}

func refuse(status int, event events.EventID, format string, args ...any) *Rejection {
	return &Rejection{Status: status, Event: event, Cause: fmt.Sprintf(format, args...)}
}

// reason is the stock reason phrase of each status openum sends.
func reason(status int) string {
	switch status {
	case 200:
		return "OK"
	case 400:
		return "Bad Request"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 481:
		return "Call/Transaction Does Not Exist"
	case 488:
		return "Not Acceptable Here"
	case 501:
		return "Not Implemented"
	case 503:
		return "Service Unavailable"
	}
	return ""
}

// Peer is who is at the other end of a connection or datagram.
type Peer struct {
	Gateway     string         // the configured gateway's name
	Addr        netip.AddrPort // source address
	Transport   string         // "TCP", "TLS" or "UDP"
	Certificate string         // the SHA-1 thumbprint of its certificate, over TLS
}

// view is the configuration as the SIP layer reads it: one directory
// snapshot, this server's record, and gateways indexed for look-up. A view
// never changes; a reload builds a new one, and a call keeps the view it
// began with (SPEC SEC-4).
type view struct {
	dir    *directory.Snapshot
	server directory.Server
	byIP   map[netip.Addr]string // gateway name by IP address (configured, or its FQDN resolved)
	byFQDN map[string]string     // gateway name by lower-case FQDN
}

// admission is the verdict on an INVITE: the hunt group and dial plan the
// call belongs to, and its SDP offer (nil when the caller offers late).
type admission struct {
	Gateway   directory.IPGateway
	HuntGroup directory.HuntGroup
	DialPlan  directory.DialPlan
	Offer     *media.Offer
}

// checkPeer refuses a request from a gateway that the view no longer
// trusts: removed or disabled since its connection opened.
func (v *view) checkPeer(p Peer) (*directory.IPGateway, *Rejection) {
	gw, err := v.dir.IPGateway(p.Gateway)
	if err != nil {
		return nil, refuse(403, events.PeerRefused, "gateway %q is no longer in the directory", p.Gateway)
	}
	if gw.Status == directory.Disabled {
		return nil, refuse(403, events.PeerRefused, "gateway %s is disabled", gw.Name)
	}
	return gw, nil
}

// admitInvite applies SPEC SEC-3 and PEER-4 to an INVITE from peer, with
// active calls in progress.
func (v *view) admitInvite(p Peer, req *sip.Request, active int) (*admission, *Rejection) {
	gw, rej := v.checkPeer(p)
	if rej != nil {
		return nil, rej
	}
	switch {
	case v.server.Status == directory.Disabled:
		return nil, refuse(503, events.CallRefusedOverload, "server %s is disabled", v.server.Name)
	case v.server.Status == directory.NoNewCalls:
		return nil, refuse(503, events.CallRefusedOverload, "server %s takes no new calls (NoNewCalls)", v.server.Name)
	case gw.Status == directory.NoNewCalls:
		return nil, refuse(503, events.CallRefusedOverload, "gateway %s takes no new calls (NoNewCalls)", gw.Name)
	}
	pilot := req.Recipient.User
	if pilot == "" {
		if to := req.To(); to != nil {
			pilot = to.Address.User
		}
	}
	hg := v.huntGroup(gw.Name, pilot)
	if hg == nil {
		return nil, refuse(404, events.NoHuntGroup, "no hunt group of gateway %s for pilot %q", gw.Name, pilot)
	}
	dp, err := v.dir.DialPlan(hg.UMDialPlan)
	if err != nil || !v.serves(dp.Name) {
		return nil, refuse(404, events.NoHuntGroup, "dial plan %s of hunt group %s is not served by %s", hg.UMDialPlan, hg.Name, v.server.Name)
	}
	if dp.VoIPSecurity.SignalingSecured() && p.Transport != "TLS" {
		return nil, refuse(403, events.CallRefusedSecurity,
			"secure transport required: dial plan %s is %s but the call came over %s", dp.Name, dp.VoIPSecurity, p.Transport)
	}
	a := &admission{Gateway: *gw, HuntGroup: *hg, DialPlan: *dp}
	if body := req.Body(); len(body) > 0 {
		offer, err := media.ParseOffer(body)
		if err != nil {
			return nil, refuse(488, events.SRTPNegotiationFailed, "dial plan %s: %v", dp.Name, err)
		}
		if rej := mediaMatchesMode(dp, offer); rej != nil {
			return nil, rej
		}
		a.Offer = offer
	}
	if active >= v.server.MaxCallsAllowed {
		return nil, &Rejection{Status: 503, Event: events.CallRefusedOverload, RetryAfter: 30,
			Cause: fmt.Sprintf("MaxCallsAllowed (%d) reached", v.server.MaxCallsAllowed)}
	}
	return a, nil
}

// mediaMatchesMode enforces SPEC SEC-2 on an offer: SRTP for Secured, RTP
// otherwise. An offer that cannot be met gets 488, never a downgrade.
func mediaMatchesMode(dp *directory.DialPlan, offer *media.Offer) *Rejection {
	if dp.VoIPSecurity == directory.Secured {
		if !offer.Secure {
			return refuse(488, events.SRTPNegotiationFailed, "dial plan %s is Secured but the offer is RTP/AVP, not SRTP", dp.Name)
		}
		if _, ok := offer.Acceptable(); !ok {
			return refuse(488, events.SRTPNegotiationFailed, "dial plan %s is Secured but the offer has no acceptable a=crypto (accepted: %s)",
				dp.Name, strings.Join(media.Suites, ", "))
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
func (v *view) serves(dialPlan string) bool {
	for _, d := range v.server.DialPlans {
		if directory.SameName(d, dialPlan) {
			return true
		}
	}
	return false
}
