package sip

import (
	"strings"
	"testing"
)

// FuzzSipfrag feeds parseSipfrag what a NOTIFY's body may hold: it must
// never panic, and a status it returns is a real one with a printable,
// short reason.
func FuzzSipfrag(f *testing.F) {
	for _, seed := range []string{
		"SIP/2.0 200 OK\r\n", "SIP/2.0 100 Trying", "SIP/2.0 486 Busy Here\r\nContent-Length: 0\r\n\r\n",
		"SIP/2.0 603\r\n", "SIP/2.0 20 OK", "SIP/3.0 200 OK", "", "\r\n", "SIP/2.0 999 Odd", "SIP/2.0 200 \x00\xff",
		"SIP/2.0 180 " + strings.Repeat("R", 300),
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		status, reason, err := parseSipfrag(body)
		if err != nil {
			if status != 0 || reason != "" {
				t.Fatalf("error %v with status %d reason %q", err, status, reason)
			}
			return
		}
		if status < 100 || status > 699 {
			t.Fatalf("status %d from %q", status, body)
		}
		if len(reason) > 64 || strings.ContainsFunc(reason, func(r rune) bool { return r < ' ' || r > '~' }) {
			t.Fatalf("reason %q not printable and short", reason)
		}
	})
}

func TestParseSipfrag(t *testing.T) {
	for _, tc := range []struct {
		body   string
		status int
		reason string
	}{
		{"SIP/2.0 200 OK\r\n", 200, "OK"},
		{"SIP/2.0 486 Busy Here\r\nContent-Length: 0\r\n\r\n", 486, "Busy Here"},
		{"SIP/2.0 603", 603, ""},
		{"SIP/2.0 20 OK", 0, ""},
		{"SIP/2.0 099 Low", 0, ""},
		{"SIP/2.0 200 OK\x1b[31m", 200, "OK[31m"},
		{"INVITE sip:x SIP/2.0\r\n", 0, ""},
	} {
		status, reason, err := parseSipfrag([]byte(tc.body))
		if status != tc.status || reason != tc.reason || (err == nil) != (tc.status != 0) {
			t.Errorf("parseSipfrag(%q) = %d %q %v; want %d %q", tc.body, status, reason, err, tc.status, tc.reason)
		}
	}
}
