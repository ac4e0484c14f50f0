package main

import (
	"strings"
	"testing"
	"time"
)

// Three openum serve processes on one PostgreSQL directory (SPEC OPS-4):
// a dial plan changed on the directory is applied by every server within
// a second; a full server (MaxCallsAllowed reached) answers 302, and sipp,
// following it, is answered by a server with room; NoNewCalls on two
// servers moves every new call to the third.
func TestThreeServers(t *testing.T) {
	p := newPool(t, 3)
	// SIPSecured needs the gateway's FQDN; it still calls from 127.0.0.1.
	p.openum("gateway", "set", "PBX", "--address", "localhost")

	// OPEN made SIPSecured, then Unsecured again, from um1's folder: an
	// SRTP offer over TCP is refused by the secure transport rule (403),
	// then by the Unsecured mode (488), by um2 and um3 alike.
	var slowest time.Duration
	for _, c := range []struct{ mode, status string }{{"SIPSecured", "403"}, {"Unsecured", "488"}} {
		// Timed from the command's start: its own run (a process, a
		// connection, the commit) counts against the second.
		begun := time.Now()
		p.openum("dialplan", "set", "OPEN", "--voip-security", c.mode)
		changed := time.Now()
		for i := 1; i < 3; i++ {
			p.waitAnswer(i, srtpOffer, c.status, 5*time.Second)
			took := time.Since(begun)
			t.Logf("OPEN %s applied by %s %v after the command began, %v after it ended", c.mode, p.name(i),
				took.Round(time.Millisecond), time.Since(changed).Round(time.Millisecond))
			slowest = max(slowest, took)
		}
	}
	if slowest > 1500*time.Millisecond {
		t.Errorf("a dial plan change took %v to reach a server; want within a second (1.5 s with slack)", slowest)
	}

	// um1 full: one call (bob's greeting, 5 s) and MaxCallsAllowed 1.
	p.openum("policy", "new", "P1", "--dialplan", "OPEN")
	p.openum("mailbox", "enable", "bob@example.test", "--dialplan", "OPEN", "--extension", "23456")
	p.openum("server", "set", p.name(0), "--max-calls-allowed", "1")
	status, _, release := invite(t, p.tcp[0], "sip:23456@um1.localhost", "held-1", rtpOffer)
	if status != 200 {
		t.Fatalf("bob's call on um1: %d; want 200", status)
	}
	p.waitAnswer(0, rtpOffer, "302", 3*time.Second)
	before := p.counts()
	ok, failed, out := sipp(t, "uac_redirect.xml", "tn", p.tcp[0], 3, 200, "5000")
	release()
	if ok != 3 || failed != 0 {
		t.Fatalf("sipp to the full um1: %d calls answered, %d failed; want 3 and 0\n%s", ok, failed, out)
	}
	after := p.counts()
	if after[0] != before[0] || after[1]+after[2] != before[1]+before[2]+3 {
		t.Fatalf("calls admitted by um1, um2, um3: %v, then %v after 3 calls to the full um1; want all 3 on um2 and um3", before, after)
	}
	if events := p.openum("events", "--id", "9216"); !strings.Contains(events, "MaxCallsAllowed reached") {
		t.Fatalf("no event 9216 for the full um1:\n%s", events)
	}

	// NoNewCalls on um1 and um2: their new calls go to um3.
	p.openum("server", "set", p.name(0), "--max-calls-allowed", "100", "--status", "NoNewCalls")
	p.openum("server", "set", p.name(1), "--status", "NoNewCalls")
	for i := range 2 {
		p.waitAnswer(i, srtpOffer, "302 <sip:5000@um3.localhost:", 5*time.Second)
	}
	before = p.counts()
	for i := range 2 {
		if ok, failed, out := sipp(t, "uac_redirect.xml", "tn", p.tcp[i], 3, 200, "5000"); ok != 3 || failed != 0 {
			t.Fatalf("sipp to %s in NoNewCalls: %d calls answered, %d failed; want 3 and 0\n%s", p.name(i), ok, failed, out)
		}
	}
	if after := p.counts(); after[0] != before[0] || after[1] != before[1] || after[2] != before[2]+6 {
		t.Fatalf("calls admitted by um1, um2, um3: %v, then %v; want the 6 new ones on um3", before, after)
	}
}

// counts is the calls each server admitted.
func (p *pool) counts() []int {
	p.t.Helper()
	var n []int
	for i := range p.sites {
		n = append(n, p.admitted(i))
	}
	return n
}
