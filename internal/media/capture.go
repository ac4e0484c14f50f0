package media

import "sync"

// Capture gathers a stream's audio for a recorder on the stream's clock,
// in timestamp order (a Timeline): the recorder takes it a few times a
// second (Take) rather than waking for each packet on Received. Key
// presses still come on Received. It is safe for concurrent use.
type Capture struct {
	stream *Stream
	prev   func(uint32, []int16) // the sink Capture replaced, put back by Stop
	loud   func([]int16) bool

	mu       sync.Mutex // guards what follows
	timeline *Timeline
	ready    []int16 // released, not yet taken
	released int     // samples released since the capture began
	loudEnd  int     // see Take
}

// Capture starts capturing s's audio through a timeline of window and
// maxGap (see NewTimeline); loud tells the frames that count as voice
// (see Take). Stop must follow.
func (s *Stream) Capture(window, maxGap uint32, loud func(pcm []int16) bool) *Capture {
	c := &Capture{stream: s, loud: loud, timeline: NewTimeline(window, maxGap), ready: spareSamples()}
	c.prev = s.Sink(c.push)
	return c
}

// push is the capture's sink.
func (c *Capture) push(ts uint32, pcm []int16) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.ready)
	c.ready = c.timeline.Push(c.ready, ts, pcm)
	c.released += len(c.ready) - n
	if c.loud(pcm) {
		// As a recorder reading packet by packet reckons it: what it has
		// written, and this frame's length.
		c.loudEnd = c.released + len(pcm)
	}
}

// Take hands use the audio released since the last Take, in order, and
// loudEnd: the samples released when the last loud frame came, plus that
// frame's, counted from the start of the capture (0 while none came); a
// recording cut there ends about with the last word. pcm is valid only
// until use returns; Take returns use's error.
func (c *Capture) Take(use func(pcm []int16, loudEnd int) error) error {
	c.mu.Lock()
	pcm, loudEnd := c.ready, c.loudEnd
	c.ready = spareSamples()
	c.mu.Unlock()
	defer keepSpare(pcm)
	return use(pcm, loudEnd)
}

// captureKept bounds the buffers kept between takes: half a second, twice
// what a recorder taking four times a second needs (a busy server's takes
// come late), so that the backlog of a take seconds late is not held for
// the rest of the call, nor handed to another. A new buffer holds 384 ms,
// a quarter second and the lateness of a busy server's takes: begun at a
// quarter second, buffers grew to this size (append's next, 6 KiB) one
// late take at a time and stayed there, and the live heap of 2,000
// recordings rose by 2.4 MiB over a soak's first ten minutes; begun here,
// it held flat, and lower.
const (
	captureKept  = SampleRate / 2
	captureFresh = 3072 // 384 ms: 6 KiB, a size class of its own
)

// spares holds the buffers takes have used, for the captures' next
// samples: a capture keeps only the buffer it fills, and the one a take
// hands out comes back here once used, so that 2,000 recordings hold
// 2,000 buffers of a quarter second, not 4,000. It is a plain list, not a
// sync.Pool: the collector empties a pool at each cycle, and 2,000
// captures then grew new buffers frame by frame, some 0.8 MB of garbage
// a second (bench/load.sh 2000, heap profiles of the steady window). It
// holds what the takes in flight return, a few buffers, up to
// sparesKept.
var spares struct {
	sync.Mutex
	bufs [][]int16
}

// sparesKept bounds spares: 1 MiB of buffers after a burst of takes.
const sparesKept = 256

// spareSamples returns an empty buffer from spares, or a new one.
func spareSamples() []int16 {
	spares.Lock()
	defer spares.Unlock()
	if n := len(spares.bufs); n > 0 {
		buf := spares.bufs[n-1]
		spares.bufs[n-1] = nil
		spares.bufs = spares.bufs[:n-1]
		return buf[:0]
	}
	return make([]int16, 0, captureFresh)
}

// keepSpare puts buf in spares, unless it is larger than captureKept or
// spares is full.
func keepSpare(buf []int16) {
	if cap(buf) == 0 || cap(buf) > captureKept {
		return
	}
	spares.Lock()
	defer spares.Unlock()
	if len(spares.bufs) < sparesKept {
		spares.bufs = append(spares.bufs, buf)
	}
}

// Stop ends the capture, puts back the sink it replaced, and returns what
// Take has not handed out, and loudEnd as Take does: the audio released
// since, what the timeline held back, and what the stream's socket held (a
// caller who hung up was heard to the end).
func (c *Capture) Stop() (pcm []int16, loudEnd int) {
	c.stream.readRest()
	c.stream.Sink(c.prev)
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.ready)
	c.ready = c.timeline.Flush(c.ready)
	c.released += len(c.ready) - n
	pcm = c.ready
	c.ready = nil
	return pcm, c.loudEnd
}
