package sip

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// saving is a CallHandler that, once its call is cut, takes a while to
// finish (as voice mail saving a message does) and says when it has.
type saving struct{ done atomic.Bool }

func (h *saving) HandleCall(ctx context.Context, _ *Call) {
	<-ctx.Done()
	time.Sleep(300 * time.Millisecond)
	h.done.Store(true)
}

// A call still up when the drain's time is over is hung up properly: the
// caller gets a BYE (a gateway frees its channel rather than waiting for
// its own timer), and Shutdown returns only once the call's handler has
// finished with it (a message being saved is saved, not cut by the exit).
func TestShutdownHangsUpTheCallsItCuts(t *testing.T) {
	t.Parallel()
	h := &saving{}
	f := newFixture(t, Limits{}, withCalls(h))
	p := f.tcp("127.0.0.2")
	placeCall(t, p, "5000", "cut1", sdpOffer("127.0.0.2", false))

	stop, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	stopped := make(chan error, 1)
	go func() { stopped <- f.srv.Shutdown(stop) }()
	p.answer(p.expectRequest("BYE"), 200, "OK")
	select {
	case err := <-stopped:
		if err == nil {
			t.Error("Shutdown cut a call and said nothing")
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Shutdown did not return")
	}
	if !h.done.Load() {
		t.Error("Shutdown returned before the cut call's handler finished")
	}
	if n := f.srv.ActiveCalls(); n != 0 {
		t.Errorf("%d calls in progress after Shutdown", n)
	}
}
