package delivery

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	"github.com/openum/openum/internal/directory"
)

// Notice is the text of a notice mail: a plain-text message from openum to
// a mailbox's owner, with no recording. It goes through the spool and the
// worker as voice messages do, so that it too survives a mail server
// outage and a crash.
type Notice struct {
	Subject string
	Body    string // plain text; lines end in "\n"
}

// composeNotice writes a notice as a plain-text mail.
func composeNotice(m *Message) []byte {
	h := append(envelope(m, m.Notice.Subject),
		"Content-Type: text/plain; charset=utf-8",
		"Content-Transfer-Encoding: 8bit",
	)
	var out bytes.Buffer
	out.WriteString(strings.Join(h, "\r\n") + "\r\n\r\n")
	out.WriteString(strings.ReplaceAll(strings.TrimRight(m.Notice.Body, "\n"), "\n", "\r\n") + "\r\n")
	return out.Bytes()
}

// PINMailer mails a mailbox's new PIN to its address after subscriber
// access reset it (it is a logon.Notifier): the one place a PIN is
// written, in the mail's body alone, never its subject or headers. Until
// delivered, the PIN is in the spool's note of the mail (mode 0600, in the
// 0700 spool), as the mail itself is afterwards in the Maildir.
type PINMailer struct {
	Spool  *Spool
	From   string // the sender address, voicemail@<server FQDN>
	Queued func() // called once the mail is queued, to wake the worker
	// Welcome mails a new mailbox's first PIN (openum mailbox import
	// --mail-pins) rather than a reset one.
	Welcome bool
}

// Notify queues the mail with the new PIN. The error never holds the PIN.
func (p *PINMailer) Notify(_ context.Context, m directory.Mailbox, newPIN string) error {
	notice := &Notice{Subject: "Your voice mail PIN was reset", Body: pinResetText(newPIN)}
	if p.Welcome {
		notice = welcomeNotice(m, newPIN)
	}
	msg := &Message{ID: rand.Text(), To: m.EmailAddress, ToName: m.DisplayName, From: p.From, Received: time.Now(), Notice: notice}
	if err := p.Spool.Enqueue(msg); err != nil {
		return err
	}
	if p.Queued != nil {
		p.Queued()
	}
	return nil
}

func pinResetText(newPIN string) string {
	return fmt.Sprintf(`Your voice mail PIN was reset after too many failed attempts to log on by phone.

Your new PIN is: %s

It has expired: when you next call voice mail and log on with it, you will
be asked to choose a new PIN.

If you did not try to log on, someone else may have: tell your administrator.
`, newPIN)
}
