package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openum/openum/internal/media"
	"github.com/openum/openum/internal/peertest"
)

// These tests put DATA/spool, where recordings go, on a small tmpfs: a
// really full filesystem under the real binary and a real caller.

// eventsWithID returns the events with id, as openum events --json shows them.
func (s *site) eventsWithID(id int) []struct {
	Level string
	Attrs map[string]any
} {
	s.t.Helper()
	var recs []struct {
		Level string
		Attrs map[string]any
	}
	if err := json.Unmarshal([]byte(s.openum("events", "--json", "--id", fmt.Sprint(id))), &recs); err != nil {
		s.t.Fatal(err)
	}
	return recs
}

// prompt returns one of openum's default prompts.
func prompt(t *testing.T, name string) []int16 {
	t.Helper()
	return readWAV(t, filepath.Join("..", "..", "internal", "voicemail", "prompts", name+".wav"))
}

// loudFrames is pcm with its quiet 20 ms frames silenced, so that audible
// looks for speech and not for the low noise any stream has.
func loudFrames(pcm []int16) []int16 {
	out := make([]int16, len(pcm))
	for i, level := range loudness(pcm) {
		if level > 1000 {
			copy(out[i*media.FrameSamples:], pcm[i*media.FrameSamples:(i+1)*media.FrameSamples])
		}
	}
	return out
}

// byeFilter is a capture filter for the TCP segments whose payload starts
// with "BYE ".
const byeFilter = "(tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x42594520)"

// The disk fills while baresip leaves a message: openum stops recording,
// tells the caller the message could not be saved and hangs up; event 9304
// names the file and ENOSPC; nothing of the recording is left, on disk or
// open, and the space is free again.
func TestFullDiskDuringARecording(t *testing.T) {
	s := newSite(t)
	s.unsecuredMailbox()
	spool := filepath.Join(s.data, "spool")
	// 32 KiB: the note's page, then under 2 s of recording (16 kB/s) of the
	// caller's 3.7 s.
	peertest.Tmpfs(t, spool, 32<<10)
	tcpPort, _ := s.serve("--min-free-space", "16KiB")
	empty := peertest.Free(t, spool)
	wait := greetingAndTone(t)
	wav, _ := s.callerWAV(wait + 0.5)
	// baresip hangs up when its file ends: 6 s more of silence, for openum
	// to hang up first, after the prompt.
	s.sh(fmt.Sprintf("sox %s caller-long.wav pad 0 6", wav))
	wav = s.path("caller-long.wav")
	// The call, its media, and any TCP segment that starts "BYE ": openum's
	// BYE goes to baresip's own port, on a new connection.
	stop := s.capture(fmt.Sprintf("tcp port %d or %s or %s", tcpPort, mediaFilter, byeFilter))
	out := s.unsecuredCall(tcpPort, wav, int(wait)+12)
	wire := stop()

	// Its first 0.6 s ("Sorry,"): the caller's own speech, the saved prompt,
	// ends with the same "Goodbye".
	if !audible(wire, loudFrames(prompt(t, "notsaved")[:media.SampleRate*6/10])) {
		t.Error("the caller was not played the 'could not be saved' prompt")
	}
	if !bytes.Contains(wire, []byte("BYE sip:pbx-")) { // to baresip's contact: openum hung up
		t.Errorf("openum did not hang up; baresip:\n%s", out)
	}
	if recs := s.eventsWithID(9304); len(recs) != 1 {
		t.Errorf("%d events 9304; want 1; events:\n%s", len(recs), s.openum("events"))
	} else if a := recs[0].Attrs; a["errno"] != "ENOSPC" || !strings.HasPrefix(fmt.Sprint(a["file"]), filepath.Join(spool, "recording")+"/") ||
		a["mailbox"] != "bob@example.test" || a["callid"] == "" || recs[0].Level != "Error" {
		t.Errorf("event 9304: %+v; want the recording's file, ENOSPC, the mailbox and the Call-ID", recs[0])
	}
	if left, _ := filepath.Glob(filepath.Join(spool, "*", "*")); len(left) != 0 {
		t.Errorf("left in the spool: %v", left)
	}
	if open := peertest.OpenUnder(t, s.proc.Process.Pid, spool); len(open) != 0 {
		t.Errorf("openum still holds open: %v", open)
	}
	if free := peertest.Free(t, spool); free != empty {
		t.Errorf("%d bytes free after the call; want %d as before it", free, empty)
	}
	if strings.Contains(s.openum("events", "--json"), `"EventID": 1082`) {
		t.Error("a lost recording reported as a delivery failure (1082)")
	}
}

// Below --min-free-space the call is refused before it is answered: 503 at
// the INVITE and event 9305; once space is freed, the next call is answered.
func TestCallRefusedWhenTheDiskIsNearlyFull(t *testing.T) {
	s := newSite(t)
	s.unsecuredMailbox()
	spool := filepath.Join(s.data, "spool")
	peertest.Tmpfs(t, spool, 256<<10)
	filler := filepath.Join(spool, "filler")
	if err := os.WriteFile(filler, make([]byte, 192<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	tcpPort, _ := s.serve("--min-free-space", "128KiB")
	call := []string{"--remote-port=" + itoa(tcpPort), "--phone", "23456"}

	r, code := s.connectivity(call...)
	if step, detail := r.last(); code == 0 || step != "INVITE" || !strings.Contains(detail, "503") {
		t.Errorf("with 64 KiB free of 128 KiB: exit %d, %s: %s; want 503 at the INVITE", code, step, detail)
	}
	recs := s.eventsWithID(9305)
	if len(recs) != 1 {
		t.Fatalf("%d events 9305; want 1; events:\n%s", len(recs), s.openum("events"))
	}
	if a := recs[0].Attrs; a["free"] != float64(64<<10) || a["required"] != float64(128<<10) || a["dir"] != spool ||
		a["callid"] == "" || a["gateway"] != "PBX" || a["status"] != float64(503) {
		t.Errorf("event 9305 attributes %v", a)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if r, code := s.connectivity(call...); code != 0 || !r.EntireOperationSuccess {
		t.Errorf("with the space freed: exit %d, %+v", code, r)
	}
}
