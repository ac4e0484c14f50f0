package media

import (
	"math/bits"
	"sync"
)

// G.711 (ITU-T G.711) companding between 16-bit linear PCM and 8-bit µ-law
// (PCMU, payload type 0) or A-law (PCMA, payload type 8).

const (
	ulawBias = 0x84
	ulawClip = 32635
)

// EncodeULaw returns the µ-law byte for a linear sample.
func EncodeULaw(sample int16) byte {
	s := int(sample)
	sign := 0
	if s < 0 {
		s, sign = -s, 0x80
	}
	s = min(s, ulawClip) + ulawBias
	// The segment is where s's highest bit is: the bias puts it at bit 7
	// or above.
	exponent := bits.Len(uint(s)) - 8
	mantissa := (s >> (exponent + 3)) & 0x0F
	return ^byte(sign | exponent<<4 | mantissa)
}

// DecodeULaw returns the linear sample of a µ-law byte.
func DecodeULaw(b byte) int16 {
	b = ^b
	exponent := int(b>>4) & 0x07
	s := ((int(b&0x0F) << 3) + ulawBias) << exponent
	s -= ulawBias
	if b&0x80 != 0 {
		return int16(-s)
	}
	return int16(s)
}

// EncodeALaw returns the A-law byte for a linear sample.
func EncodeALaw(sample int16) byte {
	s := int(sample) >> 3
	sign := byte(0x80)
	if s < 0 {
		s, sign = -s-1, 0x00
	}
	s = min(s, 0xFFF)
	var b byte
	if s < 32 {
		b = byte(s >> 1)
	} else {
		exponent := bits.Len(uint(s >> 5)) // 1 to 7: s is 32 to 0xFFF
		b = byte(exponent<<4) | byte((s>>exponent)&0x0F)
	}
	return (b | sign) ^ 0x55
}

// DecodeALaw returns the linear sample of an A-law byte.
func DecodeALaw(b byte) int16 {
	b ^= 0x55
	exponent := int(b>>4) & 0x07
	mantissa := int(b & 0x0F)
	var s int
	if exponent == 0 {
		s = mantissa<<4 + 8
	} else {
		s = (mantissa<<4 + 0x108) << (exponent - 1)
	}
	if b&0x80 == 0 {
		return int16(-s)
	}
	return int16(s)
}

// The G.711 decoders as tables: one lookup a sample on the receive path.
var ulawTable, alawTable = decodeTable(DecodeULaw), decodeTable(DecodeALaw)

func decodeTable(decode func(byte) int16) *[256]int16 {
	var t [256]int16
	for b := range t {
		t[b] = decode(byte(b))
	}
	return &t
}

// The G.711 encoders as tables, one byte for each of the 65,536 samples:
// one lookup a sample on the send path, where the computation cost a
// greeting, which encodes every frame it sends, 4 times as much
// (BenchmarkEncodeFrame). Built on first use, so that a process that sends
// no audio keeps its 128 KiB.
var ulawEncoder, alawEncoder = encodeTable(EncodeULaw), encodeTable(EncodeALaw)

func encodeTable(encode func(int16) byte) func() *[1 << 16]byte {
	return sync.OnceValue(func() *[1 << 16]byte {
		var t [1 << 16]byte
		for i := range t {
			t[i] = encode(int16(uint16(i)))
		}
		return &t
	})
}

// encoderFor returns the G.711 encoding table of a payload type, indexed
// by the sample's bits.
func encoderFor(pt uint8) *[1 << 16]byte {
	if pt == PCMA {
		return alawEncoder()
	}
	return ulawEncoder()
}

// decoderFor returns the G.711 decoding table of a payload type.
func decoderFor(pt uint8) *[256]int16 {
	if pt == PCMA {
		return alawTable
	}
	return ulawTable
}
