package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openum/openum/internal/peertest"
)

// Play on Phone (openum message play-on-phone): the command places the call
// itself through the outbound path, within the mailbox's dialing
// restrictions and budgets.

// playOnPhoneSite is a Secured dial plan with Exchange's North American
// rules, a policy allowing Local only, alice's mailbox holding one message
// (the prompt saved.wav), and GW1 at localhost, whose certificate (from the
// site's gateway CA) names localhost. It returns the message's audio.
func playOnPhoneSite(t *testing.T) (*site, []int16) {
	s := newSite(t)
	s.gatewayPKI("localhost")
	s.openum("dialplan", "new", "SEC", "--number-of-digits-in-extension", "5", "--voip-security", "secured",
		"--country-or-region-code", "1", "--outside-line-access-code", "9", "--national-number-prefix", "1", "--international-access-code", "011")
	s.openum("dialplan", "rule", "add", "SEC", "--in-country", "--name", "Local", "--mask", "91425xxxxxxx", "--dialed", "9xxxxxxx")
	s.openum("dialplan", "rule", "add", "SEC", "--international", "--name", "UK", "--mask", "901144*", "--dialed", "901144*")
	s.openum("gateway", "new", "GW1", "--address", "localhost", "--port", "5061")
	s.openum("huntgroup", "new", "HG1", "--gateway", "GW1", "--dialplan", "SEC")
	s.openum("policy", "new", "P1", "--dialplan", "SEC", "--allowed-in-country-or-region-groups", "Local", "--max-outcalls-per-day", "3")
	s.openum("mailbox", "enable", "alice@example.test", "--dialplan", "SEC", "--policy", "P1", "--extension", "12345")
	s.openum("server", "set", "--name", "localhost", "--dialplans", "SEC", "--rtp-port-range", mediaPorts)
	s.openum("cert", "import", s.path("ca.crt"), "--trusted")
	s.openum("cert", "new-self-signed", "--fqdn", "localhost", "--san", "127.0.0.1")
	s.openum("cert", "export", s.certificateInUse(), "--out", s.path("um.crt"))
	speech, _ := filepath.Abs(filepath.Join("..", "..", "internal", "voicemail", "prompts", "saved.wav"))
	s.openum("message", "import", "--mailbox", "alice@example.test", "--caller", "+14255550199", speech)
	return s, prompt(t, "saved")
}

// playOnPhone runs the command and returns stdout, stderr and the exit status.
func (s *site) playOnPhone(args ...string) (string, string, int) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, openumBin, append([]string{"--data", s.data, "message", "play-on-phone", "1"}, args...)...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		s.t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

