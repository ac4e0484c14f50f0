package main

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/openum/openum/internal/media"
)

// How the tests hear audio: the recording against what the caller said,
// and whether a capture on the wire holds it in clear.

// readWAV reads the 8 kHz mono WAV file at path.
func readWAV(t *testing.T, path string) []int16 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pcm, err := media.ReadWAV(f)
	if err != nil {
		t.Fatal(err)
	}
	return pcm
}

// voiced returns pcm up to its last frame louder than line noise.
func voiced(pcm []int16) []int16 {
	end := 0
	for i, level := range loudness(pcm) {
		if level > 300 {
			end = (i + 1) * media.FrameSamples
		}
	}
	return pcm[:end]
}

// loudness is the RMS of each 20 ms frame of pcm.
func loudness(pcm []int16) []float64 {
	var e []float64
	for i := 0; i+media.FrameSamples <= len(pcm); i += media.FrameSamples {
		var sum float64
		for _, v := range pcm[i : i+media.FrameSamples] {
			sum += float64(v) * float64(v)
		}
		e = append(e, math.Sqrt(sum/media.FrameSamples))
	}
	return e
}

// similarity finds ref inside rec and returns the best normalised
// correlation, comparing 20 ms loudness envelopes first, then samples.
func similarity(rec, ref []int16) float64 {
	er, ef := loudness(rec), loudness(ref)
	bestLag, best := 0, -1.0
	for lag := 0; lag+len(ef) <= len(er); lag++ {
		if c := correlate(er[lag:lag+len(ef)], ef); c > best {
			best, bestLag = c, lag
		}
	}
	// Refine to the sample around the best frame.
	fine := -1.0
	for d := -media.FrameSamples; d <= media.FrameSamples; d++ {
		at := bestLag*media.FrameSamples + d
		if at < 0 || at+len(ref) > len(rec) {
			continue
		}
		a := make([]float64, len(ref))
		b := make([]float64, len(ref))
		for i := range ref {
			a[i], b[i] = float64(rec[at+i]), float64(ref[i])
		}
		fine = max(fine, correlate(a, b))
	}
	return fine
}

func correlate(a, b []float64) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += a[i] * b[i]
		aa += a[i] * a[i]
		bb += b[i] * b[i]
	}
	if aa == 0 || bb == 0 {
		return 0
	}
	return ab / math.Sqrt(aa*bb)
}

// capture records loopback traffic matching filter with tshark until the
// returned function is called, which returns the raw capture.
func (s *site) capture(filter string) func() []byte {
	s.t.Helper()
	file := s.path(fmt.Sprintf("cap-%d.pcap", time.Now().UnixNano()))
	cmd := exec.Command("tshark", "-i", "lo", "-f", filter, "-w", file)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	if !waitLine(stderr, "Capturing on", 15*time.Second) {
		_ = cmd.Process.Kill()
		s.t.Fatal("tshark did not start capturing")
	}
	// tshark says it captures a moment before the filter is in place.
	time.Sleep(time.Second)
	stopped := false
	stop := func() []byte {
		if !stopped {
			stopped = true
			time.Sleep(300 * time.Millisecond) // let the last packets land
			_ = cmd.Process.Signal(syscall.SIGINT)
			_ = cmd.Wait()
		}
		data, _ := os.ReadFile(file)
		return data
	}
	s.t.Cleanup(func() { stop() })
	return stop
}

// audible reports whether the capture holds 32 consecutive bytes of the
// caller's speech as G.711 µ-law, that is, the audio in clear.
func audible(capture []byte, speech []int16) bool {
	const n = 32
	enc := make([]byte, len(speech))
	for i, v := range speech {
		enc[i] = media.EncodeULaw(v)
	}
	windows := map[string]bool{}
	for i := 0; i+n <= len(enc); i++ {
		if w := enc[i : i+n]; bytes.Count(w, w[:1]) < n/2 { // skip near-silence
			windows[string(w)] = true
		}
	}
	for i := 0; i+n <= len(capture); i++ {
		if windows[string(capture[i:i+n])] {
			return true
		}
	}
	return false
}
