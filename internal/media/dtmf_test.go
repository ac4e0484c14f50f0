package media

import (
	"errors"
	"net"
	"sync"
	"testing"

	"github.com/pion/rtp"
)

// sendEvent sends one RFC 4733 key press from the caller's address: the
// key down, then the end packet three times.
func sendEvent(t *testing.T, caller, server *Stream, key byte, ts uint32) {
	t.Helper()
	for i, flags := range []byte{10, 0x8a, 0x8a, 0x8a} {
		pkt, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 101, SequenceNumber: uint16(ts) + uint16(i), Timestamp: ts, SSRC: 1},
			Payload: []byte{byte(indexKey(t, key)), flags, 0, 160}}).Marshal()
		if err := writeRaw(caller, pkt, server.LocalAddr()); err != nil {
			t.Fatal(err)
		}
	}
}

func indexKey(t *testing.T, key byte) int {
	for i := range len(DTMFKeys) {
		if DTMFKeys[i] == key {
			return i
		}
	}
	t.Fatalf("%q is not a key", key)
	return 0
}

func digitsOf(rs []Received) string {
	var b []byte
	for _, r := range rs {
		if r.Digit != 0 {
			b = append(b, r.Digit)
		}
	}
	return string(b)
}

// Key presses by SIP INFO come on Received as RFC 4733 events do, in the
// order they came, between the audio packets.
func TestInjectDigitOnReceived(t *testing.T) {
	server, caller := pair(t, "")
	sendTone(t, caller, 1)
	if got := receive(t, server, 1); got[0].PCM == nil {
		t.Fatalf("received %+v; want audio", got)
	}
	for _, key := range []byte("19*#AD") {
		if err := server.InjectDigit(key); err != nil {
			t.Fatal(err)
		}
	}
	if err := server.InjectDigit('x'); err == nil {
		t.Fatal("InjectDigit('x') accepted a key that is not DTMF")
	}
	sendTone(t, caller, 1)
	got := receive(t, server, 7)
	if digitsOf(got) != "19*#AD" || got[6].PCM == nil {
		t.Fatalf("received %+v; want the keys 19*#AD in order, then audio", got)
	}
}

// A gateway that sends each press both ways: the first way a key came is
// the call's; presses the other way are dropped and counted.
func TestDigitsTakeTheCallsFirstWay(t *testing.T) {
	t.Run("RFC 4733 first", func(t *testing.T) {
		server, caller := pair(t, "")
		sendEvent(t, caller, server, '4', 1000)
		if got := receive(t, server, 1); digitsOf(got) != "4" {
			t.Fatalf("received %+v; want 4", got)
		}
		if err := server.InjectDigit('4'); err != nil {
			t.Fatal(err)
		}
		sendEvent(t, caller, server, '2', 2000)
		if got := receive(t, server, 1); digitsOf(got) != "2" {
			t.Fatalf("received %+v; want 2: the INFO copy of 4 dropped", got)
		}
		if n := server.Stats().DoubledDigits.Load(); n != 1 {
			t.Fatalf("DoubledDigits = %d; want 1", n)
		}
	})
	t.Run("INFO first", func(t *testing.T) {
		server, caller := pair(t, "")
		if err := server.InjectDigit('4'); err != nil {
			t.Fatal(err)
		}
		sendEvent(t, caller, server, '4', 1000)
		sendTone(t, caller, 1)
		if got := receive(t, server, 2); digitsOf(got) != "4" || got[1].PCM == nil {
			t.Fatalf("received %+v; want 4 then audio: the RFC 4733 copy dropped", got)
		}
		if n := server.Stats().DoubledDigits.Load(); n != 1 {
			t.Fatalf("DoubledDigits = %d; want 1", n)
		}
	})
}

// A call that reads nothing does not hold the INFO's transaction for
// ever; a closed stream says so, also to an InjectDigit racing the close.
func TestInjectDigitNotReadingAndClosed(t *testing.T) {
	server, _ := pair(t, "")
	var err error
	for i := 0; err == nil; i++ {
		if i > cap(server.received) {
			t.Fatal("InjectDigit went on past a full channel")
		}
		err = server.InjectDigit('1')
	}
	if !errors.Is(err, ErrNotReading) {
		t.Fatalf("InjectDigit on a full channel: %v; want ErrNotReading", err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { _ = server.InjectDigit('2') })
	}
	server.Close()
	wg.Wait()
	if err := server.InjectDigit('3'); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("InjectDigit after Close: %v; want net.ErrClosed", err)
	}
}
