package media

import "testing"

func TestLossCounter(t *testing.T) {
	type pkt struct {
		ssrc uint32
		seq  uint16
	}
	for _, tc := range []struct {
		name    string
		packets []pkt
		want    uint64
	}{
		{"none lost", []pkt{{1, 10}, {1, 11}, {1, 12}}, 0},
		{"two lost", []pkt{{1, 10}, {1, 11}, {1, 14}}, 2},
		{"late packet found", []pkt{{1, 10}, {1, 12}, {1, 11}}, 0},
		{"duplicate is not negative", []pkt{{1, 10}, {1, 11}, {1, 11}}, 0},
		{"across wrap-around", []pkt{{1, 65534}, {1, 65535}, {1, 1}}, 1},
		{"late across wrap-around", []pkt{{1, 65535}, {1, 1}, {1, 0}}, 0},
		{"first to arrive was not the first sent", []pkt{{1, 11}, {1, 10}, {1, 13}}, 1},
		{"new SSRC keeps the old losses", []pkt{{1, 10}, {1, 12}, {2, 500}, {2, 503}}, 3},
		{"a restart is no loss", []pkt{{1, 10}, {1, 11}, {1, 20000}, {1, 20001}}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var l lossCounter
			var got uint64
			for _, p := range tc.packets {
				got = l.packet(p.ssrc, p.seq)
			}
			if got != tc.want {
				t.Errorf("lost = %d, want %d", got, tc.want)
			}
		})
	}
}

// Packets a caller's SRTP sequence skips are counted lost, over real
// sockets; the packets that came are not.
func TestStreamCountsLostPackets(t *testing.T) {
	server, caller := pair(t, "AES_CM_128_HMAC_SHA1_80")
	send := func(n int) {
		sendTone(t, caller, n)
		receive(t, server, n)
	}
	send(3)
	caller.seq += 4 // four packets the network lost
	send(2)
	if lost, got := server.Stats().Lost.Load(), server.Stats().Packets.Load(); lost != 4 || got != 5 {
		t.Errorf("lost %d, received %d; want 4 and 5", lost, got)
	}
}

// The loss counter reads sequence numbers and SSRCs from the network:
// whatever they are, it never panics and never counts more packets lost
// than a count's span holds.
func FuzzLossCounter(f *testing.F) {
	f.Add([]byte{0, 1, 0, 10, 0, 1, 0, 14, 0, 2, 255, 255})
	f.Fuzz(func(t *testing.T, data []byte) {
		var l lossCounter
		var lost uint64
		for i := 0; i+4 <= len(data); i += 4 {
			lost = l.packet(uint32(data[i]), uint16(data[i+2])<<8|uint16(data[i+3]))
		}
		if n := uint64(len(data) / 4); lost > n*(maxDropout+1) {
			t.Errorf("%d lost after %d packets", lost, n)
		}
	})
}
