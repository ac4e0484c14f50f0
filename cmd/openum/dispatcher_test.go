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
// serve processes on one PostgreSQL directory (SPEC OPS-4): sipp's calls
// to Kamailio are spread over both servers; while one server stops, calls
// fail over to the other (a stopping openum answers 302 or 503, which
// Kamailio takes as a reason to try the next server), at most a few lost;
// once the dispatcher has marked it down, every call succeeds on the other.
func TestKamailioDispatcherSpreadsCalls(t *testing.T) {
	p := newPool(t, 2)
	k, port := p.kamailio()

	ok, failed, out := sipp(t, "uac_redirect.xml", "u1", port, 20, 200, "5000")
	if ok != 20 || failed != 0 {
		t.Fatalf("sipp through Kamailio: %d calls answered, %d failed; want 20 and 0\n%s\n--- kamailio:\n%s", ok, failed, out, k)
	}
	spread := p.counts()
	t.Logf("20 calls through Kamailio: %d on um1, %d on um2", spread[0], spread[1])
	if spread[0] < 7 || spread[1] < 7 || spread[0]+spread[1] != 20 {
		t.Fatalf("calls admitted by um1 and um2: %v; want the 20 spread, at least 7 each", spread)
	}

	// um2 stops while calls go on: a few may fail, not more.
	type result struct{ ok, failed int }
	during := make(chan result, 1)
	go func() {
		ok, failed, _ := sipp(t, "uac_redirect.xml", "u1", port, 30, 200, "5000")
		during <- result{ok, failed}
	}()
	time.Sleep(time.Second)
	p.stop(1)
	r := <-during
	now := p.counts()
	t.Logf("30 calls while um2 stopped: %d answered, %d failed; %d on um1, %d on um2", r.ok, r.failed, now[0]-spread[0], now[1]-spread[1])
	if r.ok < 28 || r.ok+r.failed != 30 {
		t.Fatalf("while um2 stopped: %d calls answered, %d failed; want at most 2 lost\n--- kamailio:\n%s", r.ok, r.failed, k)
	}
	down := func() bool { return strings.Contains(k.String(), fmt.Sprintf("DST-DOWN sip:127.0.0.1:%d", p.tcp[1])) }
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
// 127.0.0.1 (UDP and TCP), dispatching to the pool's started servers over
// TCP, until the test ends; it returns its output and port.
func (p *pool) kamailio() (*peertest.Output, int) {
	p.t.Helper()
	modules, _ := filepath.Glob("/usr/lib/*/kamailio/modules/dispatcher.so")
	if len(modules) == 0 {
		p.t.Fatal("kamailio's dispatcher module is not installed (Debian package kamailio)")
	}
	dir := p.t.TempDir()
	var list strings.Builder
	for _, port := range p.tcp {
		fmt.Fprintf(&list, "1 sip:127.0.0.1:%d;transport=tcp\n", port)
	}
	cfg, err := os.ReadFile(filepath.Join("testdata", "kamailio", "dispatcher.cfg"))
	if err != nil {
		p.t.Fatal(err)
	}
	port := peertest.FreePort(p.t)
	text := strings.NewReplacer("LISTEN", fmt.Sprintf("127.0.0.1:%d", port), "MODULES", filepath.Dir(modules[0]),
		`"LIST"`, `"`+filepath.Join(dir, "dispatcher.list")+`"`).Replace(string(cfg))
	for name, body := range map[string]string{"dispatcher.list": list.String(), "kamailio.cfg": text} {
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
