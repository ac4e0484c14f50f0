package sip

import (
	"bytes"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/peertest"
)

// The tests in this file put the server in front of real third-party SIP
// peers from Debian, all on loopback (SPEC SEC-1..SEC-3, PEER-1, PEER-2,
// PEER-4).

// gw1OverTLS is a fixture trusting the test CA, and the address of an
// stunnel that carries calls to its TLS port as GW1, with gw1's
// certificate: sipp's mutual TLS.
func gw1OverTLS(t *testing.T) (*fixture, string) {
	t.Helper()
	f := newFixture(t, Limits{}, trusting(sharedPKI(t).caPEM(t)))
	tunnel, _ := f.stunnel("gw1")
	return f, tunnel
}

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
	f, tunnel := gw1OverTLS(t)
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
	f, tunnel := gw1OverTLS(t)
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
func waitIdle(t testing.TB, f *fixture) {
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
		out, rc := runTool(t, 30*time.Second, t.TempDir(), "svmap", "-b", from, "-x", from, "-P", strconv.Itoa(peertest.FreePort(t)), "-p", port, "127.0.0.1")
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
	args := append([]string{script, from, "-b", from, "-x", from, "-P", strconv.Itoa(peertest.FreePort(t)),
		"-e", "4998-5002", "-m", "INVITE", "--maximumtime", "2"}, extra...)
	out, rc := runTool(t, 30*time.Second, t.TempDir(), "python3", append(args, "udp://127.0.0.1:"+port)...)
	if rc != 0 {
		t.Fatalf("svwar from %s: exit %d\n%s", from, rc, out)
	}
	return out
}

// openssl s_client presents each of the openssl-made certificates to the
// TLS port and sends an OPTIONS: only the good one gets an answer, and each
// bad one is refused with the event that says why (SPEC PEER-2, OPS-1 1113).
func TestOpensslClientCertificates(t *testing.T) {
	t.Parallel()
	p := sharedPKI(t)
	f := newFixture(t, Limits{BanAfter: 100}, trusting(p.caPEM(t)))
	good := f.sClient(p, "gw1")
	waitOutput(t, good, "SIP/2.0 200 OK", 10*time.Second)
	good.stop(syscall.SIGTERM)

	for _, c := range []struct {
		cert  string
		alert string // the TLS alert s_client reports; "" for a plain close after the handshake
		event events.EventID
		want  string
	}{
		// The peer learns that its certificate was refused, not why.
		{"untrusted", "alert bad certificate", events.GatewayTLSFailed, "unknown authority"},
		{"expired", "alert bad certificate", events.GatewayTLSFailed, "expired"},
		{"noclientauth", "alert bad certificate", events.GatewayTLSFailed, "incompatible key usage"},
		{"wrongname", "", events.PeerRefused, "gw9.example.test"},
	} {
		tl := f.sClient(p, c.cert)
		rc := tl.wait()
		if out := tl.out.String(); rc == -1 || strings.Contains(out, "SIP/2.0") || !strings.Contains(out, c.alert) {
			t.Errorf("%s certificate: s_client exit %d, want the server to close without an answer (%q):\n%s", c.cert, rc, c.alert, out)
		}
		f.event(c.event, c.want)
	}
	if n := f.count(events.PeerRefused, "gw9.example.test", "no enabled gateway"); n != 1 {
		t.Errorf("%d refusals of the wrong-name certificate; want 1", n)
	}
}

// baresip, a real softphone with TLS and a client certificate, calls the
// SIPSecured plan: with GW1's certificate the call comes up (the control);
// with the untrusted one it never does.
func TestBaresipUntrustedCertificateGetsNoCall(t *testing.T) {
	t.Parallel()
	p := sharedPKI(t)
	f := newFixture(t, Limits{BanAfter: 100}, trusting(p.caPEM(t)))
	for _, c := range []struct {
		cert string
		up   bool
	}{{"gw1", true}, {"untrusted", false}} {
		out := baresip(t, f, c.cert, "sip:5001@127.0.0.1:"+strconv.Itoa(f.srv.Addrs()["TLS"].(*net.TCPAddr).Port)+";transport=tls")
		if up := strings.Contains(out, "Call established"); up != c.up {
			t.Fatalf("baresip with the %s certificate: call up %v, want %v:\n%s", c.cert, up, c.up, out)
		}
	}
	f.event(events.GatewayTLSFailed, "unknown authority")
	if n := f.count(events.CallAdmitted); n != 1 {
		t.Fatalf("%d calls admitted; want only the control's", n)
	}
}

// baresip dials uri once with cert, and is stopped after a few seconds
// whether or not the call came up (a refused TLS handshake leaves it
// connecting forever). It returns baresip's output.
func baresip(t *testing.T, f *fixture, cert, uri string) string {
	t.Helper()
	p := sharedPKI(t)
	dir := t.TempDir()
	key, err := os.ReadFile(p.path(cert + ".key"))
	if err != nil {
		t.Fatal(err)
	}
	crt, err := os.ReadFile(p.path(cert + ".crt"))
	if err != nil {
		t.Fatal(err)
	}
	rtp := peertest.FreePort(t)
	files := map[string][]byte{
		"client.pem": append(crt, key...),
		"server.crt": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.cfg.Certs.Current().X509.Raw}),
		"accounts":   []byte("<sip:gw@127.0.0.1;transport=tls>;regint=0;audio_codecs=PCMU,PCMA;answermode=manual\n"),
		"config": fmt.Appendf(nil, `poll_method		poll
sip_listen		127.0.0.1:%d
sip_certificate		%[2]s/client.pem
sip_cafile		%[2]s/server.crt
net_interface		127.0.0.1
audio_player		aubridge,loop
audio_source		aubridge,loop
audio_alert		aubridge,alert
rtp_ports		%d-%d
module_path		/usr/lib/baresip/modules
module			g711.so
module			aubridge.so
module_app		account.so
module_app		menu.so
`, peertest.FreePorts(t, 2), dir, rtp, rtp+10), // baresip binds TLS on the SIP port + 1
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tl := startTool(t, 5*time.Second, dir, "baresip", "-f", dir, "-e", "/dial "+uri, "-t", "2")
	tl.wait()
	return tl.out.String()
}

