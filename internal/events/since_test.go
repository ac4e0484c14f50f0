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

// ParseSince reads what a client of the admin API sends: it never
// panics, and a Go duration d is always now less d.
func FuzzParseSince(f *testing.F) {
	for _, s := range []string{"90m", "7d", "2026-12-01", "2026-12-01T08:00", "-1h", "99999999999d", ""} {
		f.Add(s)
	}
	now := time.Now()
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseSince(s, now)
		if d, derr := time.ParseDuration(s); derr == nil && d >= 0 && (err != nil || !got.Equal(now.Add(-d))) {
			t.Errorf("ParseSince(%q) = %v, %v; want now less %v", s, got, err, d)
		}
	})
}
