package cli

import (
	"strings"
	"testing"

	"github.com/openum/openum/internal/events"
)

func TestEventLogRotationFlags(t *testing.T) {
	for _, c := range []struct {
		size  string
		files int
		want  events.Rotation
		err   string
	}{
		{"10MB", 10, events.Rotation{FileSize: 10_000_000, Files: 10}, ""},
		{"512KiB", 3, events.Rotation{FileSize: 512 << 10, Files: 3}, ""},
		{"1 GB", 2, events.Rotation{FileSize: 1_000_000_000, Files: 2}, ""},
		{"1000", 10, events.Rotation{}, "--event-log-file-size"},
		{"ten", 10, events.Rotation{}, `not "ten"`},
		{"10MB", 1, events.Rotation{}, "--event-log-files"},
	} {
		got, err := eventLogRotation(c.size, c.files)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q, %d: error %v; want one naming %s", c.size, c.files, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q, %d = %+v, %v; want %+v", c.size, c.files, got, err, c.want)
		}
	}
}
