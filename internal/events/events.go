// Package events is openum's event log (SPEC OPS-1): what an administrator
// must see, written as JSON lines by log/slog, each record carrying a stable
// integer event ID beside its level, message and attributes, and read back
// by "openum events".
//
// The catalogue of IDs is the EventID constants below and docs/events.md.
// Where Exchange UM has an ID for the same event, openum uses it, so an
// administrator who knows Exchange recognises it; openum's own events have
// IDs from 9000 up (see the ranges in docs/events.md).
//
// Libraries never log on their own: they are given a *Log and emit through
// it. A nil *Log discards everything, so a caller that wants no events passes
// nil.
package events

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// EventID identifies one kind of event. The numbers are stable: an
// administrator's filters and alerts depend on them, so an ID is never
// reused for another meaning.
type EventID int

// Events that Exchange UM also has (SPEC OPS-1): same ID, same meaning.
// Later parts of openum emit them.
const (
	SecuredStart            EventID = 1112 // the server started in secured mode: its TLS listener is open
	GatewayTLSFailed        EventID = 1113 // TLS certificate exchange with a gateway failed
	TLSCertificateInUse     EventID = 1114 // the certificate the server uses for TLS, at start
	InvalidExtension        EventID = 1109 // a call for an extension that does not exist
	GatewayOptionsNoAnswer  EventID = 1400 // a gateway did not answer OPTIONS
	GatewaysShareAddress    EventID = 1175 // two gateway FQDNs resolve to one address
	PINLockout              EventID = 1012 // a mailbox was locked out after failed PIN logons
	LogonFailuresDisconnect EventID = 1013 // a caller was disconnected after failed logons
	SubscriberAuthenticated EventID = 1036 // a subscriber logged on with a PIN
	DeliveryFailed          EventID = 1082 // a voice message could not be delivered
	DeliveryFailedFinal     EventID = 1185 // a voice message delivery gave up
	MailTLSFailed           EventID = 1423 // TLS towards the mail server failed
)

// Certificate events (SPEC CERT-4, CERT-6, CERT-7): openum's range 9100-9199.
const (
	CertificateChanged      EventID = 9101 // the certificate in use changed
	CertificateExpiring     EventID = 9102 // the certificate in use expires within 30 days
	CertificateExpired      EventID = 9103 // the certificate in use or pinned has expired
	CertificateSelfSigned   EventID = 9104 // no usable certificate: a self-signed one was generated
	CertificatePinUnusable  EventID = 9105 // the pinned certificate is missing or not usable
	CertificateStoreError   EventID = 9106 // the store could not be read; the current certificate stays
	CertificateNone         EventID = 9107 // no certificate could be found or generated
	CertificateStoreChanged EventID = 9108 // a certificate was added to or removed from the store
)

// Level is the level the event is always written at: Information, Warning
// or Error, as the Windows event log has them.
func (id EventID) Level() slog.Level {
	switch id {
	case CertificateExpiring, CertificateSelfSigned, GatewayOptionsNoAnswer,
		GatewaysShareAddress, PINLockout, LogonFailuresDisconnect, DeliveryFailed,
		InvalidExtension, PeerRefused, BanAdded, CallRefusedSecurity, SRTPNegotiationFailed,
		CallRefusedOverload, NoHuntGroup, TLSHandshakeFailed, MalformedRequest, DirectoryReloadFailed,
		MessageIncomplete, BannedSourceRefused, LogonSourceCoolDown,
		MaildirAmbiguous, MailboxFull, MailTakenOver, DialRestricted,
		OutcallGatewayFailed, AdminAuthFailed, MessageWaitingFailed, TransferFailed:
		return slog.LevelWarn
	case CertificateExpired, CertificatePinUnusable, CertificateStoreError,
		CertificateNone, GatewayTLSFailed, DeliveryFailedFinal, MailTLSFailed,
		RecordingFailed, CallRefusedDiskFull, SpoolQuarantined, SubscriberAccessFault,
		AdminRequestFailed:
		return slog.LevelError
	}
	return slog.LevelInfo
}

// IDKey is the attribute that carries the event ID in every record.
const IDKey = "EventID"

