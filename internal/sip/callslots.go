package sip

// The calls in progress that MaxCallsAllowed counts: as Exchange counts
// them, every call on the server, the answered calls it took and the
// calls it places (Outcall), ringing or answered. Inbound admission, the
// 302 decision and the published load all read the one count.

import (
	"fmt"
	"sync"
)

// FullError is Outcall's error when the server already has
// MaxCallsAllowed calls in progress: nothing was dialled.
type FullError struct {
	Max      int // the server's MaxCallsAllowed
	Answered int // the answered calls it took
	Placed   int // the calls it placed
}

func (e *FullError) Error() string {
	return fmt.Sprintf("sip: MaxCallsAllowed (%d) reached: %d answered calls and %d outcalls in progress", e.Max, e.Answered, e.Placed)
}

// inProgressLocked is the count MaxCallsAllowed limits. s.mu is held.
func (s *Server) inProgressLocked() int { return len(s.calls) + s.placing }

// takeSlot counts an outcall among the calls in progress, when the server
// has room for one more, until release is called (once).
func (s *Server) takeSlot() (release func(), err error) {
	limit := s.view.Load().server.MaxCallsAllowed
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inProgressLocked() >= limit {
		return nil, &FullError{Max: limit, Answered: len(s.calls), Placed: s.placing}
	}
	s.placing++
	return sync.OnceFunc(func() {
		s.mu.Lock()
		s.placing--
		s.mu.Unlock()
	}), nil
}
