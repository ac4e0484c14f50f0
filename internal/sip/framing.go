package sip

import (
	"bytes"
	"math"
	"time"
)

// framer follows where SIP messages begin and end on a stream (RFC 3261
// §18.3: a header block ending in an empty line, then Content-Length bytes
// of body), so that the connection can bound how long one message takes to
// arrive (SPEC PEER-4). It only observes: sipgo parses the same bytes, and
// framer mirrors sipgo's framing (lines end in CRLF, a line starting with a
// space or tab continues the header above it, the compact form "l", the
// last Content-Length wins), so that the two agree on every message sipgo
// accepts. On input sipgo refuses, sipgo closes the connection and what
// framer thought no longer matters. Its state is a few counters whatever
// the input: it keeps no bytes.
type framer struct {
	max int // bytes in one message (Limits.MaxMessageSize)

	phase   framePhase
	started time.Time // when the first byte of the message in progress came
	size    int       // bytes of it so far
	body    uint64    // body bytes still to come (phaseBody)

	// The header block being read.
	cr        bool   // the last byte was a CR
	lineStart bool   // at the first byte of a line
	headers   bool   // a header line came after the start line
	inValue   bool   // past the current field's colon
	isLength  bool   // the current field is Content-Length
	length    uint64 // its last value
	hasLength bool   // a well-formed Content-Length was seen

	name      [len("content-length")]byte // the field name so far, lower case
	nameLen   int
	nameSpace bool // whitespace after the name so far
	nameOther bool // the name is none framer looks for

	value      uint64
	valueState valueState
}

type framePhase int

const (
	phaseIdle      framePhase = iota // between messages
	phaseStartLine                   // in the start line
	phaseHeaders                     // in the header block
	phaseBody                        // counting the body down
	phaseTooLong                     // past max: sipgo refuses it, the message never completes
)

type valueState int

const (
	valueLead   valueState = iota // only whitespace so far
	valueDigits                   // digits
	valueTrail                    // digits, then whitespace
	valueBad                      // anything else: sipgo refuses the message
)

// feed observes the bytes of one read, which came at now, as sipgo's read
// loop takes them: it drops a read of NULs only, and a read of up to 4 CR
// and LF between messages (an RFC 5626 §3.5.1 ping or pong), unparsed.
func (f *framer) feed(b []byte, now time.Time) {
	if len(bytes.Trim(b, "\x00")) == 0 {
		return
	}
	if len(b) <= 4 && f.phase == phaseIdle && !f.cr && len(bytes.Trim(b, "\r\n")) == 0 {
		return
	}
	f.observe(b, now)
}

// observe follows the stream through b, as sipgo's stream parser does.
func (f *framer) observe(b []byte, now time.Time) {
	for len(b) > 0 {
		switch f.phase {
		case phaseIdle:
			b = f.skipCRLF(b, now)
		case phaseBody:
			k := int(min(f.body, uint64(len(b))))
			f.body -= uint64(k)
			f.size += k
			b = b[k:]
			if f.body == 0 {
				f.phase = phaseIdle
			}
		case phaseTooLong:
			return
		default:
			b = b[f.scan(b):]
		}
	}
}

// skipCRLF passes the CRLFs RFC 3261 §7.5 lets precede a start line (and
// RFC 5626 keep-alives), which are no message, and starts the message at
// the first other byte. A CR whose LF has not come yet is held, not begun.
func (f *framer) skipCRLF(b []byte, now time.Time) []byte {
	for len(b) > 0 {
		switch {
		case f.cr && b[0] == '\n':
			f.cr = false
		case f.cr:
			f.begin(now, 1) // the CR was the first byte
			return b
		case b[0] == '\r':
			f.cr = true
		default:
			f.begin(now, 0)
			return b
		}
		b = b[1:]
	}
	return b
}

func (f *framer) begin(now time.Time, size int) {
	*f = framer{max: f.max, phase: phaseStartLine, started: now, size: size}
}

// partial reports whether a message has begun and not ended, when its first
// byte came and how many bytes of it have.
func (f *framer) partial() (since time.Time, size int, ok bool) {
	return f.started, f.size, f.phase != phaseIdle
}

