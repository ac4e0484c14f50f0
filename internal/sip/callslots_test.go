package sip

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/peertest"
)

// MaxCallsAllowed counts every call in progress on the server, the calls
// it places as well as those it answers (as Exchange does): the fixture's
// server with room for one call, sipp as GW1 carrying its outcalls.

// oneCallServer is the fixture with MaxCallsAllowed 1.
func oneCallServer(s *directory.Snapshot) error {
	sv, err := s.Server("um.localhost")
	if err == nil {
		sv.MaxCallsAllowed = 1
	}
	return err
}

// outcallsThroughGW1 sends the OPEN plan's outcalls to GW1 on port alone
// (GW2 comes first in OPEN's hunt groups).
func (f *fixture) outcallsThroughGW1(port int) {
	f.t.Helper()
	f.editGateway("GW2", func(gw *directory.IPGateway) { gw.OutcallsAllowed = false })
	f.setGateway("GW1", port, true)
}

// startGW1Sipp starts sipp as GW1's gateway over TCP and points GW1 at it.
func (f *fixture) startGW1Sipp(t *testing.T) *gatewaySipp {
	t.Helper()
	port := peertest.FreePort(t)
	gw := startGatewaySippOn(t, "127.0.0.1", port, "sip:gw@127.0.0.1:"+strconv.Itoa(port)+";transport=tcp", "RTP/AVP")
	f.outcallsThroughGW1(port)
	return gw
}

// waitCalls waits until the server publishes n calls in progress.
func (f *fixture) waitCalls(n int) {
	f.t.Helper()
	for deadline := time.Now().Add(3 * time.Second); f.srv.ownLoad().Calls != n; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			f.t.Fatalf("%d calls in progress; want %d", f.srv.ownLoad().Calls, n)
		}
	}
}

// outcallInProgress places an outcall on dial plan OPEN and waits until
// the server counts it among its calls.
func (f *fixture) outcallInProgress(ctx context.Context) *Outcall {
	f.t.Helper()
	out, err := f.srv.Outcall(ctx, OutcallRequest{DialPlan: "OPEN", Number: "5551234"})
	if err != nil {
		f.t.Fatal(err)
	}
	f.waitCalls(1)
	return out
}

func TestOutcallTakesTheServersCallSlot(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Limits{}, withDirectory(oneCallServer))
	gw := f.startGW1Sipp(t)
	ctx := outcallCtx(t)

	// An outcall in progress: the inbound call finds the server full.
	out := f.outcallInProgress(ctx)
	inbound := f.tcp("127.0.0.2")
	inbound.request("INVITE", "sip:5000@um.localhost", "slot-1", "", sdpOffer("127.0.0.2", false))
	inbound.mustStatus(503)
	f.event(events.CallRefusedOverload, "MaxCallsAllowed (1) reached")

	// Hung up, the slot is free: the inbound call is answered, and an
	// outcall asked for meanwhile is refused before dialling.
	if err := out.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	f.waitCalls(0)
	_, tag := placeCall(t, inbound, "5000", "slot-2", sdpOffer("127.0.0.2", false))
	f.waitCalls(1)
	_, err := f.srv.Outcall(ctx, OutcallRequest{DialPlan: "OPEN", Number: "5550000"})
	var full *FullError
	if !errors.As(err, &full) || !strings.HasPrefix(err.Error(), "sip: MaxCallsAllowed (1) reached: 1 answered calls and 0 outcalls") {
		t.Fatalf("an outcall with the inbound call in progress: %v; want a *FullError", err)
	}
	if strings.Contains(gw.messages(), "INVITE sip:5550000") {
		t.Fatal("the refused outcall was dialled")
	}

	// The inbound call over, the server dials out again.
	hangUp(t, inbound, "5000", "slot-2", tag)
	f.waitCalls(0)
	out, err = f.srv.Outcall(ctx, OutcallRequest{DialPlan: "OPEN", Number: "5550001"})
	if err != nil {
		t.Fatalf("after the inbound call ended: %v", err)
	}
	if err := out.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	f.waitCalls(0)
}

