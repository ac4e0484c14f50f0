package sip

import (
	"slices"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/media"
)

// serverPlan admits a call from another openum server (SPEC PEER-5): a test
// call, later a redirected one. A server is no gateway: it has no hunt
// group, and no gateway's default hunt group takes its calls, so it reaches
// only the dial plans this server serves, chosen in this order:
//
//   - the dial plan of the number it calls, when that number is the pilot
//     (not empty) of a hunt group of one of them: test connectivity dials
//     the pilot a gateway would, and the call is held to that plan's mode;
//   - else the first of them whose mode the call meets (SRTP over TLS:
//     Secured; RTP over TLS: SIPSecured; RTP over TCP: Unsecured): the
//     local loop of test connectivity calls no number;
//   - else the first of them, whose mode then refuses the call (403 or 488)
//     as it would a gateway's, so the caller learns which rule it broke.
//
// In that dial plan the number is looked up like any call's (a mailbox's
// extension); nothing lets a server dial out through openum.
func (v *view) serverPlan(p Peer, number string, body []byte) (*admission, *Rejection) {
	var plans []directory.DialPlan
	for _, name := range v.server.DialPlans {
		if dp, err := v.dir.DialPlan(name); err == nil {
			plans = append(plans, *dp)
		}
	}
	if len(plans) == 0 {
		return nil, refuse(404, events.NoHuntGroup, "server %s called, but %s serves no dial plan", p.Server, v.server.Name)
	}
	if number != "" {
		for _, h := range v.dir.HuntGroups {
			if h.PilotIdentifier != number {
				continue
			}
			if i := slices.IndexFunc(plans, func(d directory.DialPlan) bool { return directory.SameName(d.Name, h.UMDialPlan) }); i >= 0 {
				return &admission{DialPlan: plans[i]}, nil
			}
		}
	}
	srtp := false
	if offer, err := media.ParseRemote(body); err == nil {
		srtp = offer.Secure
	}
	for _, dp := range plans {
		if modeMet(dp.VoIPSecurity, p.Transport == "TLS", srtp) {
			return &admission{DialPlan: dp}, nil
		}
	}
	return &admission{DialPlan: plans[0]}, nil
}

// modeMet reports whether a call over TLS (or not) offering SRTP (or RTP)
// is exactly what mode asks for.
func modeMet(mode directory.VoIPSecurity, tls, srtp bool) bool {
	switch mode {
	case directory.Secured:
		return tls && srtp
	case directory.SIPSecured:
		return tls && !srtp
	}
	return !tls && !srtp
}
