package sip

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/peertest"
)

// The server calling out (SPEC PEER-3, DIAL-3): sipp is the gateway (a
// UAS), behind stunnel for mutual TLS.

// gatewaySipp is sipp running uas_gateway.xml on a TCP port of 127.0.0.1.
type gatewaySipp struct {
	tool *tool
	dir  string
	addr string
}

// startGatewaySipp starts sipp as a gateway on a free port of 127.0.0.1,
// whose 200 names contact and answers with proto (RTP/AVP or RTP/SAVP).
func startGatewaySipp(t *testing.T, contact, proto string) *gatewaySipp {
	t.Helper()
	return startGatewaySippOn(t, "127.0.0.1", peertest.FreePort(t), contact, proto)
}

// startGatewaySippOn is startGatewaySipp on ip and port.
func startGatewaySippOn(t *testing.T, ip string, port int, contact, proto string) *gatewaySipp {
	t.Helper()
	return startSippGateway(t, "uas_gateway.xml", ip, port, contact, proto)
}

// startSippGateway is startGatewaySippOn running scenario, a file of
// testdata/sipp.
func startSippGateway(t *testing.T, scenario, ip string, port int, contact, proto string) *gatewaySipp {
	t.Helper()
	dir := t.TempDir()
	sf, err := filepath.Abs(filepath.Join("testdata", "sipp", scenario))
	if err != nil {
		t.Fatal(err)
	}
	g := &gatewaySipp{dir: dir, addr: net.JoinHostPort(ip, strconv.Itoa(port))}
	g.tool = startTool(t, 2*time.Minute, dir, "sipp", "-sf", sf, "-i", ip, "-p", strconv.Itoa(port),
		"-mi", ip, "-mp", strconv.Itoa(peertest.FreePort(t)), "-t", "t1", "-nostdin", "-nr",
		"-trace_msg", "-trace_err", "-error_file", "errors.log", "-key", "contact", contact, "-key", "proto", proto)
	waitListening(t, g.tool, g.addr)
	return g
}

// messages is what sipp received and sent.
func (g *gatewaySipp) messages() string {
	logs, _ := filepath.Glob(filepath.Join(g.dir, "*_messages.log"))
	var all []string
	for _, l := range logs {
		b, _ := os.ReadFile(l)
		all = append(all, string(b))
	}
	return strings.Join(all, "\n")
}

// setGateway points gw at port and sets its outbound switches.
func (f *fixture) setGateway(name string, port int, outcalls bool) {
	f.t.Helper()
	f.editGateway(name, func(gw *directory.IPGateway) { gw.Port, gw.OutcallsAllowed = port, outcalls })
}

// editGateway changes the gateway called name as edit says.
func (f *fixture) editGateway(name string, edit func(*directory.IPGateway)) {
	f.t.Helper()
	f.update(func(s *directory.Snapshot) error {
		gw, err := s.IPGateway(name)
		if err == nil {
			edit(gw)
		}
		return err
	})
}

func outcallCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestOutcallOverMutualTLSToSippBehindStunnel(t *testing.T) {
	t.Parallel()
	p := sharedPKI(t)
	f := newFixture(t, Limits{}, trusting(p.caPEM(t)))
	port := peertest.FreePort(t)
	tunnel := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	gw := startGatewaySipp(t, "sip:gw@localhost:"+strconv.Itoa(port)+";transport=tls", "RTP/SAVP")
	st := f.stunnelServer("gw1", tunnel, gw.addr)
	f.setGateway("GW1", port, true)
	ctx := outcallCtx(t)

	var calls []*Outcall
	for range 2 {
		out, err := f.srv.Outcall(ctx, OutcallRequest{DialPlan: "SEC", Number: "0015551234"})
		if err != nil {
			t.Fatalf("outcall on the Secured plan: %v\n%s", err, st.out.String())
		}
		if out.Local.Crypto == nil || out.Local.RemoteCrypto == nil {
			t.Fatalf("a Secured outcall without SRTP: %+v", out.Local)
		}
		calls = append(calls, out)
	}
	f.event(events.OutcallPlaced, "gateway:GW1")
	for _, c := range calls {
		if err := c.Hangup(ctx); err != nil {
			t.Fatal(err)
		}
	}
	msgs := gw.messages()
	if n := strings.Count(msgs, "INVITE sip:0015551234@localhost:"+strconv.Itoa(port)+";transport=tls SIP/2.0"); n != 2 {
		t.Fatalf("%d INVITEs with the dial string in the Request-URI; want 2:\n%s", n, msgs)
	}
	_, invite, _ := strings.Cut(msgs, "INVITE sip:")
	invite, _, _ = strings.Cut(invite, "a=sendrecv")
	if !strings.Contains(invite, " RTP/SAVP 0 101") || !strings.Contains(invite, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:") ||
		strings.Count(invite, "m=") != 1 || strings.Contains(invite, "RTP/AVP") {
		t.Fatalf("the offer of a Secured outcall must be SRTP only:\n%s", invite)
	}
	if n := strings.Count(msgs, "BYE sip:"); n != 2 {
		t.Fatalf("%d BYEs; want 2", n)
	}
	// Both calls and their BYEs went over one connection; stunnel checked
	// openum's client certificate on it.
	if n := strings.Count(st.out.String(), "accepted connection from"); n != 1 {
		t.Fatalf("%d TLS connections to the gateway; want 1 reused:\n%s", n, st.out.String())
	}
	if !strings.Contains(st.out.String(), "um.localhost") {
		t.Fatalf("stunnel did not see openum's certificate:\n%s", st.out.String())
	}
}

func TestOutcallRefusesBadGatewayCertificates(t *testing.T) {
	t.Parallel()
	p := sharedPKI(t)
	f := newFixture(t, Limits{}, trusting(p.caPEM(t)))
	ctx := outcallCtx(t)
	for _, c := range []struct{ cert, reason string }{
		{"untrusted", "unknown authority"},
		{"wrongname", "gw9.example.test"},
	} {
		port := peertest.FreePort(t)
		gw := startGatewaySipp(t, "sip:gw@localhost:"+strconv.Itoa(port)+";transport=tls", "RTP/SAVP")
		f.stunnelServer(c.cert, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), gw.addr)
		f.setGateway("GW1", port, true)
		if _, err := f.srv.Outcall(ctx, OutcallRequest{DialPlan: "SEC", Number: "5551234"}); !errors.Is(err, ErrNoGateway) {
			t.Fatalf("%s gateway certificate: %v; want ErrNoGateway", c.cert, err)
		}
		f.event(events.OutcallGatewayFailed, c.reason)
		if msgs := gw.messages(); strings.Contains(msgs, "INVITE") {
			t.Fatalf("%s gateway certificate: the INVITE was sent:\n%s", c.cert, msgs)
		}
	}
	f.event(events.OutcallPlaced, "every gateway failed")
}

// Over TCP: a gateway that fails is skipped for the next (GW2 comes first
// in OPEN's hunt groups); one with OutcallsAllowed false is never chosen.
func TestOutcallHuntsAndSkipsGatewaysNotAllowed(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Limits{})
	ctx := outcallCtx(t)
	port, n := peertest.FreePort(t), peertest.FreePort(t)
	gw := startGatewaySippOn(t, "127.0.0.1", n, "sip:gw@127.0.0.1:"+strconv.Itoa(n)+";transport=tcp", "RTP/AVP")
	f.setGateway("GW2", port, true) // nothing listens there
	f.setGateway("GW1", n, true)
	out, err := f.srv.Outcall(ctx, OutcallRequest{DialPlan: "OPEN", Number: "5551234"})
	if err != nil {
		t.Fatal(err)
	}
	if out.Local.Crypto != nil {
		t.Fatal("an Unsecured outcall offered SRTP")
	}
	f.event(events.OutcallGatewayFailed, "gateway:GW2")
	f.event(events.OutcallPlaced, "result:answered")
	if err := out.Hangup(ctx); err != nil {
		t.Fatal(err)
	}

	f.setGateway("GW1", n, false)
	if _, err := f.srv.Outcall(ctx, OutcallRequest{DialPlan: "OPEN", Number: "5550000"}); !errors.Is(err, ErrNoGateway) {
		t.Fatalf("with GW2 failing and GW1 not allowed: %v; want ErrNoGateway", err)
	}
	if n := strings.Count(gw.messages(), "INVITE sip:5550000"); n != 0 {
		t.Fatal("a gateway with OutcallsAllowed false was chosen")
	}
	f.setGateway("GW2", port, false)
	_, err = f.srv.Outcall(ctx, OutcallRequest{DialPlan: "OPEN", Number: "5550000"})
	if !errors.Is(err, ErrNoGateway) || !strings.Contains(err.Error(), "GW1 does not allow Outcall") {
		t.Fatalf("no gateway allowed: %v", err)
	}
}