// scan reads the header block up to its end, and returns how many bytes of
// b it took. The start line and the values of fields other than
// Content-Length change nothing until their CR: those it skips whole.
func (f *framer) scan(b []byte) int {
	for i := 0; i < len(b); {
		if f.opaque() {
			n := bytes.IndexByte(b[i:], '\r')
			if n < 0 {
				n = len(b) - i
			}
			if f.size+n > f.max {
				f.size, f.phase = f.max+1, phaseTooLong // as byte by byte: counted to the first one too many
				return len(b)
			}
			f.size += n
			if i += n; i == len(b) {
				return i
			}
		}
		if f.size++; f.size > f.max {
			f.phase = phaseTooLong
			return len(b)
		}
		i++
		if f.step(b[i-1]); f.phase != phaseStartLine && f.phase != phaseHeaders {
			return i
		}
	}
	return len(b)
}

// opaque reports whether the bytes up to the next CR leave the state as
// it is: in the start line, or in the value of a field framer does not
// read, with no CR pending.
func (f *framer) opaque() bool {
	if f.cr {
		return false
	}
	return f.phase == phaseStartLine || (f.phase == phaseHeaders && !f.lineStart && f.inValue && !f.isLength)
}

func (f *framer) step(c byte) {
	if f.cr {
		f.cr = false
		if c == '\n' {
			f.lineEnd()
			return
		}
		// A CR alone: sipgo refuses the message. The CR is dropped.
	}
	if c == '\r' {
		f.cr = true
		return
	}
	if f.phase == phaseStartLine {
		return
	}
	if f.lineStart {
		f.lineStart = false
		if (c == ' ' || c == '\t') && f.headers {
			// A folded line goes on with the field above it, joined by a space.
			f.fieldByte(' ')
			return
		}
		f.headers = true
		f.inValue, f.isLength, f.nameLen, f.nameSpace, f.nameOther = false, false, 0, false, false
	}
	f.fieldByte(c)
}

func (f *framer) lineEnd() {
	switch {
	case f.phase == phaseStartLine:
		f.phase, f.lineStart = phaseHeaders, true
	case f.lineStart:
		f.endHeaders()
	default:
		f.lineStart = true
		if f.isLength {
			// Taken now, retaken if a folded line follows.
			f.hasLength = f.valueState == valueDigits || f.valueState == valueTrail
			f.length = f.value
		}
	}
}

// endHeaders starts the body. A message with no usable Content-Length is
// taken to have none; sipgo refuses it.
func (f *framer) endHeaders() {
	n := uint64(0)
	if f.hasLength {
		n = f.length
	}
	switch {
	case uint64(f.size)+n > uint64(f.max):
		f.phase = phaseTooLong
	case n == 0:
		f.phase = phaseIdle
	default:
		f.phase, f.body = phaseBody, n
	}
}

// fieldByte reads one byte of a header line, as sipgo's header parser
// would once the line is whole: the name is what comes before the first
// colon, both name and value are trimmed of whitespace.
func (f *framer) fieldByte(c byte) {
	if f.inValue {
		if f.isLength {
			f.valueByte(c)
		}
		return
	}
	switch {
	case c == ':':
		n := string(f.name[:f.nameLen])
		f.inValue = true
		f.isLength = !f.nameOther && (n == "content-length" || n == "l")
		f.value, f.valueState = 0, valueLead
	case isSpace(c):
		f.nameSpace = f.nameLen > 0
	case f.nameSpace || f.nameLen == len(f.name):
		f.nameOther = true
	default:
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		f.name[f.nameLen] = c
		f.nameLen++
	}
}

// valueByte reads one byte of a Content-Length value as strconv.ParseUint
// with 32 bits does.
func (f *framer) valueByte(c byte) {
	switch {
	case isSpace(c):
		if f.valueState == valueDigits {
			f.valueState = valueTrail
		}
	case '0' <= c && c <= '9' && f.valueState <= valueDigits:
		f.value = f.value*10 + uint64(c-'0')
		f.valueState = valueDigits
		if f.value > math.MaxUint32 {
			f.valueState = valueBad
		}
	default:
		f.valueState = valueBad
	}
}

// isSpace is the ASCII whitespace bytes.TrimSpace removes (CR never reaches
// here).
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f'
}
