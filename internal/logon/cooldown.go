package logon

import (
	"context"
	"log/slog"
	"time"

	"github.com/openum/openum/internal/events"
)

// The kinds of source a cool-down applies to, as event 9401 names them.
const (
	kindCallingNumber = "CallingNumber"
	kindGateway       = "Gateway"
)

type sourceKey struct{ kind, id string }

// sourceState is what one source has failed against lately.
type sourceState struct {
	failed map[string]time.Time // mailbox (or unknown extension) → its latest failure
	until  time.Time            // the end of the source's cool-down
}

// sources is the cool-down bookkeeping, guarded by Service.mu. It is kept
// in memory: a restart forgets it, and servers sharing a directory each
// keep their own. A source's record goes once it is idle for a window.
type sources struct {
	m     map[sourceKey]*sourceState
	swept time.Time
}

// keys are the sources a call counts against: its gateway and, when not
// withheld, its calling number.
func (src Source) keys() []sourceKey {
	var keys []sourceKey
	if src.Gateway != "" {
		keys = append(keys, sourceKey{kindGateway, src.Gateway})
	}
	if src.CallingNumber != "" {
		keys = append(keys, sourceKey{kindCallingNumber, src.CallingNumber})
	}
	return keys
}

// coolingDown reports whether the call's gateway or calling number is in a
// cool-down at now.
func (s *Service) coolingDown(src Source, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range src.keys() {
		if st := s.sources.m[k]; st != nil && now.Before(st.until) {
			return true
		}
	}
	return false
}

// failedFrom notes a failed logon from src against target (a mailbox, or an
// unknown extension). A source that has failed against SourceMailboxes
// distinct targets within SourceWindow starts a cool-down (event 9401).
func (s *Service) failedFrom(ctx context.Context, src Source, target string) {
	now := time.Now()
	type started struct {
		key   sourceKey
		count int
		until time.Time
	}
	var begun []started
	s.mu.Lock()
	s.sweep(now)
	for _, k := range src.keys() {
		st := s.sources.m[k]
		if st == nil {
			st = &sourceState{failed: map[string]time.Time{}}
			s.sources.m[k] = st
		}
		st.failed[target] = now
		s.forget(st, now)
		if len(st.failed) >= s.set.SourceMailboxes {
			st.until = now.Add(s.set.CoolDown)
			begun = append(begun, started{k, len(st.failed), st.until})
			clear(st.failed) // after the cool-down, the source starts afresh
		}
	}
	s.mu.Unlock()
	for _, b := range begun {
		s.log.Emit(ctx, events.LogonSourceCoolDown, "logons from a source refused for a while after failures against many mailboxes",
			slog.String("SourceKind", b.key.kind), slog.String("Source", b.key.id), slog.Int("Mailboxes", b.count),
			slog.Time("Until", b.until.UTC()), slog.String("CallID", src.CallID))
	}
}

// forgive forgets the failures of src against a mailbox its owner has now
// logged on to: the owner mistyped, nobody was guessing.
func (s *Service) forgive(src Source, target string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range src.keys() {
		if st := s.sources.m[k]; st != nil {
			delete(st.failed, target)
		}
	}
}

// forget drops the failures older than the window.
func (s *Service) forget(st *sourceState, now time.Time) {
	for t, at := range st.failed {
		if now.Sub(at) >= s.set.SourceWindow {
			delete(st.failed, t)
		}
	}
}

// sweep drops, at most once a window, the sources with no recent failure
// and no cool-down, so that many calling numbers cannot grow the map for
// ever.
func (s *Service) sweep(now time.Time) {
	if s.sources.m == nil {
		s.sources.m = map[sourceKey]*sourceState{}
	}
	if now.Sub(s.sources.swept) < s.set.SourceWindow {
		return
	}
	s.sources.swept = now
	for k, st := range s.sources.m {
		s.forget(st, now)
		if len(st.failed) == 0 && !now.Before(st.until) {
			delete(s.sources.m, k)
		}
	}
}
