package delivery

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/media"
	"github.com/openum/openum/internal/peertest"
)

func testMessage(id string) *Message {
	return &Message{
		ID: id, To: "alice@example.test", ToName: "Alice Martin", From: "voicemail@um1.example.test",
		CallerID: "+15551234", CallerName: "Bob Jones", CallID: "abc@gw1",
		Received: time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC), Duration: 42 * time.Second,
	}
}

func TestComposeCarriesExchangeHeadersAndAudio(t *testing.T) {
	audio := bytes.Repeat([]byte("RIFFwave"), 100)
	raw := Compose(testMessage("m1"), audio)
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	dec := new(mime.WordDecoder)
	subject, _ := dec.DecodeHeader(msg.Header.Get("Subject"))
	for key, want := range map[string]string{
		"X-CallingTelephoneNumber": "+15551234",
		"X-VoiceMessageDuration":   "42",
		"X-CallID":                 "abc@gw1",
		"X-AttachmentOrder":        "voicemessage.wav",
		"Content-Class":            "voice",
		"Message-ID":               "<m1@um1.example.test>",
	} {
		if got := msg.Header.Get(key); got != want {
			t.Errorf("%s = %q; want %q", key, got, want)
		}
	}
	if name, _ := dec.DecodeHeader(msg.Header.Get("X-VoiceMessageSenderName")); name != "Bob Jones" {
		t.Errorf("X-VoiceMessageSenderName = %q", name)
	}
	if subject != "Voice Mail from Bob Jones (0:42)" {
		t.Errorf("Subject = %q", subject)
	}
	_, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	parts := multipart.NewReader(msg.Body, params["boundary"])
	var found bool
	for {
		p, err := parts.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if p.FileName() == "voicemessage.wav" {
			b, _ := io.ReadAll(base64.NewDecoder(base64.StdEncoding, p))
			found = bytes.Equal(b, audio)
		}
	}
	if !found {
		t.Fatal("the audio attachment is missing or altered")
	}
}

// A caller's name cannot add a header to the message.
func TestComposeRefusesHeaderInjection(t *testing.T) {
	m := testMessage("m2")
	m.CallerID = "+1555\r\nBcc: evil@example.test"
	msg, err := mail.ReadMessage(bytes.NewReader(Compose(m, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if msg.Header.Get("Bcc") != "" {
		t.Fatal("a caller ID injected a header")
	}
}

func enqueue(t *testing.T, s *Spool, m *Message) {
	t.Helper()
	path, err := s.Begin(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("RIFF-audio-"+m.ID), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Enqueue(m); err != nil {
		t.Fatal(err)
	}
}

func TestSpoolKeepsMessagesAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	enqueue(t, s, testMessage("a1"))
	// A crash after staging, before the final rename.
	m := testMessage("a2")
	enqueue(t, s, m)
	if err := os.Rename(s.queueDir("a2"), s.queueDir("a2")+".new"); err != nil {
		t.Fatal(err)
	}
	s2, err := OpenSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	pending, err := s2.Pending()
	if err != nil || len(pending) != 2 {
		t.Fatalf("pending after restart: %v, %v; want 2", pending, err)
	}
	peertest.CheckPerm(t, filepath.Join(dir, "queue"), 0o700)
	if audio, _ := s2.Audio("a2"); string(audio) != "RIFF-audio-a2" {
		t.Fatalf("audio after restart: %q", audio)
	}
}

func TestMaildirDeliversOnce(t *testing.T) {
	d := Maildir{Dir: t.TempDir()}
	m := testMessage("once")
	for range 2 {
		if err := d.Deliver(context.Background(), m, []byte("raw")); err != nil {
			t.Fatal(err)
		}
	}
	files, _ := filepath.Glob(filepath.Join(d.Dir, "alice@example.test", "new", "*"))
	if len(files) != 1 {
		t.Fatalf("%d files in new/; want 1", len(files))
	}
	if tmp, _ := filepath.Glob(filepath.Join(d.Dir, "alice@example.test", "tmp", "*")); len(tmp) != 0 {
		t.Fatalf("files left in tmp/: %v", tmp)
	}
}

// The worker delivers what the spool holds into a Maildir and empties it.
func TestWorkerDeliversToMaildir(t *testing.T) {
	dir := t.TempDir()
	s, _ := OpenSpool(filepath.Join(dir, "spool"))
	log, _ := events.Open(filepath.Join(dir, "events.log"))
	defer log.Close()
	enqueue(t, s, testMessage("w1"))
	w := &Worker{Spool: s, Transport: Maildir{Dir: filepath.Join(dir, "mail")}, Events: log}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() { _ = w.Run(ctx) }()
	var recs []events.Record
	waitFor(t, func() bool { // the event follows the delivery: wait for both
		files, _ := filepath.Glob(filepath.Join(dir, "mail", "alice@example.test", "new", "*"))
		p, _ := s.Pending()
		recs, _ = events.Read(filepath.Join(dir, "events.log"), events.Filter{ID: events.MessageDelivered})
		return len(files) == 1 && len(p) == 0 && len(recs) > 0
	})
	if len(recs) != 1 {
		t.Fatalf("%d delivered events; want 1", len(recs))
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestSubjectWithoutCallerName(t *testing.T) {
	m := testMessage("s")
	m.CallerName, m.Duration = "", 75*time.Second
	if got := m.Subject(); got != "Voice Mail from +15551234 (1:15)" {
		t.Fatalf("Subject = %q", got)
	}
	m.CallerID = ""
	if got := m.Subject(); !strings.HasPrefix(got, "Voice Mail from Unknown caller") {
		t.Fatalf("Subject = %q", got)
	}
}

// A crash during the call leaves a recording whose header was never
// written: the next start delivers it, with the length its file holds.
func TestSpoolRecoversARecordingCutByACrash(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := testMessage("crash1")
	m.Duration = 0
	path, err := s.Begin(m)
	if err != nil {
		t.Fatal(err)
	}
	w, err := media.CreateWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(make([]int16, media.SampleRate*3)); err != nil { // 3 s, then the process dies
		t.Fatal(err)
	}
	// A second recording that never got a sample is forgotten.
	empty := testMessage("crash2")
	if p, err := s.Begin(empty); err != nil || os.WriteFile(p, nil, 0o600) != nil {
		t.Fatal(err)
	}

	s2, err := OpenSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	pending, _ := s2.Pending()
	if len(pending) != 1 || pending[0].ID != "crash1" || pending[0].Duration != 3*time.Second {
		t.Fatalf("pending after the crash: %+v", pending)
	}
	audio, _ := s2.Audio("crash1")
	pcm, err := media.ReadWAV(bytes.NewReader(audio))
	if err != nil || len(pcm) != media.SampleRate*3 {
		t.Fatalf("recovered recording: %d samples, %v", len(pcm), err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "recording", "*")); len(left) != 0 {
		t.Fatalf("left in recording/: %v", left)
	}
}
