package media

import (
	"bytes"
	"testing"

	"github.com/pion/rtp"
)

// FuzzParseCrypto feeds arbitrary a=crypto values (RFC 4568) to the key
// parser: it never panics, and what it accepts has a known suite and a key
// of exactly that suite's length.
func FuzzParseCrypto(f *testing.F) {
	for _, seed := range []string{
		"1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4",
		"2 AES_CM_128_HMAC_SHA1_32 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz",
		"3 AEAD_AES_128_GCM inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9Cg==|2^31",
		"1 AES_CM_128_HMAC_SHA1_80 inline:abc|1048576 UNENCRYPTED_SRTP",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		c, ok := parseCrypto(v)
		if !ok {
			return
		}
		if n, known := keyLen(c.Suite); !known || len(c.Key) != n {
			t.Fatalf("accepted %q as %s with a %d-byte key", v, c.Suite, len(c.Key))
		}
	})
}

// FuzzPacket feeds arbitrary datagrams to the receive path of an RTP and an
// SRTP stream: no panic, and SRTP accepts nothing it cannot authenticate.
func FuzzPacket(f *testing.F) {
	plain, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: PCMU, SequenceNumber: 1, Timestamp: 160, SSRC: 7}, Payload: bytes.Repeat([]byte{0x7F}, 160)}).Marshal()
	event, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 101, SSRC: 7}, Payload: []byte{11, 0x8A, 0, 160}}).Marshal()
	f.Add(plain)
	f.Add(event)
	f.Add([]byte{0x80, 0xC8, 0, 6}) // an RTCP sender report's start
	f.Add([]byte{0x80})
	key := bytes.Repeat([]byte{1}, 30)
	offer := &Remote{Codecs: []uint8{PCMU}, Event: 101}
	rtpSide := &Local{Codec: PCMU, Event: 101}
	srtpSide := &Local{Codec: PCMU, Event: 101, Crypto: &Crypto{Suite: "AES_CM_128_HMAC_SHA1_80", Key: key}, RemoteCrypto: &Crypto{Suite: "AES_CM_128_HMAC_SHA1_80", Key: key}}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, side := range []*Local{rtpSide, srtpSide} {
			s := &Stream{}
			if err := s.Update(offer, side); err != nil {
				t.Fatal(err)
			}
			rx := &receiver{}
			r, keep, ok := rx.parse(s.negotiated.Load(), append([]byte(nil), data...), &s.stats)
			if side.Crypto != nil && ok && keep && r.PCM != nil && bytes.Equal(data, plain) {
				t.Fatal("SRTP accepted a plain RTP packet")
			}
		}
	})
}
