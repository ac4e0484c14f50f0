package sip

import (
	"cmp"
	"slices"
	"sync/atomic"
	"time"

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
	RTPLost     atomic.Uint64 // never came: gaps in the sequence numbers
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
	st.RTPLost.Add(m.Lost.Load())
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

// CallInfo is one answered call in progress as an administrator sees it
// (the admin API's GET /api/v1/calls). Its Call-ID and caller are the
// operator's own data, shown to a token holder; they are never a metric's
// label (CallsInProgress counts for those).
type CallInfo struct {
	CallID     string
	PlacedBy   string // "gateway NAME" or "server NAME"
	HuntGroup  string `json:",omitempty"`
	DialPlan   string
	Mode       directory.VoIPSecurity // the dial plan's mode when the call began
	Transport  string
	Caller     string // the calling number
	CallerName string `json:",omitempty"`
	Target     string // the number the call is for
	Started    time.Time
}

// CallsList lists the answered calls in progress, oldest first, from the
// registry CallsInProgress counts.
func (s *Server) CallsList() []CallInfo {
	s.mu.Lock()
	out := make([]CallInfo, 0, len(s.calls))
	for _, c := range s.calls {
		out = append(out, CallInfo{CallID: c.id, PlacedBy: c.placedBy, HuntGroup: c.app.HuntGroup.Name,
			DialPlan: c.plan.Name, Mode: c.plan.VoIPSecurity, Transport: c.transport,
			Caller: c.app.Caller, CallerName: c.app.CallerName, Target: c.app.Target, Started: c.started})
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b CallInfo) int {
		return cmp.Or(a.Started.Compare(b.Started), cmp.Compare(a.CallID, b.CallID))
	})
	return out
}
