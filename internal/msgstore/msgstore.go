// Package msgstore keeps the voice messages openum records (SPEC UM-6): the
// audio, who called, when, for how long, for which mailbox, and the
// message's state (new, saved, deleted) with the time of each change. Mail
// delivery (Maildir, SMTP) sends a copy; the store keeps the message.
//
// Storage engines implement Store (internal/msgstore/sqlite for one
// server, internal/msgstore/postgres shared by several, both held to
// internal/msgstore/msgstoretest); they share Message, what Save and
// SetState write (engine.go), the reads whose SQL differs only in their
// Dialect (queries.go), the quota and the retention rules written here.
package msgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/media"
)

// Store is where voice messages are kept. Implementations are safe for
// concurrent use, also by several processes sharing the same store. Every
// write is one transaction, on disk before the method returns: a crash
// leaves a message whole or absent, a state old or new.
type Store interface {
	// Save stores a message and its audio, a WAV file as openum records it
	// (8 kHz mono 16-bit PCM), as a new message, and returns it as stored:
	// with its ID, Size and Duration (read from the audio). Save never
	// refuses a message for the quota: the caller has already spoken; the
	// quota is checked before recording (CheckQuota). A non-zero actor (an
	// administrator's import) also writes an audit record; call answering
	// passes the zero Actor, its messages are in the event log (9300).
	Save(ctx context.Context, actor directory.Actor, m Message, wav []byte) (Message, error)
	// Get returns a message, with its History, without its audio.
	Get(ctx context.Context, id int64) (*Message, error)
	// Audio returns a message's WAV file.
	Audio(ctx context.Context, id int64) ([]byte, error)
	// List returns a mailbox's messages, oldest first, without audio or
	// History; a non-empty state keeps only the messages in that state.
	List(ctx context.Context, mailbox string, state State) ([]Message, error)
	// SetState moves a message to state at time at and records actor in
	// the audit log, in one transaction. Setting the state a message is
	// already in changes nothing. It returns the message as it now is.
	SetState(ctx context.Context, actor directory.Actor, id int64, state State, at time.Time) (*Message, error)
	// Usage returns what a mailbox's new and saved messages hold, the
	// measure of its quota.
	Usage(ctx context.Context, mailbox string) (Usage, error)
	// Purge removes, for good, the messages deleted longer ago than their
	// mailbox's retention(mailbox) before now, with one audit record per
	// mailbox naming actor, and returns how many it removed.
	Purge(ctx context.Context, actor directory.Actor, now time.Time, retention func(mailbox string) time.Duration) (int, error)
	// Audit returns the store's audit log, oldest first.
	Audit(ctx context.Context) ([]directory.AuditRecord, error)
	// Version returns a number that changes whenever a message is saved,
	// changes state or is purged, by any process sharing the store: one
	// cheap read that tells a poller whether to call Counts (message
	// waiting, SPEC UM-5).
	Version(ctx context.Context) (uint64, error)
	// Counts returns the new and saved messages of every mailbox that has
	// some, by MailboxKey; a mailbox absent has none.
	Counts(ctx context.Context) (map[string]Counts, error)
	// Close releases the store.
	Close() error
}

// KindMessage is the kind of the objects a message's audit records name.
const KindMessage directory.Kind = "message"

// State is where a message stands for its subscriber.
type State string

// The states of a message.
const (
	New     State = "new"     // not yet heard
	Saved   State = "saved"   // heard and kept
	Deleted State = "deleted" // deleted by the subscriber or an administrator; purged after the retention period
)

// States lists the states in canonical spelling.
var States = []State{New, Saved, Deleted}

