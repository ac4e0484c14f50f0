package voicemail

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/directory/directorytest"
	dirsqlite "github.com/openum/openum/internal/directory/sqlite"
	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/logon"
	"github.com/openum/openum/internal/media"
	"github.com/openum/openum/internal/msgstore"
	msgsqlite "github.com/openum/openum/internal/msgstore/sqlite"
	"github.com/openum/openum/internal/sip"
)

// Subscriber access against real stores: a SQLite directory and message
// store in a temp dir, a logon.Service over them, and calls over real
// SRTP on loopback, the caller pressing keys as RFC 4733 events.

const (
	accessNumber = "+15550100"
	alicePIN     = "4807152913" // ten digits: no timestamp in a log holds them by chance
	bobPIN       = "5886294071"
)

var tester = directory.Actor{User: "test", Command: "go test"}

type accessEnv struct {
	t      *testing.T
	dir    string
	db     *dirsqlite.Store
	store  *msgsqlite.Store
	events string
	a      *Answering
	pins   []string // every PIN a test used, looked for in the logs at the end
}

// newAccessEnv makes dial plan DP (access number accessNumber), policy P
// and the mailboxes alice (12345) and bob (23456); tune, if given, changes
// the dial plan and the policy first.
func newAccessEnv(t *testing.T, tune func(*directory.DialPlan, *directory.MailboxPolicy)) *accessEnv {
	t.Helper()
	ctx := context.Background()
	e := &accessEnv{t: t, dir: t.TempDir(), pins: []string{alicePIN, bobPIN}}
	var err error
	if e.db, err = dirsqlite.Open(ctx, filepath.Join(e.dir, "directory.db")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.db.Close() })
	if e.store, err = msgsqlite.Open(ctx, filepath.Join(e.dir, "messages.db")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.store.Close() })
	e.events = filepath.Join(e.dir, "events.log")
	log, err := events.Open(e.events)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	e.update(func(s *directory.Snapshot) error {
		dp := directory.NewDialPlan("DP")
		dp.NumberOfDigitsInExtension, dp.AccessTelephoneNumbers = 5, directory.List[string]{accessNumber}
		p := directory.NewMailboxPolicy("P", "DP")
		if tune != nil {
			tune(&dp, &p)
		}
		if err := s.AddDialPlan(dp); err != nil {
			return err
		}
		if err := s.AddMailboxPolicy(p); err != nil {
			return err
		}
		for _, m := range []struct{ email, ext, pin string }{{"alice@example.test", "12345", alicePIN}, {"bob@example.test", "23456", bobPIN}} {
			if err := s.AddMailbox(directory.Mailbox{EmailAddress: m.email, UMDialPlan: "DP", UMMailboxPolicy: "P", Extensions: directory.List[string]{m.ext}}); err != nil {
				return err
			}
			if _, err := s.AssignPIN(m.email, m.pin, false); err != nil {
				return err
			}
		}
		return nil
	})
	svc, err := logon.New(e.db, log, nil, logon.Settings{FailureTime: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e.a = &Answering{Store: e.store, Logon: svc, Events: log, Greetings: filepath.Join(e.dir, "greetings")}
	t.Cleanup(e.checkNoPIN)
	return e
}

func (e *accessEnv) update(fn func(*directory.Snapshot) error) {
	e.t.Helper()
	if _, err := e.db.Update(context.Background(), tester, fn); err != nil {
		e.t.Fatal(err)
	}
}

// lockOut locks the mailbox of email out, as MaxLogonAttempts failures do.
func (e *accessEnv) lockOut(email string) {
	e.t.Helper()
	e.update(func(s *directory.Snapshot) error {
		m, err := s.Mailbox(email)
		if err != nil {
			return err
		}
		m.LockedOut = true
		return nil
	})
}

func (e *accessEnv) mailbox(email string) directory.Mailbox {
	e.t.Helper()
	return directorytest.Mailbox(e.t, e.db, email)
}

// leave stores a new message for alice from caller, with audio pcm.
func (e *accessEnv) leave(caller string, at time.Time, pcm []int16) msgstore.Message {
	e.t.Helper()
	m, err := e.store.Save(context.Background(), directory.Actor{}, msgstore.Message{Mailbox: "alice@example.test", CallerNumber: caller, ReceivedAt: at}, media.EncodeWAV(pcm))
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

func (e *accessEnv) state(id int64) msgstore.State {
	e.t.Helper()
	m, err := e.store.Get(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return m.State
}

func (e *accessEnv) hasEvent(id events.EventID) bool {
	recs, _ := events.Read(e.events, events.Filter{ID: id})
	return len(recs) > 0
}

// checkNoPIN looks for every PIN the test used in the event log and the
// directory's audit log.
func (e *accessEnv) checkNoPIN() {
	logged, _ := os.ReadFile(e.events)
	audit, _ := e.db.Audit(context.Background())
	var all strings.Builder
	all.Write(logged)
	for _, r := range audit {
		all.WriteString(r.Command)
		for _, c := range r.Changes {
			for _, f := range c.Fields {
				all.Write(f.Old)
				all.Write(f.New)
			}
		}
	}
	for _, p := range e.pins {
		if strings.Contains(all.String(), p) {
			e.t.Errorf("PIN %s appears in the event or audit log", p)
		}
	}
}

// phone is the caller's side of one call: it hears everything openum
// plays, as G.711 µ-law bytes, and presses keys.
type phone struct {
	line
	mu    sync.Mutex
	heard []byte
	mark  int // where the next expect looks from
}

// newPhone listens from now on to caller, the caller's stream of call.
func newPhone(t *testing.T, caller *media.Stream, call *sip.Call) *phone {
	p := &phone{line: line{t: t, caller: caller, call: call}}
	go func() {
		for r := range caller.Received() {
			p.mu.Lock()
			p.heard = append(p.heard, ulaw(r.PCM)...)
			p.mu.Unlock()
		}
	}()
	return p
}

// aliceAtMainMenu calls the access number from alice's extension and logs
// on with her PIN; the phone has heard the main menu.
func (e *accessEnv) aliceAtMainMenu() *phone {
	e.t.Helper()
	p := e.dial("12345", accessNumber, nil)
	p.expect(PromptEnterPIN)
	p.press(alicePIN + "#")
	p.expect(PromptMainMenu)
	return p
}

// logOn presses the extension ext and, once asked for it, the PIN.
func (p *phone) logOn(ext, pin string) {
	p.t.Helper()
	p.press(ext + "#")
	p.expect(PromptEnterPIN)
	p.press(pin + "#")
}

// dial calls target from the calling number from, with openum's clock
// (nil: the real one), handled by e.a.
func (e *accessEnv) dial(from, target string, clock func() time.Time) *phone {
	t := e.t
	t.Helper()
	snap, err := e.db.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	plan, err := snap.DialPlan("DP")
	if err != nil {
		t.Fatal(err)
	}
	server, caller := streamPair(t)
	p := newPhone(t, caller, &sip.Call{ID: "call-" + from, DialPlan: *plan, Directory: snap, Caller: from, Target: target, Audio: server,
		Gateway: directory.IPGateway{Name: "GW"}})
	a := *e.a
	a.Now = clock
	p.answer(&a)
	return p
}

// streamPair is openum's stream and the caller's, over real UDP sockets on
// loopback with SRTP, the caller offering as over SIP.
func streamPair(t *testing.T) (server, caller *media.Stream) {
	t.Helper()
	callerPort, err := media.OpenPort(media.Ports{IP: loopback, First: 34000, Last: 34999}, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	offer, err := media.ParseRemote(callerPort.Local.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	serverPort, err := media.OpenPort(media.Ports{IP: loopback, First: 33000, Last: 33999}, offer, true)
	if err != nil {
		t.Fatal(err)
	}
	if server, err = serverPort.Start(offer); err != nil {
		t.Fatal(err)
	}
	answer, err := media.ParseRemote(serverPort.Local.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if caller, err = callerPort.Start(answer); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close(); caller.Close() })
	return server, caller
}

// ulaw is pcm as the caller hears it, in µ-law. Of the two codes of
// zero, 0x7f (-0) decodes to 0 and comes back as 0xff.
func ulaw(pcm []int16) []byte {
	b := make([]byte, len(pcm))
	for i, v := range pcm {
		b[i] = media.EncodeULaw(media.DecodeULaw(media.EncodeULaw(v)))
	}
	return b
}

// expect waits until the caller has heard the named prompts, one after
// another as concat says them, after what the last expect found; it
// returns what was heard from the previous mark to the end of them.
func (p *phone) expect(names ...string) []byte {
	p.t.Helper()
	return p.expectPCM(strings.Join(names, " "), concat(names...))
}

func (p *phone) expectPCM(what string, pcm []int16) []byte {
	p.t.Helper()
	want := ulaw(pcm)
	deadline := time.Now().Add(30 * time.Second)
	for {
		p.mu.Lock()
		if i := bytes.Index(p.heard[p.mark:], want); i >= 0 {
			seg := bytes.Clone(p.heard[p.mark : p.mark+i+len(want)])
			p.mark += i + len(want)
			p.mu.Unlock()
			return seg
		}
		heard := len(p.heard) - p.mark
		p.mu.Unlock()
		if time.Now().After(deadline) {
			p.t.Fatalf("the caller did not hear %q (%.1f s heard since the last prompt found)", what, float64(heard)/media.SampleRate)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// press presses keys, as RFC 4733 events.
func (p *phone) press(keys string) {
	p.t.Helper()
	for i := range len(keys) {
		if err := p.caller.SendDigit(keys[i]); err != nil {
			p.t.Fatal(err)
		}
		time.Sleep(30 * time.Millisecond)
	}
}

// chirp is a message's audio unlike any prompt: a rising tone.
func chirp(seconds, from float64) []int16 {
	pcm := make([]int16, int(seconds*media.SampleRate))
	for i := range pcm {
		f := from + 400*float64(i)/float64(len(pcm))
		pcm[i] = int16(7000 * math.Sin(2*math.Pi*f*float64(i)/media.SampleRate))
	}
	return pcm
}
