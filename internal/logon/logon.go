// Package logon decides subscriber access logons by extension and PIN (SPEC
// UM-3, UM-4), with Exchange's policy: LogonFailuresBeforeDisconnect per
// call, LogonFailuresBeforePINReset and MaxLogonAttempts across calls,
// PINLifetime and PINExpired. It holds no audio and no SIP: the phone menu
// collects the digits and asks a Call what to say next.
//
// The consecutive failures of a mailbox are kept in the directory
// (Mailbox.LogonFailures), written through Directory.Update so that every
// change is audited and survives restarts; the audit records that a PIN
// changed, never its digits or hash. Beyond Exchange, a source (a calling
// number or a gateway) that fails against many mailboxes is put in a
// cool-down in which its logons are refused without touching any mailbox's
// counters; that bookkeeping is in memory, per server.
//
// No PIN is ever logged, put in an event, an audit record or an error.
package logon

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/pin"
)

// Notifier is handed the new PIN of a mailbox whose PIN was reset after
// LogonFailuresBeforePINReset consecutive failures, to send to its owner
// (by mail). The PIN is already stored, expired, when Notify is called.
// Notify must not log the PIN.
type Notifier interface {
	Notify(ctx context.Context, m directory.Mailbox, newPIN string) error
}

// Settings tunes what Exchange has no setting for. The zero value of each
// field means its default.
type Settings struct {
	// SourceMailboxes is how many distinct mailboxes (or unknown
	// extensions) one calling number or gateway may fail against within
	// SourceWindow before it is put in a cool-down. Default 10.
	SourceMailboxes int
	// SourceWindow is how long a failure counts towards SourceMailboxes.
	// Default 10 minutes.
	SourceWindow time.Duration
	// CoolDown is how long a source's logons are then refused. Default 15
	// minutes.
	CoolDown time.Duration
	// FailureTime is the least time a failed logon takes to answer, so that
	// an unknown extension (one hash) and a known one (a hash and a durable
	// counter write) take the same time, and guessing is slow. Default 1 s.
	FailureTime time.Duration
	// User names the server's process in the audit log. Default "openum".
	User string
}

func (s Settings) withDefaults() Settings {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	if s.SourceMailboxes <= 0 {
		s.SourceMailboxes = 10
	}
	def(&s.SourceWindow, 10*time.Minute)
	def(&s.CoolDown, 15*time.Minute)
	def(&s.FailureTime, time.Second)
	if s.User == "" {
		s.User = "openum"
	}
	return s
}

// Service decides logons against a directory. It is safe for concurrent
// use by many calls; its cool-downs are this server's own.
type Service struct {
	dir      directory.Directory
	log      *events.Log
	notifier Notifier
	set      Settings
	dummy    string // the hash an unknown extension's PIN is checked against

	mu      sync.Mutex
	sources sources

	stats Stats
}

// Stats count the logon attempts of a Service, for metrics; they only grow.
type Stats struct {
	Logons   atomic.Uint64 // attempts that logged on (PIN expired included)
	Failures atomic.Uint64 // attempts that did not: wrong, locked out or cooling down
	LockOuts atomic.Uint64 // mailboxes locked out (1012)
}

// Stats returns the service's counters, which it keeps adding to.
func (s *Service) Stats() *Stats { return &s.stats }

// New returns a Service over dir that emits to log (nil: no events) and
// hands reset PINs to notifier.
func New(dir directory.Directory, log *events.Log, notifier Notifier, set Settings) (*Service, error) {
	// A random secret nobody can type, so that the dummy hash never matches.
	dummy, err := pin.Hash(rand.Text())
	if err != nil {
		return nil, fmt.Errorf("logon: %w", err)
	}
	return &Service{dir: dir, log: log, notifier: notifier, set: set.withDefaults(), dummy: dummy}, nil
}

// Source is where a call comes from, as the SIP layer knows it.
type Source struct {
	Gateway       string // the gateway's name in the directory
	CallingNumber string // as received; empty when withheld
	CallID        string
}

// Outcome is what a logon attempt comes to.
type Outcome int

// The outcomes of Call.Logon. The menu must speak Wrong and CoolingDown
// alike: the caller learns nothing from either.
const (
	// Wrong: the extension or the PIN is wrong (the two are not told apart).
	Wrong Outcome = iota
	// Success: logged on; the menu may begin.
	Success
	// PINExpired: logged on, but the PIN must be changed now (ChangePIN)
	// before anything else.
	PINExpired
	// LockedOut: the mailbox is locked out; only an administrator unlocks
	// it. Said only for a mailbox that exists and is locked, whatever PIN
	// was entered; its owner needs to know whom to call.
	LockedOut
	// CoolingDown: the source is in a cool-down; nothing was checked.
	CoolingDown
)

var outcomeNames = [...]string{"Wrong", "Success", "PINExpired", "LockedOut", "CoolingDown"}

func (o Outcome) String() string { return outcomeNames[o] }

// Result is the answer to one logon attempt.
type Result struct {
	Outcome Outcome
	// Disconnect says the call has had LogonFailuresBeforeDisconnect
	// failures: after the outcome's prompt, say goodbye and hang up.
	Disconnect bool
}

// Call is one subscriber access call's logon: it counts the call's
// failures towards the dial plan's LogonFailuresBeforeDisconnect and, once
// logged on, knows the mailbox. A Call is used by one goroutine.
type Call struct {
	svc        *Service
	dialPlan   string
	src        Source
	failures   int
	mailbox    string // set by a logon that succeeded
	mustChange bool   // the PIN must be changed before Mailbox answers
}

// Begin starts the logon of a call to dialPlan's access number.
func (s *Service) Begin(dialPlan string, src Source) *Call {
	return &Call{svc: s, dialPlan: dialPlan, src: src}
}

// CallerExtension returns the calling number when it is an extension of a
// mailbox of the call's dial plan, so that the menu asks only for the PIN
// (Exchange does so; "*" lets the caller enter another extension).
func (c *Call) CallerExtension(ctx context.Context) (string, bool, error) {
	if c.src.CallingNumber == "" {
		return "", false, nil
	}
	snap, err := c.svc.dir.Snapshot(ctx)
	if err != nil {
		return "", false, fmt.Errorf("logon: %w", err)
	}
	return c.src.CallingNumber, snap.MailboxByExtension(c.dialPlan, c.src.CallingNumber) != nil, nil
}

// Mailbox returns the address of the mailbox the call logged on to, once
// logged on and, when the PIN had expired, once it was changed.
func (c *Call) Mailbox() (string, bool) {
	return c.mailbox, c.mailbox != "" && !c.mustChange
}
