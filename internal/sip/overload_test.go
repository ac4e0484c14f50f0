package sip

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openum/openum/internal/events"
)

// A burst of INVITEs far above what the server may set up at once, on one
// mutual TLS connection, while its set-ups are slow (Ready holds them):
// the excess is refused at once, 503 with Retry-After, none left waiting;
// the admitted calls complete once their set-ups go on; then the server
// takes new calls again. Without the bound, every INVITE of the burst
// waits in Ready and none is answered.
func TestSetupBurstIsAnsweredAndTheExcessRefused(t *testing.T) {
	const maxSetups, burst = 3, 40
	var held atomic.Int32
	release := make(chan struct{})
	f := newFixture(t, Limits{MaxSetups: maxSetups}, withReady(func(*Call) *Rejection {
		held.Add(1)
		<-release
		return nil
	}))
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	t.Cleanup(free) // before the fixture's: a failed test leaves no set-up held
	p := f.gateway()
	cseq := map[string]int{}
	for i := range burst {
		id := fmt.Sprintf("burst-%d", i)
		p.request("INVITE", "sip:5001@um.localhost", id, "", sdpOffer("127.0.0.1", false))
		cseq[id] = p.seq
	}
	refused := map[string]bool{}
	for len(refused) < burst-maxSetups {
		res, err := p.response()
		if err != nil {
			t.Fatalf("%d of %d INVITEs refused while %d set-ups wait, then %v", len(refused), burst-maxSetups, held.Load(), err)
		}
		id := res.header.Get("Call-Id")
		if res.status != 503 || res.header.Get("Retry-After") == "" || refused[id] {
			t.Fatalf("%s: %d (Retry-After %q, answered before: %v); want one 503 with Retry-After",
				id, res.status, res.header.Get("Retry-After"), refused[id])
		}
		refused[id] = true
	}
	f.event(events.CallRefusedOverload, "MaxSetups")
	if n, h := f.srv.SetupsInProgress(), held.Load(); n != maxSetups || h != maxSetups {
		t.Errorf("%d set-ups in progress, %d in Ready; want %d", n, h, maxSetups)
	}

	free()
	tags := map[string]string{} // the admitted calls' to-tags
	for len(tags) < maxSetups {
		res, err := p.response()
		if err != nil {
			t.Fatalf("%d of %d admitted calls answered, then %v", len(tags), maxSetups, err)
		}
		id := res.header.Get("Call-Id")
		if res.status != 200 || refused[id] {
			t.Fatalf("%s: %d after the release (refused before: %v); want 200", id, res.status, refused[id])
		}
		_, tags[id], _ = strings.Cut(res.header.Get("To"), "tag=")
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
	// The 200 reaches the peer a moment before the server's Respond returns.
	deadline := time.Now().Add(3 * time.Second)
	for f.srv.SetupsInProgress() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := f.srv.SetupsInProgress(); n != 0 {
		t.Errorf("%d set-ups in progress after the calls; want 0", n)
	}
}
