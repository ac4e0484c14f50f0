package sip

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openum/openum/internal/directory"
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

// OPTIONS answers as an INVITE would (RFC 3261 section 11.2): 503 while
// the gateway or the server takes no new calls, or the server stops, so
// that a gateway or a dispatcher pinging it routes elsewhere; 200 while it
// is only full, which the next call to end undoes.
func TestOptionsSaysWhetherCallsAreTaken(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Limits{})
	gw1, gw2 := f.tcp("127.0.0.1"), f.tcp("127.0.0.2")
	n := 0
	options := func(p *peer, want int) *response {
		t.Helper()
		n++
		p.request("OPTIONS", "sip:um.localhost", "opt"+strconv.Itoa(n), "", "")
		return p.mustStatus(want)
	}
	setStatus := func(server, gateway directory.Status, maxCalls int) {
		t.Helper()
		f.update(func(s *directory.Snapshot) error {
			sv, _ := s.Server("um.localhost")
			gw, _ := s.IPGateway("GW2")
			sv.Status, sv.MaxCallsAllowed, gw.Status = server, maxCalls, gateway
			return nil
		})
	}

	setStatus(directory.Enabled, directory.Enabled, 1)
	_, tag := placeCall(t, gw2, "5000", "full1", sdpOffer("127.0.0.2", false))
	options(gw1, 200) // full: still in rotation
	hangUp(t, gw2, "5000", "full1", tag)

	setStatus(directory.Enabled, directory.NoNewCalls, 10)
	options(gw2, 503)
	options(gw1, 200) // another gateway's calls are still taken

	setStatus(directory.NoNewCalls, directory.Enabled, 10)
	options(gw1, 503)
	setStatus(directory.Disabled, directory.Enabled, 10)
	options(gw2, 503)
	setStatus(directory.Enabled, directory.Enabled, 10)
	options(gw2, 200)

	// Stopping, with a call that keeps Shutdown draining.
	_, tag = placeCall(t, gw2, "5000", "drain1", sdpOffer("127.0.0.2", false))
	stopped := make(chan error, 1)
	go func() { stopped <- f.srv.Shutdown(context.Background()) }()
	for deadline := time.Now().Add(5 * time.Second); !f.srv.Draining(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("Shutdown did not begin")
		}
	}
	if res := options(gw1, 503); res.header.Get("Retry-After") == "" {
		t.Error("503 to OPTIONS while stopping without Retry-After")
	}
	hangUp(t, gw2, "5000", "drain1", tag)
	if err := <-stopped; err != nil {
		t.Fatalf("Shutdown after the last call ended: %v", err)
	}
}
