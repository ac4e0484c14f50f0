package media

import (
	"runtime"
	"testing"
	"time"
)

// sendAt sends pcm as frame index of the stream's timestamps, out of
// order if need be.
func sendAt(t *testing.T, s *Stream, base uint32, index int, pcm []int16) {
	t.Helper()
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	s.ts = base + uint32(index*FrameSamples)
	if err := s.send(s.negotiated.Load(), pcm, FrameSamples); err != nil {
		t.Fatal(err)
	}
}

// A capture gathers the caller's audio in timestamp order, reordered and
// with losses filled, reports where the last loud frame ended as a
// recorder reading packet by packet would, and gives the stream's audio
// back to Received once stopped.
func TestCapture(t *testing.T) {
	server, caller := pair(t, "AES_CM_128_HMAC_SHA1_80")
	loud := func(pcm []int16) bool { return pcm[1] != 0 }
	c := server.Capture(5*FrameSamples, 50*FrameSamples, loud)
	quiet := make([]int16, FrameSamples)
	// Frames 0-5: 3 lost, 2 after 4; 0-2 loud, 4 and 5 quiet.
	for _, f := range []struct {
		index int
		pcm   []int16
	}{{0, tone(FrameSamples)}, {1, tone(FrameSamples)}, {4, quiet}, {2, tone(FrameSamples)}, {5, quiet}} {
		sendAt(t, caller, 1000, f.index, f.pcm)
	}
	var got []int16
	for deadline := time.Now().Add(2 * time.Second); len(got) == 0 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond) // until the stream's clock has read them
		_ = c.Take(func(pcm []int16, _ int) error {
			got = append([]int16(nil), pcm...)
			return nil
		})
	}
	if len(got) != 3*FrameSamples {
		t.Errorf("took %d samples; want %d (frames 0-2: the gap holds the rest back)", len(got), 3*FrameSamples)
	}
	rest, loudEnd := c.Stop()
	got = append(got, rest...)
	if len(got) != 6*FrameSamples {
		t.Fatalf("captured %d samples; want %d (six frames, the lost one as silence)", len(got), 6*FrameSamples)
	}
	for i := range 6 {
		if loud, want := got[i*FrameSamples+1] != 0, i < 3; loud != want {
			t.Errorf("frame %d loud: %v; want %v", i, loud, want)
		}
	}
	// Frame 2, the last loud, came before the window let any frame out.
	if loudEnd != FrameSamples {
		t.Errorf("loudEnd %d; want %d", loudEnd, FrameSamples)
	}
	sendTone(t, caller, 1)
	if r := receive(t, server, 1)[0]; r.PCM == nil {
		t.Errorf("after Stop, Received has %+v; want audio", r)
	}
}

// pushAndTake drives c as its stream and a recorder would: push frames
// of audio in order, take them.
func pushAndTake(c *Capture) (push func(frames int), took func() int) {
	ts, frame := uint32(0), tone(FrameSamples)
	push = func(frames int) {
		for range frames {
			c.push(ts, frame)
			ts += FrameSamples
		}
	}
	took = func() (n int) {
		_ = c.Take(func(pcm []int16, _ int) error {
			n = len(pcm)
			return nil
		})
		return n
	}
	return push, took
}

// A late take's backlog is not held for the rest of the call: the buffer
// a capture fills, and those its takes hand back, stay within captureKept.
func TestCaptureKeepsNoBacklog(t *testing.T) {
	server, _ := pair(t, "")
	c := server.Capture(5*FrameSamples, 50*FrameSamples, func([]int16) bool { return true })
	defer c.Stop()
	push, took := pushAndTake(c)
	push(100) // two seconds: the recorder was late
	if got := took(); got < captureKept {
		t.Fatalf("took %d samples; want the backlog", got)
	}
	for range 3 {
		push(12)
		took()
		if cap(c.ready) > captureKept {
			t.Fatalf("a buffer of %d samples kept; want at most %d", cap(c.ready), captureKept)
		}
	}
}

// A capture on time allocates nothing, collections or not: its buffers
// come back to it through spares, which the collector does not empty.
func TestCaptureOnTimeAllocatesNothing(t *testing.T) {
	server, _ := pair(t, "")
	c := server.Capture(5*FrameSamples, 50*FrameSamples, func([]int16) bool { return true })
	defer c.Stop()
	push, took := pushAndTake(c)
	push(20)
	took()
	allocs := testing.AllocsPerRun(20, func() {
		runtime.GC()
		push(12) // a quarter second
		if n := took(); n != 12*FrameSamples {
			t.Fatalf("took %d samples; want %d", n, 12*FrameSamples)
		}
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations a quarter second; want none", allocs)
	}
}

// What the caller said last, before hanging up, is recorded and counted:
// Stop, and Close, read what the socket holds since the clock's last read.
func TestStopAndCloseReadTheEnd(t *testing.T) {
	server, caller := pair(t, "AES_CM_128_HMAC_SHA1_80")
	c := server.Capture(5*FrameSamples, 50*FrameSamples, func([]int16) bool { return true })
	sendTone(t, caller, 4) // loopback: in the server's socket once sent
	if pcm, _ := c.Stop(); len(pcm) != 4*FrameSamples {
		t.Errorf("Stop returned %d samples; want the %d just sent", len(pcm), 4*FrameSamples)
	}
	server.Sink(Discard)
	sendTone(t, caller, 3)
	server.Close()
	if got := server.Stats().Packets.Load(); got != 7 {
		t.Errorf("%d packets counted once closed; want 7", got)
	}
}

// A hang-up on a server behind its callers counts the backlog too, more
// than a tick's read.
func TestCloseReadsABacklog(t *testing.T) {
	server, caller := pair(t, "")
	server.Sink(Discard)
	const sent = 3 * maxPerTick
	sendTone(t, caller, sent)
	server.Close()
	if got := server.Stats().Packets.Load(); got != sent {
		t.Errorf("%d packets counted once closed; want %d", got, sent)
	}
}
