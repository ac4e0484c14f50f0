package voicemail

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openum/openum/internal/delivery"
	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/media"
	"github.com/openum/openum/internal/msgstore"
	"github.com/openum/openum/internal/msgstore/sqlite"
)

// stored returns the mailbox's messages in the store, with the audio of
// each.
func stored(t *testing.T, s msgstore.Store) ([]msgstore.Message, [][]byte) {
	t.Helper()
	ctx := context.Background()
	list, err := s.List(ctx, "alice@example.test", "")
	if err != nil {
		t.Fatal(err)
	}
	audio := make([][]byte, len(list))
	for i, m := range list {
		if audio[i], err = s.Audio(ctx, m.ID); err != nil {
			t.Fatal(err)
		}
	}
	return list, audio
}

// toneWAV is a WAV file of seconds of a loud tone, as a recording.
func toneWAV(t *testing.T, path string, seconds float64) []byte {
	t.Helper()
	w, err := media.CreateWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	pcm := make([]int16, int(seconds*media.SampleRate))
	for i := range pcm {
		pcm[i] = int16(6000 * math.Sin(2*math.Pi*440*float64(i)/media.SampleRate))
	}
	if err := w.Write(pcm); err != nil || w.Close() != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// A message left is kept in the store, envelope and audio, the spooled
// mail copy's audio byte for byte, before the caller hears "saved".
func TestMessageIsKeptInTheStore(t *testing.T) {
	t.Parallel()
	tc := newTestCall(t, "12345", nil)
	time.Sleep(800 * time.Millisecond)
	tc.speak(1.5)
	tc.press('#')
	tc.ended(10 * time.Second)
	spooled, _ := tc.message()
	spooledAudio, _ := tc.spool.Audio(spooled.ID)
	list, audio := stored(t, tc.store)
	if len(list) != 1 {
		t.Fatalf("%d messages in the store; want 1", len(list))
	}
	m := list[0]
	if m.CallerNumber != "+15551234" || m.CallerName != "Bob" || m.CallID != "call-1" || m.State != msgstore.New ||
		!m.ReceivedAt.Equal(spooled.Received.Truncate(time.Microsecond)) {
		t.Errorf("stored %+v; want the caller, Call-ID and time of the spooled %+v", m, spooled)
	}
	if got, want := time.Duration(m.Duration), spooled.Duration; got.Round(time.Millisecond) != want.Round(time.Millisecond) || got < time.Second {
		t.Errorf("stored duration %v; spooled %v", got, want)
	}
	if !bytes.Equal(audio[0], spooledAudio) {
		t.Errorf("stored audio (%d bytes) is not the spooled WAV (%d bytes)", len(audio[0]), len(spooledAudio))
	}
	if !spooled.Stored {
		t.Error("the spooled copy is not marked Stored: a restart would look it up again")
	}
	recs, _ := events.Read(tc.events, events.Filter{ID: events.MessageRecorded})
	if len(recs) != 1 || recs[0].Attrs["store_id"] != float64(m.ID) {
		t.Errorf("9300 %v; want store_id %d", recs, m.ID)
	}
}

// A full mailbox (MaxMessages 1, one message kept) takes no message: the
// caller hears "the mailbox is full" and goodbye, the administrator gets
// 9308, and nothing is recorded, stored or spooled.
func TestFullMailboxTakesNoMessage(t *testing.T) {
	t.Parallel()
	tc := startTestCall(t, "12345", nil, func(p *directory.MailboxPolicy, s msgstore.Store) {
		p.MaxMessages = 1
		wav := toneWAV(t, filepath.Join(t.TempDir(), "old.wav"), 1)
		if _, err := s.Save(context.Background(), directory.Actor{}, msgstore.Message{Mailbox: "alice@example.test"}, wav); err != nil {
			t.Fatal(err)
		}
	})
	go tc.speak(3) // the caller speaks anyway
	tc.ended(10 * time.Second)
	recs, _ := events.Read(tc.events, events.Filter{ID: events.MailboxFull})
	if len(recs) != 1 {
		t.Fatalf("%d events 9308; want 1", len(recs))
	}
	if a := recs[0].Attrs; a["mailbox"] != "alice@example.test" || a["messages"] != float64(1) || a["MaxMessages"] != float64(1) ||
		a["callid"] != "call-1" || recs[0].Level != "Warning" {
		t.Errorf("9308 %+v", recs[0])
	}
	if tc.hasEvent(events.MessageRecorded) || tc.hasEvent(events.RecordingFailed) {
		t.Error("9300 or 9304 for a call that was not recorded")
	}
	if p, _ := tc.spool.Pending(); len(p) != 0 {
		t.Errorf("%d messages spooled for a full mailbox", len(p))
	}
	spoolIsEmpty(t, tc.spool.Dir())
	if list, _ := stored(t, tc.store); len(list) != 1 {
		t.Errorf("%d messages in the store; want the one that filled it", len(list))
	}
	tc.caller.Close()
	want := len(concat(PromptMailboxFull, PromptGoodbye)) - media.SampleRate/5
	if heard := <-tc.heard; heard < want || heard > want+len(beep()) {
		t.Errorf("the caller heard %.2f s; want 'the mailbox is full' and goodbye (%.2f s), no greeting or tone",
			float64(heard)/media.SampleRate, float64(want)/media.SampleRate)
	}
}

// A message the store cannot keep is not saved, and said so: 9304 with the
// store's error, "could not be saved", and nothing left in the spool to
// be mailed as if it had been.
func TestStoreFailureIsNotSaved(t *testing.T) {
	t.Parallel()
	tc := newTestCall(t, "12345", nil)
	time.Sleep(800 * time.Millisecond)
	tc.store.Close() // the quota was read; the save will fail
	tc.speak(1)
	tc.press('#')
	tc.ended(10 * time.Second)
	if rec := tc.recordingFailed(); !strings.Contains(rec.Attrs["error"].(string), "closed") || rec.Attrs["callid"] != "call-1" {
		t.Errorf("9304 %+v; want the store's error", rec)
	}
	if tc.hasEvent(events.MessageRecorded) {
		t.Error("9300 for a message that was not kept")
	}
	spoolIsEmpty(t, tc.spool.Dir())
	tc.heardTheFailure()
}

// A crash during a recording, or after the store kept the message but
// before its mail copy was queued, leaves the recording and its note in
// the spool. At the next start the spool queues it and Recover saves it
// in the store, or finds it there: once, whatever the restarts.
func TestRecoverKeepsEachMessageOnce(t *testing.T) {
	ctx := context.Background()
	for _, alreadyStored := range []bool{false, true} {
		dir := t.TempDir()
		spool, err := delivery.OpenSpool(filepath.Join(dir, "spool"))
		if err != nil {
			t.Fatal(err)
		}
		store, err := sqlite.Open(ctx, filepath.Join(dir, "messages.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		m := &delivery.Message{ID: "m1", To: "alice@example.test", CallerID: "+15551234", CallerName: "Bob\tSmith",
			CallID: "call-7", Received: time.Now()}
		path, err := spool.Begin(m)
		if err != nil {
			t.Fatal(err)
		}
		wav := toneWAV(t, path, 1)
		if alreadyStored {
			if _, err := store.Save(ctx, directory.Actor{}, storeMessage(m), wav); err != nil {
				t.Fatal(err)
			}
		}
		for restart := range 2 { // the crash, then a second start
			if spool, err = delivery.OpenSpool(filepath.Join(dir, "spool")); err != nil {
				t.Fatal(err)
			}
			if err := (&Answering{Spool: spool, Store: store}).Recover(ctx); err != nil {
				t.Fatal(err)
			}
			list, audio := stored(t, store)
			if len(list) != 1 || list[0].CallID != "call-7" || list[0].CallerName != "Bob Smith" || !bytes.Equal(audio[0], wav) {
				t.Fatalf("already stored %v, start %d: the store holds %+v; want the one message, whole", alreadyStored, restart+1, list)
			}
			pending, _ := spool.Pending()
			if len(pending) != 1 || !pending[0].Stored {
				t.Fatalf("already stored %v, start %d: spooled %+v; want the one mail copy, marked Stored", alreadyStored, restart+1, pending)
			}
		}
	}
}

// countingStore is a real store whose Save takes a while and counts the
// Saves under way at once.
type countingStore struct {
	msgstore.Store
	mu            sync.Mutex
	running, most int
}

func (s *countingStore) Save(ctx context.Context, actor directory.Actor, m msgstore.Message, wav []byte) (msgstore.Message, error) {
	s.mu.Lock()
	s.running++
	s.most = max(s.most, s.running)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.running--
		s.mu.Unlock()
	}()
	time.Sleep(50 * time.Millisecond) // a megabyte of recording to copy
	return s.Store.Save(ctx, actor, m, wav)
}

// Calls that end together are saved two at a time, not all at once (see
// saving), and every message is kept.
func TestMessagesEndingTogetherAreSavedTwoAtATime(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "messages.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	store := &countingStore{Store: db}
	a := &Answering{Store: store}
	var wg sync.WaitGroup
	for i := range 6 {
		path := filepath.Join(dir, strconv.Itoa(i)+".wav")
		toneWAV(t, path, 1)
		q := &delivery.Message{ID: "m" + strconv.Itoa(i), To: "alice@example.test", CallID: "call-" + strconv.Itoa(i), Received: time.Now()}
		wg.Go(func() {
			if _, err := a.keep(ctx, q, path); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if list, _ := stored(t, db); len(list) != 6 || store.most != 2 {
		t.Fatalf("%d messages kept, at most %d saved at once; want 6, 2", len(list), store.most)
	}
}
