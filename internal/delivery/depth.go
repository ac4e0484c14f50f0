package delivery

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Spooled returns how many voice messages (not notices) Enqueue queued
// since the spool was opened.
func (s *Spool) Spooled() uint64 { return s.spooled.Load() }

// Depth returns how many messages wait for delivery and when the oldest
// of them was received (zero when none). Unlike Pending it moves nothing:
// a message it cannot read is counted, without a time, and left to the
// worker to quarantine.
func (s *Spool) Depth() (n int, oldest time.Time, err error) {
	entries, err := os.ReadDir(filepath.Join(s.dir, "queue"))
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("delivery: spool: %w", err)
	}
	for _, e := range entries {
		if !e.IsDir() || strings.HasSuffix(e.Name(), ".new") {
			continue
		}
		n++
		var m Message
		if readJSON(filepath.Join(s.queueDir(e.Name()), "message.json"), &m) == nil &&
			(oldest.IsZero() || m.Received.Before(oldest)) {
			oldest = m.Received
		}
	}
	return n, oldest, nil
}
