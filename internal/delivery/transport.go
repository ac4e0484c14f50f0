package delivery

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/openum/openum/internal/atomicfile"
)

// Transport hands a composed message to its destination. Deliver returns
// nil only once the destination has accepted the message for good.
type Transport interface {
	Deliver(ctx context.Context, m *Message, raw []byte) error
}

// Maildir delivers into a Maildir per mailbox, DIR/NAME/{tmp,new,cur} where
// NAME is the address's MaildirName: the embedded default, readable by any
// Maildir mail client. A message is
// written to tmp, synced and renamed into new, as the Maildir convention
// requires, and its file name carries the message ID, so a message
// delivered again after a crash is recognised and not written twice.
type Maildir struct{ Dir string }

// Deliver implements Transport.
func (d Maildir) Deliver(_ context.Context, m *Message, raw []byte) error {
	if m.To == "" {
		return errors.New("delivery: maildir: the message has no address")
	}
	box := d.box(m.To)
	for _, sub := range []string{"tmp", "new", "cur"} {
		if err := os.MkdirAll(filepath.Join(box, sub), 0o700); err != nil {
			return fmt.Errorf("delivery: maildir: %w", err)
		}
	}
	if delivered(box, m.ID) {
		return nil
	}
	host, _ := os.Hostname()
	name := fmt.Sprintf("%d.%s.%s", m.Received.Unix(), m.ID, strings.NewReplacer("/", "_", ":", "_").Replace(host))
	tmp := filepath.Join(box, "tmp", name)
	if err := atomicfile.WriteFile(tmp, raw, 0o600); err != nil {
		return fmt.Errorf("delivery: maildir: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(box, "new", name)); err != nil {
		return fmt.Errorf("delivery: maildir: %w", err)
	}
	return atomicfile.SyncDir(filepath.Join(box, "new"))
}

// delivered reports whether a message with this ID is already in the box.
func delivered(box, id string) bool {
	for _, sub := range []string{"new", "cur"} {
		if m, _ := filepath.Glob(filepath.Join(box, sub, "*."+id+".*")); len(m) > 0 {
			return true
		}
	}
	return false
}

// SMTP submits messages to a mail server (SPEC UM-2, Exchange 2007's mutual TLS
// from UM to Hub Transport): STARTTLS is required, the server's certificate
// is verified against TLSConfig's roots, and openum presents its own
// certificate as client certificate.
type SMTP struct {
	Addr      string             // host:port
	TLSConfig func() *tls.Config // called per connection: certificates rotate
	Timeout   time.Duration
}

// TLSError marks a failure of the TLS handshake with the mail server, which
// the event log reports as Exchange's 1423.
type TLSError struct{ Err error }

func (e *TLSError) Error() string { return "delivery: TLS with the mail server: " + e.Err.Error() }
func (e *TLSError) Unwrap() error { return e.Err }

// Deliver implements Transport.
func (s SMTP) Deliver(ctx context.Context, m *Message, raw []byte) error {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	host, _, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return fmt.Errorf("delivery: SMTP address %q: %w", s.Addr, err)
	}
	conn, err := (&net.Dialer{Timeout: timeout}).DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("delivery: SMTP: %w", err)
	}
	_ = conn.SetDeadline(time.Now().Add(timeout))
	cfg := s.TLSConfig()
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	c, err := smtp.NewClientStartTLS(conn, cfg)
	if err == nil {
		// go-smtp sends STARTTLS after an EHLO "localhost" and leaves the TLS
		// handshake to the next command: say EHLO again now, with openum's
		// name (the domain of its sender address), so that a handshake
		// failure is reported as one and the mail transaction runs under
		// that name. The certificate, not the EHLO name, says who openum is.
		err = c.Hello(domainOf(m.From))
	}
	if err != nil {
		conn.Close()
		var tlsErr *tls.CertificateVerificationError
		var alert tls.AlertError
		if errors.As(err, &tlsErr) || errors.As(err, &alert) || strings.Contains(err.Error(), "tls") || strings.Contains(err.Error(), "STARTTLS") {
			return &TLSError{Err: err}
		}
		return fmt.Errorf("delivery: SMTP: %w", err)
	}
	defer c.Close()
	if err := c.SendMail(m.From, []string{m.To}, strings.NewReader(string(raw))); err != nil {
		return fmt.Errorf("delivery: SMTP: %w", err)
	}
	return c.Quit()
}
