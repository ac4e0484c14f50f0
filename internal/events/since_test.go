package events

import (
	"testing"
	"time"
)

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.Local)
	for in, want := range map[string]time.Time{
		"90m":                  now.Add(-90 * time.Minute),
		"0s":                   now,
		"7d":                   now.Add(-7 * 24 * time.Hour),
		"2026-11-30":           time.Date(2026, 11, 30, 0, 0, 0, 0, time.Local),
		"2026-11-30T08:15":     time.Date(2026, 11, 30, 8, 15, 0, 0, time.Local),
		"2026-11-30T08:15:00Z": time.Date(2026, 11, 30, 8, 15, 0, 0, time.UTC),
	} {
		if got, err := ParseSince(in, now); err != nil || !got.Equal(want) {
			t.Errorf("ParseSince(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"yesterday", "-1h", "-2d", "d", "2026-13-01"} {
		if _, err := ParseSince(in, now); err == nil {
			t.Errorf("ParseSince(%q) took it", in)
		}
	}
}
