package main

import (
	"bufio"
	"fmt"
	"net"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/openum/openum/internal/pgtest"
)

// Two openum serve processes on one PostgreSQL directory: NoNewCalls on
// one moves new calls to the other, with 302 naming it, and the other
// answers the redirected call.
func TestNoNewCallsMovesCallsToTheOtherServer(t *testing.T) {
	t.Setenv("OPENUM_DIRECTORY", pgtest.Server(t))
	s1, s2 := newSite(t), newSite(t)
	s1.openum("directory", "migrate")
	s1.openum("dialplan", "new", "OPEN", "--number-of-digits-in-extension", "5")
	s1.openum("gateway", "new", "PBX", "--address", "127.0.0.1")
	s1.openum("huntgroup", "new", "HG1", "--gateway", "PBX", "--dialplan", "OPEN")
	s1.openum("server", "set", "--name", "um1.localhost", "--dialplans", "OPEN", "--rtp-port-range", mediaPorts)
	tcp1, _ := s1.serve("--fqdn", "um1.localhost")
	tcp2, _ := s2.serve("--fqdn", "um2.localhost")
	s2.openum("server", "set", "um2.localhost", "--dialplans", "OPEN", "--rtp-port-range", "52000-52999")
	s1.openum("server", "set", "um1.localhost", "--status", "NoNewCalls")

	// Within a load period or two (3 s), um2's row shows room with OPEN.
	var status int
	var contact string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if status, contact = rawInvite(t, tcp1, "sip:5000@um1.localhost", "pool-1"); status == 302 {
			break
		}
	}
	want := fmt.Sprintf("<sip:5000@um2.localhost:%d;transport=tcp;openum-redirected=um1.localhost>", tcp2)
	if status != 302 || contact != want {
		t.Fatalf("NoNewCalls on um1: %d, Contact %q; want 302 with %q\nserve 1:\n%s", status, contact, want, s1.served)
	}
	if status, _ := rawInvite(t, tcp2, strings.Trim(contact, "<>"), "pool-2"); status != 200 {
		t.Fatalf("the redirected call on um2: %d; want 200\nserve 2:\n%s", status, s2.served)
	}
	if events := s1.openum("events", "--id", "9216"); !strings.Contains(events, "um2.localhost") {
		t.Fatalf("no event 9216 naming um2.localhost:\n%s", events)
	}
}

// rawInvite sends an INVITE with an RTP offer from 127.0.0.1 to port over
// TCP and returns the final status and Contact; a 200 is acknowledged and
// hung up.
func rawInvite(t *testing.T, port int, uri, callID string) (int, string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	local := conn.LocalAddr().String()
	sdp := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
	send := func(method, to string, seq int, body string) {
		ctype := ""
		if body != "" {
			ctype = "Content-Type: application/sdp\r\n"
		}
		fmt.Fprintf(conn, "%s %s SIP/2.0\r\nVia: SIP/2.0/TCP %s;branch=z9hG4bK%s%s\r\nFrom: <sip:pbx@%s>;tag=pbx\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\nContact: <sip:pbx@%s;transport=tcp>\r\nMax-Forwards: 70\r\n%sContent-Length: %d\r\n\r\n%s",
			method, uri, local, callID, method, local, to, callID, seq, method, local, ctype, len(body), body)
	}
	send("INVITE", "<"+uri+">", 1, sdp)
	r := textproto.NewReader(bufio.NewReader(conn))
	for {
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, err := r.ReadLine()
		if err != nil {
			t.Fatalf("INVITE to port %d: %v", port, err)
		}
		h, err := r.ReadMIMEHeader()
		if err != nil {
			t.Fatal(err)
		}
		var status, n int
		fmt.Sscanf(line, "SIP/2.0 %d", &status)
		fmt.Sscanf(h.Get("Content-Length"), "%d", &n)
		if _, err := r.R.Discard(n); err != nil {
			t.Fatal(err)
		}
		if status < 200 {
			continue
		}
		if status == 200 {
			send("ACK", h.Get("To"), 1, "")
			send("BYE", h.Get("To"), 2, "")
		}
		return status, h.Get("Contact")
	}
}
