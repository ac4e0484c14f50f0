package media

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// FrameSamples is the audio in one packet: 20 ms at 8 kHz.
const FrameSamples = 160

// FrameDuration is the time one packet's audio lasts.
const FrameDuration = 20 * time.Millisecond

// replayWindow is how many packets back SRTP replay protection remembers.
const replayWindow = 128

// Received is one packet of the caller's audio, decoded, or the end of a
// DTMF key press (an RFC 4733 event, or a SIP INFO: see InjectDigit).
type Received struct {
	Timestamp uint32  // the RTP timestamp; 0 for a key press by SIP INFO
	PCM       []int16 // nil for a key press
	Digit     byte    // '0'-'9', '*', '#', 'A'-'D'; 0 for audio
}

// Stream is one call's audio on one UDP port: G.711 over RTP, or over SRTP
// when the answer carries keys. It accepts packets only from the address
// the caller's SDP gave, so nobody else can inject audio into the call.
// A Stream is safe for concurrent use.
type Stream struct {
	conn       *net.UDPConn
	negotiated atomic.Pointer[negotiated]

	sendMu sync.Mutex
	ssrc   uint32
	seq    uint16
	ts     uint32
	buf    []byte

	received chan Received
	closing  sync.RWMutex // held to send on received from outside readLoop; taken whole to close it
	dtmfVia  atomic.Int32 // the way this call's key presses come (see takeDigit)
	done     chan struct{}
	stats    Stats
}

// negotiated is what the two descriptions settled: replaced whole by a
// re-INVITE, never changed in place.
type negotiated struct {
	remote      netip.AddrPort
	codec       uint8
	event       int
	send        bool // false while the call is on hold or receive-only
	callerSends bool
	encode      func(int16) byte
	decode      func(byte) int16
	out         *srtp.Context // nil for RTP
	in          *srtp.Context
	keys        [2]string // our key and the caller's, to tell a rekey
}

// Stats counts what a stream received.
type Stats struct {
	Packets       atomic.Uint64 // accepted RTP packets
	Foreign       atomic.Uint64 // dropped: not from the caller's address
	Bad           atomic.Uint64 // dropped: not RTP, failed authentication or replayed
	DoubledDigits atomic.Uint64 // key presses dropped: they came the other way than the call's first (see takeDigit)
	Last          atomic.Int64  // when the last accepted packet came, in Unix nanoseconds
}

// newStream starts the stream the remote and local descriptions negotiated
// on conn, which it then owns (see Port.Start).
func newStream(conn *net.UDPConn, remote *Remote, local *Local) (*Stream, error) {
	s := &Stream{
		conn: conn, received: make(chan Received, 64), done: make(chan struct{}),
		seq: uint16(rand.Uint32()), ts: rand.Uint32(), ssrc: rand.Uint32(),
	}
	if err := s.Update(remote, local); err != nil {
		return nil, err
	}
	go s.readLoop()
	return s, nil
}

// Update applies new remote and local descriptions (a re-INVITE: new
// address, hold, new keys). The SRTP contexts are rebuilt only when a key changed, so the
// replay window and rollover counter carry on otherwise.
func (s *Stream) Update(remote *Remote, local *Local) error {
	old := s.negotiated.Load()
	n := &negotiated{
		remote: remote.Addr, codec: local.Codec, event: local.Event,
		send: local.Direction.Sends(), callerSends: remote.Direction == SendRecv,
		encode: encoderFor(local.Codec), decode: decoderFor(local.Codec),
	}
	if local.Crypto != nil {
		var err error
		if old != nil && old.out != nil && sameKey(old, local) {
			n.out, n.in = old.out, old.in
		} else {
			if n.out, err = srtpContext(local.Crypto); err != nil {
				return err
			}
			if n.in, err = srtpContext(local.RemoteCrypto, srtp.SRTPReplayProtection(replayWindow), srtp.SRTCPReplayProtection(replayWindow)); err != nil {
				return err
			}
		}
		n.keys = [2]string{string(local.Crypto.Key), string(local.RemoteCrypto.Key)}
	}
	s.negotiated.Store(n)
	return nil
}

func sameKey(old *negotiated, a *Local) bool {
	return old.keys == [2]string{string(a.Crypto.Key), string(a.RemoteCrypto.Key)}
}

func srtpContext(c *Crypto, opts ...srtp.ContextOption) (*srtp.Context, error) {
	p, ok := profile(c.Suite)
	if !ok {
		return nil, fmt.Errorf("media: unknown SRTP suite %q", c.Suite)
	}
	keyLen, err := p.KeyLen()
	if err != nil {
		return nil, err
	}
	ctx, err := srtp.CreateContext(c.Key[:keyLen], c.Key[keyLen:], p, opts...)
	if err != nil {
		return nil, fmt.Errorf("media: SRTP %s: %w", c.Suite, err)
	}
	return ctx, nil
}

