package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"mime"
	"net"
	"net/mail"
	"net/textproto"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/openum/openum/internal/delivery"
	"github.com/openum/openum/internal/media"
	"github.com/openum/openum/internal/peertest"
)

// These tests deliver voice messages to a real mail server: Postfix from
// Debian, run by the test on loopback with a configuration of its own. Like
// the seed's Hub Transport it requires STARTTLS and a client certificate it
// trusts, and it delivers into a Maildir the test reads.

// mxMailbox is the one address the mail server accepts.
const mxMailbox = "alice@example.test"

// postfix is one Postfix instance: its configuration, queue, certificates
// and Maildirs in dir.
type postfix struct {
	t    *testing.T
	dir  string
	port int
	log  peertest.Output

	mu     sync.Mutex // start and stop
	cmd    *exec.Cmd
	exited chan struct{}
}

// newPostfix configures (but does not start) a Postfix that listens on a
// free loopback port, requires STARTTLS and a client certificate that
// chains to clientCA, and delivers mail for mxMailbox into a Maildir. Its
// server certificate comes from a CA of its own, ca.crt in dir, and names
// localhost and 127.0.0.1.
func newPostfix(t *testing.T, clientCA string) *postfix {
	t.Helper()
	// Postfix's daemons drop root, and virtual(8) writes the Maildirs as
	// nobody: the directory must be searchable by them, which t.TempDir's
	// parent is not.
	dir, err := os.MkdirTemp("", "openum-postfix-")
	if err != nil {
		t.Fatal(err)
	}
	m := &postfix{t: t, dir: dir, port: peertest.FreePort(t)}
	t.Cleanup(func() {
		m.stop()
		if t.Failed() {
			t.Logf("Postfix's log:\n%s", m.log.String())
		}
		os.RemoveAll(dir)
	})
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(nobody.Uid)
	gid, _ := strconv.Atoi(nobody.Gid)
	for _, d := range []string{"conf", "queue", "mail"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := errors.Join(os.Chmod(dir, 0o755), os.Chown(filepath.Join(dir, "mail"), uid, gid)); err != nil {
		t.Fatal(err)
	}
	runScript(t, dir, `
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt -days 2 -subj "/CN=Mail CA" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout mx.key -out mx.csr -subj "/CN=localhost" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > mx.ext
openssl x509 -req -in mx.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out mx.crt -days 1 -extfile mx.ext 2>/dev/null
cp `+clientCA+` clients.pem`)
	mainCF := fmt.Sprintf(`# A Postfix of the test's own, in %[1]s.
compatibility_level = 3.6
queue_directory = %[1]s/queue
data_directory = %[1]s/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.localhost
mydestination =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
maillog_file = /dev/stdout

# STARTTLS is required (no MAIL FROM in clear), and so is a client
# certificate that chains to clients.pem.
smtpd_tls_security_level = encrypt
smtpd_tls_cert_file = %[1]s/mx.crt
smtpd_tls_key_file = %[1]s/mx.key
smtpd_tls_CAfile = %[1]s/clients.pem
smtpd_tls_ask_ccert = yes
smtpd_tls_req_ccert = yes
smtpd_tls_received_header = yes
smtpd_tls_loglevel = 1

# One mailbox, a Maildir, written as nobody.
virtual_mailbox_domains = example.test
virtual_mailbox_base = %[1]s/mail
virtual_mailbox_maps = inline:{ %[2]s=%[2]s/ }
virtual_uid_maps = static:%[3]d
virtual_gid_maps = static:%[4]d
`, dir, mxMailbox, uid, gid)
	// No chroot: the queue is not laid out for one.
	masterCF := fmt.Sprintf(`127.0.0.1:%d inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
virtual   unix  - n n - - virtual
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
`, m.port)
	if err := errors.Join(
		os.WriteFile(filepath.Join(dir, "conf", "main.cf"), []byte(mainCF), 0o644),
		os.WriteFile(filepath.Join(dir, "conf", "master.cf"), []byte(masterCF), 0o644),
	); err != nil {
		t.Fatal(err)
	}
	return m
}

func (m *postfix) addr() string { return fmt.Sprintf("127.0.0.1:%d", m.port) }

// ca is the file of the CA that signed the mail server's certificate.
func (m *postfix) ca() string { return filepath.Join(m.dir, "ca.crt") }

// start runs Postfix in the foreground (its log to stdout, kept in m.log)
// and returns once it accepts connections.
func (m *postfix) start() {
	m.t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cmd = exec.Command("postfix", "-c", filepath.Join(m.dir, "conf"), "start-fg")
	m.cmd.Stdout, m.cmd.Stderr = &m.log, &m.log
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := m.cmd.Start(); err != nil {
		m.t.Fatal(err)
	}
	m.exited = make(chan struct{})
	go func(cmd *exec.Cmd, exited chan struct{}) { _ = cmd.Wait(); close(exited) }(m.cmd, m.exited)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", m.addr(), time.Second); err == nil {
			c.Close()
			return
		}
		select {
		case <-m.exited:
			m.t.Fatalf("Postfix exited at start:\n%s", m.log.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			m.t.Fatalf("Postfix does not listen on %s:\n%s", m.addr(), m.log.String())
		}
	}
}

