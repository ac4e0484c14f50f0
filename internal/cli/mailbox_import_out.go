package cli

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/openum/openum/internal/mailboximport"
)

// writePINs writes one line per mailbox, address,extension,PIN, to a new
// file only its owner can read. It refuses an existing file rather than
// overwrite PINs an earlier import wrote there.
func writePINs(name string, rows []mailboximport.Row, creds []mailboximport.Credential) (err error) {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("--pins-out: %w", err)
	}
	defer func() {
		err = errors.Join(err, f.Close())
		if err != nil {
			_ = os.Remove(name)
		}
	}()
	w := csv.NewWriter(f)
	for i, r := range rows {
		if err := w.Write([]string{r.Mailbox.EmailAddress, r.Mailbox.Extensions[0], creds[i].PIN}); err != nil {
			return err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	return f.Sync()
}

// progressBar returns a progress callback that draws a bar on w when w is
// a terminal, or nil (no progress shown) when it is not, so that a log or
// a script's captured stderr holds no control characters.
func progressBar(w io.Writer, what string, total int) func(done int) {
	f, ok := w.(*os.File)
	if !ok || total == 0 {
		return nil
	}
	// What golang.org/x/term's IsTerminal asks on Linux, without the module.
	if _, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS); err != nil {
		return nil
	}
	const width = 40
	last := -1
	return func(done int) {
		filled := done * width / total
		if filled == last && done != total {
			return
		}
		last = filled
		fmt.Fprintf(f, "\r%s [%-*s] %d/%d", what, width, strings.Repeat("#", filled), done, total)
		if done == total {
			fmt.Fprintln(f)
		}
	}
}
