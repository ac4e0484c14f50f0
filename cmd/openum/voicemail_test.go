package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openum/openum/internal/baresip"
	"github.com/openum/openum/internal/delivery"
	"github.com/openum/openum/internal/media"
	"github.com/openum/openum/internal/peertest"
)

// These tests run the real openum binary against real peers from Debian:
// a gateway (baresip) calls a mailbox over mutual TLS with SRTP, and the
// voice message must land in the Maildir with the audio it sent.

var openumBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "openum-bin")
	if err != nil {
		panic(err)
	}
	openumBin = filepath.Join(dir, "openum")
	if out, err := exec.Command("go", "build", "-o", openumBin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// site is one openum data directory with its gateways' PKI.
type site struct {
	t      *testing.T
	dir    string
	data   string
	proc   *exec.Cmd        // the last openum serve
	served *peertest.Output // what it wrote on stdout and stderr
}

func newSite(t *testing.T) *site {
	s := &site{t: t, dir: t.TempDir()}
	s.data = filepath.Join(s.dir, "data")
	return s
}

// openum runs one openum command and returns its output.
func (s *site) openum(args ...string) string {
	s.t.Helper()
	cmd := exec.Command(openumBin, append([]string{"--data", s.data}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		s.t.Fatalf("openum %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// certificateInUse is the thumbprint openum cert select chooses.
func (s *site) certificateInUse() string {
	s.t.Helper()
	var sel struct{ Chosen struct{ Thumbprint string } }
	if err := json.Unmarshal([]byte(s.openum("cert", "select", "--json")), &sel); err != nil || sel.Chosen.Thumbprint == "" {
		s.t.Fatalf("cert select --json: %v", err)
	}
	return sel.Chosen.Thumbprint
}

func (s *site) path(name string) string { return filepath.Join(s.dir, name) }

func (s *site) sh(script string) {
	s.t.Helper()
	runScript(s.t, s.dir, script)
}

// gatewayPKI makes, with openssl, a CA and a gateway certificate naming
// fqdn for clientAuth, as an administrator would for a gateway.
func (s *site) gatewayPKI(fqdn string) {
	s.sh(fmt.Sprintf(`
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt -days 2 -subj "/CN=Gateway CA" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout gw.key -out gw.csr -subj "/CN=%[1]s" 2>/dev/null
printf 'subjectAltName=DNS:%[1]s\nextendedKeyUsage=clientAuth,serverAuth\n' > gw.ext
openssl x509 -req -in gw.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out gw.crt -days 1 -extfile gw.ext 2>/dev/null
cat gw.crt gw.key > gw.pem`, fqdn))
}

// waitLine reports whether a line containing want comes from r within
// limit. It keeps reading r to its end, so the writer never blocks.
func waitLine(r io.Reader, want string, limit time.Duration) bool {
	found, ended := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(ended)
		var once sync.Once
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if strings.Contains(sc.Text(), want) {
				once.Do(func() { close(found) })
			}
		}
	}()
	select {
	case <-found:
		return true
	case <-ended: // the output ended first: the program stopped
		select {
		case <-found:
			return true
		default:
			return false
		}
	case <-time.After(limit):
		return false
	}
}

// serve starts openum serve on loopback and returns its TCP and TLS ports.
// The ports were free when picked; a serve that lost one to another
// process before binding it is started again on others.
func (s *site) serve(extra ...string) (tcpPort, tlsPort int) {
	s.t.Helper()
	for attempt := 1; ; attempt++ {
		tcpPort, tlsPort = peertest.FreePort(s.t), peertest.FreePort(s.t)
		// The admin API on any free port unless extra says: tests run side by side.
		args := append([]string{"--data", s.data, "serve", "--listen", "127.0.0.1",
			"--sip-port", fmt.Sprint(tcpPort), "--tls-port", fmt.Sprint(tlsPort), "--admin-listen", "127.0.0.1:0"}, extra...)
		cmd := exec.Command(openumBin, args...)
		stdout, _ := cmd.StdoutPipe()
		cmd.Stderr = cmd.Stdout
		if err := cmd.Start(); err != nil {
			s.t.Fatal(err)
		}
		s.proc, s.served = cmd, &peertest.Output{}
		s.t.Cleanup(func() { _ = terminate(cmd, 10*time.Second) })
		if waitLine(io.TeeReader(stdout, s.served), "listening on TCP", 15*time.Second) {
			return tcpPort, tlsPort
		}
		_ = terminate(cmd, 10*time.Second)
		if attempt == 3 || !strings.Contains(s.served.String(), "address already in use") {
			s.t.Fatalf("openum serve did not start:\n%s", s.served.String())
		}
	}
}

// baresip calls uri with the account line and sends wav into the call.
func (s *site) baresip(account, uri, wav string, seconds int) string {
	s.t.Helper()
	cfg := s.baresipConfig(account, wav, "")
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(seconds+20)*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, "baresip", "-f", cfg, "-e", "/dial "+uri, "-t", fmt.Sprint(seconds)).CombinedOutput()
	return string(out)
}

// baresipConfig writes baresip's configuration, with the lines extra
// added, and returns its folder.
func (s *site) baresipConfig(account, wav, extra string) string {
	s.t.Helper()
	return s.baresipAt("baresip", peertest.FreePorts(s.t, 2), account, wav, extra)
}

// baresipAt writes baresip's configuration in the folder name, listening
// for SIP on port (and TLS on the next), and returns the folder.
func (s *site) baresipAt(name string, port int, account, wav, extra string) string {
	s.t.Helper()
	cfg := s.path(name)
	err := baresip.Write(cfg, baresip.Config{
		Listen:      fmt.Sprintf("127.0.0.1:%d", port),
		Certificate: s.path("gw.pem"),
		CAFile:      s.path("um.crt"),
		AudioSource: wav,
		Account:     account,
		Extra:       "poll_method epoll\naudio_alert alsa,null\naudio_level no\nrtcp_mux no\nrtp_ports 52000-52999\n" + extra,
	})
	if err != nil {
		s.t.Fatal(err)
	}
	return cfg
}

// callerWAV is what the caller says: silence while the greeting and tone
// play, then the speech of prompt. It returns the file and the speech.
func (s *site) callerWAV(silence float64) (string, []int16) {
	s.t.Helper()
	speech, _ := filepath.Abs(filepath.Join("..", "..", "internal", "voicemail", "prompts", "saved.wav"))
	s.sh(fmt.Sprintf("sox -n -r 8000 -c 1 -b 16 sil.wav trim 0 %.2f && sox sil.wav %s caller.wav", silence, speech))
	return s.path("caller.wav"), readWAV(s.t, speech)
}

// voiceMessage waits for the one message in the mailbox's Maildir and
// returns its headers and recording.
func (s *site) voiceMessage(address string) (mail.Header, []int16) {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var files []string
	for len(files) == 0 {
		if time.Now().After(deadline) {
			s.t.Fatalf("no voice message in %s's Maildir; events:\n%s", address, s.openum("events"))
		}
		time.Sleep(100 * time.Millisecond)
		files, _ = filepath.Glob(filepath.Join(s.data, "mail", delivery.MaildirName(address), "new", "*"))
	}
	if len(files) != 1 {
		s.t.Fatalf("%d messages; want 1", len(files))
	}
	raw, _ := os.ReadFile(files[0])
	m, err := delivery.ReadVoiceMessage(raw)
	if err != nil {
		s.t.Fatal(err)
	}
	pcm, err := media.ReadWAV(bytes.NewReader(m.Audio))
	if err != nil {
		s.t.Fatal(err)
	}
	return m.Header, pcm
}

// The captured calls' media ports: openum's and baresip's, apart from the
// ranges other tests use, so a capture holds this call and nothing else.
const (
	mediaPorts  = "51000-51999"
	mediaFilter = "udp portrange 51000-52999"
)

// greetingAndTone is how long the caller waits before speaking: the
// default greeting and the 400 ms tone.
func greetingAndTone(t *testing.T) float64 {
	return float64(len(prompt(t, "greeting")))/media.SampleRate + 0.4
}

// securedMailbox sets up the directory of TestSecuredVoiceMessageFromBaresip:
// a Secured dial plan, baresip as its gateway over mutual TLS, alice's
// mailbox, and openum's self-signed certificate, exported to um.crt for
// baresip and the mail server.
func (s *site) securedMailbox() {
	s.t.Helper()
	s.gatewayPKI("baresip.localhost")
	s.openum("dialplan", "new", "SEC", "--number-of-digits-in-extension", "5", "--voip-security", "secured")
	s.openum("gateway", "new", "GW1", "--address", "baresip.localhost", "--port", "5061")
	s.openum("huntgroup", "new", "HG1", "--gateway", "GW1", "--dialplan", "SEC")
	s.openum("policy", "new", "P1", "--dialplan", "SEC")
	s.openum("mailbox", "enable", "alice@example.test", "--dialplan", "SEC", "--extension", "12345", "--display-name", "Alice Martin")
	s.openum("server", "set", "--name", "localhost", "--dialplans", "SEC", "--rtp-port-range", mediaPorts)
	s.openum("cert", "import", s.path("ca.crt"), "--trusted")
	s.openum("cert", "new-self-signed", "--fqdn", "localhost", "--san", "127.0.0.1")
	s.openum("cert", "export", s.certificateInUse(), "--out", s.path("um.crt"))
}

// unsecuredMailbox sets up the directory of TestUnsecuredVoiceMessageFromBaresip:
// an Unsecured dial plan, baresip as its gateway over TCP from 127.0.0.1,
// and bob's mailbox at extension 23456.
func (s *site) unsecuredMailbox() {
	s.t.Helper()
	s.unsecuredMailboxOn("localhost")
}

// unsecuredMailboxOn is unsecuredMailbox on a server named fqdn, the
// gateway made with openum gateway new's gatewayFlags too.
func (s *site) unsecuredMailboxOn(fqdn string, gatewayFlags ...string) {
	s.t.Helper()
	s.gatewayPKI("baresip.localhost") // baresip wants its files even over TCP
	s.openum("dialplan", "new", "OPEN", "--number-of-digits-in-extension", "5")
	s.openum(append([]string{"gateway", "new", "PBX", "--address", "127.0.0.1"}, gatewayFlags...)...)
	s.openum("huntgroup", "new", "HG1", "--gateway", "PBX", "--dialplan", "OPEN")
	s.openum("policy", "new", "P1", "--dialplan", "OPEN")
	s.openum("mailbox", "enable", "bob@example.test", "--dialplan", "OPEN", "--extension", "23456")
	s.openum("server", "set", "--name", fqdn, "--dialplans", "OPEN", "--rtp-port-range", mediaPorts)
	s.openum("cert", "new-self-signed", "--fqdn", fqdn, "--san", "127.0.0.1")
	s.openum("cert", "export", s.certificateInUse(), "--out", s.path("um.crt"))
}

// unsecuredCall has baresip call bob's mailbox over TCP and RTP, say wav
// and hang up after seconds; it returns baresip's output.
func (s *site) unsecuredCall(tcpPort int, wav string, seconds int) string {
	s.t.Helper()
	return s.baresip("<sip:pbx@127.0.0.1;transport=tcp>;regint=0;audio_codecs=PCMU",
		fmt.Sprintf("sip:23456@127.0.0.1:%d;transport=tcp", tcpPort), wav, seconds)
}

// securedCall has baresip leave a message on alice's mailbox over TLS and
// SRTP: silence through the greeting and tone, then speech, then it hangs
// up (openum cuts the trailing silence). It returns the speech.
func (s *site) securedCall(tlsPort int) []int16 {
	s.t.Helper()
	wait := greetingAndTone(s.t) + 0.5
	wav, speech := s.callerWAV(wait)
	// baresip's clock runs from its start: leave time for the call set-up.
	seconds := int(math.Ceil(wait+float64(len(speech))/media.SampleRate)) + 3
	out := s.baresip("<sip:gw@127.0.0.1;transport=tls>;regint=0;mediaenc=srtp-mand;audio_codecs=PCMU",
		fmt.Sprintf("sip:12345@127.0.0.1:%d;transport=tls", tlsPort), wav, seconds)
	if !strings.Contains(out, "SRTP is Enabled") {
		s.t.Fatalf("baresip did not set up SRTP:\n%s", out)
	}
	s.t.Cleanup(func() {
		if s.t.Failed() {
			s.t.Logf("baresip's output:\n%s", out)
		}
	})
	return speech
}

// checkRecording checks a delivered recording against what the caller said:
// it spoke 0.5 s after the tone, then hung up, so the recording ends a breath
// (0.25 s) after the last word, and holds that speech.
func checkRecording(t *testing.T, rec, speech []int16) {
	t.Helper()
	speech = voiced(speech)
	want := 0.5 + float64(len(speech))/media.SampleRate + 0.25
	if got := float64(len(rec)) / media.SampleRate; math.Abs(got-want) > 0.5 {
		t.Errorf("recording lasts %.2f s; want %.2f ± 0.5 s", got, want)
	}
	if c := similarity(rec, speech); c < 0.9 {
		t.Errorf("the recording does not hold the caller's speech: correlation %.3f", c)
	}
}

func TestSecuredVoiceMessageFromBaresip(t *testing.T) {
	s := newSite(t)
	s.securedMailbox()
	_, tlsPort := s.serve()
	stop := s.capture(fmt.Sprintf("tcp port %d or %s", tlsPort, mediaFilter))
	speech := s.securedCall(tlsPort)
	h, rec := s.voiceMessage("alice@example.test")
	// On the wire: neither SIP nor the audio in clear.
	wire := stop()
	if bytes.Contains(wire, []byte("INVITE sip:")) || bytes.Contains(wire, []byte("SIP/2.0")) {
		t.Error("cleartext SIP on the wire of a Secured call")
	}
	if audible(wire, speech) {
		t.Error("the caller's speech is in clear on the wire of a Secured call")
	}
	if got := h.Get("X-CallingTelephoneNumber"); got != "gw" {
		t.Errorf("X-CallingTelephoneNumber = %q; want gw", got)
	}
	checkRecording(t, rec, speech)
	s.storedOnce("alice@example.test", rec) // the mail is a copy of the stored message (UM-6)
	events := s.openum("events", "--json")
	for _, want := range []string{`"srtp": "AES_CM_128_HMAC_SHA1_80"`, `"EventID": 9300`, `"EventID": 9301`} {
		if !strings.Contains(events, want) {
			t.Errorf("events lack %s", want)
		}
	}
}

// The same over TCP and RTP for an Unsecured dial plan, where the wire shows
// everything in clear, which proves the Secured test's check can fail.
func TestUnsecuredVoiceMessageFromBaresip(t *testing.T) {
	s := newSite(t)
	s.unsecuredMailbox()
	tcpPort, _ := s.serve()

	wait := greetingAndTone(t)
	wav, speech := s.callerWAV(wait + 0.5)
	stop := s.capture(fmt.Sprintf("tcp port %d or %s", tcpPort, mediaFilter))
	s.unsecuredCall(tcpPort, wav, int(wait)+10)
	_, rec := s.voiceMessage("bob@example.test")
	wire := stop()
	if !bytes.Contains(wire, []byte("INVITE sip:23456@")) {
		t.Error("no cleartext INVITE on the wire of an Unsecured call: the capture saw nothing")
	}
	if !audible(wire, speech) {
		t.Error("the caller's speech is not found in clear on the wire of an Unsecured call")
	}
	checkRecording(t, rec, speech)
}
