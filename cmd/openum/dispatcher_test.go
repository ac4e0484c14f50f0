package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openum/openum/internal/peertest"
)

// Kamailio from Debian with its dispatcher module in front of two openum
// serve processes on one PostgreSQL directory (SPEC OPS-4), relaying over
// TCP (Kamailio the gateway PBX by its address) or mutual TLS (the gateway
// SBC by its certificate): sipp's calls to Kamailio are spread over both
// servers; while one server stops, calls fail over to the other (a
// stopping openum answers 302 or 503, which Kamailio takes as a reason to
// try the next server), at most a few lost; once the dispatcher has marked
// it down, every call succeeds on the other.
func TestKamailioDispatcherSpreadsCalls(t *testing.T) {
	for _, transport := range []string{"tcp", "tls"} {
		t.Run(transport, func(t *testing.T) { dispatchedCalls(t, transport) })
	}
}

func dispatchedCalls(t *testing.T, transport string) {
	p := newPool(t, 2)
	k, port := p.kamailio(transport)

	ok, failed, out := sipp(t, "uac_redirect.xml", "u1", port, 20, 200, "5000")
	if ok != 20 || failed != 0 {
		t.Fatalf("sipp through Kamailio: %d calls answered, %d failed; want 20 and 0\n%s\n--- kamailio:\n%s", ok, failed, out, k)
	}
	spread := p.counts()
	t.Logf("20 calls through Kamailio over %s: %d on um1, %d on um2", transport, spread[0], spread[1])
	if events := p.openum("events", "--id", "9210"); transport == "tls" && !strings.Contains(events, "SBC") {
		t.Fatalf("calls over TLS not admitted from the gateway SBC (Kamailio's certificate):\n%s", events)
	}
	if spread[0] < 7 || spread[1] < 7 || spread[0]+spread[1] != 20 {
		t.Fatalf("calls admitted by um1 and um2: %v; want the 20 spread, at least 7 each", spread)
	}

	// um2 stops while calls go on: a few may fail, not more.
	type result struct {
		ok, failed int
		out        string
	}
	during := make(chan result, 1)
	go func() {
		ok, failed, out := sipp(t, "uac_redirect.xml", "u1", port, 30, 200, "5000")
		during <- result{ok, failed, out}
	}()
	time.Sleep(time.Second)
	p.stop(1)
	r := <-during
	now := p.counts()
	t.Logf("30 calls while um2 stopped: %d answered, %d failed; %d on um1, %d on um2", r.ok, r.failed, now[0]-spread[0], now[1]-spread[1])
	if r.ok < 28 || r.ok+r.failed != 30 {
		t.Fatalf("while um2 stopped: %d calls answered, %d failed; want at most 2 lost\n%s\n--- kamailio:\n%s", r.ok, r.failed, r.out, k)
	}
	down := func() bool { return strings.Contains(k.String(), "DST-DOWN "+p.dispatchURI(1, transport)) }
	if waitFor(t, down); !down() {
		t.Fatalf("Kamailio did not mark um2 down:\n%s", k)
	}
	before := p.counts()
	if ok, failed, out := sipp(t, "uac_redirect.xml", "u1", port, 10, 200, "5000"); ok != 10 || failed != 0 {
		t.Fatalf("um2 down: %d calls answered, %d failed; want 10 and 0\n%s\n--- kamailio:\n%s", ok, failed, out, k)
	}
	if after := p.counts(); after[0] != before[0]+10 {
		t.Fatalf("calls admitted by um1 and um2: %v, then %v; want the 10 new ones on um1", before, after)
	}
}