// Log appends events to a file, one JSON line each, and rotates it under
// a size cap (see Rotation). It is safe for concurrent use, and several
// processes may append to the same log: each record is one write, made
// under a lock the processes share.
type Log struct {
	w   *rotatingFile
	h   slog.Handler
	obs observers
}

// Open opens the event log at path for appending with DefaultRotation.
func Open(path string) (*Log, error) { return OpenWith(path, Rotation{}) }

// OpenWith opens the event log at path for appending, creating it (mode
// 0600: events name peers and certificates) and its directory if needed,
// and rotates it as rot says.
func OpenWith(path string, rot Rotation) (*Log, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	w, err := openRotating(path, rot)
	if err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	return &Log{w: w, h: slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})}, nil
}

// Emit writes one event at its catalogue level. attrs add detail; they must
// never carry a secret (a private key, a PIN, a password, an SRTP key).
// Emit on a nil *Log does nothing.
func (l *Log) Emit(ctx context.Context, id EventID, msg string, attrs ...slog.Attr) {
	if l == nil {
		return
	}
	// The record goes to the handler itself, without the caller's program
	// counter: the log shows no source, and slog.Logger would walk the
	// stack for it at every event (SPEC PERF-2: one event per call).
	r := slog.NewRecord(time.Now(), id.Level(), msg, 0)
	r.AddAttrs(slog.Int(IDKey, int(id)))
	r.AddAttrs(attrs...)
	_ = l.h.Handle(ctx, r)
	l.obs.notify(id, attrs)
}

// Close closes the file. Emit must not be called after Close.
func (l *Log) Close() error {
	if l == nil {
		return nil
	}
	return l.w.Close()
}

// Record is one event read back from the log.
type Record struct {
	Time    time.Time
	Level   string
	EventID EventID
	Message string
	Attrs   map[string]any `json:",omitempty"`
}

// Filter selects records for Read. Its zero value selects everything.
type Filter struct {
	ID    EventID   // only this event ID, when not zero
	Since time.Time // only records at or after this time, when not zero
}

// Read returns the records of the log at path and of its rotated files
// (path.N … path.1) that match filter, oldest first. A missing file holds
// no events. A line that is not a whole record, as the last line of a log
// whose writer crashed, is skipped.
func Read(path string, filter Filter) ([]Record, error) {
	files, err := openGenerations(path)
	if err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	var out []Record
	for _, f := range files {
		if err == nil {
			out, err = read(f, filter, out)
		}
		f.Close()
	}
	return out, err
}

// read appends to out the records of r that match filter.
func read(r io.Reader, filter Filter, out []Record) ([]Record, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		if rec, ok := parseLine(sc.Bytes()); ok && filter.matches(rec) {
			out = append(out, rec)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	return out, nil
}

// parseLine reads one line of the log; ok is false for a line that is no
// whole record.
func parseLine(line []byte) (rec Record, ok bool) {
	var m map[string]any
	if json.Unmarshal(line, &m) != nil {
		return rec, false
	}
	return toRecord(m)
}

// toRecord turns a decoded JSON line into a Record; slog's JSON handler
// names the standard keys time, level and msg.
func toRecord(m map[string]any) (Record, bool) {
	var rec Record
	id, ok := m[IDKey].(float64)
	if !ok {
		return rec, false
	}
	rec.EventID = EventID(id)
	if s, ok := m[slog.TimeKey].(string); ok {
		rec.Time, _ = time.Parse(time.RFC3339Nano, s)
	}
	level, _ := m[slog.LevelKey].(string)
	rec.Level = levelName(level)
	rec.Message, _ = m[slog.MessageKey].(string)
	for _, k := range []string{IDKey, slog.TimeKey, slog.LevelKey, slog.MessageKey} {
		delete(m, k)
	}
	if len(m) > 0 {
		rec.Attrs = m
	}
	return rec, true
}

// levelName spells slog's levels as the Windows event log does.
func levelName(level string) string {
	switch level {
	case "INFO":
		return "Information"
	case "WARN":
		return "Warning"
	case "ERROR":
		return "Error"
	}
	return level
}
