package sip

// Overload control (SPEC PEER-4, PERF-2): a bound on the call set-ups in
// progress, past which a new INVITE is refused at once with 503 and
// Retry-After (RFC 3261 21.5.4), the cheapest answer there is.
//
// Without it a server offered more calls than it can set up took them
// all: sipgo runs each request in a goroutine of its own, so the excess
// queued in the scheduler, behind the connection's write lock and
// sipgo's transaction store, until every set-up took longer than the
// caller waits. The callers gave up; the server went on answering them,
// retransmitting 200s nobody acknowledged and playing greetings to no
// one for 64*T1 each, and served almost no call at all (bench/setup.sh at
// 5,000/s offered: 66 calls/s). Bounded, it sets up what it can at the
// latency it can and refuses the rest in microseconds, which a gateway
// takes as "try another server" (RFC 7339's idea, without its Via
// parameters, which gateways do not speak).

import (
	"fmt"
	"sync/atomic"

	"github.com/emiago/sipgo/sip"

	"github.com/openum/openum/internal/events"
)

// overloadRetryAfter is the Retry-After of a refusal for overload, in
// seconds: a burst passes in about that, and a gateway that honours it
// stops sending this server calls for no longer than that (it holds every
// call back for that time, not only the refused one).
const overloadRetryAfter = 2

// setupGate counts the set-ups in progress: new INVITEs from the moment
// their handler runs to the moment their 200 goes out, or they are
// refused. That is the server's own queue of set-up work, and the bound is
// the longest it may grow. The wait for the ACK is not counted: it is the
// caller's round trip, and a slow or loaded caller would hold places on a
// server with time to spare.
type setupGate struct {
	max        int64
	inProgress atomic.Int64
}

// enter takes a place for a set-up, or reports that there is none.
func (g *setupGate) enter() bool {
	if g.inProgress.Add(1) > g.max {
		g.inProgress.Add(-1)
		return false
	}
	return true
}

// leave gives a place back.
func (g *setupGate) leave() { g.inProgress.Add(-1) }

// setupTx is a new INVITE's transaction: its 2xx going out ends the
// set-up. sipgo's dialog sends that 2xx, and repeats it until the ACK,
// through Respond, in the goroutine of the INVITE's handler.
type setupTx struct {
	sip.ServerTransaction
	done func()
}

// Respond sends res, and ends the set-up when res is the 2xx.
func (t setupTx) Respond(res *sip.Response) error {
	err := t.ServerTransaction.Respond(res)
	if res.IsSuccess() {
		t.done()
	}
	return err
}

// SetupsInProgress returns the number of new INVITEs being set up: not yet
// refused nor answered (Limits.MaxSetups bounds it).
func (s *Server) SetupsInProgress() int { return int(s.setups.inProgress.Load()) }

// overloaded is the refusal of a new INVITE past Limits.MaxSetups.
func (s *Server) overloaded() *Rejection {
	return &Rejection{Status: 503, Event: events.CallRefusedOverload, RetryAfter: overloadRetryAfter,
		Cause: fmt.Sprintf("overloaded: %d call set-ups in progress, the most it takes (MaxSetups)", s.limits.MaxSetups)}
}
