package media

import (
	"net/netip"
	"sync"
	"time"

	"github.com/pion/rtp"
)

// receivedDepth is how many packets Received holds for a slow reader (160
// ms); the socket's buffer in the kernel holds seconds more, so a reader
// that falls behind for a moment loses nothing.
const receivedDepth = 8

// receiver is the state of a stream's receiving, which its clock runs: the
// buffers each packet passes through, reused so that a packet allocates
// nothing in steady state (at 50 packets a second a call, allocations are
// what the garbage collector pays for).
type receiver struct {
	pkt       rtp.Packet
	frames    [receivedDepth + 2][]int16 // see frame
	next      int
	lastEvent uint32
	sawEvent  bool
	loss      lossCounter

	sink    func(ts uint32, pcm []int16) // see Stream.Sink; nil: audio goes on Received
	scratch []int16                      // the audio handed to sink
	held    Received                     // a value Received had no room for, when stalled
	stalled bool
	spill   []datagram // read after held, to handle once it goes
	closed  bool
	now     int64 // the tick's time, Unix nanoseconds: when its packets came, near enough

	// What read and readFD pass each other: RawConn.Read takes a func,
	// and readFD, made once, keeps a read from allocating a closure.
	readFD func(fd uintptr) bool
	batch  *batch
	n      int
	err    error
}

// frame returns the buffer for the next packet's audio. Audio for a sink
// goes in one buffer, the sink being done with it when it returns. Audio
// for Received goes in a ring of receivedDepth+2: a Received's PCM is
// valid until its reader takes the next value, and the reader's taking
// value k+1 happens before the send of value k+1+receivedDepth completes
// (the channel's capacity); only after that does the next packet's audio
// go into value k's buffer (a value Received has no room for is held, and
// no packet read, until it goes). The race detector checks this;
// len(received) would tell sooner that the reader is done, but not in a
// way the memory model orders.
func (rx *receiver) frame(n int) []int16 {
	f := &rx.scratch
	if rx.sink == nil {
		f = &rx.frames[rx.next]
		rx.next = (rx.next + 1) % len(rx.frames)
	}
	if cap(*f) < n || *f == nil {
		*f = make([]int16, n, max(n, FrameSamples))
	}
	return (*f)[:n]
}

// receive handles what the stream's socket holds now, up to maxPerTick
// packets, on its clock's tick; b is the clock's, where datagrams are
// read. A value Received has no room for waits for the next tick, and
// nothing more is handled meanwhile: what the socket holds stays there,
// and what a read took with it waits in the stream (spill). It returns how
// many packets it accepted. now is the tick's.
func (s *Stream) receive(b *batch, now time.Time) int {
	s.rxMu.Lock()
	defer s.rxMu.Unlock()
	s.rx.now = now.UnixNano()
	before := s.stats.Packets.Load()
	s.drain(b)
	return int(s.stats.Packets.Load() - before)
}

// readRest handles what the stream's socket holds now, outside its clock's
// ticks, in a batch of its own: the packets that came since the clock last
// read it, which a hang-up would otherwise leave unread (receiveEvery
// ticks of the caller's audio, the end of a message; seconds of it on a
// server behind). It reads up to restReads times maxPerTick packets, a
// socket's buffer of them, so that a flood cannot hold it.
func (s *Stream) readRest() {
	b := restBatches.Get().(*batch)
	defer restBatches.Put(b)
	for range restReads {
		n := s.receive(b, time.Now())
		Totals.Received.Add(uint64(n))
		if n < maxPerTick {
			return
		}
	}
}

// restReads bounds readRest: 256 packets, about what a socket's default
// buffer holds (five seconds of a call).
const restReads = 4

// restBatches are readRest's batches; a clock's are its own goroutine's.
var restBatches = sync.Pool{New: func() any { return newBatch() }}