// An outcall gives its slot back however it ends: no gateway to carry it,
// no answer before its time runs out, a refusal of its Admit, and a BYE
// that its gateway, gone, never answers.
func TestOutcallSlotReleasedHoweverItEnds(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Limits{}, withDirectory(oneCallServer))
	ctx := outcallCtx(t)
	call := func(ctx context.Context) (*Outcall, error) {
		return f.srv.Outcall(ctx, OutcallRequest{DialPlan: "OPEN", Number: "5551234"})
	}

	f.outcallsThroughGW1(peertest.FreePort(t)) // nothing listens there
	if _, err := call(ctx); !errors.Is(err, ErrNoGateway) {
		t.Fatalf("no gateway listening: %v; want ErrNoGateway", err)
	}
	f.waitCalls(0)

	// A phone that rings and is not answered: the ring time runs out, the
	// INVITE is cancelled.
	port := peertest.FreePort(t)
	ringing := startSippGateway(t, "uas_ringing.xml", "127.0.0.1", port, "sip:gw@127.0.0.1:"+strconv.Itoa(port)+";transport=tcp", "RTP/AVP")
	f.outcallsThroughGW1(port)
	ring, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	_, err := call(ring)
	cancel()
	if err == nil || !strings.Contains(ringing.messages(), "CANCEL sip:") {
		t.Fatalf("an unanswered outcall: %v; want it cancelled:\n%s", err, ringing.messages())
	}
	f.waitCalls(0)

	refused := errors.New("test: not admitted")
	if _, err := f.srv.Outcall(ctx, OutcallRequest{DialPlan: "OPEN", Number: "5551234", Admit: func() error { return refused }}); err != refused {
		t.Fatalf("Admit refusing: %v; want its error as it is", err)
	}
	f.waitCalls(0)

	// Answered, then the gateway dies: the BYE gets no 200, the call ends
	// all the same.
	gw := f.startGW1Sipp(t)
	out, err := call(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f.waitCalls(1)
	gw.tool.stop(syscall.SIGKILL)
	byeCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_ = out.Hangup(byeCtx)
	select {
	case <-out.Done():
	default:
		t.Fatal("Done is open after Hangup")
	}
	f.waitCalls(0)
}

// The board shows the outcall among the server's calls, so that a full
// server dialling out redirects a new call to a server with room, and
// takes calls again once the outcall ends.
func TestOutcallCountsOnTheLoadBoard(t *testing.T) {
	p := newPool(t)
	p.setServer("um.localhost", func(sv *directory.Server) { sv.MaxCallsAllowed = 1 })
	p.startGW1Sipp(t)
	ctx := outcallCtx(t)
	out, err := p.srv.Outcall(ctx, OutcallRequest{DialPlan: "OPEN", Number: "5551234"})
	if err != nil {
		t.Fatal(err)
	}
	p.refresh()
	rows, err := p.dir.ReadLoads(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range rows {
		if l.Server == "um.localhost" && l.Calls != 1 {
			t.Fatalf("A publishes %d calls with an outcall in progress; want 1", l.Calls)
		}
	}
	if res := p.invite("sip:5000@um.localhost", "board-1"); res.status != 302 || !strings.Contains(res.header.Get("Contact"), "@um2.localhost:") {
		t.Fatalf("A dialling out at its limit: %d %q; want 302 to B", res.status, res.header.Get("Contact"))
	}
	p.event(events.CallRedirected, "MaxCallsAllowed reached")

	if err := out.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	p.waitCalls(0)
	p.refresh()
	held := p.tcp("127.0.0.2")
	_, tag := placeCallTo(t, held, "sip:5000@um.localhost", "board-2")
	hangUp(t, held, "5000", "board-2", tag)
}
