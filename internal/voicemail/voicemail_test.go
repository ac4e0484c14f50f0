package voicemail

import (
	"context"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/openum/openum/internal/delivery"
	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/media"
	"github.com/openum/openum/internal/msgstore"
	"github.com/openum/openum/internal/msgstore/sqlite"
	"github.com/openum/openum/internal/sip"
)

// line is the caller's end of a call without SIP: openum's stream and
// the caller's, over real UDP sockets on loopback, with SRTP, handed to
// Answering as sip would.
type line struct {
	t       *testing.T
	call    *sip.Call
	caller  *media.Stream
	hangUp  context.CancelFunc
	handled chan struct{}
}

// answer has a handle the call in the background, until hangUp.
func (l *line) answer(a *Answering) {
	ctx, cancel := context.WithCancel(context.Background())
	l.hangUp, l.handled = cancel, make(chan struct{})
	l.t.Cleanup(cancel)
	go func() {
		a.HandleCall(ctx, l.call)
		close(l.handled)
	}()
}

// speak sends seconds of a loud tone, paced in real time.
func (l *line) speak(seconds float64) {
	pcm := make([]int16, int(seconds*media.SampleRate))
	for i := range pcm {
		pcm[i] = int16(6000 * math.Sin(2*math.Pi*440*float64(i)/media.SampleRate))
	}
	_ = l.caller.Play(context.Background(), pcm) // the call may end first
}

// ended waits for openum to end the call.
func (l *line) ended(limit time.Duration) {
	l.t.Helper()
	select {
	case <-l.handled:
	case <-time.After(limit):
		l.t.Fatal("openum did not end the call")
	}
}

// A call to leave a message, with the spool, store and event log it
// leaves it in.
type testCall struct {
	line
	a      *Answering
	spool  *delivery.Spool
	store  msgstore.Store
	events string
	heard  chan int // samples the caller heard
}

var loopback = netip.MustParseAddr("127.0.0.1")

// newTestCall starts a call; prepare, if given, runs on the spool's
// directory before the spool opens it (to mount a small filesystem there).
func newTestCall(t *testing.T, target string, clock func() time.Time, prepare ...func(spool string)) *testCall {
	t.Helper()
	return startTestCall(t, target, clock, func(*directory.MailboxPolicy, msgstore.Store) {}, prepare...)
}

