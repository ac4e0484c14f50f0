package delivery

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/openum/openum/internal/peertest"
)

// On a really full disk, Enqueue fails after it moved the recording to its
// staging directory (message.json finds no room): Abandon must forget that
// too, or the message would be delivered at the next start although the
// caller was told it was not saved, and its space would stay used.
func TestAbandonForgetsWhatAFailedEnqueueLeft(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spool")
	peertest.Tmpfs(t, dir, 16<<10)
	s, err := OpenSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	empty := peertest.Free(t, dir)
	m := testMessage("full1")
	path, err := s.Begin(m)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	for err == nil { // the recording takes what the note left
		_, err = f.Write(make([]byte, 1024))
	}
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("filling the disk: %v", err)
	}
	f.Close()
	if err := s.Enqueue(m); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Enqueue on a full disk: %v; want ENOSPC", err)
	}
	if p, _ := s.Pending(); len(p) != 0 {
		t.Fatalf("a failed Enqueue queued %v", p)
	}
	s.Abandon(m.ID)
	left, _ := filepath.Glob(filepath.Join(dir, "*", "*"))
	if len(left) != 0 {
		t.Errorf("left after Abandon: %v", left)
	}
	if free := peertest.Free(t, dir); free != empty {
		t.Errorf("free space %d after Abandon; want %d as before", free, empty)
	}
	if _, err := OpenSpool(dir); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.Pending(); len(p) != 0 {
		t.Fatalf("the next start queued %v", p)
	}
}
