package delivery

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/openum/openum/internal/atomicfile"
	"github.com/openum/openum/internal/media"
)

// Spool keeps voice messages on disk until they are delivered. Each change
// is synced to disk, file and directory, before the call returns, so a crash
// or a power cut loses no message that was acknowledged. Layout:
//
//	DIR/recording/ID.wav       a recording in progress
//	DIR/recording/ID.json      its message, for recovery after a crash
//	DIR/queue/ID/message.json  a message waiting for delivery
//	DIR/queue/ID/audio.wav     its recording
//	DIR/quarantine/ID/         a message that could not be read, moved aside
//
// A Spool is safe for use by one process at a time.
type Spool struct {
	dir string

	mu    sync.Mutex
	moved []Quarantined   // quarantined since the last Quarantined call
	stuck map[string]bool // queued IDs that could not be moved to quarantine

	spooled atomic.Uint64 // voice messages Enqueue queued (see Spooled)
}

// OpenSpool opens (creating) the spool in dir, mode 0700: voice messages are
// private.
func OpenSpool(dir string) (*Spool, error) {
	for _, d := range []string{dir, filepath.Join(dir, "recording"), filepath.Join(dir, "queue")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("delivery: spool: %w", err)
		}
	}
	s := &Spool{dir: dir}
	return s, errors.Join(s.finishInterrupted(), s.recoverRecordings())
}

func (s *Spool) recordingPath(id string) string {
	return filepath.Join(s.dir, "recording", id+".wav")
}

// Begin notes that message m is being recorded, and returns where its
// recording goes. m is synced to disk beside the recording, so that a crash
// during the call still delivers what was said: OpenSpool finishes it.
func (s *Spool) Begin(m *Message) (string, error) {
	if err := validID(m.ID); err != nil {
		return "", err
	}
	if err := writeSynced(strings.TrimSuffix(s.recordingPath(m.ID), ".wav")+".json", m); err != nil {
		return "", fmt.Errorf("delivery: spool %s: %w", m.ID, err)
	}
	return s.recordingPath(m.ID), nil
}

// Abandon forgets a message that was not queued: nothing was said, or its
// recording could not be written or kept. It removes the recording, its note
// and whatever a failed Enqueue left, so that no half message stays behind
// to be delivered at the next start. The recording must be closed first: a
// removed file that is still open keeps its space.
func (s *Spool) Abandon(id string) {
	note := strings.TrimSuffix(s.recordingPath(id), ".wav") + ".json"
	for _, p := range []string{s.recordingPath(id), note, s.queueDir(id) + ".new", s.queueDir(id)} {
		os.RemoveAll(p)
	}
}

// Dir is the spool's directory.
func (s *Spool) Dir() string { return s.dir }

// Free returns the bytes free for openum on the spool's filesystem, where
// recordings are written.
func (s *Spool) Free() (uint64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(s.dir, &st); err != nil {
		return 0, fmt.Errorf("delivery: spool: statfs %s: %w", s.dir, err)
	}
	return st.Bavail * uint64(st.Bsize), nil
}

func validID(id string) error {
	if strings.ContainsAny(id, `/\.`) || id == "" {
		return fmt.Errorf("delivery: bad message ID %q", id)
	}
	return nil
}

func (s *Spool) queueDir(id string) string { return filepath.Join(s.dir, "queue", id) }

// Enqueue makes m and its recording (at RecordingPath, closed and synced)
// durable and visible to the worker; a notice (m.Notice) has no recording.
// When Enqueue returns nil, the message survives a crash; when it fails (a
// full disk), Abandon forgets what it left.
func (s *Spool) Enqueue(m *Message) error {
	if err := validID(m.ID); err != nil {
		return err
	}
	staging := s.queueDir(m.ID) + ".new"
	if err := os.Mkdir(staging, 0o700); err != nil {
		return fmt.Errorf("delivery: spool: %w", err)
	}
	var err error
	if m.Notice == nil {
		err = errors.Join(os.Rename(s.recordingPath(m.ID), filepath.Join(staging, "audio.wav")),
			atomicfile.SyncDir(filepath.Dir(s.recordingPath(m.ID))))
	}
	err = errors.Join(err, writeSynced(filepath.Join(staging, "message.json"), m), atomicfile.SyncDir(staging))
	if err == nil {
		err = errors.Join(os.Rename(staging, s.queueDir(m.ID)), atomicfile.SyncDir(filepath.Join(s.dir, "queue")))
	}
	if err != nil {
		return fmt.Errorf("delivery: spool %s: %w", m.ID, err)
	}
	// The message is queued: its note from Begin has done its job.
	os.Remove(strings.TrimSuffix(s.recordingPath(m.ID), ".wav") + ".json")
	if m.Notice == nil {
		s.spooled.Add(1)
	}
	return nil
}

