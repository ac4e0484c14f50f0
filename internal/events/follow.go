package events

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
)

// FollowInterval is how often Follow looks for new lines.
const FollowInterval = 250 * time.Millisecond

// Follow calls fn with each record that matches filter as it is appended to
// the log at path, until ctx is done (it then returns nil) or fn fails. It
// starts at the end of the file, or at its start when filter has a Since
// (the rotated files are for Read). It keeps following
// across a rotation: when path names a new file, it reads what is left of
// the old one, then the new one from its start. A missing file is waited
// for.
func Follow(ctx context.Context, path string, filter Filter, fn func(Record) error) error {
	t := &tail{path: path}
	if err := t.open(filter.Since.IsZero()); err != nil {
		return err
	}
	defer t.close()
	tick := time.NewTicker(FollowInterval)
	defer tick.Stop()
	for {
		if err := t.poll(filter, fn); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// tail reads the complete lines appended to one file, and moves to the
// file that takes its name when it is rotated.
type tail struct {
	path    string
	f       *os.File
	partial []byte // the start of a line whose end has not been written yet
}

// open opens the file at the path, at its end when atEnd; a missing file is
// no error: the next poll tries again.
func (t *tail) open(atEnd bool) error {
	f, err := os.Open(t.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("events: %w", err)
	}
	if atEnd {
		if _, err := f.Seek(0, io.SeekEnd); err != nil {
			f.Close()
			return fmt.Errorf("events: %w", err)
		}
	}
	t.f, t.partial = f, nil
	return nil
}

func (t *tail) close() {
	if t.f != nil {
		t.f.Close()
	}
}

// poll hands fn the lines written since the last poll, following a rotation.
func (t *tail) poll(filter Filter, fn func(Record) error) error {
	if t.f == nil {
		return t.open(false)
	}
	if err := t.drain(filter, fn); err != nil {
		return err
	}
	cur, err := os.Stat(t.path)
	if err != nil {
		return nil // between the rename and the new file: look again later
	}
	if old, err := t.f.Stat(); err == nil && os.SameFile(old, cur) {
		return nil
	}
	// Rotated: the old file may have had a last line written after drain,
	// and it may have moved more than one generation back since the last
	// poll (path.1 is the newest rotated file): read the generations that
	// came after it, then the new file.
	if err := t.drain(filter, fn); err != nil {
		return err
	}
	old, err := t.f.Stat()
	if err != nil {
		return fmt.Errorf("events: %w", err)
	}
	t.close()
	t.f = nil
	// The generations shift while a writer rotates: walk and open them
	// under the log's shared flock, as Read does, or a file caught between
	// two renames is missed.
	var newer []*os.File
	var current *os.File
	err = underSharedLock(t.path, func() error {
		for gen := 1; ; gen++ {
			name := t.path + "." + strconv.Itoa(gen)
			fi, err := os.Stat(name)
			if err != nil || os.SameFile(fi, old) {
				break // ours, or gone with the oldest: what was newer is in newer
			}
			if f, err := os.Open(name); err == nil {
				newer = append(newer, f)
			}
		}
		current, _ = os.Open(t.path) // missing: the next poll opens it
		return nil
	})
	if err != nil {
		return err
	}
	for i := len(newer) - 1; i >= 0; i-- {
		t.f, t.partial = newer[i], nil
		err := t.drain(filter, fn)
		newer[i].Close()
		if err != nil {
			for _, f := range newer[:i] {
				f.Close()
			}
			if current != nil {
				current.Close()
			}
			t.f = nil
			return err
		}
	}
	t.f, t.partial = current, nil
	return nil
}

// drain reads the file to its current end and hands fn each complete line.
func (t *tail) drain(filter Filter, fn func(Record) error) error {
	r := bufio.NewReader(t.f)
	for {
		chunk, err := r.ReadBytes('\n')
		t.partial = append(t.partial, chunk...)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("events: %w", err)
		}
		line := t.partial
		t.partial = nil
		if rec, ok := parseLine(line); ok && filter.matches(rec) {
			if err := fn(rec); err != nil {
				return err
			}
		}
	}
}

// matches reports whether rec passes the filter.
func (f Filter) matches(rec Record) bool {
	return (f.ID == 0 || rec.EventID == f.ID) && (f.Since.IsZero() || !rec.Time.Before(f.Since))
}
