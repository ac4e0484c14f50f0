package sip

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/peertest"
)

// A stopping server places no call of its own: Shutdown hangs up the
// outcall answered (sipp as GW1 gets its BYE) and Outcall refuses a new
// one before dialling, with event 9502 saying why.
func TestShutdownHangsUpOutcallsAndRefusesNewOnes(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Limits{})
	gw := f.startGW1Sipp(t)
	ctx := outcallCtx(t)
	out := f.outcallInProgress(ctx)

	stop, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := f.srv.Shutdown(stop); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	select {
	case <-out.Done():
	default:
		t.Fatal("the outcall goes on after Shutdown")
	}
	if !errors.Is(out.Err(), ErrStopping) {
		t.Fatalf("Err of the outcall Shutdown ended: %v; want ErrStopping", out.Err())
	}
	if !strings.Contains(gw.messages(), "BYE sip:") {
		t.Fatalf("the gateway got no BYE:\n%s", gw.messages())
	}

	_, err := f.srv.Outcall(ctx, OutcallRequest{DialPlan: "OPEN", Number: "5550000"})
	if !errors.Is(err, ErrStopping) {
		t.Fatalf("an outcall once the server is stopping: %v; want ErrStopping", err)
	}
	f.event(events.OutcallPlaced, "refused: the server is stopping")
	if strings.Contains(gw.messages(), "INVITE sip:5550000") {
		t.Fatal("the refused outcall was dialled")
	}
}

// An outcall still ringing when the server stops is cancelled (CANCEL),
// its error ErrStopping, its event 9502 saying so.
func TestShutdownCancelsOutcallRinging(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Limits{})
	port := peertest.FreePort(t)
	gw := startSippGateway(t, "uas_ringing.xml", "127.0.0.1", port, "sip:gw@127.0.0.1:"+strconv.Itoa(port)+";transport=tcp", "RTP/AVP")
	f.outcallsThroughGW1(port)
	ctx := outcallCtx(t)
	placed := make(chan error, 1)
	go func() {
		_, err := f.srv.Outcall(ctx, OutcallRequest{DialPlan: "OPEN", Number: "5551234"})
		placed <- err
	}()
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(gw.messages(), "180 Ringing"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the gateway never rang:\n%s", gw.messages())
		}
	}

	stop, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := f.srv.Shutdown(stop); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-placed; !errors.Is(err, ErrStopping) {
		t.Fatalf("the outcall ringing when the server stopped: %v; want ErrStopping", err)
	}
	if !strings.Contains(gw.messages(), "CANCEL sip:") {
		t.Fatalf("the gateway got no CANCEL:\n%s", gw.messages())
	}
	f.event(events.OutcallPlaced, "cancelled: the server is stopping")
	f.waitCalls(0)
}
