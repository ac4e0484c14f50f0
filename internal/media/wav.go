package media

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"unsafe"
)

// SampleRate is the rate of every stream openum handles: G.711's 8 kHz.
const SampleRate = 8000

// WAVWriter writes 16-bit PCM, 8 kHz mono to a RIFF WAVE file. The header's
// sizes are written when the writer is closed. Small writes (a packet's
// audio) are gathered into writes of wavFlush samples, not one a packet: a
// crash loses at most the last wavFlush samples heard (the spool repairs
// the cut file's header). A write of wavDirect samples or more (a
// recorder's quarter second) goes to the file as it is, from the caller's
// samples on a little-endian machine: a call's recording then holds no
// buffer of its own.
type WAVWriter struct {
	f       *os.File
	samples int    // in the file
	buf     []byte // samples not yet written, less than wavFlush
}

const (
	// wavFlush is how many samples of small writes a WAVWriter gathers
	// before writing them: half a second, two writes a second a call
	// rather than fifty.
	wavFlush = SampleRate / 2
	// wavDirect is the smallest write that goes to the file at once: 80 ms.
	wavDirect = 4 * FrameSamples
)

const wavHeaderSize = 44

// CreateWAV creates the file at path (mode 0600: a voice message is private).
func CreateWAV(path string) (*WAVWriter, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("media: %w", err)
	}
	w := &WAVWriter{f: f}
	if _, err := f.Write(wavHeader(0)); err != nil {
		f.Close()
		return nil, fmt.Errorf("media: %w", err)
	}
	return w, nil
}

// Write appends samples. On an error (a full disk) the samples that did
// reach the file are counted, so that Close's header matches the file, and
// those held back are dropped.
func (w *WAVWriter) Write(pcm []int16) error {
	if b := littleEndianPCM(pcm); b != nil && len(pcm) >= wavDirect {
		if err := w.flush(); err != nil {
			return err
		}
		return w.write(b)
	}
	for _, s := range pcm {
		w.buf = binary.LittleEndian.AppendUint16(w.buf, uint16(s))
		if len(w.buf) == 2*wavFlush {
			if err := w.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// littleEndianPCM returns pcm's memory as bytes when it is laid out as a
// WAVE file's samples are, 16-bit little-endian; else nil.
func littleEndianPCM(pcm []int16) []byte {
	if !littleEndian || len(pcm) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(pcm))), 2*len(pcm))
}

var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// flush writes the samples held back.
func (w *WAVWriter) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	err := w.write(w.buf)
	w.buf = w.buf[:0]
	return err
}

// write writes samples to the file and counts those that reached it.
func (w *WAVWriter) write(b []byte) error {
	n, err := w.f.Write(b)
	w.samples += n / 2
	return err
}

// Samples returns how many samples have been written.
func (w *WAVWriter) Samples() int { return w.samples + len(w.buf)/2 }

// Truncate cuts the recording to its first samples samples.
func (w *WAVWriter) Truncate(samples int) error {
	if err := w.flush(); err != nil {
		return err
	}
	if samples >= w.samples {
		return nil
	}
	if err := w.f.Truncate(int64(wavHeaderSize + 2*samples)); err != nil {
		return err
	}
	w.samples = samples
	_, err := w.f.Seek(0, io.SeekEnd)
	return err
}

// Close writes the samples held back and the header's sizes, syncs the
// file to disk and closes it.
func (w *WAVWriter) Close() error {
	ferr := w.flush()
	_, err := w.f.WriteAt(wavHeader(w.samples), 0)
	return errors.Join(ferr, err, w.f.Sync(), w.f.Close())
}

// EncodeWAV returns pcm as a WAVE file, the format ReadWAV reads, for a
// file written whole and at once (atomicfile) rather than as it is heard.
func EncodeWAV(pcm []int16) []byte {
	b := wavHeader(len(pcm))
	for _, s := range pcm {
		b = binary.LittleEndian.AppendUint16(b, uint16(s))
	}
	return b
}

func wavHeader(samples int) []byte {
	data := uint32(samples * 2)
	le := binary.LittleEndian
	h := make([]byte, 0, wavHeaderSize)
	h = append(h, "RIFF"...)
	h = le.AppendUint32(h, 36+data)
	h = append(h, "WAVEfmt "...)
	h = le.AppendUint32(h, 16)           // fmt chunk size
	h = le.AppendUint16(h, 1)            // PCM
	h = le.AppendUint16(h, 1)            // mono
	h = le.AppendUint32(h, SampleRate)   // samples per second
	h = le.AppendUint32(h, SampleRate*2) // bytes per second
	h = le.AppendUint16(h, 2)            // bytes per sample frame
	h = le.AppendUint16(h, 16)           // bits per sample
	h = append(h, "data"...)
	return le.AppendUint32(h, data)
}

// RepairWAV rewrites the header of a recording whose writer never closed
// it (a crash mid-call), from the file's length, and returns its samples.
func RepairWAV(path string) (int, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return 0, fmt.Errorf("media: %w", err)
	}
	info, err := f.Stat()
	if err != nil || info.Size() < wavHeaderSize {
		f.Close()
		return 0, fmt.Errorf("media: %s is not a recording (%d bytes)", path, info.Size())
	}
	samples := int(info.Size()-wavHeaderSize) / 2
	_, err = f.WriteAt(wavHeader(samples), 0)
	return samples, errors.Join(err, f.Truncate(int64(wavHeaderSize+2*samples)), f.Sync(), f.Close())
}

// ReadWAV reads a 16-bit PCM, 8 kHz mono WAVE file, the format of openum's
// prompts and recordings.
func ReadWAV(r io.Reader) ([]int16, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	body, err := WAVData(data)
	if err != nil {
		return nil, err
	}
	pcm := make([]int16, len(body)/2)
	for i := range pcm {
		pcm[i] = int16(binary.LittleEndian.Uint16(body[2*i:]))
	}
	return pcm, nil
}

// WAVData checks that file is a WAVE of ReadWAV's format and returns its
// data chunk, the samples as they lie in file: 2 bytes each, little-endian.
// It copies nothing, for who needs only to check a recording and count it.
func WAVData(file []byte) ([]byte, error) {
	if len(file) < 12 || string(file[:4]) != "RIFF" || string(file[8:12]) != "WAVE" {
		return nil, errors.New("media: not a RIFF WAVE file")
	}
	var formatOK bool
	for p := 12; p+8 <= len(file); {
		id, size := string(file[p:p+4]), int(binary.LittleEndian.Uint32(file[p+4:p+8]))
		body := file[p+8 : min(len(file), p+8+size)]
		switch id {
		case "fmt ":
			if len(body) < 16 {
				return nil, errors.New("media: WAVE fmt chunk too short")
			}
			format, channels := binary.LittleEndian.Uint16(body[0:]), binary.LittleEndian.Uint16(body[2:])
			rate, bits := binary.LittleEndian.Uint32(body[4:]), binary.LittleEndian.Uint16(body[14:])
			if format != 1 || channels != 1 || rate != SampleRate || bits != 16 {
				return nil, fmt.Errorf("media: WAVE is format %d, %d channel(s), %d Hz, %d bits; want PCM, mono, 8000 Hz, 16 bits", format, channels, rate, bits)
			}
			formatOK = true
		case "data":
			if !formatOK {
				return nil, errors.New("media: WAVE data before fmt")
			}
			return body, nil
		}
		p += 8 + size + size%2
	}
	return nil, errors.New("media: WAVE file has no data chunk")
}
