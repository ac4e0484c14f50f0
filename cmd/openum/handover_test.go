package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/textproto"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openum/openum/internal/delivery"
	"github.com/openum/openum/internal/peertest"
	"github.com/openum/openum/internal/pgtest"
)

// handoverSites are two data directories, um1 and um2, on one PostgreSQL
// directory and message store, with bob's mailbox (23456) in dial plan
// OPEN, whose gateway PBX is at gatewayPort, served by um1 (serveBoth
// adds um2).
func handoverSites(t *testing.T, gatewayPort int) (um1, um2 *site) {
	t.Setenv("OPENUM_DIRECTORY", pgtest.Server(t))
	um1, um2 = newSite(t), newSite(t)
	um1.openum("directory", "migrate")
	um1.unsecuredMailboxOn("um1.localhost", "--port", fmt.Sprint(gatewayPort), "--message-waiting-indicator-allowed=true")
	return um1, um2
}

// serveBoth starts um1 and um2 (whose record serve makes, then given dial
// plan OPEN) with the same extra flags.
func serveBoth(um1, um2 *site, extra ...string) {
	um1.serve(append([]string{"--fqdn", "um1.localhost"}, extra...)...)
	um2.serve(append([]string{"--fqdn", "um2.localhost"}, extra...)...)
	um1.openum("server", "set", "um2.localhost", "--dialplans", "OPEN", "--rtp-port-range", "52000-52999")
}

// maildirIDs returns the Message-IDs of the mails in address's Maildir.
func (s *site) maildirIDs(address string) []string {
	s.t.Helper()
	files, _ := filepath.Glob(filepath.Join(s.data, "mail", delivery.MaildirName(address), "new", "*"))
	var ids []string
	for _, f := range files {
		raw, err := os.Open(f)
		if err != nil {
			s.t.Fatal(err)
		}
		m, err := mail.ReadMessage(raw)
		raw.Close()
		if err != nil {
			s.t.Fatalf("%s: %v", f, err)
		}
		ids = append(ids, m.Header.Get("Message-Id"))
	}
	slices.Sort(ids)
	return ids
}

// um1 records two voice messages its mail server, down, cannot take, and
// is killed with -9. Once its leases expire, um2 takes them over (9309
// naming um1) and delivers each into its Maildir once. um1, started again
// with a working Maildir, removes its spool's copies (9310) and delivers
// neither again.
func TestPoolDeliversAKilledServersSpoolOnce(t *testing.T) {
	um1, um2 := handoverSites(t, peertest.FreePort(t))
	dead := fmt.Sprintf("127.0.0.1:%d", peertest.FreePort(t)) // nothing listens: the mail server is down
	tcp1, _ := um1.serve("--fqdn", "um1.localhost", "--smtp", dead, "--mail-lease", "3s")
	um2.serve("--fqdn", "um2.localhost", "--mail-lease", "3s")
	um1.openum("server", "set", "um2.localhost", "--dialplans", "OPEN", "--rtp-port-range", "52000-52999")

	wait := greetingAndTone(t)
	wav, _ := um1.callerWAV(wait + 0.5)
	var calls []string
	for range 2 {
		calls = append(calls, um1.unsecuredCall(tcp1, wav, int(wait)+8))
	}
	var spooled []string
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if spooled = um1.spooled(); len(spooled) == 2 && um1.eventCount(1082) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("um1's spool holds %v; want two messages it failed to deliver\n%s\nbaresip:\n%s", spooled, um1.openum("events"), strings.Join(calls, "\n"))
		}
	}
	if n := len(um2.maildirIDs("bob@example.test")); n != 0 {
		t.Fatalf("um2 delivered %d of live um1's messages", n)
	}
	um1.kill9()

	want := []string{"<" + spooled[0] + "@um1.localhost>", "<" + spooled[1] + "@um1.localhost>"}
	slices.Sort(want)
	var got []string
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if got = um2.maildirIDs("bob@example.test"); len(got) >= 2 || time.Now().After(deadline) {
			break
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("um2's Maildir holds %v; want um1's two messages %v\n%s", got, want, um2.openum("events"))
	}
	if ev := um2.openum("events", "--id", "9309"); !strings.Contains(ev, "um1.localhost") {
		t.Errorf("no event 9309 naming um1.localhost on um2:\n%s", ev)
	}

	um1.serve("--fqdn", "um1.localhost", "--mail-lease", "3s")
	um1.waitSpoolEmpty(15 * time.Second)
	time.Sleep(time.Second)
	if n := len(um1.maildirIDs("bob@example.test")); n != 0 {
		t.Errorf("um1 delivered %d messages um2 had delivered", n)
	}
	if n := um1.eventCount(9310); n != 2 {
		t.Errorf("%d events 9310 on um1; want 2 (its copies removed)", n)
	}
	if n := um2.eventCount(9301); n != 2 {
		t.Errorf("%d events 9301 (delivered) on um2; want 2", n)
	}
	if got := um2.maildirIDs("bob@example.test"); !slices.Equal(got, want) {
		t.Errorf("um2's Maildir holds %v in the end; want %v", got, want)
	}
}

