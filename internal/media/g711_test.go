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
