package sip

import (
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openum/openum/internal/events"
)

// testClock is real time plus what a test moved it on.
type testClock struct{ ahead atomic.Int64 }

func (c *testClock) now() time.Time          { return time.Now().Add(time.Duration(c.ahead.Load())) }
func (c *testClock) advance(d time.Duration) { c.ahead.Add(int64(d)) }

// A banned outsider flooding the TCP listener with raw connects costs the
// event log a few lines, not one per connection (SPEC PEER-4). The old
// code wrote a 9202 of about 150 bytes per connection: the 200 connects
// this test makes at the least already take it past the 16 KiB bound.
func TestBannedFloodIsCountedNotLogged(t *testing.T) {
	clk := &testClock{}
	f := newFixture(t, Limits{BanAfter: 3}, withClock(clk.now))
	addr := f.srv.Addrs()["TCP"]
	const maxConns, floodFor, bound = 20000, 3 * time.Second, 16 << 10
	start := time.Now()
	conns, moved := 0, time.Duration(0)
	for conns < maxConns && time.Since(start) < floodFor {
		// Twice in the flood, at a third and two thirds of it (by time
		// or by count, whichever comes first), a minute passes for the
		// server.
		next := int(moved/summaryEvery) + 1
		if moved < 2*summaryEvery && (time.Since(start) > floodFor*time.Duration(next)/3 || conns >= maxConns*next/3) {
			clk.advance(summaryEvery)
			moved += summaryEvery
		}
		rawConnect(t, "127.0.0.66", addr)
		conns++
	}
	flood := time.Since(start) + moved
	if conns < 200 || moved != 2*summaryEvery {
		t.Fatalf("only %d connects in %v (clock moved %v): too few to tell", conns, time.Since(start), moved)
	}

	st, err := os.Stat(f.events)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() >= bound {
		t.Errorf("%d connects wrote %d bytes to the event log; want under %d", conns, st.Size(), bound)
	}
	if n := f.count(events.BanAdded, "127.0.0.66"); n != 1 {
		t.Errorf("%d bans (9206); want 1", n)
	}
	if n := f.count(events.PeerRefused, "127.0.0.66"); n != 3 {
		t.Errorf("%d refusals logged one by one (9202); want the 3 before the ban", n)
	}
	summaries, err := events.Read(f.events, events.Filter{ID: events.BannedSourceRefused})
	if err != nil {
		t.Fatal(err)
	}
	if most := int(math.Ceil(float64(flood)/float64(summaryEvery))) + 1; len(summaries) > most || len(summaries) != 2 {
		t.Fatalf("%d summaries (9214) over %v; want 2, one a minute (at most %d)", len(summaries), flood, most)
	}
	counted := 0
	for _, s := range summaries {
		if s.Attrs["Source"] != "127.0.0.66" || s.Attrs["Transport"] != "TCP" || s.Attrs["First"] == nil || s.Attrs["Last"] == nil {
			t.Errorf("summary %+v", s)
		}
		counted += int(s.Attrs["Count"].(float64))
	}

	// The ban ends with the count no summary told.
	clk.advance(DefaultLimits.BanFor)
	f.srv.liftBans(context.Background())
	end := f.event(events.BanExpired, "127.0.0.66")
	counted += int(end.Attrs["Count"].(float64))
	if want := conns - 3; counted != want {
		t.Errorf("summaries and the end of the ban count %d refusals; want %d", counted, want)
	}
	t.Logf("%d connects in %v: event log %d bytes, %d summaries", conns, time.Since(start), st.Size(), len(summaries))
}

// rawConnect opens a TCP connection from the loopback address from and
// waits for the server to close it: by then the server has counted it.
func rawConnect(t *testing.T, from string, to net.Addr) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 3 * time.Second}
	conn, err := d.Dial("tcp", to.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := io.Copy(io.Discard, conn); err != nil {
		t.Fatalf("the server kept a banned source's connection open: %v", err)
	}
}

// A gateway above its request rate gets 503 for each request, but the
// event log a burst of lines and then a few: the old code wrote one 9205
// per request. The next line written counts those held back.
func TestRefusedRequestFloodIsThrottledInTheLog(t *testing.T) {
	clk := &testClock{}
	f := newFixture(t, Limits{RequestRate: 1, RequestBurst: 1}, withClock(clk.now))
	p := f.tcp("127.0.0.2")
	const requests = 300
	for i := range requests {
		p.request("OPTIONS", "sip:um.localhost", fmt.Sprintf("o%d", i), "", "")
		if i == 0 {
			p.mustStatus(200)
		} else {
			p.mustStatus(503)
		}
	}
	clk.advance(refusalLogEvery)
	p.request("OPTIONS", "sip:um.localhost", "again", "", "")
	p.mustStatus(200)
	p.request("OPTIONS", "sip:um.localhost", "again2", "", "")
	p.mustStatus(503)
	// The response goes out before the event is written: wait for it.
	f.event(events.CallRefusedOverload, fmt.Sprintf("Suppressed:%d", requests-1-refusalLogBurst))
	if n := f.count(events.CallRefusedOverload, "127.0.0.2"); n != refusalLogBurst+1 {
		t.Fatalf("%d refusals (9205) logged for %d refused requests; want the burst of %d and one more", n, requests, refusalLogBurst)
	}
}

// A gateway at its request rate can still hang up the calls it has: the
// BYE of a call in progress is not refused for the rate, a new call is,
// and a stray ACK is dropped without an answer (an ACK never gets one).
func TestRateLimitSparesCallsInProgress(t *testing.T) {
	clk := &testClock{}
	f := newFixture(t, Limits{RequestRate: 1, RequestBurst: 1}, withClock(clk.now))
	p := f.tcp("127.0.0.2")
	_, tag := placeCall(t, p, "5000", "spared", sdpOffer("127.0.0.2", false)) // the INVITE takes the burst; the ACK is spared
	p.request("INVITE", "sip:5000@um.localhost", "refused", "", sdpOffer("127.0.0.2", false))
	p.mustStatus(503)
	p.request("ACK", "sip:5000@um.localhost", "stray", "", "") // no answer: the next is the BYE's
	hangUp(t, p, "5000", "spared", tag)
	deadline := time.Now().Add(5 * time.Second)
	for f.srv.ActiveCalls() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d calls in progress 5 s after the BYE", f.srv.ActiveCalls())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
