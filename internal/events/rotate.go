package events

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Rotation caps the event log (SPEC PEER-4): when a record would take the
// current file past FileSize bytes, the file becomes path.1 (older ones
// shift to path.2 and on, the oldest beyond Files go) and a new file
// starts. The log so never holds more than FileSize × Files bytes.
type Rotation struct {
	FileSize int64 // bytes in one file; 0 takes DefaultRotation's
	Files    int   // files kept, the current one included; 0 takes DefaultRotation's
}

// DefaultRotation keeps 100 MB in 10 files of 10 MB: weeks of a busy
// server's events, and a bound no input can pass.
var DefaultRotation = Rotation{FileSize: 10_000_000, Files: 10}

func (r Rotation) withDefaults() Rotation {
	if r.FileSize <= 0 {
		r.FileSize = DefaultRotation.FileSize
	}
	if r.Files <= 0 {
		r.Files = DefaultRotation.Files
	}
	return r
}

// rotatingFile is the event log's file as one process appends to it. The
// server and CLI commands may append to the same log at once, so the size
// check, the renames and the writes are made under an flock on a lock file
// beside the log (path.lock), and a writer whose file another process
// rotated away reopens path before it writes: no record is lost, doubled
// or torn.
//
// A busy writer, one whose records come less than busyGap apart, keeps
// the flock for up to lockHold once it has taken it, and appends its
// records meanwhile without taking it again: no other process writes then,
// so the size it counts is the file's. A busy server so makes one system
// call a record, not four (SPEC PERF-2: one event a call), and another
// process waits at most lockHold for its turn. A writer that is not busy,
// a CLI command, gives the flock back after each record, as one stopped
// (^Z) must not hold up the server.
type rotatingFile struct {
	path string
	rot  Rotation

	mu   sync.Mutex // the flock is per open file, not per goroutine
	lock *os.File
	f    *os.File
	held os.FileInfo // f's identity, taken when it was opened

	locked  bool        // the flock is held
	size    int64       // while locked: f's size
	last    time.Time   // when the last record was written
	release *time.Timer // while locked and kept: gives the flock back
	kept    bool        // release is set
}

const (
	busyGap  = time.Millisecond      // records closer than this keep the flock
	lockHold = 10 * time.Millisecond // for this long at most
)

func openRotating(path string, rot Rotation) (*rotatingFile, error) {
	lock, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	r := &rotatingFile{path: path, rot: rot.withDefaults(), lock: lock}
	if err := r.reopen(); err != nil {
		lock.Close()
		return nil, err
	}
	r.release = time.AfterFunc(time.Hour, r.unlock)
	r.release.Stop()
	return r, nil
}

// Write appends one record, rotating first if it would not fit.
func (r *rotatingFile) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	busy := now.Sub(r.last) < busyGap
	r.last = now
	if err := r.takeLock(); err != nil {
		return 0, err
	}
	// A record larger than the cap still goes whole into a file of its own.
	if r.size > 0 && r.size+int64(len(p)) > r.rot.FileSize {
		if err := r.rotate(); err != nil {
			r.giveLock() // what this process knows of the files is in doubt
			return 0, err
		}
	}
	n, err := r.f.Write(p)
	r.size += int64(n)
	switch {
	case err != nil || !busy:
		r.giveLock()
	case !r.kept:
		r.kept = true
		r.release.Reset(lockHold)
	}
	return n, err
}

// takeLock takes the flock, unless it is held already, and learns the
// current file and its size, as other processes may have left them.
func (r *rotatingFile) takeLock() error {
	if r.locked {
		return nil
	}
	if err := syscall.Flock(int(r.lock.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	size, err := r.currentSize()
	if err != nil {
		_ = syscall.Flock(int(r.lock.Fd()), syscall.LOCK_UN)
		return err
	}
	r.locked, r.size = true, size
	return nil
}

// giveLock gives the flock back, if held. The caller holds mu.
func (r *rotatingFile) giveLock() {
	if !r.locked {
		return
	}
	if r.kept {
		r.release.Stop()
		r.kept = false
	}
	_ = syscall.Flock(int(r.lock.Fd()), syscall.LOCK_UN)
	r.locked = false
}

// unlock is giveLock for the release timer.
func (r *rotatingFile) unlock() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.giveLock()
}

// currentSize returns the size of the file at path, reopening it first
// when the file held is no longer the one there. It is called when the
// flock is taken: one stat of path, compared with the identity f had when
// it was opened, says both (a rename or a new file changes the identity).
func (r *rotatingFile) currentSize() (int64, error) {
	at, err := os.Stat(r.path)
	switch {
	case err == nil && os.SameFile(r.held, at):
		return at.Size(), nil
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return 0, err
	}
	if err := r.reopen(); err != nil {
		return 0, err
	}
	return r.held.Size(), nil
}

// rotate shifts path.N to path.N+1, dropping those beyond the files kept,
// moves path to path.1 and starts a new file. The caller holds the flock.
func (r *rotatingFile) rotate() error {
	gens, err := generations(r.path)
	if err != nil {
		return err
	}
	for _, n := range slices.Backward(gens) {
		old := generation(r.path, n)
		if n >= r.rot.Files-1 {
			err = os.Remove(old)
		} else {
			err = os.Rename(old, generation(r.path, n+1))
		}
		if err != nil {
			return err
		}
	}
	if r.rot.Files > 1 {
		err = os.Rename(r.path, generation(r.path, 1))
	} else {
		err = os.Remove(r.path)
	}
	if err != nil {
		return err
	}
	return r.reopen()
}

func (r *rotatingFile) reopen() error {
	f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	held, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	if r.f != nil {
		r.f.Close()
	}
	r.f, r.held, r.size = f, held, held.Size()
	return nil
}

func (r *rotatingFile) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.giveLock()
	return errors.Join(r.f.Close(), r.lock.Close())
}

// openGenerations opens every file of the log at path, oldest first, the
// current one last. It opens them all under a shared flock, so that a
// rotation cannot make a reader miss a file or read one twice; reading
// them afterwards holds up no writer. Missing files are left out.
func openGenerations(path string) ([]*os.File, error) {
	var files []*os.File
	err := underSharedLock(path, func() error {
		gens, err := generations(path)
		if err != nil {
			return err
		}
		names := []string{path}
		for _, n := range gens {
			names = append(names, generation(path, n))
		}
		slices.Reverse(names)
		for _, name := range names {
			f, err := os.Open(name)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				for _, f := range files {
					f.Close()
				}
				files = nil
				return err
			}
			files = append(files, f)
		}
		return nil
	})
	return files, err
}

// underSharedLock runs fn under a shared flock on the log's lock file, so
// that no writer rotates the files while fn looks at them. A log without a
// lock file has no writer to wait for.
func underSharedLock(path string, fn func() error) error {
	lock, err := os.Open(path + ".lock")
	switch {
	case err == nil:
		defer lock.Close()
		if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_SH); err != nil {
			return err
		}
		defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	return fn()
}

// generations returns the numbers N of the rotated files path.N, in
// ascending order.
func generations(path string) ([]int, error) {
	entries, err := os.ReadDir(filepath.Dir(path))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	prefix := filepath.Base(path) + "."
	var gens []int
	for _, e := range entries {
		suffix, ok := strings.CutPrefix(e.Name(), prefix)
		if n, err := strconv.Atoi(suffix); ok && err == nil && n > 0 && suffix == strconv.Itoa(n) {
			gens = append(gens, n)
		}
	}
	slices.Sort(gens)
	return gens, nil
}

func generation(path string, n int) string { return fmt.Sprintf("%s.%d", path, n) }
