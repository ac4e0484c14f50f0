package sip

import (
	"cmp"
	"slices"
	"sync/atomic"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/media"
)

// Stats are what the server counts that no event says, for metrics: the
// events count the rest (refusals, bans, failed handshakes, admitted
// calls). The counters only grow.
type Stats struct {
	TLSHandshakes atomic.Uint64 // TLS handshakes completed by peers (failed ones are 1113 and 9209)
	// The media.Stats of the calls that ended, summed.
	RTPAccepted atomic.Uint64 // accepted RTP packets
	RTPForeign  atomic.Uint64 // dropped: not from the caller's address
	RTPBad      atomic.Uint64 // dropped: not RTP, failed authentication or replayed
}

// Stats returns the server's counters, which it keeps adding to.
func (s *Server) Stats() *Stats { return &s.stats }

// addMedia adds the counters of an ended call's stream (nil for none).
func (st *Stats) addMedia(stream *media.Stream) {
	if stream == nil {
		return
	}
	m := stream.Stats()
	st.RTPAccepted.Add(m.Packets.Load())
	st.RTPForeign.Add(m.Foreign.Load())
	st.RTPBad.Add(m.Bad.Load())
}

// CallCount is how many calls of one dial plan are in progress.
type CallCount struct {
	DialPlan string
	Mode     directory.VoIPSecurity // the dial plan's mode when the call began
	Calls    int
}

// CallsInProgress counts the answered calls in progress by dial plan and
// mode, sorted by dial plan.
func (s *Server) CallsInProgress() []CallCount {
	s.mu.Lock()
	counts := map[[2]string]int{}
	for _, c := range s.calls {
		counts[[2]string{c.plan.Name, string(c.plan.VoIPSecurity)}]++
	}
	s.mu.Unlock()
	out := make([]CallCount, 0, len(counts))
	for k, n := range counts {
		out = append(out, CallCount{DialPlan: k[0], Mode: directory.VoIPSecurity(k[1]), Calls: n})
	}
	slices.SortFunc(out, func(a, b CallCount) int {
		return cmp.Or(cmp.Compare(a.DialPlan, b.DialPlan), cmp.Compare(a.Mode, b.Mode))
	})
	return out
}

// Draining reports whether Shutdown has begun: new calls get 503.
func (s *Server) Draining() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.draining
}
