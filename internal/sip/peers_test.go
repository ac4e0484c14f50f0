package sip

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openum/openum/internal/events"
)

// The tests in this file put the server in front of real third-party SIP
// peers from Debian, all on loopback (SPEC SEC-1..SEC-3, PEER-1, PEER-2,
// PEER-4). ../shared/peers/PEERS.md says what each tool can and cannot do.

func TestSippUnsecuredCallsOverTCP(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Limits{})
	r := sipp(t, "uac.xml", "127.0.0.2", f.srv.Addrs()["TCP"].String(), 30*time.Second, "-s", "5000", "-m", "5", "-r", "10", "-d", "100")
	if r.rc != 0 || r.successful != 5 || r.failed != 0 {
		t.Fatalf("want 5 calls from GW2 on the Unsecured plan:\n%s", r)
	}
	if n := f.count(events.CallAdmitted, "dialplan:OPEN", "transport:TCP"); n != 5 {
		t.Fatalf("%d calls admitted to OPEN over TCP; want 5", n)
	}
	waitIdle(t, f)
}

func TestSippSIPSecuredCallsOverMutualTLS(t *testing.T) {
	t.Parallel()
	p := sharedPKI(t)
	f := newFixture(t, Limits{}, trusting(p.caPEM(t)))
	tunnel, _ := f.stunnel("gw1")
	r := sipp(t, "uac.xml", "127.0.0.1", tunnel, 30*time.Second, "-s", "5001", "-m", "5", "-r", "10", "-d", "100")
	if r.rc != 0 || r.successful != 5 || r.failed != 0 {
		t.Fatalf("want 5 calls from GW1 on the SIPSecured plan over mutual TLS:\n%s", r)
	}
	// The gateway is known by its certificate, although stunnel's Via says TCP.
	if n := f.count(events.CallAdmitted, "dialplan:SIPSEC", "gateway:GW1", "transport:TLS"); n != 5 {
		t.Fatalf("%d calls admitted to SIPSEC over TLS; want 5", n)
	}
	// The wire was TLS: the plan refuses plain TCP.
	r = sipp(t, "uac_403.xml", "127.0.0.1", f.srv.Addrs()["TCP"].String(), 30*time.Second, "-s", "5001", "-m", "2", "-r", "10")
	if r.rc != 0 || r.successful != 2 {
		t.Fatalf("want 403 for both calls to the SIPSecured plan over TCP:\n%s", r)
	}
	f.event(events.CallRefusedSecurity, "secure transport required")
	waitIdle(t, f)
}

func TestSippSecuredPlanRefusesRTPOffer(t *testing.T) {
	t.Parallel()
	p := sharedPKI(t)
	f := newFixture(t, Limits{}, trusting(p.caPEM(t)))
	tunnel, _ := f.stunnel("gw1")
	r := sipp(t, "uac_488.xml", "127.0.0.1", tunnel, 30*time.Second, "-s", "5002", "-m", "3", "-r", "10")
	if r.rc != 0 || r.successful != 3 || r.failed != 0 {
		t.Fatalf("want 488 for the RTP/AVP offers to the Secured plan:\n%s", r)
	}
	f.event(events.SRTPNegotiationFailed, "RTP/AVP")
	// Over TCP the same call is refused earlier, for its transport.
	r = sipp(t, "uac_403.xml", "127.0.0.1", f.srv.Addrs()["TCP"].String(), 30*time.Second, "-s", "5002", "-m", "1")
	if r.rc != 0 || r.successful != 1 {
		t.Fatalf("want 403 for the Secured plan over TCP:\n%s", r)
	}
	if n := f.count(events.CallAdmitted); n != 0 {
		t.Fatalf("%d calls admitted; want none", n)
	}
}

func TestSippOutsiderRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Limits{BanAfter: 3})
	// Each run is one connection, refused at once: sipp sees it closed.
	for range 3 {
		r := sipp(t, "uac.xml", "127.0.0.66", f.srv.Addrs()["TCP"].String(), 15*time.Second, "-s", "5000", "-m", "1")
		if r.rc == 0 || r.successful > 0 {
			t.Fatalf("the outsider placed a call:\n%s", r)
		}
	}
	f.event(events.PeerRefused, "source:127.0.0.66")
	f.event(events.BanAdded, "source:127.0.0.66")
	if n := f.count(events.CallAdmitted); n != 0 {
		t.Fatalf("%d calls admitted; want none", n)
	}
	// Its pilot works for the gateway it belongs to.
	r := sipp(t, "uac.xml", "127.0.0.2", f.srv.Addrs()["TCP"].String(), 15*time.Second, "-s", "5000", "-m", "1")
	if r.rc != 0 || r.successful != 1 {
		t.Fatalf("GW2 after the outsider:\n%s", r)
	}
}

