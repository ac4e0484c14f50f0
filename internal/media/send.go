package media

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/pion/rtp"
)

// Send sends one frame of audio (FrameSamples samples) now.
// On hold the frame is counted in the timestamps but not sent.
func (s *Stream) Send(pcm []int16) error {
	n := s.negotiated.Load()
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	ts := s.ts
	s.ts += uint32(len(pcm))
	if !n.send {
		return nil
	}
	encode(s.packet(n.codec, false, ts, len(pcm)), pcm, n.codec)
	return s.write(n)
}

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
func (s *Stream) write(n *negotiated) error {
	raw := s.raw
	if n.out != nil {
		var err error
		if raw, err = n.out.EncryptRTP(s.buf[:0], s.raw, &s.hdr); err != nil {
			return err
		}
		s.buf = raw
	}
	_, err := s.conn.WriteToUDPAddrPort(raw, n.remote)
	return err
}

// encode encodes pcm into dst with the codec of payload type pt.
func encode(dst []byte, pcm []int16, pt uint8) {
	if pt == PCMA {
		for i, v := range pcm {
			dst[i] = EncodeALaw(v)
		}
		return
	}
	for i, v := range pcm {
		dst[i] = EncodeULaw(v)
	}
}

// Play sends pcm paced in real time, one frame every 20 ms, until it ends
// or ctx is done.
func (s *Stream) Play(ctx context.Context, pcm []int16) error {
	tick := time.NewTicker(FrameDuration)
	defer tick.Stop()
	for i := 0; i < len(pcm); i += FrameSamples {
		frame := pcm[i:min(i+FrameSamples, len(pcm))]
		if len(frame) < FrameSamples {
			frame = append(frame[:len(frame):len(frame)], make([]int16, FrameSamples-len(frame))...)
		}
		if err := s.Send(frame); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.done:
			return net.ErrClosed
		case <-tick.C:
		}
	}
	return nil
}
