package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openum/openum/internal/delivery"
)

// SIGTERM drains for --drain-timeout; a call still being recorded then is
// hung up as a caller's hang-up would end it, before the process exits:
// baresip, the caller, gets a BYE, and the message is kept (event 9300 in
// the log of the server that stopped) and delivered before it exits, into
// a Maildir or through a real Postfix, rather than left to the next start.
func TestDrainTimeoutHangsUpAndKeepsTheMessage(t *testing.T) {
	t.Run("maildir", func(t *testing.T) {
		s := newSite(t)
		s.unsecuredMailbox()
		tcpPort, _ := s.serve("--drain-timeout", "1s")
		drainCut(t, s, tcpPort, "23456", "drain timeout")
		if mail, _ := filepath.Glob(filepath.Join(s.data, "mail", delivery.MaildirName("bob@example.test"), "new", "*")); len(mail) != 1 {
			t.Errorf("%d messages delivered to bob's Maildir before serve exited; want the one cut", len(mail))
		}
	})
	t.Run("smtp", func(t *testing.T) {
		s := newSite(t)
		s.unsecuredMailbox()
		mx := newPostfix(t, s.path("um.crt"))
		s.openum("cert", "import", mx.ca(), "--trusted")
		mx.start()
		s.openum("mailbox", "enable", mxMailbox, "--dialplan", "OPEN", "--extension", "23457") // the one Postfix knows
		tcpPort, _ := s.serve("--drain-timeout", "1s", "--smtp", mx.addr())
		drainCut(t, s, tcpPort, "23457", "drain timeout")
		if queued := s.spooled(); len(queued) != 0 || s.eventCount(9301) != 1 {
			t.Errorf("serve exited with %v still queued and %d events 9301 (delivered); want the message sent", queued, s.eventCount(9301))
		}
		mx.waitMessage(s, 20*time.Second)
	})
	// An administrator who will not wait: a second signal ends the drain.
	t.Run("second signal", func(t *testing.T) {
		s := newSite(t)
		s.unsecuredMailbox()
		tcpPort, _ := s.serve("--drain-timeout", "5m")
		drainCut(t, s, tcpPort, "23456", "second signal")
	})
}

// drainCut has baresip call extension on s's server over TCP, then
// stops the server (SIGTERM) while the message is being recorded, and
// checks the drain ended as it should: the call cut, by the drain
// timeout (1 s) or a second SIGTERM 1 s after the first, as cut says,
// with a BYE, and its message recorded before the exit.
func drainCut(t *testing.T, s *site, tcpPort int, extension, cut string) {
	// Silence through the greeting and tone, then a tone that goes on
	// longer than the test: the recording is in progress when the drain
	// ends, and baresip hangs up by itself only when its source ends.
	wait := greetingAndTone(t) + 0.5
	s.sh(fmt.Sprintf("sox -n -r 8000 -c 1 -b 16 sil.wav trim 0 %.2f && sox -n -r 8000 -c 1 -b 16 tone.wav synth 30 sine 440 vol 0.3 && sox sil.wav tone.wav long.wav", wait))
	cfg := s.baresipConfig("<sip:pbx@127.0.0.1;transport=tcp>;regint=0;audio_codecs=PCMU", s.path("long.wav"), "")
	caller := s.start(s.dir, "baresip", "-f", cfg, "-e", fmt.Sprintf("/dial sip:%s@127.0.0.1:%d;transport=tcp", extension, tcpPort), "-t", "40")
	s.waitEvent(9210, 15*time.Second) // admitted
	time.Sleep(time.Duration((wait + 2) * float64(time.Second)))
	if n := s.eventCount(9300); n != 0 {
		t.Fatalf("a message was recorded before the drain (%d); the call ended early:\n%s", n, caller.String())
	}

	stopped := time.Now()
	if cut == "second signal" {
		_ = s.proc.Process.Signal(syscall.SIGTERM)
		time.Sleep(time.Second)
	}
	if err := terminate(s.proc, 20*time.Second); err != nil {
		t.Fatalf("openum serve on SIGTERM: %v\n%s", err, s.served.String())
	}
	took := time.Since(stopped)
	if !strings.Contains(s.served.String(), cut+": calls in progress were hung up") {
		t.Errorf("serve did not say the %s cut the call:\n%s", cut, s.served.String())
	}
	if cut == "drain timeout" && took < time.Second {
		t.Errorf("serve stopped %v after SIGTERM, before its --drain-timeout of 1s", took)
	}
	if n := s.eventCount(9300); n != 1 {
		t.Errorf("%d messages recorded by the server that stopped; want the one cut (events:\n%s)", n, s.openum("events"))
	}
	// Without a BYE baresip's call would go on to its -t 40: a closed
	// connection ends no call (libre reports the BYE as "session closed:
	// Connection reset by peer").
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(caller.String(), "terminated"); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("baresip's call was not ended by a BYE:\n%s", caller.String())
		}
	}
	t.Logf("stopped %v after SIGTERM", took.Round(time.Millisecond))
}
