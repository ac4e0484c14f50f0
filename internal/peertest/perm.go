package peertest

import (
	"os"
	"testing"
)

// CheckPerm fails t unless the file at path has the permission bits perm
// (a key or a PIN must be 0600, its directory 0700), and returns what
// os.Stat says of it for further checks; a file that is not there fails t
// at once.
func CheckPerm(t testing.TB, path string, perm os.FileMode) os.FileInfo {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != perm {
		t.Errorf("%s: mode %04o (%v), want %04o", path, got, got, perm)
	}
	return info
}
