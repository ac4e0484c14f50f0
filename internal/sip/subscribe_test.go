package sip

import (
	"context"
	"fmt"
	"io"
	"net/textproto"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/msgstore"
	"github.com/openum/openum/internal/peertest"
)

// sipp as GW2 subscribes to alice's extension: 200 with Expires, a NOTIFY
// in the dialog with her state, a refresh, and Expires 0 with a final
// NOTIFY terminated.
func TestSubscribeFromSipp(t *testing.T) {
	t.Parallel()
	store, _ := mwiStore(t)
	f := newFixture(t, Limits{}, withMessages(store))
	f.addMailbox("alice@example.com", "OPEN", "12345")
	leaveMessage(t, store, "alice@example.com")
	r := sipp(t, "uac_subscribe.xml", "127.0.0.2", f.srv.Addrs()["TCP"].String(), 30*time.Second,
		"-key", "ext", "12345", "-m", "1", "-trace_msg")
	if r.rc != 0 || r.successful != 1 {
		t.Fatalf("want one subscription with its NOTIFYs:\n%s", r)
	}
	logs, _ := filepath.Glob(filepath.Join(r.dir, "*_messages.log"))
	if len(logs) != 1 {
		t.Fatalf("sipp's message log: %v", logs)
	}
	msgs, err := os.ReadFile(logs[0])
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(msgs), "Voice-Message: 1/0 (0/0)"); n != 3 {
		t.Fatalf("%d NOTIFYs with alice's 1 new message; want 3 (subscribe, refresh, end):\n%s", n, msgs)
	}
	f.event(events.MessageWaitingSent, "subscription_state:terminated")
	f.srv.subs.mu.Lock()
	left := len(f.srv.subs.byDialog)
	f.srv.subs.mu.Unlock()
	if left != 0 {
		t.Fatalf("%d subscriptions left after Expires: 0", left)
	}
}

// A SUBSCRIBE the server does not take: the same 404 for an extension
// that does not exist and one of a dial plan GW2 does not serve; 489, 423,
// 406 for what it cannot serve; 481 for a dialog it does not know.
func TestSubscribeRefusals(t *testing.T) {
	t.Parallel()
	store, _ := mwiStore(t)
	f := newFixture(t, Limits{}, withMessages(store))
	f.addMailbox("alice@example.com", "OPEN", "12345")
	f.addMailbox("bob@example.com", "SEC", "22222") // GW1's plan only
	p := f.tcp("127.0.0.2")
	for i, c := range []struct {
		ext, headers string
		want         int
		wantHeader   string
	}{
		{"99999", "Event: message-summary\n", 404, ""},
		{"22222", "Event: message-summary\n", 404, ""},
		{"12345", "Event: presence\n", 489, "Allow-Events"},
		{"12345", "Event: message-summary\nExpires: 10\n", 423, "Min-Expires"},
		{"12345", "Event: message-summary\nExpires: soon\n", 400, ""},
		{"12345", "Event: message-summary\nAccept: application/pidf+xml\n", 406, "Accept"},
		{"12345", "totag=nosuchtag\nEvent: message-summary\n", 481, ""},
	} {
		p.request("SUBSCRIBE", "sip:"+c.ext+"@um.localhost", "sub-"+strconv.Itoa(i), c.headers, "")
		res := p.mustStatus(c.want)
		if c.wantHeader != "" && res.header.Get(c.wantHeader) == "" {
			t.Errorf("%d without %s", c.want, c.wantHeader)
		}
	}
	f.event(events.InvalidExtension, "99999")
	f.event(events.InvalidExtension, "22222")
	// The long expiry asked for is cut to the maximum.
	p.request("SUBSCRIBE", "sip:12345@um.localhost", "sub-long", "Event: message-summary\nExpires: 86400\n", "")
	if res := p.mustStatus(200); res.header.Get("Expires") != strconv.Itoa(maxExpires) {
		t.Fatalf("Expires %q granted for 86400; want %d", res.header.Get("Expires"), maxExpires)
	}
}

