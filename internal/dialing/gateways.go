package dialing

import (
	"fmt"
	"strings"

	"github.com/openum/openum/internal/directory"
)

// Purpose is why the server calls out: it decides which gateways may carry
// the call.
type Purpose int

// The purposes, each with the gateway switch that allows it.
const (
	ForOutcall        Purpose = iota // a call: gateways with OutcallsAllowed
	ForMessageWaiting                // message waiting: gateways with MessageWaitingIndicatorAllowed
)

func (p Purpose) String() string {
	if p == ForMessageWaiting {
		return "MessageWaiting"
	}
	return "Outcall"
}

// AllowedBy reports whether gw's switch allows a call for p.
func (p Purpose) AllowedBy(gw *directory.IPGateway) bool {
	if p == ForMessageWaiting {
		return gw.MessageWaitingIndicatorAllowed
	}
	return gw.OutcallsAllowed
}

// Gateways returns the gateways that may carry a call for p from dial plan
// dp (SPEC DIAL-3), in the order the outbound path tries them: those of
// dp's hunt groups, in the hunt groups' order, each once, that are Enabled
// and allow p. For each other gateway of those hunt groups, skipped says
// why it may not ("GW2 is Disabled"). This is the selection on the
// directory alone: a running server also skips the gateways that do not
// answer its OPTIONS (sip.Server.Outcall), which only it knows.
func Gateways(s *directory.Snapshot, dp *directory.DialPlan, p Purpose) (usable []directory.IPGateway, skipped []string) {
	seen := map[string]bool{}
	for _, h := range s.HuntGroups {
		key := strings.ToLower(h.UMIPGateway)
		if !directory.SameName(h.UMDialPlan, dp.Name) || seen[key] {
			continue
		}
		seen[key] = true
		gw, err := s.IPGateway(h.UMIPGateway)
		switch {
		case err != nil:
		case gw.Status != directory.Enabled:
			skipped = append(skipped, fmt.Sprintf("%s is %s", gw.Name, gw.Status))
		case !p.AllowedBy(gw):
			skipped = append(skipped, fmt.Sprintf("%s does not allow %s", gw.Name, p))
		default:
			usable = append(usable, *gw)
		}
	}
	return usable, skipped
}