// Quiet reports whether the caller, who should be sending, has sent nothing
// for d (since the stream started, or its last packet).
func (s *Stream) Quiet(d time.Duration, since time.Time) bool {
	if !s.negotiated.Load().callerSends {
		return false // on hold: silence is expected
	}
	last := since
	if n := s.stats.Last.Load(); n != 0 {
		last = time.Unix(0, n)
	}
	return time.Since(last) > d
}

// Received returns the caller's audio and key presses, in arrival order.
// It is closed when the stream closes.
func (s *Stream) Received() <-chan Received { return s.received }

// Stats returns the stream's counters.
func (s *Stream) Stats() *Stats { return &s.stats }

// LocalAddr returns the address the stream receives on.
func (s *Stream) LocalAddr() netip.AddrPort { return addrPortOf(s.conn.LocalAddr()) }

// Close stops the stream and closes its port.
func (s *Stream) Close() error {
	select {
	case <-s.done:
		return nil
	default:
	}
	close(s.done)
	return s.conn.Close()
}

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
	payload := make([]byte, len(pcm))
	for i, v := range pcm {
		payload[i] = n.encode(v)
	}
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: n.codec, SequenceNumber: s.seq, Timestamp: ts, SSRC: s.ssrc}, Payload: payload}
	s.seq++
	return s.write(n, &pkt)
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
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: uint8(n.event), SequenceNumber: s.seq, Timestamp: ts, SSRC: s.ssrc, Marker: i == 0},
			Payload: []byte{byte(code), flags, duration >> 8, duration & 0xFF}}
		s.seq++
		if err := s.write(n, &pkt); err != nil {
			return err
		}
	}
	s.ts += duration
	return nil
}

// write encrypts (for SRTP) and sends one packet. The caller holds sendMu.
func (s *Stream) write(n *negotiated, pkt *rtp.Packet) error {
	raw, err := pkt.Marshal()
	if err != nil {
		return err
	}
	if n.out != nil {
		if raw, err = n.out.EncryptRTP(s.buf[:0], raw, &pkt.Header); err != nil {
			return err
		}
		s.buf = raw
	}
	_, err = s.conn.WriteToUDPAddrPort(raw, n.remote)
	return err
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

func (s *Stream) readLoop() {
	defer s.closeReceived()
	buf := make([]byte, 1500)
	var lastEvent uint32
	var sawEvent bool
	for {
		n, from, err := s.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		neg := s.negotiated.Load()
		if addrPortUnmap(from) != addrPortUnmap(neg.remote) {
			s.stats.Foreign.Add(1)
			continue
		}
		r, ok := neg.parse(buf[:n], &s.stats)
		if !ok {
			s.stats.Bad.Add(1)
			continue // keep reading: some clients send short non-RTP packets first
		}
		if r == nil {
			continue
		}
		if r.Digit != 0 {
			if sawEvent && r.Timestamp == lastEvent {
				continue // RFC 4733 repeats the end packet: one key press
			}
			lastEvent, sawEvent = r.Timestamp, true
			if !s.takeDigit(viaRTP) {
				continue
			}
		}
		select {
		case s.received <- *r:
		case <-s.done:
			return
		}
	}
}

// parse authenticates and decodes one datagram. It returns nil, true for a
// valid packet that carries nothing to record (RTCP, an event still going).
func (s *negotiated) parse(data []byte, stats *Stats) (*Received, bool) {
	if len(data) < 12 || data[0]>>6 != 2 {
		return nil, false
	}
	if pt := data[1] & 0x7F; pt >= 72 && pt <= 76 {
		// RTCP multiplexed on the RTP port (RFC 5761): check it, keep nothing.
		if s.in != nil {
			if _, err := s.in.DecryptRTCP(nil, data, nil); err != nil {
				return nil, false
			}
		}
		return nil, true
	}
	var h rtp.Header
	if _, err := h.Unmarshal(data); err != nil {
		return nil, false
	}
	if s.in != nil {
		plain, err := s.in.DecryptRTP(nil, data, &h)
		if err != nil {
			return nil, false
		}
		data = plain
	}
	var pkt rtp.Packet
	if err := pkt.Unmarshal(data); err != nil {
		return nil, false
	}
	stats.Packets.Add(1)
	stats.Last.Store(time.Now().UnixNano())
	switch {
	case pkt.PayloadType == s.codec:
		pcm := make([]int16, len(pkt.Payload))
		for i, b := range pkt.Payload {
			pcm[i] = s.decode(b)
		}
		return &Received{Timestamp: pkt.Timestamp, PCM: pcm}, true
	case s.event >= 0 && int(pkt.PayloadType) == s.event && len(pkt.Payload) >= 4:
		if pkt.Payload[1]&0x80 == 0 {
			return nil, true // the key is still down
		}
		if d := digit(pkt.Payload[0]); d != 0 {
			return &Received{Timestamp: pkt.Timestamp, Digit: d}, true
		}
	}
	return nil, true
}

func addrPortOf(a net.Addr) netip.AddrPort {
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}

func addrPortUnmap(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}