// tlsGateway runs sipp with scenario behind stunnel, which takes mutual TLS
// with the gateway's certificate and requires openum's, and points GW1 at
// it. It returns sipp's message log reader and stunnel's output.
func (s *site) tlsGateway(scenario string) (messages func() string, tunnel *peertest.Output) {
	s.t.Helper()
	port, sippPort := peertest.FreePort(s.t), peertest.FreePort(s.t)
	dir := s.t.TempDir()
	sf, _ := filepath.Abs(scenario)
	sipp := s.start(dir, "sipp", "-sf", sf, "-i", "127.0.0.1", "-p", strconv.Itoa(sippPort), "-mi", "127.0.0.1",
		"-mp", strconv.Itoa(peertest.FreePort(s.t)), "-t", "t1", "-nostdin", "-nr", "-trace_msg",
		"-key", "contact", fmt.Sprintf("sip:gw@localhost:%d;transport=tls", port), "-key", "proto", "RTP/SAVP")
	conf := filepath.Join(dir, "stunnel.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(`foreground = yes
pid =
debug = 6
[gateway]
accept = 127.0.0.1:%d
connect = 127.0.0.1:%d
cert = %s
key = %s
CAfile = %s
verifyChain = yes
requireCert = yes
sslVersionMin = TLSv1.2
`, port, sippPort, s.path("gw.crt"), s.path("gw.key"), s.path("um.crt"))), 0o600); err != nil {
		s.t.Fatal(err)
	}
	tunnel = s.start(dir, "stunnel4", conf)
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(tunnel.String(), "bound to") || !listening(sippPort); {
		if time.Now().After(deadline) {
			s.t.Fatalf("the gateway did not start:\n%s\n%s", tunnel.String(), sipp.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.openum("gateway", "set", "GW1", "--port", strconv.Itoa(port))
	return func() string {
		logs, _ := filepath.Glob(filepath.Join(dir, "*_messages.log"))
		var all []string
		for _, l := range logs {
			b, _ := os.ReadFile(l)
			all = append(all, string(b))
		}
		return strings.Join(all, "\n")
	}, tunnel
}

func listening(port int) bool {
	c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err == nil {
		c.Close()
	}
	return err == nil
}

// listeningBaresip starts baresip as a phone that waits for calls and
// returns its output and TLS port once it listens there. Its ports were
// free when picked but may be taken before baresip binds them: a lost race
// is tried again on other ports.
func (s *site) listeningBaresip(name, account, wav, extra string) (*peertest.Output, int) {
	s.t.Helper()
	for attempt := 1; ; attempt++ {
		sipPort := peertest.FreePorts(s.t, 2)
		tlsPort := sipPort + 1 // baresip's TLS listener is the next port
		cfg := s.baresipAt(name, sipPort, account, wav, extra)
		phone := s.start(s.dir, "baresip", "-f", cfg, "-t", "40")
		for deadline := time.Now().Add(10 * time.Second); !listening(tlsPort); time.Sleep(50 * time.Millisecond) {
			if strings.Contains(phone.String(), "Address already in use") && attempt < 3 {
				break
			}
			if time.Now().After(deadline) {
				s.t.Fatalf("baresip does not listen on TLS %d:\n%s", tlsPort, phone.String())
			}
		}
		if listening(tlsPort) {
			return phone, tlsPort
		}
	}
}

// start runs a peer in dir until the test ends, its output in a buffer.
func (s *site) start(dir, name string, args ...string) *peertest.Output {
	s.t.Helper()
	out := &peertest.Output{}
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, out, out
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return out
}

// restricted is the 9500 events' reasons.
func (s *site) restricted() []string {
	var out []string
	for _, e := range s.eventsWithID(9500) {
		out = append(out, fmt.Sprint(e.Attrs["reason"]))
	}
	return out
}

func TestPlayOnPhoneOverMutualTLSAndItsRefusals(t *testing.T) {
	s, _ := playOnPhoneSite(t)
	messages, tunnel := s.tlsGateway(filepath.Join("..", "..", "internal", "sip", "testdata", "sipp", "uas_gateway.xml"))
	stdout, stderr, code := s.playOnPhone("--phone", "425 555 0100", "--as", "ALICE@example.test")
	if code != 0 || !strings.Contains(stdout, "Outcome     : answered") || !strings.Contains(stdout, "Dial string : 95550100") {
		t.Fatalf("play-on-phone: exit %d\n%s%s\nstunnel:\n%s", code, stdout, stderr, tunnel.String())
	}
	msgs := messages()
	if !strings.Contains(msgs, "INVITE sip:95550100@localhost:") || !strings.Contains(msgs, "RTP/SAVP") || !strings.Contains(msgs, "BYE sip:") {
		t.Fatalf("the gateway did not get the rule's dial string over SRTP, then a BYE:\n%s", msgs)
	}
	if !strings.Contains(tunnel.String(), "CN=localhost") {
		t.Errorf("stunnel did not check openum's client certificate:\n%s", tunnel.String())
	}
	placed := s.eventsWithID(9502)
	if len(placed) != 1 || placed[0].Attrs["result"] != "answered" || placed[0].Attrs["mailbox"] != "alice@example.test" {
		t.Fatalf("event 9502: %+v", placed)
	}

	// Refusals: no call placed, one line, exit 1, event 9500.
	for _, c := range []struct{ phone, reason string }{
		{"555 0100", "no-matching-rule"},
		{"+44 20 7946 0958", "group-not-allowed"},
	} {
		stdout, stderr, code := s.playOnPhone("--phone", c.phone)
		want := "openum: message 1 not played: refused (" + c.reason + "): "
		if code != 1 || !strings.HasPrefix(stderr, want) || strings.Count(stderr, "\n") != 1 || !strings.Contains(stdout, "refused ("+c.reason+")") {
			t.Errorf("%s: exit %d, stderr %q; want 1 and %q", c.phone, code, stderr, want)
		}
	}
	if _, stderr, code := s.playOnPhone("--phone", "425 555 0100", "--as", "bob@example.test"); code != 1 || !strings.Contains(stderr, "not in mailbox bob@example.test") {
		t.Errorf("another subscriber's message: exit %d %q", code, stderr)
	}

	// Busy, then no answer (openum gives up ringing: CANCEL).
	messages, _ = s.tlsGateway(filepath.Join("testdata", "sipp", "uas_busy.xml"))
	stdout, stderr, code = s.playOnPhone("--phone", "425 555 0100", "--json")
	var res struct{ Outcome, Detail string }
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || code != 1 || res.Outcome != "busy" || !strings.Contains(stderr, "not played: busy: ") {
		t.Errorf("busy: exit %d %+v %v %q\n%s", code, res, err, stderr, messages())
	}
	messages, _ = s.tlsGateway(filepath.Join("testdata", "sipp", "uas_ring.xml"))
	stdout, stderr, code = s.playOnPhone("--phone", "425 555 0100", "--ring-for", "2s")
	if code != 1 || !strings.Contains(stdout, "Outcome     : no-answer") || !strings.Contains(messages(), "CANCEL sip:") {
		t.Errorf("no answer: exit %d\n%s%s\n%s", code, stdout, stderr, messages())
	}

	// Three calls were placed: P1's budget of 3 a day is spent, across runs.
	invites := strings.Count(messages(), "INVITE sip:")
	if _, stderr, code := s.playOnPhone("--phone", "425 555 0100"); code != 1 || !strings.Contains(stderr, "refused (mailbox-calls-exceeded)") {
		t.Errorf("over the budget: exit %d %q", code, stderr)
	}
	// A gateway that may not carry outcalls: refused before dialling.
	s.openum("gateway", "set", "GW1", "--outcalls-allowed=false")
	if _, stderr, code := s.playOnPhone("--phone", "425 555 0100"); code != 1 || !strings.Contains(stderr, "refused (no-gateway): no gateway of dial plan SEC may carry outcalls: GW1 does not allow Outcall") {
		t.Errorf("no gateway allowed: exit %d %q", code, stderr)
	}
	if n := strings.Count(messages(), "INVITE sip:"); n != invites {
		t.Errorf("a refused call reached the gateway (%d INVITEs, %d before)", n, invites)
	}
	if got, want := strings.Join(s.restricted(), ","), "no-matching-rule,group-not-allowed,mailbox-calls-exceeded,no-gateway"; got != want {
		t.Errorf("9500 reasons %s; want %s", got, want)
	}
}

// baresip is the called phone, straight over TLS and SRTP: it answers by
// itself and records what it hears, which must be the message.
func TestPlayOnPhoneBaresipHearsTheMessage(t *testing.T) {
	s, speech := playOnPhoneSite(t)
	heard := s.path("heard")
	if err := os.MkdirAll(heard, 0o700); err != nil {
		t.Fatal(err)
	}
	s.sh("sox -n -r 8000 -c 1 -b 16 quiet.wav trim 0 30") // baresip hangs up when its source ends
	account := "<sip:95550100@127.0.0.1;transport=tls>;regint=0;mediaenc=srtp-mand;audio_codecs=PCMU;answermode=auto"
	phone, tlsPort := s.listeningBaresip("phone", account, s.path("quiet.wav"), fmt.Sprintf("snd_path %s\nmodule sndfile.so\n", heard))
	s.openum("gateway", "set", "GW1", "--port", strconv.Itoa(tlsPort))
	stdout, stderr, code := s.playOnPhone("--phone", "425 555 0100")
	if code != 0 || !strings.Contains(stdout, "played the whole message") {
		t.Fatalf("play-on-phone: exit %d\n%s%s\nbaresip:\n%s", code, stdout, stderr, phone.String())
	}
	var dumps []string
	for deadline := time.Now().Add(10 * time.Second); len(dumps) == 0 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if strings.Contains(phone.String(), "terminated") { // the dump is whole once the call is over
			dumps, _ = filepath.Glob(filepath.Join(heard, "*dec*.wav"))
		}
	}
	if len(dumps) != 1 {
		t.Fatalf("baresip's received audio: %v\n%s", dumps, phone.String())
	}
	if !strings.Contains(phone.String(), "SRTP is Enabled") {
		t.Errorf("baresip did not set up SRTP:\n%s", phone.String())
	}
	s.sh(fmt.Sprintf("sox %q -r 8000 -c 1 -b 16 -e signed-integer heard.wav", dumps[0]))
	if c := similarity(s.wav("heard.wav"), voiced(speech)); c < 0.9 {
		t.Errorf("baresip did not hear the message: correlation %.3f", c)
	}
}
