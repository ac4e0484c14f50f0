package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openum/openum/internal/peertest"
	"github.com/openum/openum/internal/pgtest"
)

// pool is n openum serve processes, um1.localhost to umN.localhost on
// 127.0.0.1, each with a data folder and event log of its own, sharing one
// PostgreSQL directory (internal/pgtest). The directory holds the
// Unsecured dial plan OPEN, which they all serve, and the gateway PBX at
// 127.0.0.1, whose calls for any number go to OPEN (hunt group HG1, no
// pilot). newPool starts them all.
type pool struct {
	t     *testing.T
	sites []*site
	tcp   []int // each server's SIP TCP port, once started
	tls   []int // and its SIP TLS port
}

func newPool(t *testing.T, n int) *pool {
	t.Helper()
	t.Setenv("OPENUM_DIRECTORY", pgtest.Server(t))
	p := &pool{t: t, tcp: make([]int, n), tls: make([]int, n)}
	for range n {
		p.sites = append(p.sites, newSite(t))
	}
	p.openum("directory", "migrate")
	p.openum("dialplan", "new", "OPEN", "--number-of-digits-in-extension", "5")
	p.openum("gateway", "new", "PBX", "--address", "127.0.0.1")
	p.openum("huntgroup", "new", "HG1", "--gateway", "PBX", "--dialplan", "OPEN")
	for i := range n {
		p.start(i)
	}
	return p
}

// openum runs a command on the shared directory.
func (p *pool) openum(args ...string) string {
	p.t.Helper()
	return p.sites[0].openum(args...)
}

// name is server i's FQDN, the name of its record.
func (p *pool) name(i int) string { return fmt.Sprintf("um%d.localhost", i+1) }

// start starts server i, gives its record the dial plan OPEN and 600 media
// ports of its own from 51000 on (the range CI keeps free), and waits until
// it applies them.
func (p *pool) start(i int) {
	p.t.Helper()
	// Its record has no dial plan yet: --start-secured opens TLS anyway.
	p.tcp[i], p.tls[i] = p.sites[i].serve("--fqdn", p.name(i), "--start-secured")
	first := 51000 + 600*i
	p.openum("server", "set", p.name(i), "--dialplans", "OPEN", "--rtp-port-range", fmt.Sprintf("%d-%d", first, first+599))
	p.waitAnswer(i, srtpOffer, "488", 10*time.Second)
}

// stop stops server i as an administrator would (SIGTERM) and waits until
// it has ended, which must be within 10 s and without error.
func (p *pool) stop(i int) {
	p.t.Helper()
	if err := terminate(p.sites[i].proc, 10*time.Second); err != nil {
		p.t.Fatalf("%s stopped with %v\n%s", p.name(i), err, p.sites[i].served)
	}
}

// terminate stops a child process with SIGTERM and waits for it; after
// limit it kills it, and its process group when it leads one (Kamailio's
// children). It returns how the process ended.
func terminate(cmd *exec.Cmd, limit time.Duration) error {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(limit):
		if cmd.SysProcAttr != nil && cmd.SysProcAttr.Setpgid {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		} else {
			_ = cmd.Process.Kill()
		}
		return fmt.Errorf("still running after %v: killed (%v)", limit, <-done)
	}
}

// admitted counts the calls server i admitted (event 9210 in its log).
func (p *pool) admitted(i int) int {
	p.t.Helper()
	return p.sites[i].eventCount(9210)
}

