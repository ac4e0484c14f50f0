package media

import (
	"errors"
	"net"
	"time"

	"github.com/pion/rtp"
)

// receivedDepth is how many packets Received holds for a slow reader; the
// socket's buffer in the kernel holds seconds more, so a reader that falls
// behind for a moment loses nothing.
const receivedDepth = 16

// receiver is readLoop's state: the buffers each packet passes through,
// reused so that a packet allocates nothing in steady state (at 50 packets
// a second a call, allocations are what the garbage collector pays for).
type receiver struct {
	buf       []byte
	pkt       rtp.Packet
	received  chan Received // to tell how many values wait for the reader
	sent      uint64        // values sent on received
	lent      []lent        // audio sent, perhaps still read, oldest first
	free      [][]int16
	lastEvent uint32
	sawEvent  bool
}

// lent is the audio buffer of the sent-th value sent on Received.
type lent struct {
	sent uint64
	pcm  []int16
}

// frame returns a buffer for the next packet's audio. A Received's PCM is
// valid until its reader takes the next value; the reader has taken at
// least sent-len(received) of the values sent (more if InjectDigit's wait
// among them), so the buffers lent before the last of those are free
// again. A reader that keeps up leaves two or three buffers lent; one that
// falls behind, receivedDepth+2 at most.
func (rx *receiver) frame(n int) []int16 {
	taken, done := rx.sent-uint64(len(rx.received)), 0
	for done < len(rx.lent) && rx.lent[done].sent+1 < taken {
		rx.free = append(rx.free, rx.lent[done].pcm)
		done++
	}
	rx.lent = rx.lent[:copy(rx.lent, rx.lent[done:])]
	var pcm []int16
	if k := len(rx.free); k > 0 && cap(rx.free[k-1]) >= n {
		pcm, rx.free = rx.free[k-1][:n], rx.free[:k-1]
	} else {
		pcm = make([]int16, n, max(n, FrameSamples))
	}
	rx.lent = append(rx.lent, lent{rx.sent, pcm})
	return pcm
}

func (s *Stream) readLoop() {
	defer s.closeReceived()
	rx := &receiver{buf: make([]byte, 1500), received: s.received}
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
			rx.sent++
			continue
		default:
		}
		select {
		case s.received <- r:
			rx.sent++
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