// tshark captures both of the server's ports while sipp places a call over
// each: the plain TCP call is readable SIP (the control), the mutual TLS
// call through stunnel shows no SIP at all (SPEC SEC-2).
func TestTsharkSeesNoCleartextSIPOnTheTLSPort(t *testing.T) {
	t.Parallel()
	p := sharedPKI(t)
	f := newFixture(t, Limits{}, trusting(p.caPEM(t)))
	tcpPort := strconv.Itoa(f.srv.Addrs()["TCP"].(*net.TCPAddr).Port)
	tlsPort := strconv.Itoa(f.srv.Addrs()["TLS"].(*net.TCPAddr).Port)
	dir := t.TempDir()
	pcap := filepath.Join(dir, "sip.pcapng")
	capture := startTool(t, time.Minute, dir, "tshark", "-i", "lo", "-f", "tcp port "+tcpPort+" or tcp port "+tlsPort, "-w", pcap)
	waitOutput(t, capture, "Capturing on", 10*time.Second)
	time.Sleep(200 * time.Millisecond) // the capture filter is in place once dumpcap says so; give it a beat

	tunnel, _ := f.stunnel("gw1")
	if r := sipp(t, "uac.xml", "127.0.0.1", tunnel, 30*time.Second, "-s", "5001", "-m", "2", "-d", "100"); r.rc != 0 || r.successful != 2 {
		t.Fatalf("calls over mutual TLS:\n%s", r)
	}
	if r := sipp(t, "uac.xml", "127.0.0.2", f.srv.Addrs()["TCP"].String(), 30*time.Second, "-s", "5000", "-m", "1", "-d", "100"); r.rc != 0 || r.successful != 1 {
		t.Fatalf("call over TCP:\n%s", r)
	}
	// What tshark decodes as SIP on port.
	sipOn := func(port string) (string, int) {
		return runTool(t, 30*time.Second, dir, "tshark", "-r", pcap, "-d", "tcp.port=="+port+",sip", "-Y", "sip && tcp.port=="+port,
			"-T", "fields", "-e", "sip.Method", "-e", "sip.Status-Code", "-e", "sip.CSeq.method")
	}
	// dumpcap writes packets out in blocks: wait until the last one, the
	// TCP call's 200 to BYE, is in the file before stopping the capture.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if out, _ := sipOn(tcpPort); strings.Contains(out, "\t200\tBYE") {
			break
		}
	}
	capture.stop(syscall.SIGINT)

	if out, rc := sipOn(tcpPort); rc != 0 || !strings.Contains(out, "INVITE") || !strings.Contains(out, "\t200\tBYE") {
		t.Fatalf("the control: tshark decoded no INVITE/BYE on the TCP port:\n%s", out)
	}
	if out, rc := sipOn(tlsPort); rc != 0 || strings.Contains(out, "INVITE") || strings.Contains(out, "\t200\t") {
		t.Fatalf("tshark decoded SIP on the TLS port:\n%s", out)
	}
	// The raw bytes: SIP text on the TCP port (the control); on the TLS
	// port, TLS application records and no SIP text anywhere.
	raw := func(port string) (records int, payload []byte) {
		out, rc := runTool(t, 30*time.Second, dir, "tshark", "-r", pcap, "-Y", "tcp.port=="+port+" && tcp.len > 0",
			"-d", "tcp.port=="+tlsPort+",tls", "-T", "fields", "-e", "tls.record.content_type", "-e", "tls.record.opaque_type", "-e", "tcp.payload")
		if rc != 0 {
			t.Fatalf("tshark -r: exit %d\n%s", rc, out)
		}
		for line := range strings.Lines(out) {
			fields := strings.Split(strings.TrimRight(line, "\r\n"), "\t")
			if len(fields) != 3 {
				continue
			}
			records += strings.Count(fields[0]+","+fields[1], "23") // application data (TLS 1.3: the outer type)
			b, err := hex.DecodeString(strings.ReplaceAll(fields[2], ":", ""))
			if err != nil {
				t.Fatalf("tcp.payload %q: %v", fields[2], err)
			}
			payload = append(payload, b...)
		}
		return records, payload
	}
	cleartext := []string{"INVITE sip:", "SIP/2.0", "Call-ID", "m=audio"}
	if _, payload := raw(tcpPort); !bytes.Contains(payload, []byte("INVITE sip:5000")) {
		t.Fatalf("the control: no cleartext INVITE in %d bytes on the TCP port", len(payload))
	}
	records, payload := raw(tlsPort)
	if records < 4 || len(payload) < 2000 {
		t.Fatalf("the capture holds %d TLS application records, %d bytes on the TLS port: too little for two calls", records, len(payload))
	}
	for _, clear := range cleartext {
		if bytes.Contains(payload, []byte(clear)) {
			t.Fatalf("cleartext %q on the TLS port", clear)
		}
	}
}
