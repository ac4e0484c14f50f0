package media

import (
	"bytes"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// srtpPair returns the negotiated state of two ends of an SRTP call, each
// the other's sender and receiver.
func srtpPair(t testing.TB) (sender, receiver *Stream) {
	key := bytes.Repeat([]byte{3}, 30)
	c := &Crypto{Suite: "AES_CM_128_HMAC_SHA1_80", Key: key}
	sender, receiver = &Stream{}, &Stream{}
	offer := &Remote{Codecs: []uint8{PCMU}, Event: -1}
	for _, s := range []*Stream{sender, receiver} {
		if err := s.Update(offer, &Local{Codec: PCMU, Event: -1, Crypto: c, RemoteCrypto: c}); err != nil {
			t.Fatal(err)
		}
	}
	return sender, receiver
}

// srtpPackets returns n consecutive encrypted packets of 20 ms of audio.
func srtpPackets(t testing.TB, sender *Stream, n int) [][]byte {
	out := sender.negotiated.Load().out
	packets := make([][]byte, n)
	for i := range packets {
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: PCMU, SequenceNumber: uint16(i), Timestamp: uint32(i * 160), SSRC: 1}, Payload: bytes.Repeat([]byte{0x55}, 160)}
		raw, _ := p.Marshal()
		var err error
		if packets[i], err = out.EncryptRTP(nil, raw, &p.Header); err != nil {
			t.Fatal(err)
		}
	}
	return packets
}

// BenchmarkReceiveSRTP measures the receive path of one SRTP packet:
// authenticate, decrypt, decode G.711 (20 ms of audio).
func BenchmarkReceiveSRTP(b *testing.B) {
	sender, recv := srtpPair(b)
	packets := srtpPackets(b, sender, b.N)
	n, rx := recv.negotiated.Load(), &receiver{}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, _, ok := rx.parse(n, packets[i], &recv.stats); !ok {
			b.Fatal("rejected")
		}
	}
}

// A packet received in steady state allocates nothing: at 50 packets a
// second a call, each allocation is work for the garbage collector.
func TestReceiveAllocatesNothing(t *testing.T) {
	sender, recv := srtpPair(t)
	const runs = 200
	n, rx := recv.negotiated.Load(), &receiver{}
	packets := srtpPackets(t, sender, runs+1+len(rx.frames))
	i := 0
	parse := func() {
		if _, keep, ok := rx.parse(n, packets[i], &recv.stats); !ok || !keep {
			t.Fatal("rejected")
		}
		i++
	}
	for range rx.frames {
		parse() // the ring's buffers, once
	}
	if allocs := testing.AllocsPerRun(runs, parse); allocs != 0 {
		t.Errorf("%v allocations a packet; want 0", allocs)
	}
}

// The audio of a Received stays as it came until the reader takes the next
// value, however far behind the reader is: the stream reuses a buffer only
// once its reader is done with it.
func TestReceivedAudioStaysUntilTheNextReceive(t *testing.T) {
	server, caller := pair(t, "")
	const frames = 3 * receivedDepth
	go func() {
		for i := range frames {
			frame := make([]int16, FrameSamples)
			for j := range frame {
				frame[j] = DecodeULaw(byte(i)) // a level of its own, exact
			}
			_ = caller.Send(frame)
			time.Sleep(time.Millisecond)
		}
	}()
	receive(t, server, 1)
	prev := int16(-1)
	for i := 1; i < frames; i++ {
		var r Received
		select {
		case r = <-server.Received():
		case <-time.After(3 * time.Second):
			t.Fatalf("received %d of %d packets", i, frames)
		}
		first := r.PCM[0]
		time.Sleep(3 * time.Millisecond) // the stream receives more meanwhile
		for j, v := range r.PCM {
			if v != first || v == prev {
				t.Fatalf("packet %d, sample %d: %d, was %d when taken (previous packet %d)", i, j, v, first, prev)
			}
		}
		prev = first
	}
	if got := server.Stats().Packets.Load(); got != frames {
		t.Errorf("%d packets; want %d", got, frames)
	}
}

// BenchmarkSendSRTP measures the send path of one frame, as a greeting
// plays: encode G.711, encrypt, write to the caller's UDP port.
func BenchmarkSendSRTP(b *testing.B) {
	server, _ := pair(b, "AES_CM_128_HMAC_SHA1_80")
	frame := tone(FrameSamples)
	b.ReportAllocs()
	for b.Loop() {
		if err := server.Send(frame); err != nil {
			b.Fatal(err)
		}
	}
}

// Sending a frame allocates nothing.
func TestSendAllocatesNothing(t *testing.T) {
	server, _ := pair(t, "AES_CM_128_HMAC_SHA1_80")
	frame := tone(FrameSamples)
	if allocs := testing.AllocsPerRun(100, func() { _ = server.Send(frame) }); allocs != 0 {
		t.Errorf("%v allocations a frame; want 0", allocs)
	}
}
