package sip

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

func crlf(s string) string { return strings.ReplaceAll(strings.TrimLeft(s, "\n"), "\n", "\r\n") }

// framingStream is three messages and the keep-alives between them, with
// where each message's first and last bytes are: an INVITE whose SDP body
// holds an empty line (CRLFCRLF inside a body is no end), an OPTIONS with
// the compact form "l:" folded onto a second line, and a response.
func framingStream() (stream string, starts, ends []int) {
	body := crlf("v=0\no=gw 1 1 IN IP4 127.0.0.2\n\ns=-\n")
	msgs := []string{
		crlf("INVITE sip:5000@um.localhost SIP/2.0\nVia: SIP/2.0/TCP 127.0.0.2;branch=z9hG4bK1\nContent-Length: ") +
			strconv.Itoa(len(body)) + "\r\n\r\n" + body,
		crlf("OPTIONS sip:um.localhost SIP/2.0\nVia: SIP/2.0/TCP 127.0.0.2;branch=z9hG4bK2\nl:\n  3\nContent-Type: text/plain\n\n") + "a\r\n",
		crlf("SIP/2.0 200 OK\nVia: SIP/2.0/TCP 127.0.0.2;branch=z9hG4bK3\ncontent-LENGTH : 0 \n\n"),
	}
	for i, m := range msgs {
		stream += []string{"", "\r\n\r\n", "\r\n"}[i]
		starts = append(starts, len(stream))
		stream += m
		ends = append(ends, len(stream))
	}
	return stream + "\r\n\r\n", starts, ends
}

// inMessage is whether, after the first p bytes of the stream, a message
// has begun and not ended.
func inMessage(p int, starts, ends []int) bool {
	for i := range starts {
		if starts[i] < p && p < ends[i] {
			return true
		}
	}
	return false
}

// Fed one byte at a time, the framer is inside a message exactly from its
// first byte to its last, and the keep-alives around never start one.
func TestFramerByteByByte(t *testing.T) {
	stream, starts, ends := framingStream()
	f := framer{max: 16 << 10}
	for p := 1; p <= len(stream); p++ {
		f.observe([]byte{stream[p-1]}, time.Now())
		if _, _, got := f.partial(); got != inMessage(p, starts, ends) {
			t.Fatalf("after %d bytes (%q): partial %v, want %v", p, stream[max(0, p-10):p], got, !got)
		}
	}
}

// Split in two at every byte, or whole in one read, the stream frames the
// same; a message that starts in a read is timed from that read.
func TestFramerSplitAnywhere(t *testing.T) {
	stream, starts, ends := framingStream()
	t0, t1 := time.Unix(100, 0), time.Unix(200, 0)
	for cut := 0; cut <= len(stream); cut++ {
		f := framer{max: 16 << 10}
		f.observe([]byte(stream[:cut]), t0)
		since, _, got := f.partial()
		if want := inMessage(cut, starts, ends); got != want {
			t.Fatalf("cut at %d: partial %v, want %v", cut, got, want)
		}
		if got && !since.Equal(t0) {
			t.Fatalf("cut at %d: message timed from %v, want its first read", cut, since)
		}
		f.observe([]byte(stream[cut:]), t1)
		if _, _, got := f.partial(); got {
			t.Fatalf("cut at %d: the whole stream leaves a message partial", cut)
		}
	}
}

// The framer's ends and sipgo's agree on the stream.
func TestFramerAgreesWithSipgo(t *testing.T) {
	stream, _, _ := framingStream()
	checkFramerAgainstSipgo(t, []byte(stream), 1)
}

func TestFramerContentLength(t *testing.T) {
	head := "OPTIONS sip:um.localhost SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n"
	for _, c := range []struct {
		name, msg string
		partial   bool // after msg
	}{
		{"none: the message ends at the empty line", head + "\r\n", false},
		{"garbage: taken as none", head + "Content-Length: x12\r\n\r\n", false},
		{"two values: taken as none", head + "Content-Length: 1 2\r\n\r\n", false},
		{"beyond 32 bits: taken as none", head + "Content-Length: 4294967296\r\n\r\n", false},
		{"the last one wins", head + "Content-Length: 0\r\nl: 2\r\n\r\n", true},
		{"the last one wins, then its body", head + "Content-Length: 9\r\nl: 2\r\n\r\nab", false},
		{"leading zeros", head + "Content-Length: 0002\r\n\r\nab", false},
		{"a longer name is another field", head + "Content-Lengthy: 5\r\n\r\n", false},
		{"a name with a space in it is another field", head + "Content -Length: 5\r\n\r\n", false},
		{"a body shorter than its length", head + "Content-Length: 5\r\n\r\nabcd", true},
		{"the start line is no header", "l: 5 SIP/2.0\r\n\r\n", false},
		{"the first header may start with a space", head[:34] + " l: 1\r\n\r\n", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := framer{max: 16 << 10}
			f.observe([]byte(c.msg), time.Now())
			if _, _, got := f.partial(); got != c.partial {
				t.Fatalf("partial %v, want %v", got, c.partial)
			}
		})
	}
}

