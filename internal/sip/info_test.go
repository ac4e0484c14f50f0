package sip

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/openum/openum/internal/events"
)

// keyRecorder is a call handler that reads each call's Received channel,
// as voice mail does, and keeps the keys.
type keyRecorder struct{ keys chan byte }

func newKeyRecorder() *keyRecorder { return &keyRecorder{keys: make(chan byte, 64)} }

func (k *keyRecorder) HandleCall(ctx context.Context, c *Call) {
	for {
		select {
		case <-ctx.Done():
			return
		case r, ok := <-c.Audio.Received():
			if !ok {
				return
			}
			if r.Digit != 0 {
				k.keys <- r.Digit
			}
		}
	}
}

// want checks that the calls' handler saw exactly keys, in that order.
func (k *keyRecorder) want(t *testing.T, keys string) {
	t.Helper()
	var got []byte
	timeout := time.After(5 * time.Second)
	for len(got) < len(keys) {
		select {
		case key := <-k.keys:
			got = append(got, key)
		case <-timeout:
			t.Fatalf("the call handler saw the keys %q; want %q", got, keys)
		}
	}
	select {
	case key := <-k.keys:
		t.Fatalf("the call handler saw %q, then %q; want %q alone", got, key, keys)
	case <-time.After(200 * time.Millisecond):
	}
	if string(got) != keys {
		t.Fatalf("the call handler saw the keys %q; want %q", got, keys)
	}
}

// Key presses by SIP INFO reach the call handler on the stream's Received
// channel, in order, whichever body the gateway uses; an INFO that names
// no dialog gets 481, one that is not DTMF 415 with Accept, a malformed
// one 400; none of those, nor a repeated INFO, delivers a key.
func TestInfoDigitsReachTheCall(t *testing.T) {
	rec := newKeyRecorder()
	f := newFixture(t, Limits{}, withCalls(rec))
	p := f.tcp("127.0.0.2") // GW2, pilot 5000 → OPEN
	res, tag := placeCall(t, p, "5000", "i1", sdpOffer("127.0.0.2", false))
	if !strings.Contains(res.header.Get("Allow"), "INFO") {
		t.Fatalf("the 200 to the INVITE allows %q; want INFO", res.header.Get("Allow"))
	}
	uri := "sip:5000@um.localhost"
	info := func(callID, tag, ctype, body string) *response {
		t.Helper()
		extra := "totag=" + tag + "\n"
		if ctype != "" {
			extra += "Content-Type: " + ctype + "\n"
		}
		p.request("INFO", uri, callID, extra, body)
		res, err := p.response()
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	for _, c := range []struct{ ctype, body string }{
		{"application/dtmf-relay", "Signal=1\nDuration=160\n"},
		{"application/dtmf", "2"},
		{"Application/DTMF-Relay", "signal = 11\n"}, // # as its event code
		{"", ""}, // a keep-alive: no key
		{"application/dtmf-relay", "Duration=100\nSignal=*\nVolume=10\n"},
		{"application/dtmf", "d\n"},
	} {
		if res := info("i1", tag, c.ctype, c.body); res.status != 200 {
			t.Fatalf("INFO %s %q: status %d; want 200", c.ctype, c.body, res.status)
		}
	}
	// A repeat of the last INFO (its CSeq again) is the same key press.
	p.seq--
	if res := info("i1", tag, "application/dtmf", "d"); res.status != 200 {
		t.Fatalf("a repeated INFO: status %d; want 200", res.status)
	}
	rec.want(t, "12#*D")

	if res := info("i1", tag, "application/sdp", sdpOffer("127.0.0.2", false)); res.status != 415 ||
		!strings.Contains(res.header.Get("Accept"), "application/dtmf-relay") || !strings.Contains(res.header.Get("Accept"), "application/dtmf") {
		t.Fatalf("INFO with SDP: %d, Accept %q; want 415 naming the DTMF bodies", res.status, res.header.Get("Accept"))
	}
	f.event(events.MalformedRequest, "is not application/dtmf-relay")
	if res := info("i1", tag, "application/dtmf-relay", "Duration=160\n"); res.status != 400 {
		t.Fatalf("INFO without Signal: status %d; want 400", res.status)
	}
	f.event(events.MalformedRequest, "no Signal")
	if res := info("i1", "wrong", "application/dtmf", "7"); res.status != 481 {
		t.Fatalf("INFO with a wrong To tag: status %d; want 481", res.status)
	}
	if res := info("nodialog", "", "application/dtmf", "8"); res.status != 481 {
		t.Fatalf("INFO outside any dialog: status %d; want 481", res.status)
	}
	rec.want(t, "")

	p.request("OPTIONS", "sip:um.localhost", "o1", "", "")
	if res := p.mustStatus(200); !strings.Contains(res.header.Get("Allow"), "INFO") || !strings.Contains(res.header.Get("Accept"), "application/dtmf-relay") {
		t.Fatalf("OPTIONS: Allow %q, Accept %q; want INFO and DTMF bodies", res.header.Get("Allow"), res.header.Get("Accept"))
	}
	hangUp(t, p, "5000", "i1", tag)
	waitIdle(t, f)
	if res := info("i1", tag, "application/dtmf", "9"); res.status != 481 {
		t.Fatalf("INFO after the BYE: status %d; want 481", res.status)
	}
}

// sipp, as a gateway, calls and sends keys as SIP INFO, then as RFC 4733
// events: the call handler sees them in order either way. The INFO
// scenario also sends one INFO with a To tag of no dialog: 481.
func TestSippDigitsByInfoAndRFC4733(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ scenario, keys string }{
		{"uac_info.xml", "12#"},
		{"uac_rfc4733.xml", "12#"},
	} {
		t.Run(c.scenario, func(t *testing.T) {
			if c.scenario == "uac_rfc4733.xml" && os.Geteuid() != 0 {
				t.Skip("sipp plays RTP captures through a raw socket: needs root")
			}
			rec := newKeyRecorder()
			f := newFixture(t, Limits{}, withCalls(rec))
			r := sipp(t, c.scenario, "127.0.0.2", f.srv.Addrs()["TCP"].String(), 30*time.Second, "-s", "5000", "-m", "1")
			if r.rc != 0 || r.successful != 1 {
				t.Fatalf("want one call from GW2 with its key presses:\n%s", r)
			}
			rec.want(t, c.keys)
			waitIdle(t, f)
		})
	}
}
