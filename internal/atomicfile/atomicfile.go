// Package atomicfile replaces files so that neither a reader nor a crash
// ever sees part of one: the data goes to a temporary file in the same
// directory, is synced, renamed over the file, and the directory is synced
// so that the rename itself survives a power cut. The certificate store and
// the delivery spool write through it (SPEC UM-2: a message is on disk
// before the caller is told it was sent).
//
// github.com/google/renameio does the same minus the directory sync, and
// keeps an existing file's mode, which would keep a private key readable by
// others if it ever was.
package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
)

// WriteFile writes data to path, mode perm (whatever the umask and the
// mode of the file it replaces), so that path holds either its old content
// or all of data, never a part, also after a crash. The temporary file is
// named ".BASE.tmp-*": hidden, so that a directory listing for content
// passes over it. On failure nothing is left behind. Errors are those of
// package os, naming the file at fault.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	tmp := f.Name()
	// CreateTemp makes the file 0600; chmod before writing so that a
	// private key is never readable by others, not even for a moment.
	err = f.Chmod(perm)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if err = errors.Join(err, f.Close()); err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return SyncDir(dir)
}

// SyncDir makes a rename, a new file or a removal in dir durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}
