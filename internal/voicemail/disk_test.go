package voicemail

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openum/openum/internal/delivery"
	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/media"
	"github.com/openum/openum/internal/peertest"
	"github.com/openum/openum/internal/sip"
)

// recordingFailed returns the one 9304 event of the call.
func (tc *testCall) recordingFailed() events.Record {
	tc.t.Helper()
	recs, _ := events.Read(tc.events, events.Filter{ID: events.RecordingFailed})
	if len(recs) != 1 {
		tc.t.Fatalf("%d events 9304; want 1: %v", len(recs), recs)
	}
	return recs[0]
}

// heardTheFailure checks the caller heard the greeting, the tone and all
// of the "could not be saved" prompt.
func (tc *testCall) heardTheFailure() {
	tc.t.Helper()
	tc.caller.Close()
	want := media.SampleRate/5 + len(beep()) + len(Prompt("notsaved")) - media.SampleRate/5 // 0.2 s of slack
	if heard := <-tc.heard; heard < want {
		tc.t.Errorf("the caller heard %.2f s; want the greeting, the tone and the 'could not be saved' prompt (%.2f s)",
			float64(heard)/media.SampleRate, float64(want)/media.SampleRate)
	}
}

// spoolIsEmpty checks that nothing of the message is left in the spool.
func spoolIsEmpty(t *testing.T, spool string) {
	t.Helper()
	if left, _ := filepath.Glob(filepath.Join(spool, "*", "*")); len(left) != 0 {
		t.Errorf("left in the spool: %v", left)
	}
}

// The disk fills during the recording: the recording ends at once, the
// caller is told, the event names the file and ENOSPC, and the file is
// closed and removed, its space free again.
func TestFullDiskEndsTheRecordingAndSaysSo(t *testing.T) {
	t.Parallel()
	var spool string
	// 24 KiB: the note's page, then about 1.3 s of recording.
	tc := newTestCall(t, "12345", nil, func(dir string) { spool = dir; peertest.Tmpfs(t, dir, 24<<10) })
	empty := peertest.Free(t, spool) // the greeting plays: nothing is written yet
	time.Sleep(800 * time.Millisecond)
	go tc.speak(10)
	// Before the caller stops speaking: the disk was full after 1.3 s, then
	// the prompt (4 s) plays.
	tc.ended(8 * time.Second)
	rec := tc.recordingFailed()
	if rec.Attrs["errno"] != "ENOSPC" || !strings.HasPrefix(rec.Attrs["file"].(string), filepath.Join(spool, "recording")) ||
		rec.Attrs["callid"] != "call-1" || rec.Attrs["mailbox"] != "alice@example.test" || rec.Level != "Error" {
		t.Errorf("event 9304 %+v; want the recording's file, ENOSPC, the Call-ID and the mailbox", rec)
	}
	if tc.hasEvent(events.MessageRecorded) || tc.hasEvent(events.DeliveryFailed) {
		t.Error("9300 or 1082 for a message that was lost")
	}
	spoolIsEmpty(t, spool)
	if open := peertest.OpenUnder(t, os.Getpid(), spool); len(open) != 0 {
		t.Errorf("files still open: %v", open)
	}
	if free := peertest.Free(t, spool); free != empty {
		t.Errorf("%d bytes free after the call; want %d as before it", free, empty)
	}
	tc.heardTheFailure()
}

// A recording the store kept but that cannot be queued for mail (here the
// queue is not a directory) is a kept message: the caller hears "saved",
// 1082 says the mail copy waits, and its recording stays in the spool, so
// that the next start queues it, once.
func TestSpoolFailureKeepsTheMessage(t *testing.T) {
	t.Parallel()
	var spool string
	tc := newTestCall(t, "12345", nil, func(dir string) { spool = dir })
	queue := filepath.Join(spool, "queue")
	if err := os.Remove(queue); err != nil || os.WriteFile(queue, nil, 0o600) != nil {
		t.Fatal(err)
	}
	time.Sleep(800 * time.Millisecond)
	tc.speak(1)
	tc.press('#')
	tc.ended(10 * time.Second)
	recs, _ := events.Read(tc.events, events.Filter{ID: events.DeliveryFailed})
	if len(recs) != 1 || recs[0].Attrs["errno"] != "ENOTDIR" || !strings.HasPrefix(recs[0].Attrs["file"].(string), queue) {
		t.Errorf("1082 %v; want one, with the queue's file and ENOTDIR", recs)
	}
	if tc.hasEvent(events.RecordingFailed) || !tc.hasEvent(events.MessageRecorded) {
		t.Error("9304, or no 9300, for a message the store kept")
	}
	list, audio := stored(t, tc.store)
	if len(list) != 1 {
		t.Fatalf("%d messages in the store; want 1", len(list))
	}
	tc.caller.Close()
	if heard, want := <-tc.heard, len(beep())+len(Prompt("saved")); heard < want {
		t.Errorf("the caller heard %.2f s; want the tone and 'saved' (%.2f s)", float64(heard)/media.SampleRate, float64(want)/media.SampleRate)
	}

	// The next start, the queue repaired: the mail copy is queued.
	if err := os.Remove(queue); err != nil {
		t.Fatal(err)
	}
	reopened, err := delivery.OpenSpool(spool)
	if err != nil {
		t.Fatal(err)
	}
	if err := (&Answering{Spool: reopened, Store: tc.store}).Recover(context.Background()); err != nil {
		t.Fatal(err)
	}
	pending, _ := reopened.Pending()
	if len(pending) != 1 {
		t.Fatalf("%d mail copies queued at the next start; want 1", len(pending))
	}
	if wav, _ := reopened.Audio(pending[0].ID); !bytes.Equal(wav, audio[0]) {
		t.Error("the queued mail copy's audio is not the stored message's")
	}
	if again, _ := stored(t, tc.store); len(again) != 1 {
		t.Errorf("%d messages in the store after the restart; want 1", len(again))
	}
}

// Below MinFreeSpace, Ready refuses the call before it is answered (503,
// Retry-After, 9305 with the numbers); with space again, it lets it in.
func TestReadyRefusesCallsWhenTheDiskIsNearlyFull(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spool")
	peertest.Tmpfs(t, dir, 64<<10)
	spool, err := delivery.OpenSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	a := &Answering{Spool: spool, MinFreeSpace: 32 << 10}
	call := &sip.Call{ID: "call-9"}
	if rej := a.Ready(call); rej != nil {
		t.Fatalf("Ready with 64 KiB free of 32 KiB required: %v", rej)
	}
	filler := filepath.Join(dir, "filler")
	if err := os.WriteFile(filler, make([]byte, 40<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	rej := a.Ready(call)
	if rej == nil || rej.Status != 503 || rej.RetryAfter == 0 || rej.Event != events.CallRefusedDiskFull {
		t.Fatalf("Ready with 24 KiB free: %+v; want 503 with Retry-After and event 9305", rej)
	}
	attrs := map[string]string{}
	for _, at := range rej.Attrs {
		attrs[at.Key] = at.Value.String()
	}
	if attrs["free"] != "24576" || attrs["required"] != "32768" || attrs["dir"] != dir || attrs["callid"] != "call-9" {
		t.Errorf("9305's attributes %v", attrs)
	}
	os.Remove(filler)
	if rej := a.Ready(call); rej != nil {
		t.Fatalf("Ready once space was freed: %v", rej)
	}
	if rej := (&Answering{Spool: spool}).Ready(call); rej != nil {
		t.Fatalf("Ready with no MinFreeSpace: %v", rej)
	}
}