// recoverRecordings queues the recordings a crash interrupted, with the
// duration their files hold, and forgets those that hold nothing. One whose
// note cannot be read goes to quarantine.
func (s *Spool) recoverRecordings() error {
	notes, _ := filepath.Glob(filepath.Join(s.dir, "recording", "*.json"))
	for _, note := range notes {
		var m Message
		id := strings.TrimSuffix(filepath.Base(note), ".json")
		if err := readJSON(note, &m); err != nil {
			s.quarantineRecording(id, note, fmt.Errorf("delivery: %s is not a message: %w", note, err))
			continue
		}
		if m.ID != id {
			s.quarantineRecording(id, note, fmt.Errorf("delivery: %s holds message ID %q, not its recording's %q", note, m.ID, id))
			continue
		}
		wav := s.recordingPath(id)
		samples, err := media.RepairWAV(wav)
		if err != nil || samples == 0 {
			os.Remove(wav)
			os.Remove(note)
			continue
		}
		m.Duration = time.Duration(samples) * time.Second / media.SampleRate
		if err := s.Enqueue(&m); err != nil {
			return err
		}
	}
	return nil
}

// finishInterrupted completes an Enqueue that a crash cut short after the
// staging directory was complete, and forgets one that was not.
func (s *Spool) finishInterrupted() error {
	staged, _ := filepath.Glob(filepath.Join(s.dir, "queue", "*.new"))
	for _, d := range staged {
		id := strings.TrimSuffix(filepath.Base(d), ".new")
		_, errA := os.Stat(filepath.Join(d, "audio.wav"))
		var m Message
		if readJSON(filepath.Join(d, "message.json"), &m) == nil && (errA == nil || m.Notice != nil) {
			if err := os.Rename(d, s.queueDir(id)); err != nil {
				return fmt.Errorf("delivery: spool: %w", err)
			}
			continue
		}
		// The recording never left recording/: put it back for a later look.
		if errA == nil {
			_ = os.Rename(filepath.Join(d, "audio.wav"), s.recordingPath(id))
		}
		_ = os.RemoveAll(d)
	}
	return atomicfile.SyncDir(filepath.Join(s.dir, "queue"))
}

// Pending returns the messages waiting for delivery, oldest first. A message
// that cannot be read goes to quarantine (see Quarantined) rather than stop
// the others.
func (s *Spool) Pending() ([]*Message, error) {
	entries, err := os.ReadDir(filepath.Join(s.dir, "queue"))
	if err != nil {
		return nil, fmt.Errorf("delivery: spool: %w", err)
	}
	var out []*Message
	for _, e := range entries {
		if !e.IsDir() || strings.HasSuffix(e.Name(), ".new") || s.isStuck(e.Name()) {
			continue
		}
		m, file, err := s.readQueued(e.Name())
		if err != nil {
			s.quarantineQueued(e.Name(), file, err)
			continue
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Received.Before(out[j].Received) })
	return out, nil
}

// Audio returns a queued message's recording.
func (s *Spool) Audio(id string) ([]byte, error) {
	return os.ReadFile(filepath.Join(s.queueDir(id), "audio.wav"))
}

// Update records a queued message's delivery attempts.
func (s *Spool) Update(m *Message) error {
	return writeSynced(filepath.Join(s.queueDir(m.ID), "message.json"), m)
}

// Done removes a delivered message.
func (s *Spool) Done(id string) error {
	if err := os.RemoveAll(s.queueDir(id)); err != nil {
		return fmt.Errorf("delivery: spool: %w", err)
	}
	return atomicfile.SyncDir(filepath.Join(s.dir, "queue"))
}

// writeSynced replaces path with v as JSON, so that a reader never sees
// half a file and a crash loses no acknowledged change.
func writeSynced(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, data, 0o600)
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}
