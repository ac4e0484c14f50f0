package dialing

import (
	"slices"

	"github.com/openum/openum/internal/directory"
)

// Gateways returns the gateways that may carry a call the server places
// from dial plan dp (SPEC DIAL-3): those of dp's hunt groups that are
// Enabled and have OutcallsAllowed, each once, in name order. A gateway
// that does not answer OPTIONS is the outbound path's to skip.
func Gateways(s *directory.Snapshot, dp *directory.DialPlan) []directory.IPGateway {
	var out []directory.IPGateway
	for _, g := range s.IPGateways { // sorted by name
		serves := slices.ContainsFunc(s.HuntGroups, func(h directory.HuntGroup) bool {
			return directory.SameName(h.UMDialPlan, dp.Name) && directory.SameName(h.UMIPGateway, g.Name)
		})
		if serves && g.Status == directory.Enabled && g.OutcallsAllowed {
			out = append(out, g)
		}
	}
	return out
}