// waitAnswer waits until server i answers a new INVITE with offer with
// want: the status, or the status, a space and the start of the Contact.
// It returns how long that took. A probe that is answered 200 is hung up
// at once.
func (p *pool) waitAnswer(i int, offer, want string, within time.Duration) time.Duration {
	p.t.Helper()
	begun := time.Now()
	for n := 0; ; n++ {
		status, contact, hangUp := invite(p.t, p.tcp[i], "sip:5000@"+p.name(i), fmt.Sprintf("probe-%d-%d-%d", i, begun.UnixNano(), n), offer)
		hangUp()
		got := fmt.Sprintf("%d %s", status, contact)
		if strings.HasPrefix(got, want) {
			return time.Since(begun)
		}
		if time.Since(begun) > within {
			p.t.Fatalf("%s answers %q after %v; want %q\n%s", p.name(i), got, within, want, p.sites[i].served)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sipp runs sipp's scenario (testdata/sipp) for calls calls to number at
// 127.0.0.1:port over transport (sipp's -t), each held -d ms, and returns
// the calls that succeeded and failed, and sipp's output.
func sipp(t *testing.T, scenario, transport string, port, calls, holdMS int, number string) (ok, failed int, out string) {
	t.Helper()
	dir := t.TempDir()
	sf, _ := filepath.Abs(filepath.Join("testdata", "sipp", scenario))
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sipp", "-sf", sf, "-s", number, "-t", transport, "-m", strconv.Itoa(calls), "-r", "10",
		"-d", strconv.Itoa(holdMS), "-i", "127.0.0.1", "-p", strconv.Itoa(peertest.FreePort(t)), "-mi", "127.0.0.1",
		"-mp", strconv.Itoa(peertest.FreePort(t)), "-max_socket", "100", "-nostdin", "-nr", "-timeout", "30s", "-timeout_error", "-recv_timeout", "5000",
		"-trace_err", "-error_file", "errors.log", fmt.Sprintf("127.0.0.1:%d", port))
	cmd.Dir = dir
	b, _ := cmd.CombinedOutput()
	errs, _ := os.ReadFile(filepath.Join(dir, "errors.log"))
	out = string(b) + string(errs)
	return screenCount(out, "Successful call"), screenCount(out, "Failed call"), out
}

// screenCount reads a cumulative count off sipp's last screen, a line such
// as "Successful call   |  0   |  12".
func screenCount(screen, row string) int {
	n := -1
	for _, line := range strings.Split(screen, "\n") {
		if cols := strings.Split(line, "|"); len(cols) == 3 && strings.TrimSpace(cols[0]) == row {
			n, _ = strconv.Atoi(strings.TrimSpace(cols[2]))
		}
	}
	return n
}

// The offers invite sends: G.711 over RTP, and over SRTP, which an
// Unsecured dial plan refuses with 488 and a SIPSecured one (over TCP)
// with 403, so that a probe never places a call.
const (
	rtpOffer  = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
	srtpOffer = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\n" +
		"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n"
)

// invite sends an INVITE with offer from 127.0.0.1 to port over TCP and
// returns the final status and Contact. A 200 is acknowledged, and hangUp
// ends that call (and the connection); call it in any case.
func invite(t *testing.T, port int, uri, callID, offer string) (status int, contact string, hangUp func()) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	local := conn.LocalAddr().String()
	send := func(method, to string, seq int, body string) {
		ctype := ""
		if body != "" {
			ctype = "Content-Type: application/sdp\r\n"
		}
		fmt.Fprintf(conn, "%s %s SIP/2.0\r\nVia: SIP/2.0/TCP %s;branch=z9hG4bK%s%s%d\r\nFrom: <sip:pbx@%s>;tag=pbx\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\nContact: <sip:pbx@%s;transport=tcp>\r\nMax-Forwards: 70\r\n%sContent-Length: %d\r\n\r\n%s",
			method, uri, local, callID, method, seq, local, to, callID, seq, method, local, ctype, len(body), body)
	}
	send("INVITE", "<"+uri+">", 1, offer)
	r := textproto.NewReader(bufio.NewReader(conn))
	for {
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, err := r.ReadLine()
		if err != nil {
			conn.Close()
			t.Fatalf("INVITE to port %d: %v", port, err)
		}
		h, err := r.ReadMIMEHeader()
		if err != nil {
			conn.Close()
			t.Fatal(err)
		}
		var n int
		fmt.Sscanf(line, "SIP/2.0 %d", &status)
		fmt.Sscanf(h.Get("Content-Length"), "%d", &n)
		if _, err := r.R.Discard(n); err != nil {
			conn.Close()
			t.Fatal(err)
		}
		if status < 200 {
			continue
		}
		hangUp = func() { conn.Close() }
		if status == 200 {
			to := h.Get("To")
			send("ACK", to, 1, "")
			hangUp = func() {
				send("BYE", to, 2, "")
				conn.Close()
			}
		}
		return status, h.Get("Contact"), hangUp
	}
}
