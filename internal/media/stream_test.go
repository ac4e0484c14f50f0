package media

import (
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/pion/rtp"
)

var loopback = netip.MustParseAddr("127.0.0.1")

// pair returns openum's stream and a caller's stream talking to each other
// on loopback, with SRTP when suite is not empty.
func pair(t testing.TB, suite string) (server, caller *Stream) {
	t.Helper()
	sc, err := listenUDP(Ports{IP: loopback, First: 31000, Last: 31999})
	if err != nil {
		t.Fatal(err)
	}
	cc, err := listenUDP(Ports{IP: loopback, First: 32000, Last: 32999})
	if err != nil {
		t.Fatal(err)
	}
	offer := &Remote{Addr: cc.local, Codecs: []uint8{PCMU}, Event: 101, Secure: suite != ""}
	if suite != "" {
		n, _ := keyLen(suite)
		key := make([]byte, n)
		for i := range key {
			key[i] = byte(i * 7)
		}
		offer.Crypto = []Crypto{{Tag: 1, Suite: suite, Key: key}}
	}
	answer, err := NewLocalAnswer(offer, sc.local, suite != "")
	if err != nil {
		t.Fatal(err)
	}
	if server, err = newStream(sc, offer, answer); err != nil {
		t.Fatal(err)
	}
	// The caller's view: our answer is its offer, and the keys swap sides.
	mirror := &Local{Codec: PCMU, Event: 101, Crypto: answer.RemoteCrypto, RemoteCrypto: answer.Crypto}
	if caller, err = newStream(cc, &Remote{Addr: answer.Addr, Codecs: []uint8{PCMU}}, mirror); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close(); caller.Close() })
	return server, caller
}

// writeRaw sends pkt as it is from s's port to to.
func writeRaw(s *Stream, pkt []byte, to netip.AddrPort) error {
	var err error
	if cerr := s.sc.Write(func(fd uintptr) bool {
		err = syscall.Sendto(int(fd), pkt, 0, sockaddr(s.family, to))
		return true
	}); cerr != nil {
		return cerr
	}
	return err
}

func tone(n int) []int16 {
	pcm := make([]int16, n)
	for i := range pcm {
		pcm[i] = int16((i % 40) * 400)
	}
	return pcm
}

// sendTone sends n frames of tone from s.
func sendTone(t *testing.T, s *Stream, n int) {
	t.Helper()
	for range n {
		if err := s.Send(tone(FrameSamples)); err != nil {
			t.Fatal(err)
		}
	}
}

func receive(t *testing.T, s *Stream, n int) []Received {
	t.Helper()
	var got []Received
	timeout := time.After(3 * time.Second)
	for len(got) < n {
		select {
		case r := <-s.Received():
			got = append(got, r)
		case <-timeout:
			t.Fatalf("received %d of %d packets", len(got), n)
		}
	}
	return got
}

func TestStreamCarriesAudioBothWays(t *testing.T) {
	for _, suite := range []string{"", "AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32", "AEAD_AES_128_GCM"} {
		t.Run("suite="+suite, func(t *testing.T) {
			server, caller := pair(t, suite)
			sent := tone(FrameSamples)
			for range 10 {
				if err := caller.Send(sent); err != nil {
					t.Fatal(err)
				}
			}
			for _, r := range receive(t, server, 10) {
				for i, v := range r.PCM {
					if d := int(v) - int(sent[i]); d > 512 || d < -512 {
						t.Fatalf("sample %d: sent %d, got %d", i, sent[i], v)
					}
				}
			}
			if err := server.Send(sent); err != nil {
				t.Fatal(err)
			}
			receive(t, caller, 1)
		})
	}
}

// Only the caller's address may send into the call, and SRTP drops forged
// and replayed packets.
func TestStreamDropsInjectedTamperedAndReplayed(t *testing.T) {
	server, caller := pair(t, "AES_CM_128_HMAC_SHA1_80")
	intruder, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer intruder.Close()
	plain, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: PCMU, SSRC: 9}, Payload: make([]byte, 160)}).Marshal()
	to := net.UDPAddrFromAddrPort(server.LocalAddr())
	for range 5 {
		_, _ = intruder.WriteToUDP(plain, to)
	}
	// From the caller's own address: plain RTP where SRTP is due, and a replay.
	_ = writeRaw(caller, plain, server.LocalAddr())
	_ = writeRaw(caller, []byte{0x80}, server.LocalAddr()) // a short non-RTP packet
	sendTone(t, caller, 1)
	receive(t, server, 1)
	// Replay the caller's last encrypted packet.
	_ = writeRaw(caller, caller.buf, server.LocalAddr())
	sendTone(t, caller, 1)
	receive(t, server, 1)
	time.Sleep(50 * time.Millisecond)
	if f := server.Stats().Foreign.Load(); f != 5 {
		t.Errorf("foreign packets dropped: %d; want 5", f)
	}
	if b := server.Stats().Bad.Load(); b != 3 {
		t.Errorf("bad packets dropped: %d; want 3 (plain, short, replayed)", b)
	}
	if p := server.Stats().Packets.Load(); p != 2 {
		t.Errorf("packets accepted: %d; want 2", p)
	}
}

// A key press is reported once, at its end, whatever the repeats.
func TestStreamDTMF(t *testing.T) {
	server, caller := pair(t, "")
	send := func(end bool, ts uint32) {
		flags := byte(10)
		if end {
			flags |= 0x80
		}
		pkt, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 101, Timestamp: ts, SSRC: 1}, Payload: []byte{11, flags, 0, 160}}).Marshal()
		_ = writeRaw(caller, pkt, server.LocalAddr())
	}
	send(false, 1000)
	send(true, 1000)
	send(true, 1000)
	send(true, 1000)
	sendTone(t, caller, 1)
	got := receive(t, server, 2)
	if got[0].Digit != '#' || got[1].PCM == nil {
		t.Fatalf("received %+v; want one '#' then audio", got)
	}
}
