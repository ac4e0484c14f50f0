package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openum/openum/internal/media"
	"github.com/openum/openum/internal/peertest"
)

// Subscriber access end to end: baresip, the gateway, calls the dial
// plan's access number over mutual TLS with SRTP and presses keys as RFC
// 4733 events (ctrl_tcp's sndcode): alice's extension and PIN, 1 to
// listen, 9 to save the first message. What baresip heard, as its sndfile
// module wrote it, holds "you have two new messages" and the first
// message's very audio; the store shows the message saved.
func TestSubscriberAccessFromBaresip(t *testing.T) {
	s := newSite(t)
	s.securedMailbox()
	const pin = "4807152913"
	s.sh(`sox -n -r 8000 -c 1 -b 16 m1.wav synth 2 sine 300-900 vol 0.5
sox -n -r 8000 -c 1 -b 16 m2.wav synth 1.5 sine 1200-600 vol 0.5
sox -n -r 8000 -c 1 -b 16 quiet.wav trim 0 90
mkdir heard`)
	at := time.Now().Add(-time.Hour).UTC()
	s.accessMailbox("SEC", "alice@example.test", pin,
		importedMessage{"+15557001", at, "m1.wav"}, importedMessage{"+15557002", at.Add(time.Minute), "m2.wav"})
	_, tlsPort := s.serve()

	ctlPort := peertest.FreePort(t)
	cfg := s.baresipConfig("<sip:gw@127.0.0.1;transport=tls>;regint=0;mediaenc=srtp-mand;audio_codecs=PCMU", s.path("quiet.wav"),
		fmt.Sprintf("module sndfile.so\nsnd_path %s\nmodule_app ctrl_tcp.so\nctrl_tcp_listen 127.0.0.1:%d\n", s.path("heard"), ctlPort))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	gw := exec.CommandContext(ctx, "baresip", "-f", cfg, "-t", "100")
	out := &peertest.Output{}
	gw.Stdout, gw.Stderr = out, out
	if err := gw.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = gw.Wait(); close(exited) }()
	t.Cleanup(func() {
		cancel()
		<-exited
		if t.Failed() {
			t.Logf("baresip's output:\n%s", out.String())
		}
	})

	ctl := dialCtl(t, ctlPort)
	ctl.send("dial", fmt.Sprintf("sip:15550100@127.0.0.1:%d;transport=tls", tlsPort))
	ctl.await("CALL_ESTABLISHED", 20*time.Second)
	ctl.keys("12345#" + pin + "#") // during the welcome: it stops, and the keys are kept
	time.Sleep(7 * time.Second)    // "You have two new messages", then the main menu
	ctl.keys("1")                  // stops the menu: the first message's envelope, then its audio
	time.Sleep(12 * time.Second)
	ctl.keys("9") // saved
	time.Sleep(3 * time.Second)
	ctl.send("hangup", "")
	ctl.send("quit", "")
	select {
	case <-exited:
	case <-time.After(20 * time.Second):
		t.Fatal("baresip did not quit")
	}
	if !strings.Contains(out.String(), "SRTP is Enabled") {
		t.Fatal("baresip did not set up SRTP")
	}

	heard := s.heardByBaresip()
	summary, first, second := similarity(heard, concatPrompts(t, "you-have", "two", "new-messages")),
		similarity(heard, s.wav("m1.wav")), similarity(heard, s.wav("m2.wav"))
	t.Logf("correlation of what baresip heard with the summary %.3f, the first message %.3f, the second %.3f", summary, first, second)
	if summary < 0.9 {
		t.Error("baresip did not hear \"You have two new messages\"")
	}
	if first < 0.9 {
		t.Error("baresip did not hear the first message")
	}
	// 9 saved the first message: then came the second's envelope, not yet
	// its audio.
	if second > 0.6 {
		t.Error("baresip heard the second message before it was played")
	}
	if saved := s.messages("alice@example.test", "saved"); len(saved) != 1 || saved[0] != "+15557001" {
		t.Errorf("saved messages from %v; want the first one", saved)
	}
	events := s.openum("events", "--json")
	if !strings.Contains(events, `"EventID": 1036`) {
		t.Error("no event 1036 for the logon")
	}
	for _, where := range []string{events, out.String(), s.openum("audit")} {
		if strings.Contains(where, pin) {
			t.Error("the PIN appears in the events, the audit log or baresip's output")
		}
	}
}

