package media

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"time"

	"github.com/pion/rtp"
)

// Send sends one frame of audio (FrameSamples samples) now.
// On hold the frame is counted in the timestamps but not sent.
func (s *Stream) Send(pcm []int16) error {
	n := s.negotiated.Load()
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	return s.send(n, pcm, len(pcm))
}

// send sends pcm as a frame of size samples, silence after pcm's. The
// caller holds sendMu.
func (s *Stream) send(n *negotiated, pcm []int16, size int) error {
	ts := s.ts
	s.ts += uint32(size)
	if !n.send {
		return nil
	}
	payload := s.packet(n.codec, false, ts, size)
	encode(payload, pcm, n.codec)
	encode(payload[len(pcm):], silence[:size-len(pcm)], n.codec)
	return s.write(n)
}

// silence pads a short last frame.
var silence [FrameSamples]int16

// SendDigit sends a key press as RFC 4733 telephone-events: one packet
// with the key down and three end packets, as the RFC recommends.
func (s *Stream) SendDigit(key byte) error {
	n := s.negotiated.Load()
	if n.event < 0 {
		return errors.New("media: the call negotiated no telephone-event")
	}
	code := strings.IndexByte(DTMFKeys, key)
	if code < 0 {
		return fmt.Errorf("media: %q is not a DTMF key", key)
	}
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	ts := s.ts
	const duration = 800 // 100 ms
	for i, end := range []bool{false, true, true, true} {
		flags := byte(10) // volume -10 dBm0
		if end {
			flags |= 0x80
		}
		copy(s.packet(uint8(n.event), i == 0, ts, 4), []byte{byte(code), flags, duration >> 8, duration & 0xFF})
		if err := s.write(n); err != nil {
			return err
		}
	}
	s.ts += duration
	return nil
}

// packet starts the next packet in the stream's buffer: its header, then
// size bytes of payload, which it returns to be filled. The caller holds
// sendMu.
func (s *Stream) packet(pt uint8, marker bool, ts uint32, size int) []byte {
	s.hdr = rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: s.seq, Timestamp: ts, SSRC: s.ssrc, Marker: marker}
	s.seq++
	hl := s.hdr.MarshalSize()
	if cap(s.raw) < hl+size {
		s.raw = make([]byte, hl+size)
	}
	s.raw = s.raw[:hl+size]
	_, _ = s.hdr.MarshalTo(s.raw) // cannot fail: the buffer has its size
	return s.raw[hl:]
}

// write sends the packet built by packet, encrypted for SRTP into buf, both
// buffers reused from packet to packet. The caller holds sendMu.
//
// It never waits: a clock that waited for one caller's socket would stop
// every stream it serves. On loopback a datagram stays charged to its
// sender until the receiver reads it, so a caller that stops reading
// fills our socket's buffer (seconds of audio); then the frame is dropped,
// as a full network would.
func (s *Stream) write(n *negotiated) error {
	raw := s.raw
	if n.out != nil {
		var err error
		if raw, err = n.out.EncryptRTP(s.buf[:0], s.raw, &s.hdr); err != nil {
			return err
		}
		s.buf = raw
	}
	s.out, s.outTo = raw, n.to
	if err := s.sc.Write(s.writeFD); err != nil {
		return err // closed
	}
	if s.outErr == syscall.EAGAIN {
		return nil
	}
	return s.outErr
}

// writeFDOnce is writeFD's body: one sendto that does not wait.
func (s *Stream) writeFDOnce(fd uintptr) bool {
	s.outErr = syscall.Sendto(int(fd), s.out, syscall.MSG_DONTWAIT, s.outTo)
	return true
}

// sockaddr is the address a socket of family sends to to reach a, built
// once for each negotiation: an IPv4 address on an IPv6 socket is mapped.
func sockaddr(family int, a netip.AddrPort) syscall.Sockaddr {
	if family == syscall.AF_INET {
		sa := &syscall.SockaddrInet4{Port: int(a.Port())}
		if ip := a.Addr().Unmap(); ip.Is4() {
			sa.Addr = ip.As4()
		}
		return sa
	}
	return &syscall.SockaddrInet6{Port: int(a.Port()), Addr: a.Addr().As16()}
}

// encode encodes pcm into dst with the codec of payload type pt.
func encode(dst []byte, pcm []int16, pt uint8) {
	table := encoderFor(pt)
	for i, v := range pcm {
		dst[i] = table[uint16(v)]
	}
}

// Play sends pcm paced in real time, one frame every 20 ms, until it ends
// or ctx is done (see StartPlay).
func (s *Stream) Play(ctx context.Context, pcm []int16) error {
	p := s.StartPlay(pcm)
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		p.Stop()
		return ctx.Err()
	}
}

// StartPlay starts sending pcm paced in real time, one frame every 20 ms,
// and returns at once: Done tells when it ends. The stream's clock sends
// the frames (pace), so a playing call keeps neither a ticker nor a
// goroutine of its own; a play that starts while another plays on the
// stream takes over, and the other ends with errTakenOver.
func (s *Stream) StartPlay(pcm []int16) *Playback {
	p := &Playback{stream: s, pcm: pcm, start: time.Now(), done: make(chan error, 1)}
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	if s.sendClosed {
		p.done <- net.ErrClosed
		return p
	}
	if s.playing != nil {
		s.playing.done <- errTakenOver
	}
	s.playing = p
	s.advance(p, p.start) // the first frame now
	return p
}

var errTakenOver = errors.New("media: another Play took over the stream")

// Playback is a StartPlay in progress: frame i is due at start +
// i·FrameDuration.
type Playback struct {
	stream *Stream
	pcm    []int16
	sent   int // frames sent
	start  time.Time
	done   chan error // the outcome, once there is one (capacity 1)
}

// Done receives nil once the last frame has played, or why the play ended
// sooner: another play took over, a frame could not be sent, or the stream
// closed (net.ErrClosed). After Stop it may never receive.
func (p *Playback) Done() <-chan error { return p.done }

// Stop stops p, if it is still what its stream plays.
func (p *Playback) Stop() {
	s := p.stream
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	if s.playing == p {
		s.playing = nil
	}
}

// maxCatchUp bounds the frames a late tick sends at once: after a longer
// stall (a starved process) the schedule moves on rather than bursting
// the backlog at the caller.
const maxCatchUp = 3

// pace sends the frames due by now of what the stream plays, the clock's
// tick, and returns how many it sent.
func (s *Stream) pace(now time.Time) int {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	p := s.playing
	if p == nil {
		return 0
	}
	sent := p.sent
	s.advance(p, now)
	return p.sent - sent
}

// advance sends p's frames due by now, and ends p once its last frame has
// lasted its 20 ms or a frame cannot be sent. The caller holds sendMu.
func (s *Stream) advance(p *Playback, now time.Time) {
	frames := (len(p.pcm) + FrameSamples - 1) / FrameSamples
	due := int(now.Sub(p.start)/FrameDuration) + 1
	n := s.negotiated.Load()
	for i := 0; p.sent < min(due, frames) && i < maxCatchUp; i++ {
		frame := p.pcm[p.sent*FrameSamples : min((p.sent+1)*FrameSamples, len(p.pcm))]
		if err := s.send(n, frame, FrameSamples); err != nil {
			s.playing = nil
			p.done <- err
			return
		}
		p.sent++
	}
	switch {
	case p.sent < min(due, frames):
		p.start = now.Add(-time.Duration(p.sent-1) * FrameDuration) // late: the next frame is due next
	case p.sent == frames && due > frames:
		s.playing = nil
		p.done <- nil
	}
}
