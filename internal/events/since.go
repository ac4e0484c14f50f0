package events

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseSince reads the start of an event query, as openum events --since,
// the console and the admin API take it: a duration back from now (90m,
// 24h, or days as 7d) or a date or time in the local zone (2026-12-01,
// 2026-12-01T08:00, RFC 3339).
func ParseSince(s string, now time.Time) (time.Time, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		if days, err := strconv.Atoi(n); err == nil && days >= 0 {
			return now.Add(-time.Duration(days) * 24 * time.Hour), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02 15:04", time.DateOnly} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("since: %q is not a duration back from now (90m, 24h, 7d), nor a date or time (2026-12-01, 2026-12-01T08:00)", s)
}
