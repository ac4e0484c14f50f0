package sip

import (
	"net/textproto"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/openum/openum/internal/events"
)

// Delayed offer (an INVITE without SDP): openum offers in its 200, the ACK
// answers. sipp is the gateway; its -trace_msg log shows what openum sent.

// sippOffers returns the SDP bodies of the 200s in sipp's message log.
func sippOffers(t *testing.T, r *sippRun) []string {
	t.Helper()
	logs, _ := filepath.Glob(filepath.Join(r.dir, "*_messages.log"))
	if len(logs) != 1 {
		t.Fatalf("no sipp message log in %s", r.dir)
	}
	b, err := os.ReadFile(logs[0])
	if err != nil {
		t.Fatal(err)
	}
	var offers []string
	for _, msg := range strings.Split(string(b), "SIP/2.0 200 OK")[1:] {
		if i := strings.Index(msg, "v=0"); i >= 0 {
			offers = append(offers, msg[i:strings.Index(msg, "a=sendrecv")+len("a=sendrecv")])
		}
	}
	return offers
}

func TestSippDelayedOfferOverTCP(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Limits{})
	r := sipp(t, "uac_late.xml", "127.0.0.2", f.srv.Addrs()["TCP"].String(), 30*time.Second,
		"-s", "5000", "-m", "2", "-r", "10", "-d", "100", "-key", "proto", "RTP/AVP", "-trace_msg")
	if r.rc != 0 || r.successful != 2 || r.failed != 0 {
		t.Fatalf("want 2 delayed-offer calls on the Unsecured plan:\n%s", r)
	}
	if n := f.count(events.CallAdmitted, "dialplan:OPEN", "srtp:none"); n != 2 {
		t.Fatalf("%d delayed-offer calls admitted to OPEN with RTP; want 2", n)
	}
	offers := sippOffers(t, r)
	if len(offers) != 2 {
		t.Fatalf("%d offers in the 200s; want 2", len(offers))
	}
	for _, o := range offers {
		if !strings.Contains(o, "RTP/AVP 0 101") || strings.Contains(o, "a=crypto") {
			t.Fatalf("an Unsecured plan's offer must be RTP:\n%s", o)
		}
	}
	waitIdle(t, f)
}

func TestSippDelayedOfferSecuredOverMutualTLS(t *testing.T) {
	t.Parallel()
	f, tunnel := gw1OverTLS(t)
	r := sipp(t, "uac_late.xml", "127.0.0.1", tunnel, 30*time.Second,
		"-s", "5002", "-m", "2", "-r", "10", "-d", "100", "-key", "proto", "RTP/SAVP", "-trace_msg")
	if r.rc != 0 || r.successful != 2 || r.failed != 0 {
		t.Fatalf("want 2 delayed-offer calls on the Secured plan over mutual TLS:\n%s", r)
	}
	if n := f.count(events.CallAdmitted, "dialplan:SEC", "transport:TLS", "srtp:AES_CM_128_HMAC_SHA1_80"); n != 2 {
		t.Fatalf("%d delayed-offer calls admitted to SEC with SRTP; want 2", n)
	}
	offers := sippOffers(t, r)
	key := regexp.MustCompile(`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:(\S+)`)
	var keys []string
	for _, o := range offers {
		m := key.FindStringSubmatch(o)
		if !strings.Contains(o, "m=audio") || !strings.Contains(o, " RTP/SAVP ") || m == nil || strings.Count(o, "m=") != 1 {
			t.Fatalf("a Secured plan's offer must be SRTP only:\n%s", o)
		}
		keys = append(keys, m[1])
	}
	if len(keys) != 2 || keys[0] == keys[1] || strings.Contains(keys[0], "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz") {
		t.Fatalf("each offer needs a fresh key of openum's own: %v", keys)
	}
	waitIdle(t, f)
}

func TestSippDelayedOfferACKWithoutAnswerIsHungUp(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Limits{})
	r := sipp(t, "uac_late_noanswer.xml", "127.0.0.2", f.srv.Addrs()["TCP"].String(), 30*time.Second, "-s", "5000", "-m", "1")
	if r.rc != 0 || r.successful != 1 {
		t.Fatalf("want openum's BYE after an ACK without an answer:\n%s", r)
	}
	f.event(events.SRTPNegotiationFailed, "the ACK carries no SDP answer")
	if n := f.count(events.CallAdmitted); n != 0 {
		t.Fatalf("%d calls admitted; want none", n)
	}
	waitIdle(t, f)
}

// An ACK that answers a Secured plan's SRTP offer with RTP ends the call:
// the media never falls back to plain RTP.
func TestDelayedOfferRTPAnswerToSRTPOfferIsHungUp(t *testing.T) {
	f := newFixture(t, Limits{})
	p := f.gateway()
	p.request("INVITE", "sip:5002@um.localhost", "late-rtp", "", "")
	res := p.mustStatus(200)
	if !strings.Contains(res.body, "RTP/SAVP") || !strings.Contains(res.body, "a=crypto:") {
		t.Fatalf("the Secured plan's offer:\n%s", res.body)
	}
	_, tag, _ := strings.Cut(res.header.Get("To"), "tag=")
	p.request("ACK", "sip:5002@um.localhost", "late-rtp", "totag="+tag+"\n", sdpOffer("127.0.0.1", false))
	_ = p.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := textproto.NewReader(p.r).ReadLine()
	if err != nil || !strings.HasPrefix(line, "BYE ") {
		t.Fatalf("after an RTP answer to an SRTP offer: %q, %v; want openum's BYE", line, err)
	}
	f.event(events.SRTPNegotiationFailed, "plain RTP")
	if n := f.count(events.CallAdmitted); n != 0 {
		t.Fatalf("%d calls admitted; want none", n)
	}
}
