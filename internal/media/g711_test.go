package media

import "testing"

// Companding keeps a sample within G.711's quantisation step of itself.
func TestG711RoundTrip(t *testing.T) {
	for _, c := range []struct {
		name   string
		enc    func(int16) byte
		dec    func(byte) int16
		silent byte
	}{{"ulaw", EncodeULaw, DecodeULaw, 0xFF}, {"alaw", EncodeALaw, DecodeALaw, 0xD5}} {
		for s := -32768; s <= 32767; s += 7 {
			got := int(c.dec(c.enc(int16(s))))
			step := max(abs(s)/16, 16)
			if abs(got-s) > step {
				t.Fatalf("%s: %d → %d, off by more than %d", c.name, s, got, step)
			}
		}
		if c.enc(0) != c.silent {
			t.Errorf("%s: silence encodes as %#x, want %#x", c.name, c.enc(0), c.silent)
		}
		// Every code decodes and re-encodes to itself (except µ-law's two zeros).
		for b := range 256 {
			if re := c.enc(c.dec(byte(b))); re != byte(b) && c.dec(re) != c.dec(byte(b)) {
				t.Fatalf("%s: code %#x → %d → %#x", c.name, b, c.dec(byte(b)), re)
			}
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// The encoders and the send path's tables agree, for every 16-bit sample,
// with G.711's formulation by segment end points (as in the ITU's and
// Sun's reference code), which finds a sample's segment by comparison
// rather than by its highest bit.
func TestG711EncodersMatchSegmentTables(t *testing.T) {
	for s := -32768; s <= 32767; s++ {
		u, a := ulawBySegments(s), alawBySegments(s)
		if got := EncodeULaw(int16(s)); got != u {
			t.Fatalf("µ-law: %d encodes as %#x, want %#x", s, got, u)
		}
		if got := EncodeALaw(int16(s)); got != a {
			t.Fatalf("A-law: %d encodes as %#x, want %#x", s, got, a)
		}
		var frame [2]byte
		encode(frame[:1], []int16{int16(s)}, PCMU)
		encode(frame[1:], []int16{int16(s)}, PCMA)
		if frame != [2]byte{u, a} {
			t.Fatalf("%d: the send path encodes µ-law %#x, A-law %#x; want %#x, %#x", s, frame[0], frame[1], u, a)
		}
	}
}

// segment returns the index of the first end point v does not pass.
func segment(v int, ends [8]int) int {
	for i, end := range ends {
		if v <= end {
			return i
		}
	}
	return len(ends)
}

func ulawBySegments(pcm int) byte {
	mask := byte(0xFF)
	if pcm < 0 {
		pcm, mask = -pcm, 0x7F
	}
	pcm = min(pcm, 32635) + 0x84
	seg := segment(pcm, [8]int{0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF, 0x3FFF, 0x7FFF})
	return (byte(seg<<4) | byte(pcm>>(seg+3))&0x0F) ^ mask
}

func alawBySegments(pcm int) byte {
	pcm >>= 3
	mask := byte(0xD5)
	if pcm < 0 {
		pcm, mask = -pcm-1, 0x55
	}
	seg := segment(pcm, [8]int{0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF})
	if seg == 8 {
		return 0x7F ^ mask
	}
	shift := max(seg, 1)
	return (byte(seg<<4) | byte(pcm>>shift)&0x0F) ^ mask
}

// BenchmarkEncodeFrame measures companding one 20 ms frame, as a greeting
// does for every frame it sends.
func BenchmarkEncodeFrame(b *testing.B) {
	pcm := tone(FrameSamples)
	dst := make([]byte, len(pcm))
	for _, pt := range []uint8{PCMU, PCMA} {
		b.Run(map[uint8]string{PCMU: "ulaw", PCMA: "alaw"}[pt], func(b *testing.B) {
			for b.Loop() {
				encode(dst, pcm, pt)
			}
		})
	}
}
