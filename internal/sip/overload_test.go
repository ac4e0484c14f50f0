package sip

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/openum/openum/internal/events"
)

// A burst of INVITEs far above what the server may set up at once, on one
// mutual TLS connection: every INVITE is answered, 200 or 503 with
// Retry-After, none left waiting; the admitted calls complete; and once
// they are set up, the server takes new calls again. The gateway holds
// its ACKs back until every INVITE is answered, so that the admitted
// set-ups stay in progress through the burst, whatever the machine's
// speed: without the bound, every INVITE of the burst is answered 200.
func TestSetupBurstIsAnsweredAndTheExcessRefused(t *testing.T) {
	const maxSetups, burst = 3, 40
	f := newFixture(t, Limits{MaxSetups: maxSetups})
	p := f.gateway()
	cseq := map[string]int{}
	for i := range burst {
		id := fmt.Sprintf("burst-%d", i)
		p.request("INVITE", "sip:5001@um.localhost", id, "", sdpOffer("127.0.0.1", false))
		cseq[id] = p.seq
	}
	tags := map[string]string{} // the admitted calls' to-tags
	refused := 0
	for answered := map[string]bool{}; len(answered) < burst; {
		res, err := p.response()
		if err != nil {
			t.Fatalf("%d of %d INVITEs answered, then %v", len(answered), burst, err)
		}
		id := res.header.Get("Call-Id")
		if answered[id] { // the 200 again: sipgo repeats it until the ACK
			continue
		}
		answered[id] = true
		switch res.status {
		case 200:
			_, tags[id], _ = strings.Cut(res.header.Get("To"), "tag=")
		case 503:
			if res.header.Get("Retry-After") == "" {
				t.Errorf("%s: 503 without Retry-After", id)
			}
			refused++
		default:
			t.Fatalf("%s: status %d", id, res.status)
		}
	}
	if len(tags) != maxSetups || refused != burst-maxSetups {
		t.Fatalf("%d admitted and %d refused of %d; want %d admitted", len(tags), refused, burst, maxSetups)
	}
	f.event(events.CallRefusedOverload, "MaxSetups")
	if n := f.srv.SetupsInProgress(); n != maxSetups {
		t.Errorf("%d set-ups in progress before the ACKs; want %d", n, maxSetups)
	}

	for id, tag := range tags {
		seq := p.seq
		p.seq = cseq[id] // an ACK repeats its INVITE's CSeq
		p.request("ACK", "sip:5001@um.localhost", id, "totag="+tag+"\n", "")
		p.seq = seq
	}
	for id, tag := range tags {
		p.request("BYE", "sip:5001@um.localhost", id, "totag="+tag+"\n", "")
		for {
			res, err := p.response()
			if err != nil {
				t.Fatalf("BYE of %s: %v", id, err)
			}
			if strings.HasSuffix(res.header.Get("CSeq"), "INVITE") {
				continue // a 200 repeated before its ACK arrived
			}
			if res.status != 200 || res.header.Get("Call-Id") != id {
				t.Fatalf("BYE of %s: %d for %s", id, res.status, res.header.Get("Call-Id"))
			}
			break
		}
	}
	_, tag := placeCall(t, p, "5001", "after-burst", sdpOffer("127.0.0.1", false))
	hangUp(t, p, "5001", "after-burst", tag)
	// The server sees the ACK end the set-up a moment after it answers
	// the BYE, in another goroutine.
	deadline := time.Now().Add(3 * time.Second)
	for f.srv.SetupsInProgress() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := f.srv.SetupsInProgress(); n != 0 {
		t.Errorf("%d set-ups in progress after the calls; want 0", n)
	}
}