// kamailio starts testdata/kamailio/dispatcher.cfg on a free port of
// 127.0.0.1 (UDP and TCP), dispatching to the pool's servers over transport
// (tcp, or tls: then the pool trusts a CA of openssl's making and knows
// Kamailio's certificate as the gateway SBC's), until the test ends; it
// returns its output and port.
func (p *pool) kamailio(transport string) (*peertest.Output, int) {
	p.t.Helper()
	modules, _ := filepath.Glob("/usr/lib/*/kamailio/modules/dispatcher.so")
	if len(modules) == 0 {
		p.t.Fatal("kamailio's dispatcher module is not installed (Debian package kamailio)")
	}
	dir := p.t.TempDir()
	p.sbcCertificate(dir)
	if transport == "tls" {
		p.trustSBC()
	}
	var list strings.Builder
	for i := range p.sites {
		fmt.Fprintf(&list, "1 %s\n", p.dispatchURI(i, transport))
	}
	cfg, err := os.ReadFile(filepath.Join("testdata", "kamailio", "dispatcher.cfg"))
	if err != nil {
		p.t.Fatal(err)
	}
	port := peertest.FreePort(p.t)
	text := strings.NewReplacer("TLSLISTEN", fmt.Sprintf("127.0.0.1:%d", peertest.FreePort(p.t)), "LISTEN", fmt.Sprintf("127.0.0.1:%d", port),
		"MODULES", filepath.Dir(modules[0]), `"LIST"`, `"`+filepath.Join(dir, "dispatcher.list")+`"`,
		"TLSCFG", filepath.Join(dir, "tls.cfg")).Replace(string(cfg))
	// Kamailio presents its certificate; it need not check the servers'
	// self-signed ones for this test.
	tlsCfg := fmt.Sprintf("[server:default]\nmethod = TLSv1.2+\nprivate_key = %[1]s/sbc.key\ncertificate = %[1]s/sbc.crt\n\n"+
		"[client:default]\nmethod = TLSv1.2+\nverify_certificate = no\nprivate_key = %[1]s/sbc.key\ncertificate = %[1]s/sbc.crt\n", dir)
	for name, body := range map[string]string{"dispatcher.list": list.String(), "kamailio.cfg": text, "tls.cfg": tlsCfg} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			p.t.Fatal(err)
		}
	}
	out := &peertest.Output{}
	cmd := exec.Command("kamailio", "-f", filepath.Join(dir, "kamailio.cfg"), "-DD", "-E", "-P", filepath.Join(dir, "kamailio.pid"),
		"-Y", dir, "-m", "32", "-M", "4")
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	// Kamailio's main process stops its children on SIGTERM.
	p.t.Cleanup(func() { _ = terminate(cmd, 5*time.Second) })
	listening := func() bool {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
		}
		return err == nil
	}
	if waitFor(p.t, listening); !listening() {
		p.t.Fatalf("kamailio does not listen on port %d:\n%s", port, out)
	}
	return out, port
}

// dispatchURI is server i in Kamailio's dispatcher list.
func (p *pool) dispatchURI(i int, transport string) string {
	if transport == "tls" {
		return fmt.Sprintf("sip:127.0.0.1:%d;transport=tls", p.tls[i])
	}
	return fmt.Sprintf("sip:127.0.0.1:%d;transport=tcp", p.tcp[i])
}

// sbcCertificate makes, with openssl, a CA and Kamailio's certificate
// (sbc.localhost), which it copies to dir (Kamailio's TLS listener wants
// one even when it relays over TCP).
func (p *pool) sbcCertificate(dir string) {
	p.t.Helper()
	s := p.sites[0]
	s.gatewayPKI("sbc.localhost")
	for _, f := range []string{"gw.crt", "gw.key"} {
		b, err := os.ReadFile(s.path(f))
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, strings.Replace(f, "gw", "sbc", 1)), b, 0o600)
		}
		if err != nil {
			p.t.Fatal(err)
		}
	}
}

// trustSBC has every server trust the CA of sbcCertificate, and adds the
// gateway SBC, by its certificate's name, with its hunt group for OPEN.
func (p *pool) trustSBC() {
	p.t.Helper()
	s := p.sites[0]
	for _, site := range p.sites {
		site.openum("cert", "import", s.path("ca.crt"), "--trusted")
	}
	p.openum("gateway", "new", "SBC", "--address", "sbc.localhost", "--port", "5061")
	p.openum("huntgroup", "new", "HG2", "--gateway", "SBC", "--dialplan", "OPEN")
}
