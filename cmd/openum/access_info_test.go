package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openum/openum/internal/media"
	"github.com/openum/openum/internal/peertest"
)

// Subscriber access with the keys sent as SIP INFO, as many gateways do:
// sipp as the gateway of an Unsecured dial plan calls the access number
// over TCP and presses every key in an INFO (testdata/sipp/
// uac_access_info.xml), while it sends silence as RTP. Three calls on one
// server, in order, each checked by what the store and the event log show:
// application/dtmf-relay logs bob on, deletes the first message and saves
// the second, each key pressed while the message's audio plays;
// application/dtmf logs on again and deletes the saved one from its
// envelope; three wrong PINs end the call (1013), openum hanging up. No PIN
// typed is in the events, the audit log or openum's output.
func TestSubscriberAccessByINFO(t *testing.T) {
	s := newSite(t)
	s.unsecuredMailbox()
	const pin, wrong = "4807152913", "6592048173"
	s.sh(`sox -n -r 8000 -c 1 -b 16 m1.wav synth 3 sine 300-900 vol 0.5
sox -n -r 8000 -c 1 -b 16 m2.wav synth 3 sine 1200-600 vol 0.5`)
	// Yesterday at midnight and at noon, so that the envelopes' words are
	// known: "message from seven zero zero one received yesterday at
	// midnight".
	y, m, d := time.Now().AddDate(0, 0, -1).Date()
	midnight := time.Date(y, m, d, 0, 0, 0, 0, time.Local)
	s.accessMailbox("OPEN", "bob@example.test", pin,
		importedMessage{"7001", midnight, "m1.wav"}, importedMessage{"7002", midnight.Add(12 * time.Hour), "m2.wav"})
	envelope := func(last, when string) time.Duration {
		return seconds(concatPrompts(t, "message-from", "seven", "zero", "zero", last, "received", "yesterday", "at", when))
	}
	intoAudio := 1500 * time.Millisecond // and 1.5 s before its end
	tcpPort, _ := s.serve()
	// The extension and the PIN go in at once, cutting the welcome short
	// (barge-in); the pause lets the logon's check run.
	logon := "23456#" + pin + "#" + pause(time.Second)

	// Each call follows from the one before: a failure stops the rest.
	ok := t.Run("dtmf-relay", func(t *testing.T) {
		// 1 during "You have two new messages", 7 and 9 into the messages'
		// audio, # at the main menu after "no more messages".
		s.infoCall(t, tcpPort, true, logon+pause(2*time.Second)+
			"1"+pause(envelope("one", "midnight")+intoAudio)+
			"7"+pause(seconds(prompt(t, "message-deleted"))+envelope("two", "noon")+intoAudio)+
			"9"+pause(2500*time.Millisecond)+"#")
		if got := s.messages("bob@example.test", "deleted"); len(got) != 1 || got[0] != "7001" {
			t.Errorf("deleted messages from %v; want the first one", got)
		}
		if got := s.messages("bob@example.test", "saved"); len(got) != 1 || got[0] != "7002" {
			t.Errorf("saved messages from %v; want the second one", got)
		}
		if on := s.eventsWithID(1036); len(on) != 1 || on[0].Attrs["Mailbox"] != "bob@example.test" || on[0].Attrs["CallingNumber"] != "gw" {
			t.Errorf("1036 events %+v; want one for bob@example.test, calling number gw", on)
		}
	})
	ok = ok && t.Run("dtmf", func(t *testing.T) {
		// The saved message is all that is left: 1 says its envelope, 7
		// deletes it.
		s.infoCall(t, tcpPort, false, logon+pause(2*time.Second)+"1"+pause(time.Second)+"7"+pause(2500*time.Millisecond)+"#")
		if got := s.messages("bob@example.test", "deleted"); len(got) != 2 {
			t.Errorf("deleted messages from %v; want both", got)
		}
		if n := len(s.eventsWithID(1036)); n != 2 {
			t.Errorf("%d 1036 events; want 2", n)
		}
	})
	ok = ok && t.Run("wrong PIN", func(t *testing.T) {
		// A failed logon takes a second; then openum asks for the
		// extension again, and the third failure ends the call.
		fail := "23456#" + wrong + "#"
		s.infoCall(t, tcpPort, true, fail+pause(1500*time.Millisecond)+fail+pause(1500*time.Millisecond)+fail)
		if off := s.eventsWithID(1013); len(off) != 1 {
			t.Errorf("1013 events %+v; want one", off)
		}
		if n := len(s.eventsWithID(1036)); n != 2 {
			t.Errorf("%d 1036 events; want still 2", n)
		}
	})
	if !ok {
		return
	}
	if !strings.Contains(s.served.String(), "listening on TCP") {
		t.Fatal("openum serve's output was not kept: the check below would pass on nothing")
	}
	events, _ := os.ReadFile(filepath.Join(s.data, "events.log"))
	for name, where := range map[string]string{"events.log": string(events), "the audit log": s.openum("audit", "--json"),
		"openum serve's output": s.served.String()} {
		for _, p := range []string{pin, wrong} {
			if strings.Contains(where, p) {
				t.Errorf("a PIN typed appears in %s", name)
			}
		}
	}
}

// pause is d in the pauses of uac_access_info.xml's keys: a "." is 250 ms.
func pause(d time.Duration) string {
	return strings.Repeat(".", int((d+249*time.Millisecond)/(250*time.Millisecond)))
}

func seconds(pcm []int16) time.Duration {
	return time.Duration(len(pcm)) * time.Second / media.SampleRate
}

// infoCall has sipp call the access number over TCP and press keys as SIP
// INFO, application/dtmf-relay or application/dtmf, as
// uac_access_info.xml reads them; it fails the test unless every INFO got
// 200 and openum hung up.
func (s *site) infoCall(t *testing.T, tcpPort int, relay bool, keys string) {
	t.Helper()
	dir := t.TempDir()
	// The gateway's audio: silence, so that the call is not hung up for
	// want of media.
	silence := exec.Command("sox", "-n", "-r", "8000", "-c", "1", "-t", "ul", filepath.Join(dir, "silence.ul"), "trim", "0", "1")
	if out, err := silence.CombinedOutput(); err != nil {
		t.Fatalf("sox: %v\n%s", err, out)
	}
	sf, _ := filepath.Abs(filepath.Join("testdata", "sipp", "uac_access_info.xml"))
	yes := map[bool]string{true: "yes", false: "no"}[relay]
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sipp", "-sf", sf, "-s", "15550100", "-key", "keys", keys, "-key", "relay", yes,
		"-i", "127.0.0.1", "-mi", "127.0.0.1", "-p", strconv.Itoa(peertest.FreePort(t)), "-t", "t1",
		"-mp", strconv.Itoa(peertest.FreePort(t)),
		"-m", "1", "-nostdin", "-nr", "-timeout", "45s", "-timeout_error", "-trace_msg", "-trace_err",
		fmt.Sprintf("127.0.0.1:%d", tcpPort))
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
		var all []string
		for _, l := range logs {
			b, _ := os.ReadFile(l)
			all = append(all, string(b))
		}
		t.Fatalf("sipp: %v\n%s\n%s\nevents:\n%s", err, out, strings.Join(all, "\n"), s.openum("events"))
	}
}

// messages is the calling numbers of mailbox's messages in state.
func (s *site) messages(mailbox, state string) []string {
	s.t.Helper()
	var numbers []string
	for _, m := range s.listMessages(mailbox, "--state", state) {
		numbers = append(numbers, m.CallerNumber)
	}
	return numbers
}
