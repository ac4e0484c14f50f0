package cli

import (
	"strconv"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/openum/openum/internal/media"
)

// writeWAV: wav FILE SAMPLES writes a recording as openum makes one (8 kHz
// mono 16-bit), a ramp of SAMPLES samples.
func writeWAV(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 || neg {
		ts.Fatalf("usage: wav FILE SAMPLES")
	}
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	w, err := media.CreateWAV(ts.MkAbs(args[0]))
	ts.Check(err)
	pcm := make([]int16, n)
	for i := range pcm {
		pcm[i] = int16(i * 13)
	}
	ts.Check(w.Write(pcm))
	ts.Check(w.Close())
}
