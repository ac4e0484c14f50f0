package media

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A recording is a WAV file sox reads as 8 kHz, 16-bit, mono, of the right
// length, and ReadWAV reads back what was written.
func TestWAVRoundTripAndSox(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.wav")
	w, err := CreateWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	pcm := tone(SampleRate * 3) // 3 s
	if err := w.Write(pcm); err != nil {
		t.Fatal(err)
	}
	if err := w.Truncate(SampleRate * 2); err != nil { // keep 2 s
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(path)
	defer f.Close()
	got, err := ReadWAV(f)
	if err != nil || len(got) != SampleRate*2 || got[41] != pcm[41] {
		t.Fatalf("ReadWAV: %d samples, %v", len(got), err)
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 || info.Size() != wavHeaderSize+SampleRate*4 {
		t.Fatalf("file mode %v, size %d", info.Mode().Perm(), info.Size())
	}
	out, err := exec.Command("soxi", path).CombinedOutput()
	if err != nil {
		t.Fatalf("soxi: %v\n%s", err, out)
	}
	for _, want := range []string{"Channels       : 1", "Sample Rate    : 8000", "Precision      : 16-bit", "Duration       : 00:00:02.00 = 16000 samples"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("soxi lacks %q:\n%s", want, out)
		}
	}
}

// EncodeWAV writes the same file as a WAVWriter does.
func TestEncodeWAVMatchesTheWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.wav")
	w, err := CreateWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	pcm := tone(SampleRate / 2)
	if err := w.Write(pcm); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	written, _ := os.ReadFile(path)
	if got := EncodeWAV(pcm); string(got) != string(written) {
		t.Fatalf("EncodeWAV: %d bytes unlike the writer's %d", len(got), len(written))
	}
}

// Samples reach the file half a second at a time, not a write a packet: an
// unclosed recording (a crash) holds all but the last half second heard,
// and RepairWAV recovers that much.
func TestWAVWritesHalfSecondsAndACrashLosesLess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.wav")
	w, err := CreateWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	size := func() int64 { info, _ := os.Stat(path); return info.Size() }
	frame := tone(FrameSamples)
	for range wavFlush/FrameSamples - 1 {
		if err := w.Write(frame); err != nil {
			t.Fatal(err)
		}
	}
	if size() != wavHeaderSize || w.Samples() != wavFlush-FrameSamples {
		t.Fatalf("after %d samples: file of %d bytes, Samples %d; want nothing written yet", wavFlush-FrameSamples, size(), w.Samples())
	}
	for range wavFlush/FrameSamples + 3 { // 1 s and 60 ms in all
		if err := w.Write(frame); err != nil {
			t.Fatal(err)
		}
	}
	if size() != wavHeaderSize+2*2*wavFlush {
		t.Fatalf("after %d samples: file of %d bytes; want two half seconds", w.Samples(), size())
	}
	if got, err := RepairWAV(path); err != nil || got != 2*wavFlush {
		t.Fatalf("RepairWAV: %d samples, %v; want %d", got, err, 2*wavFlush)
	}
}

// A recorder's quarter second goes to the file at once, after what small
// writes gathered before it, in order, and from the recorder's own samples:
// the writer holds no buffer for it.
func TestWAVWritesARecordersQuarterSecondAtOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.wav")
	w, err := CreateWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	size := func() int64 { info, _ := os.Stat(path); return info.Size() }
	small, quarter := tone(FrameSamples), tone(SampleRate/4)
	for i := range quarter {
		quarter[i] = int16(i)
	}
	_ = w.Write(small)
	held := cap(w.buf)
	if err := w.Write(quarter); err != nil {
		t.Fatal(err)
	}
	if want := int64(wavHeaderSize + 2*(len(small)+len(quarter))); size() != want {
		t.Fatalf("file of %d bytes after a frame and a quarter second; want %d, all written", size(), want)
	}
	if allocs := testing.AllocsPerRun(10, func() { _ = w.Write(quarter) }); allocs != 0 || cap(w.buf) != held {
		t.Errorf("a quarter second's write: %v allocations, a buffer of %d bytes (%d before); want none", allocs, cap(w.buf), held)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(path)
	defer f.Close()
	got, err := ReadWAV(f)
	if err != nil || len(got) != len(small)+12*len(quarter) { // AllocsPerRun runs once more
		t.Fatalf("read %d samples, %v; want %d", len(got), err, len(small)+12*len(quarter))
	}
	if !slices.Equal(got[:len(small)], small) || !slices.Equal(got[len(small):len(small)+len(quarter)], quarter) {
		t.Error("the samples are not as written, in order")
	}
}

// BenchmarkWAVWrite measures recording one packet's audio (20 ms).
func BenchmarkWAVWrite(b *testing.B) {
	w, err := CreateWAV(filepath.Join(b.TempDir(), "r.wav"))
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	frame := tone(FrameSamples)
	b.ReportAllocs()
	for b.Loop() {
		if err := w.Write(frame); err != nil {
			b.Fatal(err)
		}
	}
}
