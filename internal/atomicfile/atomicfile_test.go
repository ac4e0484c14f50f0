package atomicfile

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/openum/openum/internal/peertest"
)

func TestWriteFileLeavesNothingOnFailure(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.crt")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A rename onto a directory fails after the temporary file is written.
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(filepath.Join(dir, "sub"), []byte("new"), 0o644); err == nil {
		t.Fatal("writing over a directory succeeded")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("directory holds %d entries after a failed write, want x.crt and sub", len(entries))
	}
	if err := WriteFile(path, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); !bytes.Equal(b, []byte("new")) {
		t.Errorf("content %q", b)
	}
}

// A private key written over a file that others could read is not readable
// by them: the mode is perm, not the old file's.
func TestWriteFileSetsTheModeItIsGiven(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.key")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	peertest.CheckPerm(t, path, 0o600)
	if err := WriteFile(path, []byte("public"), 0o644); err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o644 {
		t.Errorf("mode %v; want 0644", info.Mode().Perm())
	}
}