// count returns how many events id there are whose text mentions all of want.
func (f *fixture) count(id events.EventID, want ...string) int {
	f.t.Helper()
	recs, err := events.Read(f.events, events.Filter{ID: id})
	if err != nil {
		f.t.Fatal(err)
	}
	n := 0
next:
	for _, r := range recs {
		text := fmt.Sprint(r.Message, r.Attrs)
		for _, w := range want {
			if !strings.Contains(text, w) {
				continue next
			}
		}
		n++
	}
	return n
}

// waitIdle waits until every call has ended on the server.
func waitIdle(t *testing.T, f *fixture) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for f.srv.ActiveCalls() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d calls still up after every BYE", f.srv.ActiveCalls())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sipvicious is UDP only, so this server opens UDP too. A trusted gateway's
// scan is the control: it shows the tools work against this server.
func TestSipviciousOutsiderFindsNothingAndIsBanned(t *testing.T) {
	t.Parallel()
	// svmap sends one probe and svwar gives up after its first goes
	// unanswered: two refusals ban the scanner.
	f := newFixture(t, Limits{BanAfter: 2}, withUDP())
	port := strconv.Itoa(f.srv.Addrs()["UDP"].(*net.UDPAddr).Port)
	svmap := func(from string) string {
		out, rc := runTool(t, 30*time.Second, t.TempDir(), "svmap", "-b", from, "-x", from, "-P", strconv.Itoa(freePort(t)), "-p", port, "127.0.0.1")
		if rc != 0 {
			t.Fatalf("svmap from %s: exit %d\n%s", from, rc, out)
		}
		return out
	}
	if out := svmap("127.0.0.2"); !strings.Contains(out, "127.0.0.1:"+port) {
		t.Fatalf("svmap from trusted GW2 did not find the server:\n%s", out)
	}
	if out := svwar(t, "127.0.0.2", port); !strings.Contains(out, "| 5000 ") || strings.Contains(out, "| 4999 ") {
		t.Fatalf("svwar from trusted GW2 did not find its pilot 5000 alone:\n%s", out)
	}

	out := svmap("127.0.0.66")
	if strings.Contains(out, "127.0.0.1:"+port) || strings.Contains(out, "openum") || !strings.Contains(out, "found nothing") {
		t.Fatalf("svmap from the outsider found something:\n%s", out)
	}
	out = svwar(t, "127.0.0.66", port)
	if strings.Contains(out, "| 50") || !strings.Contains(out, "found nothing") {
		t.Fatalf("svwar from the outsider found extensions:\n%s", out)
	}
	f.event(events.PeerRefused, "transport:UDP")
	f.event(events.BanAdded, "source:127.0.0.66")
	if !f.srv.sources.banned(mustAddr("127.0.0.66")) {
		t.Fatal("the scanner is not banned")
	}
	if f.srv.sources.banned(mustAddr("127.0.0.2")) {
		t.Fatal("the trusted gateway was banned")
	}
}

// svwar runs Debian's svwar from the address from: an INVITE scan of pilots
// 4998-5002. svwar ignores its own -b, so testdata/sipvicious/svwar_bound.py
// passes the address on.
func svwar(t *testing.T, from, port string, extra ...string) string {
	t.Helper()
	script, err := filepath.Abs("testdata/sipvicious/svwar_bound.py")
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{script, from, "-b", from, "-x", from, "-P", strconv.Itoa(freePort(t)),
		"-e", "4998-5002", "-m", "INVITE", "--maximumtime", "2"}, extra...)
	out, rc := runTool(t, 30*time.Second, t.TempDir(), "python3", append(args, "udp://127.0.0.1:"+port)...)
	if rc != 0 {
		t.Fatalf("svwar from %s: exit %d\n%s", from, rc, out)
	}
	return out
}
