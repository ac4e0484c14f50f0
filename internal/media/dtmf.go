package media

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// DTMFKeys are the DTMF keys in RFC 4733 event code order: the key of
// event code n is DTMFKeys[n].
const DTMFKeys = "0123456789*#ABCD"

// digit maps an RFC 4733 event code to its key; 0 for no key.
func digit(event byte) byte {
	if int(event) < len(DTMFKeys) {
		return DTMFKeys[event]
	}
	return 0
}

// The ways a key press reaches openum (Stream.dtmfVia).
const (
	viaNone int32 = iota
	viaRTP        // an RFC 4733 telephone-event in the media
	viaINFO       // a SIP INFO in the dialog (InjectDigit)
)

// injectWait bounds how long InjectDigit waits for the call to take a key
// press; the SIP transaction that carries it is waiting too.
const injectWait = time.Second

// ErrNotReading is InjectDigit's error when the call did not take the key
// press in time: nothing reads Received.
var ErrNotReading = errors.New("media: the call is not reading key presses")

// takeDigit reports whether a key press that came by way via is the call's.
// A gateway sends each press one way, RFC 4733 or SIP INFO; one configured
// to send both would have every key counted twice, a PIN entered as
// "11223344". So the way of the call's first key press is the call's, and
// presses that come the other way are dropped and counted (DoubledDigits).
func (s *Stream) takeDigit(via int32) bool {
	if s.dtmfVia.CompareAndSwap(viaNone, via) || s.dtmfVia.Load() == via {
		return true
	}
	s.stats.DoubledDigits.Add(1)
	return false
}

// InjectDigit delivers a key press that came outside the media (a SIP
// INFO) on Received, in arrival order with the audio and the RFC 4733
// events, under the same rule (see takeDigit): a press dropped there
// returns nil. It waits at most a second for the call to take the key:
// then ErrNotReading; net.ErrClosed once the stream is closed.
func (s *Stream) InjectDigit(key byte) error {
	if strings.IndexByte(DTMFKeys, key) < 0 {
		return fmt.Errorf("media: %q is not a DTMF key", key)
	}
	// readLoop closes received under the write lock: it stays open while
	// this holds the read lock, and done is closed before.
	s.closing.RLock()
	defer s.closing.RUnlock()
	select {
	case <-s.done:
		return net.ErrClosed
	default:
	}
	if !s.takeDigit(viaINFO) {
		return nil
	}
	t := time.NewTimer(injectWait)
	defer t.Stop()
	select {
	case s.received <- Received{Digit: key}:
		return nil
	case <-s.done:
		return net.ErrClosed
	case <-t.C:
		return ErrNotReading
	}
}

// closeReceived closes received once no InjectDigit is sending on it.
func (s *Stream) closeReceived() {
	s.closing.Lock()
	defer s.closing.Unlock()
	close(s.received)
}
