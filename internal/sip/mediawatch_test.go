package sip

import (
	"testing"
	"time"

	"github.com/openum/openum/internal/events"
)

// A caller that sends no audio for MediaTimeout (a gateway that lost the
// call without a BYE) is hung up, with the event that says why; a call
// on hold from the start (a=inactive), where silence is expected, stays.
func TestSilentCallerIsHungUp(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Limits{MediaTimeout: 1500 * time.Millisecond})
	held := f.tcp("127.0.0.2")
	placeCall(t, held, "5000", "h1", sdpOffer("127.0.0.2", false)+"a=inactive\n")
	p := f.tcp("127.0.0.2")
	begun := time.Now()
	placeCall(t, p, "5000", "q1", sdpOffer("127.0.0.2", false))
	// Answered as a gateway does: unanswered, the server's BYE keeps the
	// call in progress until it gives up on it (5 s), as long as the wait
	// for one call below.
	p.answer(p.expectRequest("BYE"), 200, "OK")
	if took := time.Since(begun); took < 1500*time.Millisecond {
		t.Errorf("hung up after %v of silence; want MediaTimeout (1.5 s) at least", took)
	}
	f.event(events.CallEnded, "q1")
	if n := f.count(events.CallEnded, "h1"); n != 0 {
		t.Errorf("the call on hold was hung up too (%d events)", n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for f.srv.ActiveCalls() != 1 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := f.srv.ActiveCalls(); n != 1 {
		t.Errorf("%d calls in progress; want the one on hold", n)
	}
}