// startTestCall is newTestCall with a hook that sets the mailbox's policy
// and fills the message store (a real SQLite one) before the call.
func startTestCall(t *testing.T, target string, clock func() time.Time, setup func(*directory.MailboxPolicy, msgstore.Store), prepare ...func(spool string)) *testCall {
	t.Helper()
	dir := t.TempDir()
	for _, p := range prepare {
		p(filepath.Join(dir, "spool"))
	}
	spool, err := delivery.OpenSpool(filepath.Join(dir, "spool"))
	if err != nil {
		t.Fatal(err)
	}
	store, err := sqlite.Open(context.Background(), filepath.Join(dir, "messages.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	log, _ := events.Open(filepath.Join(dir, "events.log"))
	t.Cleanup(func() { log.Close() })
	greetings := filepath.Join(dir, "greetings")
	_ = os.MkdirAll(greetings, 0o700)
	// A short custom greeting keeps the tests quick.
	w, _ := media.CreateWAV(filepath.Join(greetings, "alice@example.test.wav"))
	_ = w.Write(make([]int16, media.SampleRate/5))
	_ = w.Close()

	snap := &directory.Snapshot{}
	plan := directory.NewDialPlan("DP")
	plan.NumberOfDigitsInExtension, plan.VoIPSecurity, plan.RecordingIdleTimeout, plan.MaxRecordingDuration = 5, directory.Secured, 2, 1
	_ = snap.AddDialPlan(plan)
	policy := directory.NewMailboxPolicy("P", "DP")
	setup(&policy, store)
	snap.MailboxPolicies = append(snap.MailboxPolicies, policy)
	_ = snap.AddMailbox(directory.Mailbox{EmailAddress: "alice@example.test", DisplayName: "Alice", UMDialPlan: "DP", UMMailboxPolicy: "P", Extensions: directory.List[string]{"12345"}})

	server, caller := streamPair(t)

	tc := &testCall{spool: spool, store: store, events: filepath.Join(dir, "events.log"), heard: make(chan int, 1)}
	tc.line = line{t: t, caller: caller,
		call: &sip.Call{ID: "call-1", DialPlan: plan, Directory: snap, Caller: "+15551234", CallerName: "Bob", Target: target, Audio: server}}
	tc.a = &Answering{Spool: spool, Store: store, Events: log, From: "voicemail@um.example.test", Greetings: greetings, Now: clock}
	// The caller listens to everything openum plays.
	go func() {
		n := 0
		for r := range caller.Received() {
			n += len(r.PCM)
		}
		tc.heard <- n
	}()
	tc.answer(tc.a)
	return tc
}

func (tc *testCall) press(digit byte) {
	// A real RFC 4733 end packet needs an RTP sender; the caller stream has
	// one, so send the key as a tiny dedicated packet through its socket.
	tc.t.Helper()
	if err := tc.caller.SendDigit(digit); err != nil {
		tc.t.Fatal(err)
	}
}

func (tc *testCall) message() (*delivery.Message, []int16) {
	tc.t.Helper()
	pending, err := tc.spool.Pending()
	if err != nil || len(pending) != 1 {
		tc.t.Fatalf("spooled messages: %v, %v; want 1", pending, err)
	}
	data, _ := tc.spool.Audio(pending[0].ID)
	f, _ := os.CreateTemp(tc.t.TempDir(), "*.wav")
	_, _ = f.Write(data)
	_, _ = f.Seek(0, 0)
	defer f.Close()
	pcm, err := media.ReadWAV(f)
	if err != nil {
		tc.t.Fatal(err)
	}
	return pending[0], pcm
}

func (tc *testCall) hasEvent(id events.EventID) bool {
	recs, _ := events.Read(tc.events, events.Filter{ID: id})
	return len(recs) > 0
}

func seconds(pcm []int16) float64 { return float64(len(pcm)) / media.SampleRate }

// # ends the recording, whether the gateway sends it as an RFC 4733 event
// or as a SIP INFO, which sip hands to the stream's InjectDigit: voice mail
// reads both on the stream's Received channel.
func TestHashEndsTheRecording(t *testing.T) {
	t.Parallel()
	for name, press := range map[string]func(tc *testCall){
		"RFC 4733": func(tc *testCall) { tc.press('#') },
		"SIP INFO": func(tc *testCall) {
			if err := tc.call.Audio.InjectDigit('#'); err != nil {
				tc.t.Fatal(err)
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tc := newTestCall(t, "12345", nil)
			time.Sleep(800 * time.Millisecond) // greeting (0.2 s) and tone (0.4 s)
			tc.speak(1.5)
			press(tc)
			tc.ended(10 * time.Second)
			m, pcm := tc.message()
			if got := seconds(pcm); math.Abs(got-1.75) > 0.4 {
				t.Errorf("recording %.2f s; want about 1.5 s of speech and a breath", got)
			}
			if m.To != "alice@example.test" || m.CallerID != "+15551234" || m.CallerName != "Bob" || m.CallID != "call-1" {
				t.Errorf("message %+v", m)
			}
			// Silence (RecordingIdleTimeout) would end it too, later: the event says which.
			recs, _ := events.Read(tc.events, events.Filter{ID: events.MessageRecorded})
			if len(recs) != 1 || recs[0].Attrs["stop"] != "#" {
				t.Errorf("9300 events %v; want one, stopped by #", recs)
			}
			tc.caller.Close()
			if heard := <-tc.heard; heard < media.SampleRate*2 { // greeting, tone and "saved" (about 3 s)
				t.Errorf("the caller heard %.2f s; want the greeting, the tone and the saved prompt", float64(heard)/media.SampleRate)
			}
		})
	}
}

func TestSilenceEndsTheRecording(t *testing.T) {
	t.Parallel()
	tc := newTestCall(t, "12345", nil)
	time.Sleep(800 * time.Millisecond)
	tc.speak(1)
	start := time.Now()
	tc.ended(10 * time.Second) // RecordingIdleTimeout is 2 s
	if waited := time.Since(start); waited < 1500*time.Millisecond {
		t.Errorf("stopped %v after the caller fell silent; want RecordingIdleTimeout (2 s)", waited)
	}
	_, pcm := tc.message()
	if got := seconds(pcm); math.Abs(got-1.25) > 0.4 {
		t.Errorf("recording %.2f s; trailing silence should be cut", got)
	}
}

func TestMaxRecordingDuration(t *testing.T) {
	t.Parallel()
	// MaxRecordingDuration is 1 min; the clock runs 30 times faster.
	start := time.Now()
	fast := func() time.Time { return start.Add(30 * time.Since(start)) }
	tc := newTestCall(t, "12345", fast)
	go tc.speak(6) // from the start: in fast time, any pause is a silence
	tc.ended(10 * time.Second)
	if _, pcm := tc.message(); seconds(pcm) > 3 {
		t.Errorf("recording %.2f s went on past MaxRecordingDuration", seconds(pcm))
	}
}

func TestHangUpDuringGreetingLeavesNoMessage(t *testing.T) {
	t.Parallel()
	tc := newTestCall(t, "12345", nil)
	tc.hangUp()
	tc.ended(5 * time.Second)
	if p, _ := tc.spool.Pending(); len(p) != 0 {
		t.Fatalf("%d messages from a caller who said nothing", len(p))
	}
}

func TestUnknownExtension(t *testing.T) {
	t.Parallel()
	tc := newTestCall(t, "99999", nil)
	tc.ended(10 * time.Second)
	if !tc.hasEvent(events.InvalidExtension) {
		t.Error("no event 1109 for an unknown extension")
	}
	tc.caller.Close()
	if heard := <-tc.heard; heard < media.SampleRate*2 {
		t.Errorf("the caller heard %.2f s; want the 'not available' prompt", float64(heard)/media.SampleRate)
	}
}

func TestFindMailboxByExtensionOrSuffix(t *testing.T) {
	snap := &directory.Snapshot{}
	plan := directory.NewDialPlan("DP")
	_ = snap.AddMailbox(directory.Mailbox{EmailAddress: "a@x", UMDialPlan: "DP", Extensions: directory.List[string]{"12345"}})
	_ = snap.AddMailbox(directory.Mailbox{EmailAddress: "b@x", UMDialPlan: "OTHER", Extensions: directory.List[string]{"55555"}})
	for number, want := range map[string]string{"12345": "a@x", "+15550112345": "a@x", "55555": "", "2345": ""} {
		got := findMailbox(snap, &plan, number)
		if (got == nil && want != "") || (got != nil && got.EmailAddress != want) {
			t.Errorf("findMailbox(%q) = %v; want %q", number, got, want)
		}
	}
}