// heardByBaresip is the audio baresip received, as its sndfile module
// wrote it, read by sox as 8 kHz mono 16-bit.
func (s *site) heardByBaresip() []int16 {
	s.t.Helper()
	dumps, _ := filepath.Glob(filepath.Join(s.path("heard"), "*dec*.wav"))
	if len(dumps) != 1 {
		s.t.Fatalf("baresip's received audio: %v; want one file", dumps)
	}
	s.sh(fmt.Sprintf("sox %q -r 8000 -c 1 -b 16 -e signed-integer heard.wav", dumps[0]))
	return s.wav("heard.wav")
}

func (s *site) wav(name string) []int16 {
	s.t.Helper()
	return readWAV(s.t, s.path(name))
}

// concatPrompts is the named prompts as openum says them one after
// another: a tenth of a second apart.
func concatPrompts(t *testing.T, names ...string) []int16 {
	var pcm []int16
	for i, name := range names {
		if i > 0 {
			pcm = append(pcm, make([]int16, media.SampleRate/10)...)
		}
		pcm = append(pcm, prompt(t, name)...)
	}
	return pcm
}

// baresipCtl drives baresip through its ctrl_tcp module: netstrings of
// JSON commands, answered by responses and events.
type baresipCtl struct {
	t      *testing.T
	conn   net.Conn
	events chan string
}

func dialCtl(t *testing.T, port int) *baresipCtl {
	t.Helper()
	var conn net.Conn
	var err error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if conn, err = net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("baresip's ctrl_tcp: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &baresipCtl{t: t, conn: conn, events: make(chan string, 100)}
	go func() {
		r := bufio.NewReader(conn)
		for {
			size, err := r.ReadString(':')
			if err != nil {
				close(c.events)
				return
			}
			n, _ := strconv.Atoi(strings.TrimSpace(size[:len(size)-1]))
			msg := make([]byte, n+1) // and the trailing comma
			if _, err := io.ReadFull(r, msg); err != nil {
				close(c.events)
				return
			}
			select {
			case c.events <- string(msg[:n]):
			default:
			}
		}
	}()
	return c
}

func (c *baresipCtl) send(command, params string) {
	c.t.Helper()
	msg, _ := json.Marshal(map[string]string{"command": command, "params": params, "token": command})
	if _, err := fmt.Fprintf(c.conn, "%d:%s,", len(msg), msg); err != nil {
		c.t.Fatalf("baresip's ctrl_tcp: %v", err)
	}
}

// await waits for an event of baresip's whose JSON holds want.
func (c *baresipCtl) await(want string, limit time.Duration) {
	c.t.Helper()
	timeout := time.After(limit)
	for {
		select {
		case ev, ok := <-c.events:
			if !ok {
				c.t.Fatalf("baresip closed ctrl_tcp before %s", want)
			}
			if strings.Contains(ev, want) {
				return
			}
		case <-timeout:
			c.t.Fatalf("no %s from baresip within %v", want, limit)
		}
	}
}

// keys presses keys one by one, as a person does.
func (c *baresipCtl) keys(keys string) {
	c.t.Helper()
	for _, k := range keys {
		c.send("sndcode", string(k))
		time.Sleep(300 * time.Millisecond)
	}
}

// importedMessage is a message a test puts in a mailbox before the call:
// from caller, received at, the audio of the site's file wav.
type importedMessage struct {
	caller   string
	received time.Time
	wav      string
}

// accessMailbox readies mailbox for subscriber access through plan's
// access number +15550100: pin is its PIN, not expired, and msgs are in
// it.
func (s *site) accessMailbox(plan, mailbox, pin string, msgs ...importedMessage) {
	s.openum("dialplan", "set", plan, "--access-telephone-numbers", "+15550100")
	s.openum("mailbox", "set-pin", mailbox, "--pin", pin, "--expired=false")
	for _, m := range msgs {
		s.openum("message", "import", "--mailbox", mailbox, "--caller", m.caller, "--received", m.received.Format(time.RFC3339), s.path(m.wav))
	}
}
