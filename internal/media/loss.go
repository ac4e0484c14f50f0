package media

// lossCounter counts the RTP packets of a stream that never came, as RFC
// 3550 A.3 reckons them: the packets expected from the first sequence
// number to the highest (extended across wrap-around), less those
// received. A late packet lowers the count again; a duplicate can take it
// below zero, so it is read as zero then. A new SSRC, or a jump of more
// than maxDropout (a sender that restarted), starts a new count and keeps
// the old one's losses.
type lossCounter struct {
	started  bool
	ssrc     uint32
	base     uint64 // the first extended sequence number of the count
	highest  uint64 // the highest extended sequence number seen
	received uint64
	banked   uint64 // the losses of counts ended
}

// maxDropout is RFC 3550 A.1's MAX_DROPOUT: a larger jump ahead is a new
// sequence, not 3,000 packets lost.
const maxDropout = 3000

// packet counts one packet and returns the stream's losses so far.
func (l *lossCounter) packet(ssrc uint32, seq uint16) uint64 {
	// Extended numbers start at 1<<16, so that a packet late across the
	// first wrap-around stays positive.
	ext := l.highest + uint64(int64(int16(seq-uint16(l.highest))))
	switch {
	case !l.started || ssrc != l.ssrc || (ext > l.highest && ext-l.highest > maxDropout) || (ext < l.highest && l.highest-ext > maxDropout):
		l.banked = l.lost()
		l.started, l.ssrc, l.received = true, ssrc, 0
		ext = 1<<16 | uint64(seq)
		l.base, l.highest = ext, ext
	case ext > l.highest:
		l.highest = ext
	case ext < l.base:
		l.base = ext // a packet sent before the first to arrive
	}
	l.received++
	return l.lost()
}

// lost is the losses of the counts ended and of this one.
func (l *lossCounter) lost() uint64 {
	if !l.started {
		return l.banked
	}
	expected := l.highest - l.base + 1
	if l.received >= expected {
		return l.banked
	}
	return l.banked + expected - l.received
}
