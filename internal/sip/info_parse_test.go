package sip

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/openum/openum/internal/media"
)

func TestParseDTMFInfo(t *testing.T) {
	for _, c := range []struct {
		name, ctype, body string
		key               byte
		err               string // a part of the error; "" for none
	}{
		{"relay CRLF", "application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", '5', ""},
		{"relay LF", "application/dtmf-relay", "Signal=5\nDuration=160\n", '5', ""},
		{"relay no final newline", "application/dtmf-relay", "Signal=9", '9', ""},
		{"relay spaces", "application/dtmf-relay", "  Signal = # \r\n Duration = 250 \r\n", '#', ""},
		{"relay case", "Application/DTMF-Relay", "SIGNAL=*\r\nduration=100\r\n", '*', ""},
		{"relay lower-case key", "application/dtmf-relay", "Signal=d\r\n", 'D', ""},
		{"relay event code 10 is *", "application/dtmf-relay", "Signal=10\r\n", '*', ""},
		{"relay event code 11 is #", "application/dtmf-relay", "Signal=11\r\n", '#', ""},
		{"relay event code 12 is A", "application/dtmf-relay", "Signal=12\r\n", 'A', ""},
		{"relay no Duration", "application/dtmf-relay", "Signal=0\r\n", '0', ""},
		{"relay unknown lines ignored", "application/dtmf-relay", "Volume=10\r\nSignal=7\r\nno equals sign here\r\nX-Vendor=a=b\r\n", '7', ""},
		{"relay the same Signal twice", "application/dtmf-relay", "Signal=3\r\nSignal=3\r\n", '3', ""},
		{"relay parameters", "application/dtmf-relay; charset=utf-8", "Signal=1\r\n", '1', ""},
		{"dtmf", "application/dtmf", "4", '4', ""},
		{"dtmf CRLF", "application/dtmf", "#\r\n", '#', ""},
		{"dtmf event code", "application/dtmf", "11", '#', ""},
		{"empty INFO", "", "", 0, ""},

		{"relay missing Signal", "application/dtmf-relay", "Duration=160\r\n", 0, "no Signal"},
		{"relay empty", "application/dtmf-relay", "", 0, "no Signal"},
		{"relay empty Signal", "application/dtmf-relay", "Signal=\r\n", 0, "not a DTMF key"},
		{"relay two keys", "application/dtmf-relay", "Signal=1\r\nSignal=2\r\n", 0, "two different"},
		{"relay flash", "application/dtmf-relay", "Signal=16\r\n", 0, "not a DTMF key"},
		{"relay word", "application/dtmf-relay", "Signal=five\r\n", 0, "not a DTMF key"},
		{"relay bad Duration", "application/dtmf-relay", "Signal=5\r\nDuration=-160\r\n", 0, "Duration"},
		{"relay junk", "application/dtmf-relay", "\x00\xff=\x01\r\n=\r\n", 0, "no Signal"},
		{"dtmf two keys", "application/dtmf", "12 3", 0, "not a DTMF key"},
		{"dtmf empty", "application/dtmf", "", 0, "not a DTMF key"},
		{"other type", "application/sdp", "v=0\r\n", 0, "is not application/dtmf"},
		{"body without type", "", "Signal=5\r\n", 0, "malformed"},
		{"malformed type", "application/", "Signal=5\r\n", 0, "malformed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			key, err := parseDTMFInfo(c.ctype, []byte(c.body))
			if c.err == "" {
				if err != nil || key != c.key {
					t.Fatalf("parseDTMFInfo(%q, %q) = %q, %v; want %q", c.ctype, c.body, key, err, c.key)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.err) || key != 0 {
				t.Fatalf("parseDTMFInfo(%q, %q) = %q, %v; want an error about %q", c.ctype, c.body, key, err, c.err)
			}
		})
	}
}

// FuzzParseDTMFInfo: whatever a gateway sends, the parser returns a DTMF
// key or an error, never both, never panics, answers with one of its fixed
// errors (which cannot quote the body: it may be a PIN), and reads a
// well-formed Signal line as its key.
func FuzzParseDTMFInfo(f *testing.F) {
	for _, s := range []struct{ ctype, body string }{
		{"application/dtmf-relay", "Signal=5\r\nDuration=160\r\n"},
		{"application/dtmf-relay", "signal = 11\nduration=100\n"},
		{"application/dtmf-relay", "Duration=160\r\n"},
		{"application/dtmf-relay; x=y", "Signal=A\r\nSignal=a\r\n"},
		{"application/dtmf", "#"},
		{"application/dtmf", "15\r\n"},
		{"application/sdp", "v=0"},
		{"", ""},
		{"text/plain", "\x00"},
	} {
		f.Add(s.ctype, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, ctype string, body []byte) {
		key, err := parseDTMFInfo(ctype, body)
		switch {
		case err != nil && key != 0:
			t.Fatalf("key %q and error %v", key, err)
		case err == nil && key != 0 && !strings.ContainsRune(media.DTMFKeys, rune(key)):
			t.Fatalf("key %q is not DTMF", key)
		case err == nil && key == 0 && (ctype != "" || len(body) != 0):
			t.Fatal("no key and no error for a body")
		case err != nil && !slices.Contains([]error{errUnsupportedType, errBadType, errNoSignal, errTwoSignals, errBadDuration, errNotKey}, err):
			t.Fatalf("not one of the fixed errors: %v", err)
		}
		if errors.Is(err, errUnsupportedType) {
			return
		}
		// The same body with a Signal line in front: that key, or an
		// error that a later line explains (another Signal, a Duration).
		if k, err := parseDTMFInfo("application/dtmf-relay", append([]byte("Signal=5\n"), body...)); err == nil && k != '5' {
			t.Fatalf("Signal=5 then %q read as %q", body, k)
		}
	})
}
