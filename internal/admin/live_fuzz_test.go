package admin

import (
	"errors"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"
)

// The event query comes from the network: whatever it holds, it is read
// or refused naming its field, never a panic.
func FuzzEventFilter(f *testing.F) {
	f.Add("9600", "2h", "1")
	f.Add("-1", "yesterday", "maybe")
	f.Add("", "2026-12-01T08:00", "")
	f.Fuzz(func(t *testing.T, id, since, follow string) {
		q := url.Values{"id": {id}, "since": {since}, "follow": {follow}}
		r := httptest.NewRequest("GET", "/api/v1/events?"+q.Encode(), nil)
		filter, _, err := eventFilter(r, time.Now())
		var fe *fieldError
		if err != nil && (!errors.As(err, &fe) || fe.field == "") {
			t.Errorf("%v names no field", err)
		}
		if err == nil && id != "" && filter.ID <= 0 {
			t.Errorf("id %q read as %d", id, filter.ID)
		}
	})
}
