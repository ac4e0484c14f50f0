package media

import (
	"errors"
	"net"
	"time"

	"github.com/pion/rtp"
)

// receivedDepth is how many packets Received holds for a slow reader (160
// ms); the socket's buffer in the kernel holds seconds more, so a reader
// that falls behind for a moment loses nothing.
const receivedDepth = 8

// receiver is readLoop's state: the buffers each packet passes through,
// reused so that a packet allocates nothing in steady state (at 50 packets
// a second a call, allocations are what the garbage collector pays for).
type receiver struct {
	buf       []byte
	pkt       rtp.Packet
	frames    [receivedDepth + 2][]int16 // see frame
	next      int
	lastEvent uint32
	sawEvent  bool
	loss      lossCounter
}

// frame returns the buffer for the next packet's audio, from a ring of
// receivedDepth+2. A Received's PCM is valid until its reader takes the
// next value: the reader's taking value k+1 happens before the send of
// value k+1+receivedDepth completes (the channel's capacity), and only
// after that does the next packet's audio go into value k's buffer. The
// race detector checks this; len(received) would tell sooner that the
// reader is done, but not in a way the memory model orders.
func (rx *receiver) frame(n int) []int16 {
	f := &rx.frames[rx.next]
	rx.next = (rx.next + 1) % len(rx.frames)
	if cap(*f) < n || *f == nil {
		*f = make([]int16, n, max(n, FrameSamples))
	}
	return (*f)[:n]
}

func (s *Stream) readLoop() {
	defer s.closeReceived()
	rx := &receiver{buf: make([]byte, 1500)}
	for {
		n, from, err := s.conn.ReadFromUDPAddrPort(rx.buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		neg := s.negotiated.Load()
		if addrPortUnmap(from) != neg.from {
			s.stats.Foreign.Add(1)
			continue
		}
		r, keep, ok := rx.parse(neg, rx.buf[:n], &s.stats)
		if !ok {
			s.stats.Bad.Add(1)
			continue // keep reading: some clients send short non-RTP packets first
		}
		if !keep {
			continue
		}
		if r.Digit != 0 {
			if rx.sawEvent && r.Timestamp == rx.lastEvent {
				continue // RFC 4733 repeats the end packet: one key press
			}
			rx.lastEvent, rx.sawEvent = r.Timestamp, true
			if !s.takeDigit(viaRTP) {
				continue
			}
		}
		select {
		case s.received <- r: // the usual case, without select's locking of two channels
			continue
		default:
		}
		select {
		case s.received <- r:
		case <-s.done:
			return
		}
	}
}

// parse authenticates, decrypts in place and decodes one datagram. keep is
// false for a valid packet that carries nothing to pass on (RTCP, an event
// still going); ok is false for one to drop.
func (rx *receiver) parse(neg *negotiated, data []byte, stats *Stats) (r Received, keep, ok bool) {
	if len(data) < 12 || data[0]>>6 != 2 {
		return r, false, false
	}
	if pt := data[1] & 0x7F; pt >= 72 && pt <= 76 {
		// RTCP multiplexed on the RTP port (RFC 5761): check it, keep nothing.
		if neg.in != nil {
			if _, err := neg.in.DecryptRTCP(nil, data, nil); err != nil {
				return r, false, false
			}
		}
		return r, false, true
	}
	if neg.in != nil {
		plain, err := neg.in.DecryptRTP(data, data, &rx.pkt.Header)
		if err != nil {
			return r, false, false
		}
		data = plain
	}
	pkt := &rx.pkt
	if err := pkt.Unmarshal(data); err != nil {
		return r, false, false
	}
	stats.Packets.Add(1)
	stats.Last.Store(time.Now().UnixNano())
	stats.Lost.Store(rx.loss.packet(pkt.SSRC, pkt.SequenceNumber))
	switch {
	case pkt.PayloadType == neg.codec:
		pcm := rx.frame(len(pkt.Payload))
		for i, b := range pkt.Payload {
			pcm[i] = neg.decode[b]
		}
		return Received{Timestamp: pkt.Timestamp, PCM: pcm}, true, true
	case neg.event >= 0 && int(pkt.PayloadType) == neg.event && len(pkt.Payload) >= 4:
		if pkt.Payload[1]&0x80 == 0 {
			return r, false, true // the key is still down
		}
		if d := digit(pkt.Payload[0]); d != 0 {
			return Received{Timestamp: pkt.Timestamp, Digit: d}, true, true
		}
	}
	return r, false, true
}