// A subscription past its expiry ends with a NOTIFY terminated;reason=timeout.
// Before that, the poll noticing the message the first NOTIFY already
// carried sends nothing more.
func TestSubscriptionExpires(t *testing.T) {
	t.Parallel()
	store, _ := mwiStore(t)
	f := newFixture(t, Limits{}, withMessages(store))
	f.addMailbox("alice@example.com", "OPEN", "12345")
	p := f.tcp("127.0.0.2")
	leaveMessage(t, store, "alice@example.com")
	p.request("SUBSCRIBE", "sip:12345@um.localhost", "sub-exp", "Event: message-summary\nExpires: 60\n", "")
	p.mustStatus(200)
	if h, body := answerNotify(t, p); h.Get("Subscription-State") != "active;expires=60" || !strings.Contains(body, "Voice-Message: 1/0") {
		t.Fatalf("first NOTIFY: %q %q", h.Get("Subscription-State"), body)
	}
	f.srv.notifySubscribers(context.Background(), msgstore.MailboxKey("alice@example.com"), msgstore.Counts{New: 1})
	time.Sleep(300 * time.Millisecond) // a NOTIFY it sent would be read first below
	f.srv.expireSubscriptions(context.Background(), time.Now().Add(61*time.Second))
	if h, _ := answerNotify(t, p); h.Get("Subscription-State") != "terminated;reason=timeout" || h.Get("Call-Id") != "sub-exp" {
		t.Fatalf("NOTIFY at expiry: %q in %q", h.Get("Subscription-State"), h.Get("Call-Id"))
	}
}

// answerNotify reads the NOTIFY the server sends p and answers it 200.
func answerNotify(t *testing.T, p *peer) (textproto.MIMEHeader, string) {
	t.Helper()
	_ = p.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	tp := textproto.NewReader(p.r)
	line, err := tp.ReadLine()
	if err != nil || !strings.HasPrefix(line, "NOTIFY ") {
		t.Fatalf("want a NOTIFY, got %q, %v", line, err)
	}
	h, err := tp.ReadMIMEHeader()
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(h.Get("Content-Length"))
	body := make([]byte, n)
	if _, err := io.ReadFull(p.r, body); err != nil {
		t.Fatal(err)
	}
	p.send(fmt.Sprintf("SIP/2.0 200 OK\nVia: %s\nFrom: %s\nTo: %s\nCall-ID: %s\nCSeq: %s\nContent-Length: 0\n\n",
		h.Get("Via"), h.Get("From"), h.Get("To"), h.Get("Call-Id"), h.Get("Cseq")))
	return h, string(body)
}

// GW2 is down when alice's message comes: the NOTIFY fails (9511, retried);
// when GW2 answers OPTIONS again it gets her state, and bob's, whose counts
// did not change while it was away.
func TestMessageWaitingResentWhenGatewayReturns(t *testing.T) {
	t.Parallel()
	store, _ := mwiStore(t)
	leaveMessage(t, store, "bob@example.com") // before the server starts: its baseline
	leaveMessage(t, store, "bob@example.com")
	f := newFixture(t, Limits{}, withMessages(store), withPings(300*time.Millisecond))
	port := peertest.LaterPort(t) // GW2 starts seconds later
	f.setMWI("GW1", 5060, false)
	f.editGateway("GW1", func(gw *directory.IPGateway) { gw.OutcallsAllowed = false }) // not pinged: GW2 alone carries OPEN
	f.setMWI("GW2", port, true)
	f.addMailbox("alice@example.com", "OPEN", "12345")
	f.addMailbox("bob@example.com", "OPEN", "12346")
	f.event(events.GatewayOptionsNoAnswer, "gateway:GW2")
	leaveMessage(t, store, "alice@example.com")
	f.event(events.MessageWaitingFailed, "mailbox:alice@example.com")

	k := startKamailio(t, "127.0.0.2", port)
	f.event(events.GatewayAnswersAgain, "gateway:GW2")
	k.waitNotify(t, "ru=sip:12346@127.0.0.2:"+strconv.Itoa(port), "Voice-Message: 2/0 (0/0)")
	k.waitNotify(t, "ru=sip:12345@127.0.0.2:"+strconv.Itoa(port), "Voice-Message: 1/0 (0/0)")
	if n := f.count(events.MessageWaitingFailed, "mailbox:alice@example.com", "given up"); n != 0 {
		t.Fatal("the NOTIFY was given up within its retry window")
	}
}

func FuzzParseSubscribe(f *testing.F) {
	f.Add("message-summary", "3600", "application/simple-message-summary")
	f.Add("message-summary;id=1", "0", "")
	f.Add("presence", "60", "*/*")
	f.Add("Message-Summary", "18446744073709551616", "application/*;q=0.5, text/plain")
	f.Add("", "-1", ",,;")
	f.Fuzz(func(t *testing.T, event, expires, accept string) {
		var exp, acc []string
		if expires != "" {
			exp = strings.Split(expires, "|")
		}
		if accept != "" {
			acc = []string{accept}
		}
		n, rej := parseSubscribe(event, exp, acc)
		switch {
		case rej != nil:
			if rej.Status < 400 || rej.Status > 499 || reason(rej.Status) == "" || strings.ContainsAny(rej.Cause, "\r\n") {
				t.Fatalf("refusal %d %q", rej.Status, rej.Cause)
			}
		case n != 0 && (n < minExpires || n > maxExpires):
			t.Fatalf("granted %d seconds", n)
		}
	})
}