// stop ends Postfix, all its processes, and returns once they are gone and
// its port is closed. Safe to call from any goroutine, and when stopped.
func (m *postfix) stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd == nil {
		return
	}
	// The master daemon runs in a session of its own, with its daemons in
	// its process group; SIGTERM makes it end them and exit.
	master := 0
	if b, err := os.ReadFile(filepath.Join(m.dir, "queue", "pid", "master.pid")); err == nil {
		master, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	if master > 0 {
		_ = syscall.Kill(master, syscall.SIGTERM)
	}
	select {
	case <-m.exited:
	case <-time.After(10 * time.Second):
		m.t.Errorf("Postfix did not stop on SIGTERM; killing it")
	}
	// Its daemons go too (zombies count until init reaps them: bounded).
	for i := 0; master > 0 && syscall.Kill(-master, 0) == nil && i < 140; i++ {
		if i == 100 {
			_ = syscall.Kill(-master, syscall.SIGKILL)
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
	<-m.exited
	m.cmd = nil
}

// messages returns the files in the mailbox's Maildir.
func (m *postfix) messages() []string {
	files, _ := filepath.Glob(filepath.Join(m.dir, "mail", mxMailbox, "new", "*"))
	return files
}

// waitMessage waits for the first message in the Maildir and returns it.
func (m *postfix) waitMessage(s *site, within time.Duration) []byte {
	m.t.Helper()
	deadline := time.Now().Add(within)
	for len(m.messages()) == 0 {
		if time.Now().After(deadline) {
			m.t.Fatalf("no message reached Postfix's Maildir in %v; openum's events:\n%s", within, s.openum("events"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	raw, err := os.ReadFile(m.messages()[0])
	if err != nil {
		m.t.Fatal(err)
	}
	return raw
}

// eventCount counts the events with this ID.
func (s *site) eventCount(id int) int {
	s.t.Helper()
	return strings.Count(s.openum("events", "--json", "--id", fmt.Sprint(id)), `"EventID": `+fmt.Sprint(id)+",")
}

// waitEvent waits until an event with this ID is logged.
func (s *site) waitEvent(id int, within time.Duration) {
	s.t.Helper()
	deadline := time.Now().Add(within)
	for s.eventCount(id) == 0 {
		if time.Now().After(deadline) {
			s.t.Fatalf("no event %d in %v; events:\n%s", id, within, s.openum("events"))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// spooled returns the IDs of the messages waiting in DATA/spool/queue.
func (s *site) spooled() []string {
	entries, _ := os.ReadDir(filepath.Join(s.data, "spool", "queue"))
	var ids []string
	for _, e := range entries {
		ids = append(ids, e.Name())
	}
	return ids
}

// waitSpoolEmpty waits until DATA/spool/queue holds no message.
func (s *site) waitSpoolEmpty(within time.Duration) {
	s.t.Helper()
	deadline := time.Now().Add(within)
	for len(s.spooled()) > 0 {
		if time.Now().After(deadline) {
			s.t.Fatalf("spool queue still holds %v", s.spooled())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// wavFormat checks a RIFF WAVE header strictly: PCM, mono, 8 kHz, 16 bits,
// chunk sizes that add up to the file. It returns the samples' duration.
func wavFormat(data []byte) (time.Duration, error) {
	le := binary.LittleEndian
	if len(data) < 12 || string(data[:4]) != "RIFF" || string(data[8:12]) != "WAVE" {
		return 0, errors.New("not a RIFF WAVE file")
	}
	if n := int(le.Uint32(data[4:])); n != len(data)-8 {
		return 0, fmt.Errorf("RIFF size %d; the file holds %d", n, len(data)-8)
	}
	var fmtOK bool
	for p := 12; p < len(data); {
		if p+8 > len(data) {
			return 0, errors.New("truncated chunk header")
		}
		id, size := string(data[p:p+4]), int(le.Uint32(data[p+4:]))
		if p+8+size > len(data) {
			return 0, fmt.Errorf("chunk %q of %d bytes runs past the end", id, size)
		}
		body := data[p+8 : p+8+size]
		switch id {
		case "fmt ":
			if size < 16 {
				return 0, errors.New("short fmt chunk")
			}
			format, channels, rate := le.Uint16(body), le.Uint16(body[2:]), le.Uint32(body[4:])
			byteRate, align, bits := le.Uint32(body[8:]), le.Uint16(body[12:]), le.Uint16(body[14:])
			if format != 1 || channels != 1 || rate != 8000 || bits != 16 || byteRate != 16000 || align != 2 {
				return 0, fmt.Errorf("format %d, %d channel(s), %d Hz, %d bits, %d bytes/s, align %d; want PCM mono 8000 Hz 16 bits",
					format, channels, rate, bits, byteRate, align)
			}
			fmtOK = true
		case "data":
			if !fmtOK {
				return 0, errors.New("data before fmt")
			}
			if size%2 != 0 {
				return 0, fmt.Errorf("odd data size %d", size)
			}
			return time.Duration(size/2) * time.Second / 8000, nil
		}
		p += 8 + size + size%2
	}
	return 0, errors.New("no data chunk")
}

// deliveredVoiceMail parses a message as delivered by the mail server and returns
// its headers and its audio attachment.
func deliveredVoiceMail(t *testing.T, raw []byte) (mail.Header, []byte) {
	t.Helper()
	m, err := delivery.ReadVoiceMessage(raw)
	if err != nil {
		t.Fatal(err)
	}
	return m.Header, m.Audio
}

// smtpProbe opens an SMTP session to the mail server as some other client
// would, and returns the server's refusal of EHLO or MAIL FROM, if any.
func smtpProbe(t *testing.T, addr string, tlsConfig *tls.Config) error {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	var c *smtp.Client
	if tlsConfig == nil {
		c = smtp.NewClient(conn)
	} else if c, err = smtp.NewClientStartTLS(conn, tlsConfig); err != nil {
		t.Fatalf("STARTTLS: %v", err)
	}
	defer c.Close()
	if err := c.Hello("probe.localhost"); err != nil {
		return err
	}
	return c.Mail("probe@localhost", nil)
}

// selfSignedClient is a client certificate that the mail server has no
// reason to trust.
func selfSignedClient(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// A Secured call from baresip ends up, through SMTP with mutual TLS, in the
// Maildir of a real Postfix that requires STARTTLS and a client
// certificate. Each side's check is shown to bite: Postfix refuses a client
// in clear, without a certificate or with one it does not trust, and openum
// refuses a mail server whose certificate its trusted store cannot verify
// (event 1423), then delivers once the mail server's CA is imported.
func TestSmtpSecuredVoiceMessageToPostfix(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	s.securedMailbox()
	mx := newPostfix(t, s.path("um.crt"))
	mx.start()

	// Postfix's requirements are real.
	roots := x509.NewCertPool()
	caPEM, err := os.ReadFile(mx.ca())
	if err != nil || !roots.AppendCertsFromPEM(caPEM) {
		t.Fatalf("the mail server's CA: %v", err)
	}
	var smtpErr *smtp.SMTPError
	if err := smtpProbe(t, mx.addr(), nil); !errors.As(err, &smtpErr) || smtpErr.Code != 530 {
		t.Errorf("MAIL FROM in clear: %v; want 530 (STARTTLS first)", err)
	}
	if err := smtpProbe(t, mx.addr(), &tls.Config{RootCAs: roots, ServerName: "localhost"}); !errors.As(err, &smtpErr) ||
		!strings.Contains(smtpErr.Message, "No client certificate presented") {
		t.Errorf("MAIL FROM over TLS without a client certificate: %v; want a refusal", err)
	}
	stranger := selfSignedClient(t)
	if err := smtpProbe(t, mx.addr(), &tls.Config{RootCAs: roots, ServerName: "localhost", Certificates: []tls.Certificate{stranger}}); !errors.As(err, &smtpErr) ||
		!strings.Contains(smtpErr.Message, "not trusted") {
		t.Errorf("MAIL FROM over TLS with an untrusted client certificate: %v; want a refusal", err)
	}

	// openum does not trust the mail server yet.
	_, tlsPort := s.serve("--smtp", mx.addr())
	speech := s.securedCall(tlsPort)
	s.waitEvent(1423, 20*time.Second)
	if n := len(mx.messages()); n != 0 {
		t.Fatalf("%d messages delivered to a mail server openum does not trust", n)
	}
	ids := s.spooled()
	if len(ids) != 1 {
		t.Fatalf("spool queue holds %v; want one message", ids)
	}
	s.openum("cert", "import", mx.ca(), "--trusted")

	raw := mx.waitMessage(s, 30*time.Second)
	h, audio := deliveredVoiceMail(t, raw)
	for name, want := range map[string]string{
		"X-CallingTelephoneNumber": "gw",
		"X-AttachmentOrder":        "voicemessage.wav",
		"Content-Class":            "voice",
		"Message-Id":               "<" + ids[0] + "@localhost>",
	} {
		if got := h.Get(name); got != want {
			t.Errorf("%s = %q; want %q", name, got, want)
		}
	}
	if _, ok := h[textproto.CanonicalMIMEHeaderKey("X-VoiceMessageSenderName")]; !ok {
		t.Error("no X-VoiceMessageSenderName header")
	}
	for _, name := range []string{"X-CallID", "Date"} {
		if h.Get(name) == "" {
			t.Errorf("no %s header", name)
		}
	}
	if to, err := h.AddressList("To"); err != nil || len(to) != 1 || to[0].Address != mxMailbox {
		t.Errorf("To = %q; want %s", h.Get("To"), mxMailbox)
	}
	if subject, _ := new(mime.WordDecoder).DecodeHeader(h.Get("Subject")); !strings.HasPrefix(subject, "Voice Mail from gw (0:") {
		t.Errorf("Subject = %q; want Voice Mail from gw (0:SS)", subject)
	}
	// Postfix writes what it verified: TLS, and openum's certificate.
	if received := strings.Join(h["Received"], "\n"); !strings.Contains(received, "with ESMTPS") ||
		!strings.Contains(received, `Client CN "localhost", Issuer "localhost" (verified OK)`) {
		t.Errorf("Postfix's Received header does not show a verified client certificate:\n%s", received)
	}

	length, err := wavFormat(audio)
	if err != nil {
		t.Fatalf("the attachment is not the WAV it should be: %v", err)
	}
	if d, err := strconv.Atoi(h.Get("X-VoiceMessageDuration")); err != nil || math.Abs(float64(d)-length.Seconds()) > 1 {
		t.Errorf("X-VoiceMessageDuration = %q; the recording lasts %.2f s", h.Get("X-VoiceMessageDuration"), length.Seconds())
	}
	pcm, err := media.ReadWAV(bytes.NewReader(audio))
	if err != nil {
		t.Fatal(err)
	}
	checkRecording(t, pcm, speech)

	if ids := s.spooled(); len(ids) != 0 {
		t.Errorf("spool queue still holds %v after delivery", ids)
	}
	if files, _ := filepath.Glob(filepath.Join(s.data, "mail", "*", "*", "*")); len(files) != 0 {
		t.Errorf("with --smtp, the local Maildir got %v", files)
	}
	if n := s.eventCount(9301); n != 1 {
		t.Errorf("%d events 9301 (delivered); want 1", n)
	}
}

// newSmtpSite is a site with a secured mailbox and a Postfix, not started,
// that requires openum's certificate and whose CA openum trusts.
func newSmtpSite(t *testing.T) (*site, *postfix) {
	t.Helper()
	s := newSite(t)
	s.securedMailbox()
	mx := newPostfix(t, s.path("um.crt"))
	s.openum("cert", "import", mx.ca(), "--trusted")
	return s, mx
}

// waitUndelivered waits for a failed delivery (1082) and returns the
// spool's one message.
func (s *site) waitUndelivered() []string {
	s.t.Helper()
	s.waitEvent(1082, 20*time.Second)
	ids := s.spooled()
	if len(ids) != 1 {
		s.t.Fatalf("spool queue holds %v; want the message", ids)
	}
	return ids
}

// deliveredOnce waits until the spool is empty, when nothing can be sent
// again, and checks that mx got the message once, with one event 9301.
func (s *site) deliveredOnce(mx *postfix) {
	s.t.Helper()
	s.waitSpoolEmpty(10 * time.Second)
	if n := len(mx.messages()); n != 1 {
		s.t.Errorf("%d messages in the Maildir; want 1", n)
	}
	if n := s.eventCount(9301); n != 1 {
		s.t.Errorf("%d events 9301 (delivered); want 1", n)
	}
}

// The mail server stops during a call: openum keeps the message in its spool
// and says so (event 1082, not 1423: the mail server is down, TLS is fine),
// then delivers it, once, when the mail server is back.
func TestSmtpMailServerDownDuringCall(t *testing.T) {
	t.Parallel()
	s, mx := newSmtpSite(t)
	mx.start()
	_, tlsPort := s.serve("--smtp", mx.addr())

	stopped := make(chan struct{})
	go func() {
		time.Sleep(2 * time.Second) // the caller hears the greeting
		mx.stop()
		close(stopped)
	}()
	s.securedCall(tlsPort)
	select {
	case <-stopped:
	default:
		t.Fatal("the call ended before the mail server was stopped")
	}
	ids := s.waitUndelivered()
	if n := s.eventCount(1423); n != 0 {
		t.Errorf("%d events 1423 (TLS failed) for a mail server that is down", n)
	}

	mx.start()
	raw := mx.waitMessage(s, 30*time.Second)
	h, _ := deliveredVoiceMail(t, raw)
	if got, want := h.Get("Message-Id"), "<"+ids[0]+"@localhost>"; got != want {
		t.Errorf("Message-ID = %s; want %s", got, want)
	}
	s.deliveredOnce(mx)
}

// openum is killed (SIGKILL) after the message is spooled and before it
// could be delivered, the mail server being down. Started again, with the
// mail server back, it delivers the message exactly once.
func TestSmtpKill9BetweenRecordingAndDelivery(t *testing.T) {
	t.Parallel()
	s, mx := newSmtpSite(t) // the mail server is down
	_, tlsPort := s.serve("--smtp", mx.addr())
	s.securedCall(tlsPort)
	ids := s.waitUndelivered()

	s.kill9()
	if got := s.spooled(); len(got) != 1 || got[0] != ids[0] {
		t.Fatalf("after kill -9 the spool queue holds %v; want %v", got, ids)
	}

	mx.start()
	s.serve("--smtp", mx.addr())
	raw := mx.waitMessage(s, 30*time.Second)
	h, audio := deliveredVoiceMail(t, raw)
	if got, want := h.Get("Message-Id"), "<"+ids[0]+"@localhost>"; got != want {
		t.Errorf("Message-ID = %s; want %s", got, want)
	}
	if _, err := wavFormat(audio); err != nil {
		t.Errorf("the attachment is not the WAV it should be: %v", err)
	}
	s.deliveredOnce(mx)
}
