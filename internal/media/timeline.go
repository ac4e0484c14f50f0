package media

// Timeline puts received audio in RTP timestamp order and fills what is
// missing with silence of the same length, so a recording lasts as long as
// the audio the caller sent even when packets are lost, late or reordered
// (a jitter buffer for a recorder). It holds back window samples of audio
// before releasing them. It keeps copies of the frames pushed, in buffers it
// reuses, so a call's audio allocates nothing in steady state. A Timeline
// is not safe for concurrent use.
type Timeline struct {
	window   uint32
	maxGap   uint32
	next     uint32 // timestamp of the next sample to release
	started  bool
	released bool // once audio is out, earlier frames are too late
	pending  map[uint32][]int16
	free     [][]int16 // released frames' buffers, for the next copies
	out      []int16   // what Push or Flush returned last
}

// outKept bounds the output buffer kept between calls: a gap filled with
// seconds of silence is not held for the rest of the call.
const outKept = 8 * FrameSamples

// NewTimeline returns a timeline that reorders within window samples and
// fills gaps of at most maxGap samples; a longer jump in the timestamps (a
// sender restarting its clock) restarts the timeline instead.
func NewTimeline(window, maxGap uint32) *Timeline {
	return &Timeline{window: window, maxGap: maxGap, pending: map[uint32][]int16{}}
}

// before reports whether timestamp a comes before b, across wrap-around.
func before(a, b uint32) bool { return int32(a-b) < 0 }

// Push adds a copy of a frame that starts at timestamp ts and returns the
// samples now ready, in order, valid until the next Push or Flush.
func (t *Timeline) Push(ts uint32, pcm []int16) []int16 {
	if !t.started {
		t.started, t.next = true, ts
	}
	if before(ts, t.next) {
		if t.released {
			return nil // too late, or a duplicate: already released
		}
		t.next = ts // the first frame to arrive was not the first sent
	}
	if ts-t.next > t.maxGap+t.window {
		// The sender's clock jumped: release what we have and start over.
		out := t.Flush()
		t.started, t.released, t.next = true, false, ts
		t.hold(ts, pcm)
		return out
	}
	t.hold(ts, pcm)
	out := t.output()
	for len(t.pending) > 0 && t.newest()-t.next >= t.window {
		out = t.release(out)
	}
	return t.returned(out)
}

// Flush releases everything held back, valid until the next Push or Flush.
func (t *Timeline) Flush() []int16 {
	out := t.output()
	for len(t.pending) > 0 {
		out = t.release(out)
	}
	return t.returned(out)
}

// hold keeps a copy of pcm as the frame at ts; a duplicate's copy is freed.
func (t *Timeline) hold(ts uint32, pcm []int16) {
	if old, ok := t.pending[ts]; ok {
		t.free = append(t.free, old)
	}
	t.pending[ts] = t.copyOf(pcm)
}

// copyOf copies pcm into a free buffer.
func (t *Timeline) copyOf(pcm []int16) []int16 {
	var c []int16
	if n := len(t.free); n > 0 {
		c, t.free = t.free[n-1][:0], t.free[:n-1]
	}
	return append(c, pcm...)
}

func (t *Timeline) output() []int16 {
	if cap(t.out) > outKept {
		t.out = nil
	}
	return t.out[:0]
}

// returned keeps out's buffer for the next call and returns it with no room
// to grow, so that a caller appending to it copies rather than writes over
// the buffer the next call fills.
func (t *Timeline) returned(out []int16) []int16 {
	t.out = out
	return out[:len(out):len(out)]
}

// release appends the next frame, or the silence before it.
func (t *Timeline) release(out []int16) []int16 {
	t.released = true
	if pcm, ok := t.pending[t.next]; ok {
		delete(t.pending, t.next)
		t.next += uint32(len(pcm))
		t.free = append(t.free, pcm)
		return append(out, pcm...)
	}
	gap := t.oldest() - t.next
	t.next += gap
	return append(out, make([]int16, gap)...)
}

func (t *Timeline) newest() uint32 { return t.extreme(func(a, b uint32) bool { return before(b, a) }) }
func (t *Timeline) oldest() uint32 { return t.extreme(before) }

// extreme returns the pending timestamp that wins first over all others.
func (t *Timeline) extreme(first func(a, b uint32) bool) uint32 {
	var x uint32
	seen := false
	for ts := range t.pending {
		if !seen || first(ts, x) {
			x, seen = ts, true
		}
	}
	return x
}
