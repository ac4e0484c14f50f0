package sip

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/textproto"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openum/openum/internal/directory"
)

// Blind transfer over a real TCP connection: the test is the gateway, and
// answers openum's REFER and sends the NOTIFYs as a PBX would.

// transferring is a call handler that transfers each call to 10000 and
// hands Transfer's result to the test.
type transferring chan error

func (h transferring) HandleCall(ctx context.Context, c *Call) {
	h <- c.Transfer(ctx, "10000", "sip:alice@example.test")
}

// message is one SIP message read by the test's gateway.
type message struct {
	first  string // the request or status line
	header textproto.MIMEHeader
	body   string
}

// next reads the next message, request or response.
func (p *peer) next() message {
	p.t.Helper()
	_ = p.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	tp := textproto.NewReader(p.r)
	first, err := tp.ReadLine()
	if err != nil {
		p.t.Fatalf("reading a message: %v", err)
	}
	h, err := tp.ReadMIMEHeader()
	if err != nil {
		p.t.Fatalf("reading a message: %v", err)
	}
	n, _ := strconv.Atoi(h.Get("Content-Length"))
	body := make([]byte, n)
	if _, err := io.ReadFull(p.r, body); err != nil {
		p.t.Fatalf("reading a body: %v", err)
	}
	return message{first: first, header: h, body: string(body)}
}

// expectRequest reads messages until a request of method, skipping
// responses, and returns it.
func (p *peer) expectRequest(method string) message {
	p.t.Helper()
	for {
		m := p.next()
		if strings.HasPrefix(m.first, method+" ") {
			return m
		}
		if !strings.HasPrefix(m.first, "SIP/2.0 ") {
			p.t.Fatalf("got %q; want a %s", m.first, method)
		}
	}
}

// answer responds to req.
func (p *peer) answer(req message, status int, reason string) {
	p.t.Helper()
	p.send(fmt.Sprintf("SIP/2.0 %d %s\nVia: %s\nFrom: %s\nTo: %s\nCall-ID: %s\nCSeq: %s\nContent-Length: 0\n\n",
		status, reason, req.header.Get("Via"), req.header.Get("From"), req.header.Get("To"), req.header.Get("Call-ID"), req.header.Get("CSeq")))
}

// notify sends a NOTIFY of the REFER's subscription with a sipfrag; it
// returns openum's answer.
func (p *peer) notify(callID, tag, event, state, frag string) int {
	p.t.Helper()
	p.request("NOTIFY", "sip:openum@um.localhost", callID,
		"totag="+tag+"\nEvent: "+event+"\nSubscription-State: "+state+"\nContent-Type: message/sipfrag;version=2.0\n", frag)
	return p.expectStatus()
}

// expectStatus reads messages until a response, and returns its status.
func (p *peer) expectStatus() int {
	p.t.Helper()
	for {
		m := p.next()
		if code, ok := strings.CutPrefix(m.first, "SIP/2.0 "); ok {
			n, _ := strconv.Atoi(code[:3])
			return n
		}
	}
}

// referredCall places a call on GW2 to a handler that transfers it, and
// reads openum's REFER.
func referredCall(t *testing.T, limits Limits, callID string) (*fixture, *peer, transferring, string, message) {
	t.Helper()
	done := make(transferring, 1)
	f := newFixture(t, limits, withCalls(done))
	p := f.tcp("127.0.0.2") // GW2, pilot 5000 → OPEN
	_, tag := placeCall(t, p, "5000", callID, sdpOffer("127.0.0.2", false))
	refer := p.expectRequest("REFER")
	if got, want := refer.header.Get("Refer-To"), "<sip:10000@127.0.0.2:5060;transport=tcp>"; got != want {
		t.Errorf("Refer-To %q; want %q", got, want)
	}
	if got, want := refer.header.Get("Referred-By"), "<sip:alice@example.test>"; got != want {
		t.Errorf("Referred-By %q; want %q", got, want)
	}
	if !strings.Contains(refer.header.Get("To"), "tag=gw1") || !strings.Contains(refer.header.Get("From"), "tag="+tag) {
		t.Errorf("REFER outside the call's dialog: From %q To %q", refer.header.Get("From"), refer.header.Get("To"))
	}
	return f, p, done, tag, refer
}

func result(t *testing.T, done transferring) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("Transfer did not return")
		return nil
	}
}

func referID(refer message) string {
	seq, _, _ := strings.Cut(refer.header.Get("CSeq"), " ")
	return "refer;id=" + seq
}