// mwiPBX is a PBX on TCP that answers every request 200 and keeps the
// message-summary NOTIFYs it gets.
type mwiPBX struct {
	l        net.Listener
	mu       sync.Mutex
	notifies []string // each: the sender (From) and the body
}

func startMWIPBX(t *testing.T) *mwiPBX {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &mwiPBX{l: l}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

func (p *mwiPBX) port() int { return p.l.Addr().(*net.TCPAddr).Port }

func (p *mwiPBX) serve(c net.Conn) {
	defer c.Close()
	r := textproto.NewReader(bufio.NewReader(c))
	for {
		line, err := r.ReadLine()
		if err != nil {
			return
		}
		if line == "" {
			continue // a keep-alive
		}
		h, err := r.ReadMIMEHeader()
		if err != nil {
			return
		}
		var n int
		fmt.Sscanf(h.Get("Content-Length"), "%d", &n)
		body := make([]byte, n)
		if _, err := io.ReadFull(r.R, body); err != nil {
			return
		}
		if strings.HasPrefix(line, "SIP/2.0") {
			continue
		}
		if strings.HasPrefix(line, "NOTIFY ") && h.Get("Event") == "message-summary" {
			p.mu.Lock()
			p.notifies = append(p.notifies, h.Get("From")+" "+strings.ReplaceAll(string(body), "\r\n", "|"))
			p.mu.Unlock()
		}
		var res strings.Builder
		res.WriteString("SIP/2.0 200 OK\r\n")
		for _, v := range h.Values("Via") {
			res.WriteString("Via: " + v + "\r\n")
		}
		for _, k := range []string{"From", "To", "Call-ID", "CSeq"} {
			res.WriteString(k + ": " + h.Get(k) + "\r\n")
		}
		res.WriteString("Content-Length: 0\r\n\r\n")
		if _, err := c.Write([]byte(res.String())); err != nil {
			return
		}
	}
}

func (p *mwiPBX) got() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.notifies)
}

// Two servers on one message store both see each new message: the PBX
// hears one NOTIFY for each, not one from each server.
func TestPoolSendsMessageWaitingOnce(t *testing.T) {
	pbx := startMWIPBX(t)
	um1, um2 := handoverSites(t, pbx.port())
	serveBoth(um1, um2, "--options-interval", "0")
	wait := greetingAndTone(t)
	wav, _ := um1.callerWAV(wait)
	time.Sleep(2 * time.Second) // both servers have read the store once: their baseline

	for i := 1; i <= 3; i++ {
		um1.openum("message", "import", "--mailbox", "bob@example.test", "--caller", "5550100", wav)
		want := fmt.Sprintf("Voice-Message: %d/0 (0/0)", i)
		for deadline := time.Now().Add(10 * time.Second); !slices.ContainsFunc(pbx.got(), func(n string) bool { return strings.Contains(n, want) }); time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("no NOTIFY with %q; the PBX got:\n%s\num1's events:\n%s", want, strings.Join(pbx.got(), "\n"), um1.openum("events"))
			}
		}
		time.Sleep(3 * time.Second) // the other server's poll, had it sent one too
		if got := pbx.got(); len(got) != i {
			t.Fatalf("after %d new messages the PBX got %d NOTIFYs; want %d:\n%s", i, len(got), i, strings.Join(got, "\n"))
		}
	}
	t.Logf("NOTIFYs:\n%s", strings.Join(pbx.got(), "\n"))
}