// Message is one voice message, as the store keeps it.
type Message struct {
	ID           int64
	Mailbox      string // the mailbox's email address
	CallerNumber string // the calling number as the gateway sent it
	CallerName   string // the caller's display name as the gateway sent it
	CallID       string // the SIP Call-ID of the call that left it
	ReceivedAt   time.Time
	Duration     Duration
	Size         int64 // bytes of audio
	State        State
	StateChanged time.Time     // when State was set
	History      []StateChange `json:",omitempty"` // every state, oldest first (Get only)
	// Mail, when set, makes Save record the message's mail job in its
	// transaction (mail.go).
	Mail *MailJob `json:"-"`
}

// StateChange is one state a message entered, and when.
type StateChange struct {
	State State
	At    time.Time
}

// Duration is a message's length, written "1m5.25s" in JSON.
type Duration time.Duration

// MarshalText writes d as time.Duration does, to the millisecond.
func (d Duration) MarshalText() ([]byte, error) {
	return []byte(time.Duration(d).Round(time.Millisecond).String()), nil
}

// UnmarshalText reads what MarshalText writes.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	*d = Duration(v)
	return err
}

// Usage is what a mailbox's new and saved messages hold.
type Usage struct {
	Messages int
	Bytes    int64
}

// Counts is how many new and saved messages a mailbox holds: what message
// waiting tells the PBX.
type Counts struct {
	New   int
	Saved int
}

// MailboxKey is the key of a mailbox in Counts' map: its address in lower
// case, as the store compares addresses.
func MailboxKey(address string) string { return strings.ToLower(address) }

// NotFoundError reports an ID that names no message.
type NotFoundError struct{ ID int64 }

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("msgstore: message %d does not exist", e.ID)
}

// check validates a message and its audio for Save, and returns m as it
// will be stored: new, its Size and Duration those of wav.
func check(m Message, wav []byte, now time.Time) (Message, error) {
	switch {
	case m.Mailbox == "":
		return Message{}, errors.New("msgstore: a message needs a mailbox")
	case strings.ContainsFunc(m.CallerNumber+m.CallerName+m.CallID, func(r rune) bool { return r < ' ' || r == 0x7f }):
		return Message{}, errors.New("msgstore: the caller and Call-ID must be one line without control characters")
	}
	samples, err := media.WAVData(wav)
	if err != nil {
		return Message{}, fmt.Errorf("msgstore: the audio is not openum's WAV: %w", err)
	}
	if m.ReceivedAt.IsZero() {
		m.ReceivedAt = now
	}
	m.ReceivedAt, m.StateChanged = m.ReceivedAt.UTC(), now.UTC()
	m.State, m.History = New, nil
	m.Size = int64(len(wav))
	m.Duration = Duration(time.Duration(len(samples)/2) * time.Second / media.SampleRate)
	return m, nil
}

// AuditRef names a message in the audit log: its ID and mailbox.
func AuditRef(m Message) directory.Ref {
	return directory.Ref{Kind: KindMessage, Name: fmt.Sprintf("%d (%s)", m.ID, m.Mailbox)}
}

// stateChangeRecord is the audit record's change for a message moved from
// state old to its current state.
func stateChangeRecord(m Message, old State) directory.Change {
	return directory.Change{Object: AuditRef(m), Action: directory.Changed, Fields: []directory.FieldChange{
		{Field: "State", Old: jsonString(string(old)), New: jsonString(string(m.State))},
	}}
}

// addedRecord is the audit record's change for an imported message: its
// envelope, never its audio.
func addedRecord(m Message) directory.Change {
	var fields []directory.FieldChange
	for _, f := range []struct{ name, value string }{
		{"CallerNumber", m.CallerNumber}, {"CallerName", m.CallerName}, {"CallID", m.CallID},
		{"ReceivedAt", m.ReceivedAt.Format(time.RFC3339Nano)}, {"State", string(m.State)},
	} {
		if f.value != "" {
			fields = append(fields, directory.FieldChange{Field: f.name, New: jsonString(f.value)})
		}
	}
	return directory.Change{Object: AuditRef(m), Action: directory.Added, Fields: fields}
}

func jsonString(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}