func TestTransferDoneWhenTheSipfragSays200(t *testing.T) {
	_, p, done, tag, refer := referredCall(t, Limits{}, "x1")
	p.answer(refer, 202, "Accepted")
	// A 202 and a 100 sipfrag are not the end: openum waits.
	if st := p.notify("x1", tag, referID(refer), "active;expires=60", "SIP/2.0 100 Trying\r\n"); st != 200 {
		t.Fatalf("NOTIFY 100: %d; want 200", st)
	}
	select {
	case err := <-done:
		t.Fatalf("Transfer returned %v before the final sipfrag", err)
	case <-time.After(200 * time.Millisecond):
	}
	// Another event package, in the dialog, is not the transfer's.
	if st := p.notify("x1", tag, "dialog", "active", "SIP/2.0 200 OK\r\n"); st != 489 {
		t.Fatalf("NOTIFY Event: dialog: %d; want 489", st)
	}
	if st := p.notify("x1", tag, referID(refer), "terminated;reason=noresource", "SIP/2.0 200 OK\r\n"); st != 200 {
		t.Fatalf("NOTIFY 200: %d; want 200", st)
	}
	if err := result(t, done); err != nil {
		t.Fatalf("Transfer: %v; want done", err)
	}
	bye := p.expectRequest("BYE") // openum hangs its leg up
	p.answer(bye, 200, "OK")
}

func TestTransferFailsWhenTheSipfragSays486(t *testing.T) {
	_, p, done, tag, refer := referredCall(t, Limits{}, "x2")
	p.answer(refer, 202, "Accepted")
	// A NOTIFY of an earlier REFER of the call is not this transfer's.
	if st := p.notify("x2", tag, "refer;id=1", "terminated", "SIP/2.0 200 OK\r\n"); st != 200 {
		t.Fatalf("NOTIFY of another REFER: %d", st)
	}
	p.notify("x2", tag, referID(refer), "terminated;reason=noresource", "SIP/2.0 486 Busy Here\r\n")
	var te *TransferError
	if err := result(t, done); !errors.As(err, &te) || te.Status != 486 || !strings.Contains(te.Cause, "486 Busy Here") {
		t.Fatalf("Transfer: %v; want a TransferError 486", err)
	}
	// No transfer waits now: a late NOTIFY ends its subscription.
	if st := p.notify("x2", tag, referID(refer), "terminated", "SIP/2.0 200 OK\r\n"); st != 481 {
		t.Fatalf("late NOTIFY: %d; want 481", st)
	}
}

func TestTransferTimesOutWithoutAFinalNotify(t *testing.T) {
	_, p, done, _, refer := referredCall(t, Limits{TransferTimeout: 500 * time.Millisecond}, "x3")
	p.answer(refer, 202, "Accepted")
	begun := time.Now()
	var te *TransferError
	if err := result(t, done); !errors.As(err, &te) || te.Status != 0 || !strings.Contains(te.Cause, "no final NOTIFY") {
		t.Fatalf("Transfer: %v; want a timeout", err)
	}
	if waited := time.Since(begun); waited > 2*time.Second {
		t.Fatalf("Transfer waited %s; the bound is 500ms", waited)
	}
}

func TestTransferRefused(t *testing.T) {
	_, p, done, _, refer := referredCall(t, Limits{}, "x4")
	p.answer(refer, 403, "Forbidden")
	var te *TransferError
	if err := result(t, done); !errors.As(err, &te) || te.Status != 403 || !strings.Contains(te.Cause, "refused: 403 Forbidden") {
		t.Fatalf("Transfer: %v; want a TransferError 403", err)
	}
}

func TestTransferNeedsAGatewayThatPlacesCalls(t *testing.T) {
	done := make(transferring, 1)
	f := newFixture(t, Limits{}, withCalls(done))
	f.editGateway("GW2", func(gw *directory.IPGateway) { gw.OutcallsAllowed = false })
	p := f.tcp("127.0.0.2")
	placeCall(t, p, "5000", "x5", sdpOffer("127.0.0.2", false))
	var te *TransferError
	if err := result(t, done); !errors.As(err, &te) || !strings.Contains(te.Cause, "may not place calls") {
		t.Fatalf("Transfer: %v; want a refusal for OutcallsAllowed false", err)
	}
}

func TestNotifyOutsideACall(t *testing.T) {
	f := newFixture(t, Limits{})
	p := f.tcp("127.0.0.2")
	if st := p.notify("nocall", "none", "refer", "terminated", "SIP/2.0 200 OK\r\n"); st != 481 {
		t.Fatalf("NOTIFY for no call: %d; want 481", st)
	}
}
