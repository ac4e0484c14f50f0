package delivery

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/openum/openum/internal/atomicfile"
)

// Quarantined is a spooled message that could not be read, moved aside into
// DIR/quarantine so that it stops no other delivery. Nothing is deleted: an
// administrator may repair it and put it back into DIR/queue.
type Quarantined struct {
	File   string // the file that could not be read, where it was found
	Reason string // why it could not be read
	// Path is where it is now: DIR/quarantine/ID, or a numbered sibling
	// when that name is taken. Empty when it could not be moved; then
	// Reason says why, and the message stays where it was, left alone.
	Path string
}

// Quarantined returns the messages moved aside since the last call, each
// once: the worker reports them. A restart does not report them again, for
// they are no longer in the queue.
func (s *Spool) Quarantined() []Quarantined {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.moved
	s.moved = nil
	return out
}

// readQueued reads the message in DIR/queue/id. It fails, naming the file at
// fault, when the note is not a message of this folder or its recording is
// missing: such a message can never be delivered.
func (s *Spool) readQueued(id string) (*Message, string, error) {
	note := filepath.Join(s.queueDir(id), "message.json")
	var m Message
	if err := readJSON(note, &m); err != nil {
		return nil, note, fmt.Errorf("delivery: %s is not a message: %w", note, err)
	}
	if m.ID != id {
		return nil, note, fmt.Errorf("delivery: %s holds message ID %q, not its folder's name %q", note, m.ID, id)
	}
	audio := filepath.Join(s.queueDir(id), "audio.wav")
	if _, err := os.Stat(audio); err != nil && m.Notice == nil {
		return nil, audio, fmt.Errorf("delivery: the recording of message %s is missing: %w", id, err)
	}
	return &m, "", nil
}

// quarantineQueued moves the folder of a queued message that cannot be read
// into quarantine, recording and all.
func (s *Spool) quarantineQueued(id, file string, reason error) {
	s.quarantine(id, file, reason, func(dst string) error {
		return errors.Join(os.Rename(s.queueDir(id), dst), atomicfile.SyncDir(filepath.Join(s.dir, "queue")))
	})
}

// quarantineRecording moves a recording whose note cannot be read, and the
// note, into quarantine: after a crash nothing says whose message it is.
func (s *Spool) quarantineRecording(id, note string, reason error) {
	s.quarantine(id, note, reason, func(dst string) error {
		err := errors.Join(os.Mkdir(dst, 0o700), os.Rename(note, filepath.Join(dst, filepath.Base(note))))
		wav := s.recordingPath(id)
		if werr := os.Rename(wav, filepath.Join(dst, filepath.Base(wav))); !errors.Is(werr, fs.ErrNotExist) {
			err = errors.Join(err, werr)
		}
		return errors.Join(err, atomicfile.SyncDir(dst), atomicfile.SyncDir(filepath.Dir(wav)))
	})
}

// quarantine moves file's message into a free folder under DIR/quarantine
// with move, which syncs what it moved from, and notes it for Quarantined. A message that cannot be moved is
// noted once, and skipped by Pending until the next start.
func (s *Spool) quarantine(id, file string, reason error, move func(dst string) error) {
	q := Quarantined{File: file, Reason: reason.Error()}
	dir := filepath.Join(s.dir, "quarantine")
	dst, err := freeName(filepath.Join(dir, id))
	if err == nil {
		err = errors.Join(os.MkdirAll(dir, 0o700), move(dst), atomicfile.SyncDir(dir))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		q.Reason += "; it could not be moved to quarantine: " + err.Error()
		if s.stuck == nil {
			s.stuck = map[string]bool{}
		}
		s.stuck[id] = true
	} else {
		q.Path = dst
	}
	s.moved = append(s.moved, q)
}

// freeName returns path, or path.1, path.2 ... the first that does not
// exist: a message ID may come back to quarantine after a repair.
func freeName(path string) (string, error) {
	for n := 0; n < 1000; n++ {
		p := path
		if n > 0 {
			p += "." + strconv.Itoa(n)
		}
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			return p, nil
		}
	}
	return "", fmt.Errorf("delivery: no free name for %s in quarantine", path)
}

func (s *Spool) isStuck(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stuck[id]
}