// drain is receive's body. The caller holds rxMu.
func (s *Stream) drain(b *batch) {
	rx := &s.rx
	if rx.closed || rx.stalled && !s.deliver(rx.held) {
		return
	}
	rx.stalled, rx.held = false, Received{}
	for len(rx.spill) > 0 {
		d := rx.spill[0]
		rx.spill = rx.spill[1:]
		if !s.handle(d.data, d.from) {
			return
		}
	}
	for read := 0; read < maxPerTick; {
		n, err := s.read(b)
		if err != nil {
			return // nothing now (EAGAIN), or the port closed
		}
		for i := range n {
			if !s.handle(b.packet(i)) {
				for j := i + 1; j < n; j++ {
					data, from := b.packet(j)
					rx.spill = append(rx.spill, datagram{append([]byte(nil), data...), from})
				}
				return
			}
		}
		if read += n; n < batchSize {
			return // the socket is empty
		}
	}
}

// datagram is one read and not yet handled (see receive).
type datagram struct {
	data []byte
	from netip.AddrPort
}

// handle checks and passes on one datagram; it reports false when its
// value is held for want of room on Received.
func (s *Stream) handle(data []byte, from netip.AddrPort) bool {
	rx := &s.rx
	neg := s.negotiated.Load()
	if addrPortUnmap(from) != neg.from {
		s.stats.Foreign.Add(1)
		return true
	}
	r, keep, ok := rx.parse(neg, data, &s.stats)
	switch {
	case !ok:
		s.stats.Bad.Add(1) // and on: some clients send short non-RTP packets first
		return true
	case !keep:
		return true
	case r.Digit != 0:
		if rx.sawEvent && r.Timestamp == rx.lastEvent {
			return true // RFC 4733 repeats the end packet: one key press
		}
		rx.lastEvent, rx.sawEvent = r.Timestamp, true
		if !s.takeDigit(viaRTP) {
			return true
		}
	case rx.sink != nil:
		rx.sink(r.Timestamp, r.PCM)
		return true
	}
	if !s.deliver(r) {
		rx.held, rx.stalled = r, true
		return false
	}
	return true
}

// deliver puts r on Received if it has room.
func (s *Stream) deliver(r Received) bool {
	select {
	case s.received <- r:
		return true
	default:
		return false
	}
}

// read reads what the socket holds into b, without waiting.
func (s *Stream) read(b *batch) (int, error) {
	rx := &s.rx
	rx.batch = b
	if err := s.sc.Read(rx.readFD); err != nil {
		return 0, err // closed
	}
	return rx.n, rx.err
}

// readBatch is readFD's body.
func (rx *receiver) readBatch(fd uintptr) bool {
	rx.n, rx.err = rx.batch.read(fd)
	return true // done, data or not: the clock comes back next tick
}

// Sink has the stream hand the caller's audio to fn, in arrival order,
// instead of putting it on Received (key presses still come there), and
// returns the sink it replaces; Sink(nil) puts audio on Received again.
// Once Sink returns, the sink replaced is not called again. fn runs on the
// clock that serves many streams: it must be quick and never block, and
// copy pcm to keep it.
func (s *Stream) Sink(fn func(ts uint32, pcm []int16)) (old func(ts uint32, pcm []int16)) {
	s.rxMu.Lock()
	defer s.rxMu.Unlock()
	old, s.rx.sink = s.rx.sink, fn
	if rx := &s.rx; fn != nil && rx.stalled && rx.held.Digit == 0 {
		// Audio held for want of room on Received is the sink's now: the
		// stream must not wait (its socket unread) for a reader of keys.
		fn(rx.held.Timestamp, rx.held.PCM)
		rx.stalled, rx.held = false, Received{}
	}
	return old
}

// Discard is a sink (see Stream.Sink) that drops the caller's audio, for a
// call that only listens for key presses: its audio is still checked,
// counted and timed, but wakes no reader.
func Discard(uint32, []int16) {}

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
	stats.Last.Store(rx.now)
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
