// Package delivery puts voice messages into mail (SPEC UM-2): a durable
// spool on disk, a worker that retries until the message is accepted, and
// two transports — a Maildir per mailbox (the embedded default) and SMTP
// submission with STARTTLS and a client certificate.
//
// Servers of a pool (SPEC OPS-4) keep their file spools, and lease each
// voice message's mail in the shared message store (Pool, pool.go). The
// spool stays because a recording is written to it during the call, before
// any database has it, and notices (a new PIN) are never written to a
// database the whole pool reads. What another server needs to deliver a
// dead server's mail is in the store anyway: the message with its audio,
// and its mail job (the delivery note, the owner's lease), written in the
// message's own transaction, before the caller hears "saved". The owner
// delivers from its spool under its lease, which it renews while it lives;
// a lease left to expire is taken over, one server winning each, and the
// mail delivered from the store's copy. Marking it delivered in the ledger
// follows the transport's acceptance; a spool copy of a mail the ledger
// says went is removed, not sent. So a mail goes once, but for a server
// dying between a mail server's acceptance and that mark (as for a single
// server today, the mail then goes again, with the same Message-ID: a
// Maildir recognises it, an SMTP server may not).
package delivery

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"mime"
	"mime/multipart"
	"net/textproto"
	"strings"
	"time"
)

// Message is one voice message and what its e-mail says about it.
type Message struct {
	ID         string // unique; also the Message-ID's left part and the Maildir key
	To         string // the mailbox's e-mail address
	ToName     string
	From       string // the sender address, e.g. voicemail@um1.example.com
	CallerID   string // the calling number, as the gateway gave it
	CallerName string
	CallID     string // the SIP Call-ID
	Received   time.Time
	Duration   time.Duration
	// Attempts and NextAttempt track delivery; FirstFailure is when it
	// first failed, zero while it has not.
	Attempts     int
	NextAttempt  time.Time
	FirstFailure time.Time `json:",omitempty"`
	Escalated    bool      `json:",omitempty"` // event 1185 was written
	// Stored says the message store holds the message (it was saved there
	// before it was queued), so that recovery at start need not look it up.
	Stored bool `json:",omitempty"`
	// Notice, when set, makes this a plain-text notice to the mailbox's
	// owner (a reset PIN) instead of a voice message: no recording, no
	// caller, and Compose writes the text alone.
	Notice *Notice `json:",omitempty"`
}

// attachmentName is the audio file's name in the e-mail.
const attachmentName = "voicemessage.wav"

// Subject reads like Exchange's: "Voice Mail from +15551234 (0:42)".
func (m *Message) Subject() string {
	from := m.CallerID
	if m.CallerName != "" {
		from = m.CallerName
	}
	if from == "" {
		from = "Unknown caller"
	}
	return fmt.Sprintf("Voice Mail from %s (%s)", from, clock(m.Duration))
}

func clock(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// Compose writes the message as MIME with the audio attached, and the
// headers Exchange UM uses (MS-OXCMAIL) so mail clients treat it as voice
// mail; a notice as plain text.
func Compose(m *Message, audio []byte) []byte {
	if m.Notice != nil {
		return composeNotice(m)
	}
	var b bytes.Buffer
	body := multipart.NewWriter(&b)
	h := append(envelope(m, m.Subject()),
		"Content-Class: voice",
		"X-CallingTelephoneNumber: "+headerSafe(m.CallerID),
		"X-VoiceMessageSenderName: "+q(headerSafe(m.CallerName)),
		"X-VoiceMessageDuration: "+fmt.Sprint(int(m.Duration.Round(time.Second).Seconds())),
		"X-CallID: "+headerSafe(m.CallID),
		"X-AttachmentOrder: "+attachmentName,
		"Content-Type: multipart/mixed; boundary=\""+body.Boundary()+"\"",
	)
	var out bytes.Buffer
	out.WriteString(strings.Join(h, "\r\n") + "\r\n\r\n")

	text, _ := body.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {"text/plain; charset=utf-8"},
		"Content-Transfer-Encoding": {"8bit"},
	})
	caller := m.CallerID
	if m.CallerName != "" {
		caller = m.CallerName + " (" + m.CallerID + ")"
	}
	fmt.Fprintf(text, "You received a voice message.\r\n\r\nFrom: %s\r\nDuration: %s\r\nReceived: %s\r\n",
		caller, clock(m.Duration), m.Received.Format(time.RFC1123))

	att, _ := body.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {"audio/wav; name=\"" + attachmentName + "\""},
		"Content-Disposition":       {"attachment; filename=\"" + attachmentName + "\""},
		"Content-Transfer-Encoding": {"base64"},
	})
	enc := base64.StdEncoding.EncodeToString(audio)
	for len(enc) > 76 {
		fmt.Fprintf(att, "%s\r\n", enc[:76])
		enc = enc[76:]
	}
	fmt.Fprintf(att, "%s\r\n", enc)
	body.Close()
	out.Write(b.Bytes())
	return out.Bytes()
}

// envelope is the header every mail openum sends starts with.
func envelope(m *Message, subject string) []string {
	return []string{
		"From: " + q("Voice Mail") + " <" + m.From + ">",
		"To: " + addr(q(m.ToName), m.To),
		"Subject: " + q(subject),
		"Date: " + m.Received.Format(time.RFC1123Z),
		"Message-ID: <" + m.ID + "@" + domainOf(m.From) + ">",
		"MIME-Version: 1.0",
	}
}

// q encodes a header's text, RFC 2047 where it is not ASCII.
func q(s string) string { return mime.QEncoding.Encode("utf-8", s) }

func addr(name, email string) string {
	if name == "" {
		return "<" + email + ">"
	}
	return name + " <" + email + ">"
}

func domainOf(email string) string {
	if _, d, ok := strings.Cut(email, "@"); ok {
		return d
	}
	return "openum.invalid"
}

// headerSafe keeps a value from a SIP peer from starting a new header.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}
