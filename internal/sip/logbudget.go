package sip

import (
	"net/netip"
	"time"

	"golang.org/x/time/rate"

	"github.com/openum/openum/internal/events"
)

// A refused request is logged, but one source may not write more than a
// burst of refusals of one kind and then one every few seconds (SPEC
// PEER-4): a gateway sending bad requests by the thousand, or anyone
// spoofing its address over UDP, must not fill the event log. The next line
// written says how many were held back (Suppressed).
const (
	refusalLogBurst = 20
	refusalLogEvery = 3 * time.Second
)

// logBudget is one source's budget of lines for one event ID.
type logBudget struct {
	limiter *rate.Limiter
	held    int
}

// mayLog takes a line for event id from ip's budget. When there is one, it
// returns how many lines were held back since the last one written.
func (s *sources) mayLog(ip netip.Addr, id events.EventID) (ok bool, held int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	src := s.get(ip)
	if src.logBudgets == nil {
		src.logBudgets = map[events.EventID]*logBudget{}
	}
	b := src.logBudgets[id]
	if b == nil {
		b = &logBudget{limiter: rate.NewLimiter(rate.Every(refusalLogEvery), refusalLogBurst)}
		src.logBudgets[id] = b
	}
	if !b.limiter.AllowN(s.now(), 1) {
		b.held++
		return false, 0
	}
	held, b.held = b.held, 0
	return true, held
}
