package media

// Timeline puts received audio in RTP timestamp order and fills what is
// missing with silence of the same length, so a recording lasts as long as
// the audio the caller sent even when packets are lost, late or reordered
// (a jitter buffer for a recorder). At the start it holds back window
// samples of audio, for the first frames to come in any order; after that
// it holds frames only behind a gap, until the missing frame comes or
// window samples have come after it. Audio in order, the usual case, goes
// out as it comes, without a copy: a call's timeline holds no audio then.
// A Timeline is not safe for concurrent use.
type Timeline struct {
	window   uint32
	maxGap   uint32
	next     uint32 // timestamp of the next sample to release
	started  bool
	released bool      // once audio is out, earlier frames are too late
	pending  []held    // a few frames (window's worth): a slice beats a map
	newest   uint32    // the latest timestamp pending
	free     [][]int16 // released frames' buffers, for the next copies; emptied with pending
}

// held is a frame held back, with the timestamp of its first sample.
type held struct {
	ts  uint32
	pcm []int16
}

// NewTimeline returns a timeline that reorders within window samples and
// fills gaps of at most maxGap samples; a longer jump in the timestamps (a
// sender restarting its clock) restarts the timeline instead.
func NewTimeline(window, maxGap uint32) *Timeline {
	return &Timeline{window: window, maxGap: maxGap}
}

// before reports whether timestamp a comes before b, across wrap-around.
func before(a, b uint32) bool { return int32(a-b) < 0 }

// Push adds a frame that starts at timestamp ts, appends the samples now
// ready, in order, to dst and returns it. A frame it holds back is copied:
// pcm is the caller's to reuse once Push returns.
func (t *Timeline) Push(dst []int16, ts uint32, pcm []int16) []int16 {
	if t.released && ts == t.next && len(t.pending) == 0 {
		t.next += uint32(len(pcm))
		return append(dst, pcm...)
	}
	if !t.started {
		t.started, t.next = true, ts
	}
	if before(ts, t.next) {
		if t.released {
			return dst // too late, or a duplicate: already released
		}
		t.next = ts // the first frame to arrive was not the first sent
	}
	if ts-t.next > t.maxGap+t.window {
		// The sender's clock jumped: release what we have and start over.
		dst = t.Flush(dst)
		t.started, t.released, t.next = true, false, ts
		t.hold(ts, pcm)
		return dst
	}
	t.hold(ts, pcm)
	for len(t.pending) > 0 && (t.newest-t.next >= t.window || t.released && t.find(t.next) >= 0) {
		dst = t.release(dst)
	}
	return dst
}

// Flush appends everything held back to dst and returns it.
func (t *Timeline) Flush(dst []int16) []int16 {
	for len(t.pending) > 0 {
		dst = t.release(dst)
	}
	return dst
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

// release appends the next frame, or the silence before it.
func (t *Timeline) release(out []int16) []int16 {
	t.released = true
	if i := t.find(t.next); i >= 0 {
		pcm := t.pending[i].pcm
		last := len(t.pending) - 1
		t.pending[i], t.pending[last] = t.pending[last], held{} // the slot past the end keeps no buffer
		t.pending = t.pending[:last]
		t.next += uint32(len(pcm))
		t.free = append(t.free, pcm)
		out = append(out, pcm...)
		if len(t.pending) == 0 {
			// In order again: the buffers wait for the next gap in the
			// collector's keeping, not in each of 2,000 calls.
			clear(t.free[:cap(t.free)]) // copyOf's takings too
			t.free = t.free[:0]
		}
		return out
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
