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

// A timeline in steady state allocates nothing, and what it releases is its
// own copy: the stream reuses the buffers it receives into.
func TestTimelineReusesItsBuffers(t *testing.T) {
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
	want := got[0]
	for i := range in {
		in[i] = -1 // the caller's buffer, reused
	}
	if len(got) != FrameSamples || got[0] != want || tl.Flush(nil)[0] != want+1 {
		t.Fatalf("released %d samples starting %d; want %d then %d", len(got), got[0], want, want+1)
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
