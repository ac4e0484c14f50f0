package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// Two openum serve processes on one PostgreSQL directory: NoNewCalls on
// one moves new calls to the other, with 302 naming it, and the other
// answers the redirected call.
func TestNoNewCallsMovesCallsToTheOtherServer(t *testing.T) {
	p := newPool(t, 2)
	p.openum("server", "set", p.name(0), "--status", "NoNewCalls")

	// Within a load period or two (3 s), um2's row shows room with OPEN.
	var status int
	var contact string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		var hangUp func()
		status, contact, hangUp = invite(t, p.tcp[0], "sip:5000@um1.localhost", "pool-1", rtpOffer)
		hangUp()
		if status == 302 {
			break
		}
	}
	want := fmt.Sprintf("<sip:5000@um2.localhost:%d;transport=tcp;openum-redirected=um1.localhost>", p.tcp[1])
	if status != 302 || contact != want {
		t.Fatalf("NoNewCalls on um1: %d, Contact %q; want 302 with %q\nserve 1:\n%s", status, contact, want, p.sites[0].served)
	}
	status, _, hangUp := invite(t, p.tcp[1], strings.Trim(contact, "<>"), "pool-2", rtpOffer)
	hangUp()
	if status != 200 {
		t.Fatalf("the redirected call on um2: %d; want 200\nserve 2:\n%s", status, p.sites[1].served)
	}
	if events := p.openum("events", "--id", "9216"); !strings.Contains(events, "um2.localhost") {
		t.Fatalf("no event 9216 naming um2.localhost:\n%s", events)
	}
}