func TestOptionsNoAnswerSkipsGatewayUntilItAnswers(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Limits{}, withPings(300*time.Millisecond))
	ctx := outcallCtx(t)
	port := peertest.FreePort(t)
	f.update(func(s *directory.Snapshot) error { // GW2 alone carries outbound traffic, over TCP
		gw, _ := s.IPGateway("GW1")
		gw.OutcallsAllowed, gw.MessageWaitingIndicatorAllowed = false, false
		gw2, _ := s.IPGateway("GW2")
		gw2.Port = port
		return nil
	})
	f.event(events.GatewayOptionsNoAnswer, "gateway:GW2")
	_, err := f.srv.Outcall(ctx, OutcallRequest{DialPlan: "OPEN", Number: "5551234"})
	if !errors.Is(err, ErrNoGateway) || !strings.Contains(err.Error(), "does not answer OPTIONS") {
		t.Fatalf("a gateway not answering OPTIONS: %v; want it skipped", err)
	}
	// Once per outage, over each transport it is used with.
	time.Sleep(time.Second)
	if n := f.count(events.GatewayOptionsNoAnswer, "gateway:GW2", "transport:TCP"); n != 1 {
		t.Fatalf("%d events 1400 for one outage over TCP; want 1", n)
	}

	// The gateway comes up on its port: it answers the next OPTIONS.
	gw := startGatewaySippOn(t, "127.0.0.2", port, "sip:gw@127.0.0.2:"+strconv.Itoa(port)+";transport=tcp", "RTP/AVP")
	f.event(events.GatewayAnswersAgain, "transport:TCP")
	out, err := f.srv.Outcall(ctx, OutcallRequest{DialPlan: "OPEN", Number: "5551234"})
	if err != nil {
		t.Fatalf("after the gateway answered OPTIONS again: %v", err)
	}
	if err := out.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(gw.messages(), "OPTIONS sip:127.0.0.2:"+strconv.Itoa(port)+";transport=tcp SIP/2.0") {
		t.Fatalf("no OPTIONS to the gateway's address and port:\n%s", gw.messages())
	}
}

// The purpose decides the gateways: OutcallsAllowed for calls,
// MessageWaitingIndicatorAllowed for message waiting, Enabled for both.
func TestOutboundGatewaysByPurpose(t *testing.T) {
	f := newFixture(t, Limits{})
	f.update(func(s *directory.Snapshot) error {
		gw1, _ := s.IPGateway("GW1")
		gw2, _ := s.IPGateway("GW2")
		gw1.MessageWaitingIndicatorAllowed = false
		gw2.OutcallsAllowed = false
		return nil
	})
	up := func(string, string) bool { return false }
	names := func(p Purpose) string {
		_, gws, why := f.srv.view.Load().outboundGateways("OPEN", p, up)
		var out []string
		for _, g := range gws {
			out = append(out, g.Name)
		}
		return strings.Join(out, ",") + why
	}
	if got := names(ForOutcall); got != "GW1" {
		t.Errorf("outcall gateways: %s; want GW1", got)
	}
	if got := names(ForMessageWaiting); got != "GW2" {
		t.Errorf("message-waiting gateways: %s; want GW2", got)
	}
	f.editGateway("GW1", func(gw *directory.IPGateway) { gw.Status = directory.Disabled })
	if got := names(ForOutcall); !strings.Contains(got, "GW1 is Disabled") || !strings.Contains(got, "GW2 does not allow Outcall") {
		t.Errorf("no outcall gateway: %q", got)
	}
}
