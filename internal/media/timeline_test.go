package media

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func frame(n int, v int16) []int16 {
	f := make([]int16, n)
	for i := range f {
		f[i] = v
	}
	return f
}

// Lost packets become silence of their length; reordered ones are put back
// in place; duplicates and late packets are dropped. The total length is
// the sender's.
func TestTimelineLossAndReordering(t *testing.T) {
	const n = 160
	start := uint32(0xFFFFF000) // wraps around during the test
	tl := NewTimeline(5*n, 50*n)
	order := []int{0, 1, 3, 2, 2, 5, 6, 8, 7, 9, 1, 12, 10, 13}
	var out []int16
	for _, i := range order {
		out = tl.Push(out, start+uint32(i*n), frame(n, int16(i+1)))
	}
	out = tl.Flush(out)
	if len(out) != 14*n {
		t.Fatalf("%d samples; want %d (14 frames)", len(out), 14*n)
	}
	for i := range 14 {
		want := int16(i + 1)
		if i == 4 || i == 11 { // never sent: silence
			want = 0
		}
		if got := out[i*n]; got != want {
			t.Fatalf("frame %d holds %d; want %d", i, got, want)
		}
	}
}

func TestTimelineRandomReorderKeepsEverything(t *testing.T) {
	const n, frames = 160, 500
	tl := NewTimeline(10*n, 100*n)
	idx := make([]int, frames)
	for i := range idx {
		idx[i] = i
	}
	// Shuffle within windows of 6 frames: reordering a jitter buffer can absorb.
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < frames; i += 6 {
		end := min(i+6, frames)
		r.Shuffle(end-i, func(a, b int) { idx[i+a], idx[i+b] = idx[i+b], idx[i+a] })
	}
	var out []int16
	for _, i := range idx {
		out = tl.Push(out, uint32(i*n), frame(n, int16(i)))
	}
	out = tl.Flush(out)
	want := make([]int16, 0, frames*n)
	for i := range frames {
		want = append(want, frame(n, int16(i))...)
	}
	if !slices.Equal(out, want) {
		t.Fatal("reordered stream not restored")
	}
}

func TestTimelineClockJumpRestarts(t *testing.T) {
	tl := NewTimeline(160, 1600)
	out := tl.Push(nil, 1000, frame(160, 1))
	out = tl.Push(out, 1000+8000*60, frame(160, 2)) // a minute later by the clock
	out = tl.Flush(out)
	if len(out) != 320 {
		t.Fatalf("%d samples after a clock jump; want 320, not a minute of silence", len(out))
	}
}

// A timeline in steady state, audio in order, releases each frame as it
// comes, allocates nothing and keeps no buffer; what it releases is a copy:
// the stream reuses the buffers it receives into.
func TestTimelineInOrderHoldsNothing(t *testing.T) {
	tl := NewTimeline(5*FrameSamples, 8000)
	in := make([]int16, FrameSamples)
	out := make([]int16, 0, 2*FrameSamples)
	ts := uint32(0)
	push := func() []int16 {
		for i := range in {
			in[i] = int16(ts/FrameSamples) + 1
		}
		out = tl.Push(out[:0], ts, in)
		ts += FrameSamples
		return out
	}
	for range 10 {
		push()
	}
	if allocs := testing.AllocsPerRun(100, func() { push() }); allocs != 0 {
		t.Errorf("%v allocations a frame; want 0", allocs)
	}
	got := push()
	want := int16(ts / FrameSamples) // the frame just pushed
	for i := range in {
		in[i] = -1 // the caller's buffer, reused
	}
	if len(got) != FrameSamples || got[0] != want {
		t.Fatalf("released %d samples starting %d; want %d starting %d", len(got), got[0], FrameSamples, want)
	}
	if len(tl.pending) != 0 || len(tl.free) != 0 || len(tl.Flush(nil)) != 0 {
		t.Fatalf("holds %d frames and %d buffers; want none", len(tl.pending), len(tl.free))
	}
}

// Past the start, frames behind a gap wait for the missing one, and all go
// out when it comes; a frame that never comes is silence once window
// samples have come after it.
func TestTimelineGapHoldsWhatFollows(t *testing.T) {
	const n = FrameSamples
	tl := NewTimeline(5*n, 50*n)
	var out []int16
	for i := range 6 { // the start: frame 0 out once frame 5 is in, then 1-5
		out = tl.Push(out, uint32(i*n), frame(n, int16(i+1)))
	}
	if len(out) != 6*n {
		t.Fatalf("%d samples out after the start; want %d", len(out), 6*n)
	}
	for _, i := range []int{7, 8, 6} { // 6 late: 7 and 8 wait for it
		before := len(out)
		out = tl.Push(out, uint32(i*n), frame(n, int16(i+1)))
		if want := map[int]int{7: 0, 8: 0, 6: 3 * n}[i]; len(out)-before != want {
			t.Fatalf("frame %d let out %d samples; want %d", i, len(out)-before, want)
		}
	}
	for i := 10; i <= 14; i++ { // 9 lost: silence once 14 is in
		out = tl.Push(out, uint32(i*n), frame(n, int16(i+1)))
	}
	if len(out) != 15*n || out[9*n] != 0 || out[14*n] != 15 {
		t.Fatalf("%d samples, frame 9 %d, frame 14 %d; want %d, silence, 15", len(out), out[9*n], out[14*n], 15*n)
	}
}

// BenchmarkTimelinePush measures putting one packet's audio in order, as a
// recording does for each packet.
func BenchmarkTimelinePush(b *testing.B) {
	tl := NewTimeline(5*FrameSamples, 8000)
	in := make([]int16, FrameSamples)
	out := make([]int16, 0, 2*FrameSamples)
	ts := uint32(0)
	b.ReportAllocs()
	for b.Loop() {
		out = tl.Push(out[:0], ts, in)
		ts += FrameSamples
	}
}
