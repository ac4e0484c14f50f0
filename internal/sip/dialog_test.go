package sip

import (
	"strings"
	"testing"
)

// In-dialog requests reach a call only by its Call-ID and both tags, from
// the gateway that placed it: a BYE or re-INVITE that names another To tag
// or From tag, or comes from another gateway, gets 481 and the call goes on.
func TestInDialogRequestsMatchCallIDAndTags(t *testing.T) {
	f := newFixture(t, Limits{})
	p := f.tcp("127.0.0.1") // GW1, pilot 5003 → OPEN
	_, tag := placeCall(t, p, "5003", "d1", sdpOffer("127.0.0.1", false))
	uri := "sip:5003@um.localhost"

	p.request("BYE", uri, "d1", "totag=wrong\n", "")
	p.mustStatus(481)
	p.request("INVITE", uri, "d1", "totag=wrong\n", sdpOffer("127.0.0.1", false))
	p.mustStatus(481)
	// The From tag is the caller's half of the dialog ID.
	p.send("BYE " + uri + " SIP/2.0\nVia: SIP/2.0/TCP " + p.conn.LocalAddr().String() + ";branch=z9hG4bKotherfrom\n" +
		"From: <sip:gw@127.0.0.1>;tag=other\nTo: <" + uri + ">;tag=" + tag + "\nCall-ID: d1\nCSeq: 90 BYE\nMax-Forwards: 70\nContent-Length: 0\n\n")
	p.mustStatus(481)
	// The right tags from another gateway (GW2) are not the caller's.
	other := f.tcp("127.0.0.2")
	other.seq = 90
	other.request("BYE", uri, "d1", "totag="+tag+"\n", "")
	other.mustStatus(481)
	if f.srv.ActiveCalls() != 1 {
		t.Fatalf("%d calls after BYEs for no dialog; want the call to go on", f.srv.ActiveCalls())
	}

	hold := sdpOffer("127.0.0.1", false) + "a=sendonly\n"
	p.request("INVITE", uri, "d1", "totag="+tag+"\n", hold)
	if res := p.mustStatus(200); !strings.Contains(res.body, "a=recvonly") {
		t.Fatalf("answer to a hold in the dialog:\n%s", res.body)
	}
	p.request("ACK", uri, "d1", "totag="+tag+"\n", "")
	// A re-INVITE older than the last one is refused (RFC 3261 12.2.2).
	p.seq -= 2
	p.request("INVITE", uri, "d1", "totag="+tag+"\n", sdpOffer("127.0.0.1", false))
	p.mustStatus(500)
	p.seq += 2

	hangUp(t, p, "5003", "d1", tag)
	waitIdle(t, f)
	p.request("BYE", uri, "d1", "totag="+tag+"\n", "")
	p.mustStatus(481)
}
