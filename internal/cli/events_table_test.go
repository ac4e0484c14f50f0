package cli

import (
	"encoding/json"
	"testing"
)

// An event's attributes as they come back from the JSON log: durations are
// nanoseconds and every number a float64. The table shows them readably.
func TestEventDetailsShowDurationsAndWholeNumbers(t *testing.T) {
	var attrs map[string]any
	line := `{"source":"192.0.2.7","for":600000000000,"duration":2990000000,"setup":465824,"packets":159,"store_id":1,"ratio":0.25}`
	if err := json.Unmarshal([]byte(line), &attrs); err != nil {
		t.Fatal(err)
	}
	got := details(attrs)
	want := " [source=192.0.2.7 duration=2.99s for=10m0s packets=159 ratio=0.25 setup=465.824µs store_id=1]"
	if got != want {
		t.Errorf("details:\n got %q\nwant %q", got, want)
	}
}
