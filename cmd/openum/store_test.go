package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/openum/openum/internal/delivery"
	"github.com/openum/openum/internal/media"
)

// storedMessage is what openum message list --json says of a message.
type storedMessage struct {
	ID           int64
	CallerNumber string
	CallID       string
	Duration     string
	State        string
}

// listMessages is what openum message list --json --mailbox mailbox,
// with flags, says.
func (s *site) listMessages(mailbox string, flags ...string) []storedMessage {
	s.t.Helper()
	var list []storedMessage
	args := append([]string{"message", "list", "--json", "--mailbox", mailbox}, flags...)
	if err := json.Unmarshal([]byte(s.openum(args...)), &list); err != nil {
		s.t.Fatal(err)
	}
	return list
}

// storedOnce checks that the message store holds address's one message,
// from the gateway's calling number, as long as the mailed recording rec
// and with its very samples.
func (s *site) storedOnce(address string, rec []int16) storedMessage {
	s.t.Helper()
	list := s.listMessages(address)
	if len(list) != 1 {
		s.t.Fatalf("the message store holds %+v for %s; want the one message", list, address)
	}
	m := list[0]
	d, err := time.ParseDuration(m.Duration)
	if want := time.Duration(len(rec)) * time.Second / media.SampleRate; err != nil || (d-want).Abs() > time.Millisecond {
		s.t.Errorf("stored duration %s; want the mail's %v", m.Duration, want)
	}
	if m.CallerNumber != "gw" || m.State != "new" || m.CallID == "" {
		s.t.Errorf("stored %+v; want a new message from gw with its Call-ID", m)
	}
	file := s.path("exported-" + strconv.FormatInt(m.ID, 10) + ".wav")
	s.openum("message", "export", strconv.FormatInt(m.ID, 10), "--out", file, "--force")
	f, err := os.Open(file)
	if err != nil {
		s.t.Fatal(err)
	}
	defer f.Close()
	if pcm, err := media.ReadWAV(f); err != nil || !slices.Equal(pcm, rec) {
		s.t.Errorf("the stored audio (%d samples, %v) is not the mailed recording (%d samples)", len(pcm), err, len(rec))
	}
	return m
}

// mails counts the messages in address's Maildir.
func (s *site) mails(address string) int {
	files, _ := filepath.Glob(filepath.Join(s.data, "mail", delivery.MaildirName(address), "new", "*"))
	return len(files)
}

// kill9 kills the last openum serve with SIGKILL, as a crash or an
// impatient administrator would, and waits for it to be gone.
func (s *site) kill9() {
	s.t.Helper()
	if err := s.proc.Process.Kill(); err != nil {
		s.t.Fatal(err)
	}
	_ = s.proc.Wait()
	if ws, ok := s.proc.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		s.t.Fatalf("openum ended with %v; want killed by SIGKILL", s.proc.ProcessState)
	}
}

// openum is killed (SIGKILL) while a caller is leaving a message, before
// it could be saved. Started again, it keeps what was said: once in the
// message store and once in mail, the same recording in both; a third start
// doubles nothing.
func TestKill9WhileAMessageIsSaved(t *testing.T) {
	s := newSite(t)
	s.securedMailbox()
	_, tlsPort := s.serve()
	called := make(chan struct{})
	go func() {
		defer close(called)
		s.securedCall(tlsPort)
	}()
	// Kill once the recording holds the greeting's wait and some speech.
	recording := filepath.Join(s.data, "spool", "recording", "*.wav")
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		files, _ := filepath.Glob(recording)
		if len(files) == 1 {
			if info, err := os.Stat(files[0]); err == nil && info.Size() > media.SampleRate*2*3/4 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recording grew in %s; events:\n%s", recording, s.openum("events"))
		}
	}
	s.kill9()
	<-called
	if n := s.mails("alice@example.test"); n != 0 {
		t.Fatalf("%d mails before the restart; the kill came too late to test anything", n)
	}

	s.serve()
	_, rec := s.voiceMessage("alice@example.test")
	if len(voiced(rec)) == 0 {
		t.Error("the recovered recording holds no speech")
	}
	kept := s.storedOnce("alice@example.test", rec)

	second := s.proc
	_ = second.Process.Signal(syscall.SIGTERM)
	_ = second.Wait()
	s.serve()
	s.waitSpoolEmpty(10 * time.Second)
	time.Sleep(time.Second) // a delivery, were one due, would be done
	if again := s.storedOnce("alice@example.test", rec); again.ID != kept.ID {
		t.Errorf("after a third start the store holds message %d, not %d", again.ID, kept.ID)
	}
	if n := s.mails("alice@example.test"); n != 1 {
		t.Errorf("%d mails after a third start; want 1", n)
	}
}
