package media

import (
	"bytes"
	"testing"

	"github.com/pion/rtp"
)

// BenchmarkReceiveSRTP measures the receive path of one SRTP packet:
// authenticate, decrypt, decode G.711 (20 ms of audio).
func BenchmarkReceiveSRTP(b *testing.B) {
	key := bytes.Repeat([]byte{3}, 30)
	c := &Crypto{Suite: "AES_CM_128_HMAC_SHA1_80", Key: key}
	sender, receiver := &Stream{}, &Stream{}
	offer := &Remote{Codecs: []uint8{PCMU}, Event: -1}
	if err := sender.Update(offer, &Local{Codec: PCMU, Event: -1, Crypto: c, RemoteCrypto: c}); err != nil {
		b.Fatal(err)
	}
	if err := receiver.Update(offer, &Local{Codec: PCMU, Event: -1, Crypto: c, RemoteCrypto: c}); err != nil {
		b.Fatal(err)
	}
	out := sender.negotiated.Load().out
	packets := make([][]byte, b.N)
	for i := range packets {
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: PCMU, SequenceNumber: uint16(i), Timestamp: uint32(i * 160), SSRC: 1}, Payload: bytes.Repeat([]byte{0x55}, 160)}
		raw, _ := p.Marshal()
		packets[i], _ = out.EncryptRTP(nil, raw, &p.Header)
	}
	n := receiver.negotiated.Load()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, ok := n.parse(packets[i], &receiver.stats); !ok {
			b.Fatal("rejected")
		}
	}
}
