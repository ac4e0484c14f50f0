package media

import (
	"context"
	"net"
	"runtime"
	"testing"
	"time"
)

// Streams share a few clocks: a call costs no goroutine of its own, and
// the clocks stop once the last stream closes.
func TestStreamsShareClocks(t *testing.T) {
	before := runtime.NumGoroutine()
	var closers []func()
	for range 20 {
		server, caller := pair(t, "AES_CM_128_HMAC_SHA1_80")
		closers = append(closers, func() { server.Close(); caller.Close() })
	}
	if n := runtime.NumGoroutine() - before; n > len(clocks()) {
		t.Errorf("40 streams started %d goroutines; want at most %d (the clocks)", n, len(clocks()))
	}
	for _, c := range closers {
		c()
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine() - before; n > 0 {
		t.Errorf("%d goroutines left after the streams closed", n)
	}
}

// Play sends a frame every 20 ms, the last one padded with silence, and
// returns once the last has played.
func TestPlayPacesFrames(t *testing.T) {
	server, caller := pair(t, "AES_CM_128_HMAC_SHA1_80")
	const frames = 25
	pcm := tone(frames*FrameSamples - 40)
	start := time.Now()
	if err := server.Play(context.Background(), pcm); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < (frames-1)*FrameDuration || took > 2*frames*FrameDuration {
		t.Errorf("Play of %d frames took %v; want about %v", frames, took, frames*FrameDuration)
	}
	got := receive(t, caller, frames)
	for i, r := range got {
		if len(r.PCM) != FrameSamples {
			t.Fatalf("frame %d: %d samples; want %d", i, len(r.PCM), FrameSamples)
		}
		if i > 0 && r.Timestamp-got[i-1].Timestamp != FrameSamples {
			t.Fatalf("frame %d: timestamp %d after %d", i, r.Timestamp, got[i-1].Timestamp)
		}
	}
	if last := got[frames-1].PCM; last[FrameSamples-1] > 16 || last[FrameSamples-1] < -16 {
		t.Errorf("the last frame ends with %d; want silence", last[FrameSamples-1])
	}
}

// A Play ends at once when its context does, and a Play that starts
// while another plays takes over.
func TestPlayStopsAndTakesOver(t *testing.T) {
	server, _ := pair(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() { first <- server.Play(ctx, tone(50*FrameSamples)) }()
	time.Sleep(50 * time.Millisecond)
	second := make(chan error, 1)
	go func() { second <- server.Play(ctx, tone(50*FrameSamples)) }()
	select {
	case err := <-first:
		if err != errTakenOver {
			t.Errorf("first Play: %v; want %v", err, errTakenOver)
		}
	case <-time.After(time.Second):
		t.Fatal("the first Play went on")
	}
	cancel()
	select {
	case err := <-second:
		if err != context.Canceled {
			t.Errorf("second Play: %v; want %v", err, context.Canceled)
		}
	case <-time.After(time.Second):
		t.Fatal("the second Play went on after its context ended")
	}
}

// StartPlay plays with no goroutine of the caller's: it returns at once,
// the frames go on while nobody waits, Done tells the end; Stop stops the
// frames; closing the stream ends a play with net.ErrClosed, and a play
// started on a closed stream ends at once.
func TestStartPlay(t *testing.T) {
	server, caller := pair(t, "")
	before := runtime.NumGoroutine()
	p := server.StartPlay(tone(5 * FrameSamples))
	if n := runtime.NumGoroutine() - before; n > 0 {
		t.Errorf("StartPlay started %d goroutines; want none", n)
	}
	select {
	case err := <-p.Done():
		if err != nil {
			t.Errorf("Done: %v; want nil", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("a play of 100 ms never ended")
	}
	receive(t, caller, 5)

	seq := func() uint16 {
		server.sendMu.Lock()
		defer server.sendMu.Unlock()
		return server.seq
	}
	p = server.StartPlay(tone(50 * FrameSamples))
	p.Stop()
	sent := seq()
	time.Sleep(100 * time.Millisecond)
	if n := seq() - sent; n != 0 {
		t.Errorf("%d frames sent after Stop; want none", n)
	}

	p = server.StartPlay(tone(50 * FrameSamples))
	server.Close()
	for _, p := range []*Playback{p, server.StartPlay(tone(FrameSamples))} {
		select {
		case err := <-p.Done():
			if err != net.ErrClosed {
				t.Errorf("Done after Close: %v; want %v", err, net.ErrClosed)
			}
		case <-time.After(time.Second):
			t.Fatal("a play went on after its stream closed")
		}
	}
}

// A sink takes the audio, in order, while key presses still come on
// Received; Sink(nil) puts audio back on Received.
func TestSinkTakesAudio(t *testing.T) {
	server, caller := pair(t, "AES_CM_128_HMAC_SHA1_80")
	got := make(chan uint32, 10)
	if old := server.Sink(func(ts uint32, pcm []int16) { got <- ts }); old != nil {
		t.Fatal("a new stream has a sink")
	}
	sendTone(t, caller, 3)
	if err := caller.SendDigit('5'); err != nil {
		t.Fatal(err)
	}
	if r := receive(t, server, 1)[0]; r.Digit != '5' {
		t.Fatalf("Received %+v; want only the key press", r)
	}
	var prev uint32
	for i := range 3 {
		ts := <-got
		if i > 0 && ts-prev != FrameSamples {
			t.Errorf("sink frame %d at %d, after %d", i, ts, prev)
		}
		prev = ts
	}
	server.Sink(nil)
	sendTone(t, caller, 1)
	if r := receive(t, server, 1)[0]; r.PCM == nil {
		t.Fatalf("Received %+v; want audio", r)
	}
	if len(got) != 0 {
		t.Error("the sink was called after Sink(nil)")
	}
}

// Closing a stream closes Received.
func TestCloseClosesReceived(t *testing.T) {
	server, _ := pair(t, "")
	server.Close()
	select {
	case _, ok := <-server.Received():
		if ok {
			t.Error("a value after Close")
		}
	case <-time.After(time.Second):
		t.Error("Received still open after Close")
	}
}

// Sending never waits, so a caller that stops reading cannot stop the
// clock its stream shares with others: once the socket's buffer is full,
// frames are dropped.
func TestSendToACallerThatDoesNotReadNeverWaits(t *testing.T) {
	server, caller := pair(t, "AES_CM_128_HMAC_SHA1_80")
	caller.Close() // its port stays bound by nobody: use a socket that never reads
	deaf, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer deaf.Close()
	offer := &Remote{Addr: deaf.LocalAddr().(*net.UDPAddr).AddrPort(), Codecs: []uint8{PCMU}, Event: -1}
	n := server.negotiated.Load()
	if err := server.Update(offer, &Local{Codec: PCMU, Event: -1, Crypto: &Crypto{Suite: "AES_CM_128_HMAC_SHA1_80", Key: []byte(n.keys[0])},
		RemoteCrypto: &Crypto{Suite: "AES_CM_128_HMAC_SHA1_80", Key: []byte(n.keys[1])}, Direction: SendRecv}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		frame := tone(FrameSamples)
		for range 5000 { // far more than the socket buffers hold
			if err := server.Send(frame); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Send waited for a caller that does not read")
	}
}

// A stream whose Received filled up, nobody reading, reads on once a sink
// takes the audio: a call busy elsewhere (its quota checked) before it
// drops the audio must not leave its socket unread.
func TestSinkUnblocksAFullReceived(t *testing.T) {
	server, caller := pair(t, "AES_CM_128_HMAC_SHA1_80")
	waitPackets := func(want uint64) uint64 {
		deadline := time.Now().Add(2 * time.Second)
		for server.Stats().Packets.Load() < want && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		return server.Stats().Packets.Load()
	}
	sendTone(t, caller, receivedDepth+4)
	if got := waitPackets(receivedDepth + 1); got != receivedDepth+1 {
		t.Fatalf("%d packets accepted with Received full; want %d (8 on Received, 1 held)", got, receivedDepth+1)
	}
	server.Sink(Discard)
	sendTone(t, caller, 4)
	if got := waitPackets(receivedDepth + 8); got != receivedDepth+8 {
		t.Errorf("%d packets accepted after Sink(Discard); want %d", got, receivedDepth+8)
	}
}
