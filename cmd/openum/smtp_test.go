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
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/openum/openum/internal/delivery"
	"github.com/openum/openum/internal/media"
)

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
