package delivery

import (
	"bytes"
	"context"
	"io"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/peertest"
)

// A reset PIN is mailed as plain text through the spool: queued, kept
// over a restart, delivered into the mailbox's Maildir, with the PIN in
// the body alone; the events say nothing of it.
func TestPINMailerMailsTheNewPIN(t *testing.T) {
	const newPIN = "480715"
	dir := t.TempDir()
	spool, err := OpenSpool(filepath.Join(dir, "spool"))
	if err != nil {
		t.Fatal(err)
	}
	woken := false
	mailer := &PINMailer{Spool: spool, From: "voicemail@um1.example.test", Queued: func() { woken = true }}
	box := directory.Mailbox{EmailAddress: "alice@example.test", DisplayName: "Alice Martin"}
	if err := mailer.Notify(context.Background(), box, newPIN); err != nil || !woken {
		t.Fatalf("Notify: %v (worker woken: %v)", err, woken)
	}
	notes, _ := filepath.Glob(filepath.Join(dir, "spool", "queue", "*", "message.json"))
	if len(notes) != 1 {
		t.Fatalf("queued: %v; want one note", notes)
	}
	peertest.CheckPerm(t, notes[0], 0o600) // the note holds the PIN

	spool, err = OpenSpool(filepath.Join(dir, "spool")) // a restart before delivery
	if err != nil {
		t.Fatal(err)
	}
	log, _ := events.Open(filepath.Join(dir, "events.log"))
	defer log.Close()
	maildir := Maildir{Dir: filepath.Join(dir, "mail")}
	w := &Worker{Spool: spool, Transport: maildir, Events: log}
	w.defaults()
	w.deliverDue(context.Background())
	if left, _ := spool.Pending(); len(left) != 0 {
		t.Fatalf("still spooled after delivery: %v", left)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "mail", MaildirName(box.EmailAddress), "new", "*"))
	if len(files) != 1 {
		t.Fatalf("delivered: %v; want one mail", files)
	}
	raw, _ := os.ReadFile(files[0])
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(msg.Body)
	if !strings.Contains(string(body), "Your new PIN is: "+newPIN+"\r\n") {
		t.Errorf("the mail's body does not give the PIN:\n%s", body)
	}
	if got := msg.Header.Get("Content-Type"); got != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type %q; want plain text", got)
	}
	if msg.Header.Get("To") != "Alice Martin <alice@example.test>" || msg.Header.Get("Subject") != "Your voice mail PIN was reset" {
		t.Errorf("header %v", msg.Header)
	}
	header, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	if bytes.Contains(header, []byte(newPIN)) {
		t.Error("the PIN is in the mail's header")
	}
	logged, _ := os.ReadFile(filepath.Join(dir, "events.log"))
	if !strings.Contains(string(logged), `"notice":true`) || strings.Contains(string(logged), newPIN) {
		t.Errorf("events.log: want 9301 for the notice, without the PIN:\n%s", logged)
	}
}

// A notice whose queueing a crash cut short once its note was written is
// queued at the next start, though it has no recording.
func TestInterruptedNoticeIsQueuedAtStart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spool")
	if _, err := OpenSpool(dir); err != nil {
		t.Fatal(err)
	}
	m := &Message{ID: "n1", To: "alice@example.test", From: "voicemail@um1.example.test", Received: time.Now(),
		Notice: &Notice{Subject: "s", Body: "b\n"}}
	staging := filepath.Join(dir, "queue", "n1.new")
	if err := os.Mkdir(staging, 0o700); err != nil || writeSynced(filepath.Join(staging, "message.json"), m) != nil {
		t.Fatal(err)
	}
	spool, err := OpenSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	pending, _ := spool.Pending()
	if len(pending) != 1 || pending[0].Notice == nil || len(spool.Quarantined()) != 0 {
		t.Fatalf("pending %+v; want the notice, not quarantined", pending)
	}
}
