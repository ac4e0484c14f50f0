package voicemail

import (
	"testing"

	"github.com/openum/openum/internal/media"
)

// loud, reckoned in integers, is the RMS test it stands for, at its edge
// and at full scale too.
func TestLoudIsRMSAtLeastVoiceLevel(t *testing.T) {
	frames := [][]int16{nil, {}}
	for _, level := range []int16{0, 1, 299, 300, 301, 5000, 32767, -32768} {
		f := make([]int16, media.FrameSamples)
		for i := range f {
			f[i] = level
		}
		frames = append(frames, f)
	}
	ramp := make([]int16, media.FrameSamples) // just below voiceLevel: quiet
	for i := range ramp {
		ramp[i] = int16(i * 522 / media.FrameSamples) // RMS 299.5
	}
	frames = append(frames, ramp)
	for _, f := range frames {
		if got, want := loud(f), rms(f) >= voiceLevel; got != want {
			t.Errorf("loud(%d samples, RMS %.1f) = %v; want %v", len(f), rms(f), got, want)
		}
	}
}