// A message longer than the limit never completes, however it goes on,
// and the framer keeps nothing of it.
func TestFramerTooLong(t *testing.T) {
	f := framer{max: 64}
	f.observe([]byte("OPTIONS sip:um.localhost SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n"), time.Now())
	f.observe([]byte("Content-Length: 0\r\n\r\n"), time.Now())
	if _, size, ok := f.partial(); !ok || size != 65 {
		t.Fatalf("partial %v after %d bytes; want a message that never ends at 65", ok, size)
	}
	f = framer{max: 64}
	f.observe([]byte("OPTIONS sip:x SIP/2.0\r\nl: 60\r\n\r\n"), time.Now())
	f.observe(bytes.Repeat([]byte("a"), 60), time.Now())
	if _, _, ok := f.partial(); !ok {
		t.Fatal("a body beyond the limit completed the message")
	}
}

// What sipgo's read loop drops unparsed does not start a message: a read of
// NULs, a ping or a pong between messages. The same bytes inside a message
// are part of it.
func TestFramerKeepAlives(t *testing.T) {
	f := framer{max: 16 << 10}
	for _, b := range []string{"\r\n\r\n", "\r\n", "\x00\x00", "\r", "\n", "\r\n\r\n\r\n"} {
		if f.feed([]byte(b), time.Now()); f.phase != phaseIdle || f.cr {
			t.Fatalf("%q between messages: phase %d", b, f.phase)
		}
	}
	f.feed([]byte("OPTIONS sip:x SIP/2.0\r\nl: 4\r\n\r\n"), time.Now())
	f.feed([]byte("\r\n"), time.Now())
	if _, size, ok := f.partial(); !ok || size != 33 {
		t.Fatalf("a CRLF inside a body: partial %v, %d bytes", ok, size)
	}
	if f.feed([]byte("ab"), time.Now()); f.phase != phaseIdle {
		t.Fatal("the body's last bytes did not end the message")
	}
	f.feed([]byte("\n\n\n\n\n"), time.Now())
	if _, _, ok := f.partial(); !ok {
		t.Fatal("five LFs between messages, which sipgo buffers, started no message")
	}
}

// FuzzFramer feeds arbitrary bytes, cut into reads at random places, to the
// framer and to sipgo's stream parser: the framer must never panic, and
// wherever sipgo finds a message end the framer must find the same one.
// The seeds (the RFC 4475 torture messages and the stream above) run as a
// unit test; fuzz with
//
//	go test -run '^$' -fuzz FuzzFramer -fuzztime 30s ./internal/sip
func FuzzFramer(f *testing.F) {
	stream, _, _ := framingStream()
	f.Add([]byte(stream), uint64(1))
	files, _ := filepath.Glob("testdata/rfc4475/*.dat")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint64(len(b)))
	}
	f.Fuzz(checkFramerAgainstSipgo)
}

// checkFramerAgainstSipgo parses data whole with sipgo, then feeds it to
// the framer in reads cut at random places (from seed) and at each message
// end sipgo found and the byte before it: before an end the framer is inside
// a message, at it outside, and between messages inside exactly from the
// first byte after the CRLFs that may lead.
func checkFramerAgainstSipgo(t *testing.T, data []byte, seed uint64) {
	const limit = 1 << 16
	if len(data) > limit {
		return
	}
	parser := sip.NewParser()
	parser.MaxMessageLength = limit
	ps := parser.NewSIPStream()
	_, _ = ps.Write(data)
	// checked is how far sipgo's reading is one the framer must match:
	// through the messages sipgo parsed, and the rest if sipgo waits for
	// more. sipgo trims Unicode spaces around header names and values, the
	// framer only ASCII ones: comparing stops before a byte beyond ASCII.
	var ends []int
	end, checked := 0, len(data)
	for end < len(data) {
		_, n, err := ps.ParseNext()
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			checked = end
			break
		}
		upto := len(data)
		if err == nil {
			upto = end + n
		}
		if bytes.ContainsFunc(data[end:upto], func(r rune) bool { return r >= 0x80 }) {
			checked = end
			break
		}
		if err != nil {
			break
		}
		end += n
		ends = append(ends, end)
	}

	cuts := map[int]bool{len(data): true}
	for _, e := range ends {
		cuts[e], cuts[e-1] = true, true
	}
	rng := rand.New(rand.NewPCG(seed, seed>>32))
	for range min(len(data), 16) {
		cuts[rng.IntN(len(data)+1)] = true
	}
	fr := framer{max: limit}
	prev := 0
	for p := 0; p <= len(data); p++ {
		if !cuts[p] || p == 0 {
			continue
		}
		fr.observe(data[prev:p], time.Now())
		prev = p
		if p > checked {
			continue
		}
		_, size, got := fr.partial()
		if size > limit+1 || size < 0 {
			t.Fatalf("size %d after %d bytes", size, p)
		}
		if want := sipgoInMessage(data, ends, p); got != want {
			t.Fatalf("after %d bytes of %q (sipgo's ends %v): framer partial %v, sipgo %v", p, data, ends, got, want)
		}
	}
}

// sipgoInMessage is whether, after p bytes, sipgo holds part of a message:
// past the CRLF pairs that lead it and short of its end (a lone CR, which
// may yet be the first half of a pair, counts as none).
func sipgoInMessage(data []byte, ends []int, p int) bool {
	from := 0
	for _, e := range ends {
		if p <= e {
			break
		}
		from = e
	}
	for _, e := range ends {
		if p == e {
			return false
		}
	}
	s := from
	for s+1 < len(data) && data[s] == '\r' && data[s+1] == '\n' {
		s += 2
	}
	if p <= s || (p == s+1 && data[s] == '\r') {
		return false
	}
	return true
}
