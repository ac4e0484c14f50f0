package cli

import (
	"fmt"

	"github.com/dustin/go-humanize"

	"github.com/openum/openum/internal/events"
)

// The bounds of openum serve's --event-log-file-size and --event-log-files:
// a file holds a few hundred records at the least, and the files are few
// enough to read back.
const (
	minEventLogFileSize = 64_000
	maxEventLogFiles    = 1000
)

// eventLogRotation reads --event-log-file-size (bytes, with a unit: 10MB,
// 512KiB) and --event-log-files. Options that never went through the flags
// (quickstart's) leave both zero: the defaults.
func eventLogRotation(size string, files int) (events.Rotation, error) {
	if size == "" && files == 0 {
		return events.DefaultRotation, nil
	}
	n, err := humanize.ParseBytes(size)
	if err != nil || n < minEventLogFileSize || n > 1<<62 {
		return events.Rotation{}, fmt.Errorf("--event-log-file-size must be a size of at least 64KB, as 10MB or 512KiB, not %q", size)
	}
	if files < 2 || files > maxEventLogFiles {
		return events.Rotation{}, fmt.Errorf("--event-log-files must be from 2 to %d, not %d", maxEventLogFiles, files)
	}
	return events.Rotation{FileSize: int64(n), Files: files}, nil
}
