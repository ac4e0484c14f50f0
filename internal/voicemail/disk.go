package voicemail

import (
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/sip"
)

// diskFullRetryAfter is the Retry-After of a call refused for disk space:
// freeing space takes an administrator, not a moment.
const diskFullRetryAfter = 300

// Ready is asked by sip just before a call is answered (sip.Config.Ready):
// with less than MinFreeSpace free on the spool's filesystem, where the
// recording would go, the call is refused with 503 and Retry-After and event
// 9305, so that the gateway tries another server or announces, rather than
// a caller leaving a message that cannot be kept. When the free space cannot
// be read, the call goes on: a recording that then fails says so (9304).
func (a *Answering) Ready(c *sip.Call) *sip.Rejection {
	if a.MinFreeSpace == 0 {
		return nil
	}
	free, err := a.Spool.Free()
	if err != nil || free >= a.MinFreeSpace {
		return nil
	}
	return &sip.Rejection{Status: 503, Event: events.CallRefusedDiskFull, RetryAfter: diskFullRetryAfter,
		Cause: "too little free disk space to keep a voice message",
		Attrs: []slog.Attr{slog.Uint64("free", free), slog.Uint64("required", a.MinFreeSpace),
			slog.String("dir", a.Spool.Dir()), slog.String("callid", c.ID)}}
}

// failedFile is the file an operation failed on, for the event.
func failedFile(err error) string {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		return pe.Path
	case errors.As(err, &le):
		return le.Old
	}
	return ""
}

// errnoName is the name of the system error under err, as ENOSPC, which an
// administrator can search for; "" when there is none.
func errnoName(err error) string {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return ""
	}
	if name := unix.ErrnoName(errno); name != "" {
		return name
	}
	return errno.Error()
}
