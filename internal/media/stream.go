package media

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
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
	PCM       []int16 // nil for a key press; valid until the next receive: copy it to keep it
	Digit     byte    // '0'-'9', '*', '#', 'A'-'D'; 0 for audio
}

// Stream is one call's audio on one UDP port: G.711 over RTP, or over SRTP
// when the answer carries keys. It accepts packets only from the address
// the caller's SDP gave, so nobody else can inject audio into the call.
// A Stream is safe for concurrent use. One of a few clocks shared by
// all streams receives its packets and paces what it plays (clock.go).
type Stream struct {
	sock       *socket
	sc         syscall.RawConn // sock's, for reads and writes that do not wait
	clock      *clock
	turn       int // which of its clock's ticks read it (see receiveEvery)
	negotiated atomic.Pointer[negotiated]

	rxMu sync.Mutex // guards rx; held through a tick's receiving
	rx   receiver

	sendMu     sync.Mutex // guards what follows, up to received
	ssrc       uint32
	seq        uint16
	ts         uint32
	hdr        rtp.Header // the packet being sent
	raw        []byte     // the packet being sent, as RTP
	buf        []byte     // the packet being sent, as SRTP
	playing    *Playback  // what StartPlay is sending, if anything
	sendClosed bool       // set by Close: a play that starts later ends at once
	family     int        // the socket's address family
	writeFD    func(fd uintptr) bool
	out        []byte // what write and writeFD pass each other (see receiver.readFD)
	outTo      syscall.Sockaddr
	outErr     error

	received chan Received
	closing  sync.RWMutex // held to send on received from outside readLoop; taken whole to close it
	dtmfVia  atomic.Int32 // the way this call's key presses come (see takeDigit)
	done     chan struct{}
	stop     sync.Once
	stats    Stats
}

// negotiated is what the two descriptions settled: replaced whole by a
// re-INVITE, never changed in place.
type negotiated struct {
	remote      netip.AddrPort
	to          syscall.Sockaddr // remote, as the socket sends to it
	from        netip.AddrPort   // remote unmapped, as packets come from it
	codec       uint8
	event       int
	send        bool // false while the call is on hold or receive-only
	callerSends bool
	decode      *[256]int16
	out         *srtp.Context // nil for RTP
	in          *srtp.Context
	keys        [2]string // our key and the caller's, to tell a rekey
}

// Stats counts what a stream received.
type Stats struct {
	Packets       atomic.Uint64 // accepted RTP packets
	Foreign       atomic.Uint64 // dropped: not from the caller's address
	Bad           atomic.Uint64 // dropped: not RTP, failed authentication or replayed
	Lost          atomic.Uint64 // never came: gaps in the sequence numbers (RFC 3550 A.3)
	DoubledDigits atomic.Uint64 // key presses dropped: they came the other way than the call's first (see takeDigit)
	Last          atomic.Int64  // when the last accepted packet came, in Unix nanoseconds
}

// newStream starts the stream the remote and local descriptions negotiated
// on sock, which it then owns (see Port.Start).
func newStream(sock *socket, remote *Remote, local *Local) (*Stream, error) {
	s := &Stream{
		sock: sock, sc: sock.raw, family: sock.family, received: make(chan Received, receivedDepth), done: make(chan struct{}),
		seq: uint16(rand.Uint32()), ts: rand.Uint32(), ssrc: rand.Uint32(),
	}
	s.rx.readFD = s.rx.readBatch
	s.writeFD = s.writeFDOnce
	if err := s.Update(remote, local); err != nil {
		return nil, err
	}
	join(s)
	return s, nil
}

// Update applies new remote and local descriptions (a re-INVITE: new
// address, hold, new keys). The SRTP contexts are rebuilt only when a key changed, so the
// replay window and rollover counter carry on otherwise.
func (s *Stream) Update(remote *Remote, local *Local) error {
	old := s.negotiated.Load()
	n := &negotiated{
		remote: remote.Addr, to: sockaddr(s.family, remote.Addr), from: addrPortUnmap(remote.Addr), codec: local.Codec, event: local.Event,
		send: local.Direction.Sends(), callerSends: remote.Direction == SendRecv,
		decode: decoderFor(local.Codec),
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
func (s *Stream) LocalAddr() netip.AddrPort { return s.sock.local }

// Close stops the stream and closes its port, and Received.
func (s *Stream) Close() error {
	var err error
	s.stop.Do(func() {
		close(s.done)
		s.clock.leave(s)
		s.readRest() // what came since the clock's last read counts too
		s.sendMu.Lock()
		s.sendClosed = true
		if s.playing != nil {
			s.playing.done <- net.ErrClosed
			s.playing = nil
		}
		s.sendMu.Unlock()
		s.rxMu.Lock()
		s.rx.closed = true // the clock may be in this stream's tick until here
		s.rxMu.Unlock()
		s.closeReceived()
		err = s.sock.Close()
	})
	return err
}

func addrPortUnmap(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}
