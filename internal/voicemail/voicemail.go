// Package voicemail answers calls for mailboxes (SPEC UM-1): it finds the
// mailbox a call was diverted from, plays its greeting and a tone, records
// the caller's message and hands it to delivery, durably.
package voicemail

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"log/slog"
	"math"
	"path/filepath"
	"sync"
	"time"

	"github.com/openum/openum/internal/delivery"
	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/logon"
	"github.com/openum/openum/internal/media"
	"github.com/openum/openum/internal/msgstore"
	"github.com/openum/openum/internal/sip"
)

//go:embed prompts/*.wav
var promptFiles embed.FS

// Answering takes voice messages; it is the sip.CallHandler of openum
// serve. Its fields are set once, before the first call.
type Answering struct {
	Spool   *delivery.Spool
	Spooled func() // called after a message is spooled, to wake delivery
	// Store keeps every message recorded (SPEC UM-6); the spool queues its
	// mail copy. See store.go for which of the two is the truth.
	Store msgstore.Store
	// Pool, when set, records each message's mail job with it in the
	// store, for the pool's servers to share delivery (delivery.Pool).
	Pool *delivery.Pool
	// Logon decides the logons of subscriber access, the calls to a dial
	// plan's AccessTelephoneNumbers (access.go); nil answers none.
	Logon     *logon.Service
	Events    *events.Log
	From      string // the sender address of voice mail, voicemail@<server FQDN>
	Greetings string // custom greetings: <Greetings>/<delivery.MaildirName(address)>.wav
	Now       func() time.Time
	// MinFreeSpace is the free space, in bytes, the spool's filesystem must
	// have for a call to be answered (see Ready); 0 checks nothing.
	MinFreeSpace uint64
}

var _ sip.CallHandler = (*Answering)(nil)

// HandleCall answers one call, and returns when the caller should be hung up on.
func (a *Answering) HandleCall(ctx context.Context, c *sip.Call) {
	// The caller's audio matters only while it is recorded (listen): until
	// then the stream drops it, and what reads Received wakes for keys only.
	c.Audio.Sink(media.Discard)
	if isAccessNumber(&c.DialPlan, c.Target) && a.Logon != nil && a.Store != nil {
		a.access(ctx, c)
		return
	}
	box := findMailbox(c.Directory, &c.DialPlan, c.Target)
	if box == nil {
		a.noMailbox(ctx, c)
		return
	}
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	m := &answerCall{a: a, call: c, box: *box, now: now, id: newID()}
	m.run(ctx)
}

// noMailbox tells a caller the extension they called has no mailbox. It is
// a function of its own so that its event's attributes take no room in
// HandleCall's frame, which stays on the stack of every call recorded: see
// listen.
func (a *Answering) noMailbox(ctx context.Context, c *sip.Call) {
	a.Events.Emit(ctx, events.InvalidExtension, "call for an extension that has no mailbox",
		slog.String("extension", c.Target), slog.String("dialplan", c.DialPlan.Name),
		slog.String("gateway", c.Gateway.Name), slog.String("callid", c.ID))
	play(ctx, c.Audio, Prompt("unavailable"))
}

// findMailbox finds the mailbox of the dial plan with the extension, or
// whose extension ends the number (an E.164 or national form of it).
func findMailbox(s *directory.Snapshot, plan *directory.DialPlan, number string) *directory.Mailbox {
	return s.MailboxByNumber(plan.Name, number)
}

// greeting returns the mailbox's custom greeting, or the default prompt,
// and release, to call once it is played. Both are shared by the calls
// playing them (greetingcache.go): read it, never change it.
func (a *Answering) greeting(email string) (pcm []int16, release func()) {
	if a.Greetings != "" {
		if pcm, release, err := greetings.get(a.greetingPath(email)); err == nil {
			return pcm, release
		}
	}
	return Prompt("greeting"), func() {}
}

// greetingPath is the file of the mailbox's custom greeting.
func (a *Answering) greetingPath(email string) string {
	return filepath.Join(a.Greetings, delivery.MaildirName(email)+".wav")
}

// Prompt returns one of the default prompts: greeting, unavailable, saved,
// notsaved (scripts/prompts.sh makes them). It is decoded once and shared by
// every call (a greeting is 84 KB, each call's own copy was most of the
// memory a call took while it played): read it, never change it; its
// capacity is its length, so an append copies.
func Prompt(name string) []int16 {
	if pcm, ok := prompts.Load(name); ok {
		return pcm.([]int16)
	}
	pcm := decodePrompt(name)
	pcm = pcm[:len(pcm):len(pcm)]
	prompts.Store(name, pcm)
	return pcm
}

// prompts holds the prompts decoded, by name.
var prompts sync.Map

func decodePrompt(name string) []int16 {
	f, err := promptFiles.Open("prompts/" + name + ".wav")
	if err != nil {
		panic("voicemail: missing prompt " + name) // embedded at build time
	}
	defer f.Close()
	pcm, err := media.ReadWAV(f)
	if err != nil {
		panic("voicemail: bad prompt " + name + ": " + err.Error())
	}
	return pcm
}

// beep is the tone before recording: 1 kHz for 400 ms, made once and
// shared like the prompts.
var beep = sync.OnceValue(func() []int16 {
	pcm := make([]int16, media.SampleRate*4/10)
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(2*math.Pi*1000*float64(i)/media.SampleRate))
	}
	return pcm
})

func newID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// play plays pcm to the caller, discarding what the caller sends meanwhile
// so the stream never backs up. It returns false when the caller hung up.
func play(ctx context.Context, audio *media.Stream, pcm []int16) bool {
	_, ok := playUntil(ctx, audio, pcm, func(byte) bool { return false })
	return ok
}
