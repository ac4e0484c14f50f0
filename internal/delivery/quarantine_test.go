package delivery

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openum/openum/internal/events"
)

// One message that cannot be read stops no other: it goes to quarantine,
// recording and all, with one event 9306 naming it, however many times the
// worker looks at the spool and across a restart.
func TestCorruptMessagesAreQuarantinedOnceAndOthersDelivered(t *testing.T) {
	dir := t.TempDir()
	spoolDir, mail, logPath := filepath.Join(dir, "spool"), filepath.Join(dir, "mail"), filepath.Join(dir, "events.log")
	s, err := OpenSpool(spoolDir)
	if err != nil {
		t.Fatal(err)
	}
	enqueue(t, s, testMessage("good1"))
	// A note cut off by a full disk or a bad editor: its recording is kept.
	enqueue(t, s, testMessage("cut1"))
	note := filepath.Join(s.queueDir("cut1"), "message.json")
	data, _ := os.ReadFile(note)
	if err := os.WriteFile(note, data[:len(data)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	// A good note whose recording is gone.
	enqueue(t, s, testMessage("noaudio1"))
	if err := os.Remove(filepath.Join(s.queueDir("noaudio1"), "audio.wav")); err != nil {
		t.Fatal(err)
	}

	deliverPasses(t, s, mail, logPath, 3)

	if files, _ := filepath.Glob(filepath.Join(mail, "alice@example.test", "new", "*")); len(files) != 1 {
		t.Fatalf("%d messages delivered to the Maildir; want the good one", len(files))
	}
	if b, err := os.ReadFile(filepath.Join(spoolDir, "quarantine", "cut1", "audio.wav")); err != nil || string(b) != "RIFF-audio-cut1" {
		t.Errorf("the recording of the corrupt note in quarantine: %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(spoolDir, "quarantine", "noaudio1", "message.json")); err != nil {
		t.Errorf("the note without a recording is not in quarantine: %v", err)
	}
	if left, _ := os.ReadDir(filepath.Join(spoolDir, "queue")); len(left) != 0 {
		t.Errorf("left in the queue: %v", left)
	}

	// A restart, with a recording whose note a crash cut short.
	rec, err := s.Begin(testMessage("crash1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(rec, []byte("RIFF-audio-crash1"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(strings.TrimSuffix(rec, ".wav")+".json", []byte(`{"ID": "cra`), 0o600); err != nil {
		t.Fatal(err)
	}
	s2, err := OpenSpool(spoolDir)
	if err != nil {
		t.Fatal(err)
	}
	deliverPasses(t, s2, mail, logPath, 2)
	if b, err := os.ReadFile(filepath.Join(spoolDir, "quarantine", "crash1", "crash1.wav")); err != nil || string(b) != "RIFF-audio-crash1" {
		t.Errorf("the interrupted recording in quarantine: %q, %v", b, err)
	}

	recs, err := events.Read(logPath, events.Filter{ID: events.SpoolQuarantined})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"cut1":     filepath.Join(spoolDir, "queue", "cut1", "message.json"),
		"noaudio1": filepath.Join(spoolDir, "queue", "noaudio1", "audio.wav"),
		"crash1":   filepath.Join(spoolDir, "recording", "crash1.json"),
	}
	if len(recs) != len(want) {
		t.Fatalf("%d events 9306; want one per unreadable message (%d): %v", len(recs), len(want), recs)
	}
	for _, r := range recs {
		id := filepath.Base(r.Attrs["Quarantine"].(string))
		if r.Attrs["File"] != want[id] || r.Attrs["Reason"] == "" || r.Level != "Error" {
			t.Errorf("event 9306 for %s: %v; want File %s, a Reason, level Error", id, r, want[id])
		}
		delete(want, id)
	}
	if len(want) != 0 {
		t.Errorf("no event 9306 for %v", want)
	}
	if failed, _ := events.Read(logPath, events.Filter{ID: events.DeliveryFailed}); len(failed) != 0 {
		t.Errorf("%d events 1082 for messages that cannot be read; want none", len(failed))
	}
}

// deliverPasses has a worker look at the spool n times, delivering into the
// Maildir mail and writing events to logPath.
func deliverPasses(t *testing.T, s *Spool, mail, logPath string, n int) {
	t.Helper()
	log, err := events.Open(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	w := &Worker{Spool: s, Transport: Maildir{Dir: mail}, Events: log}
	w.defaults()
	for range n {
		w.deliverDue(context.Background())
	}
}
