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
	released bool      // once audio is out, earlier frames are too late
	pending  []held    // a few frames (window's worth): a slice beats a map
	newest   uint32    // the latest timestamp pending
	free     [][]int16 // released frames' buffers, for the next copies
	out      []int16   // what Push or Flush returned last
}

// held is a frame held back, with the timestamp of its first sample.
type held struct {
	ts  uint32
	pcm []int16
}

// outKept bounds the output buffer kept between calls: a gap filled with
// seconds of silence is not held for the rest of the call.
const outKept = 8 * FrameSamples

// NewTimeline returns a timeline that reorders within window samples and
// fills gaps of at most maxGap samples; a longer jump in the timestamps (a
// sender restarting its clock) restarts the timeline instead.
func NewTimeline(window, maxGap uint32) *Timeline {
	return &Timeline{window: window, maxGap: maxGap}
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
	for len(t.pending) > 0 && t.newest-t.next >= t.window {
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

// hold keeps a copy of pcm as the frame at ts; a duplicate replaces it.
func (t *Timeline) hold(ts uint32, pcm []int16) {
	if len(t.pending) == 0 || before(t.newest, ts) {
		t.newest = ts
	}
	if i := t.find(ts); i >= 0 {
		t.free = append(t.free, t.pending[i].pcm)
		t.pending[i].pcm = t.copyOf(pcm)
		return
	}
	t.pending = append(t.pending, held{ts, t.copyOf(pcm)})
}

// find returns the index of the frame pending at ts, or -1.
func (t *Timeline) find(ts uint32) int {
	for i, f := range t.pending {
		if f.ts == ts {
			return i
		}
	}
	return -1
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
	if i := t.find(t.next); i >= 0 {
		pcm := t.pending[i].pcm
		last := len(t.pending) - 1
		t.pending[i], t.pending = t.pending[last], t.pending[:last]
		t.next += uint32(len(pcm))
		t.free = append(t.free, pcm)
		return append(out, pcm...)
	}
	oldest := t.pending[0].ts
	for _, f := range t.pending[1:] {
		if before(f.ts, oldest) {
			oldest = f.ts
		}
	}
	gap := oldest - t.next
	t.next += gap
	return append(out, make([]int16, gap)...)
}
