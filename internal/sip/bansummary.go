package sip

import (
	"context"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/openum/openum/internal/events"
)

// summaryEvery is how often at most the event log hears of one banned
// source's refusals (SPEC PEER-4): a flood of connections must not become
// a flood of lines.
const summaryEvery = time.Minute

// refusalTally counts the refusals of a banned source that the event log
// has not told yet.
type refusalTally struct {
	since       time.Time // the start of the ban, or the last summary
	count       int
	first, last time.Time
	transports  []string
}

// add counts one refusal at now.
func (t *refusalTally) add(now time.Time, transport string) {
	if t.count == 0 {
		t.first = now
	}
	t.count++
	t.last = now
	if !slices.Contains(t.transports, transport) {
		t.transports = append(t.transports, transport)
	}
}

// attrs are the tally as event attributes: what 9214 says, and what 9207
// adds when the ban ends.
func (t *refusalTally) attrs() []slog.Attr {
	attrs := []slog.Attr{slog.Int("Count", t.count)}
	if t.count > 0 {
		attrs = append(attrs, slog.Time("First", t.first), slog.Time("Last", t.last),
			slog.String("Transport", strings.Join(t.transports, ",")))
	}
	return attrs
}

// endedBan is a ban that sweep lifted, with what its tally still holds.
type endedBan struct {
	ip    netip.Addr
	tally refusalTally
}

// refusedWhileBanned counts a refusal of ip if ip is banned now, and
// returns the tally to summarise when summaryEvery has passed since the
// ban began or since the last summary.
func (s *sources) refusedWhileBanned(ip netip.Addr, transport string) (banned bool, due *refusalTally) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if until, ok := s.bans[ip]; !ok || !now.Before(until) {
		return false, nil
	}
	t := s.tallies[ip]
	if t == nil { // banned before tallies were kept for it
		t = &refusalTally{since: now}
		s.tallies[ip] = t
	}
	t.add(now, transport)
	if now.Sub(t.since) < summaryEvery {
		return true, nil
	}
	sum := *t
	*t = refusalTally{since: now}
	return true, &sum
}

// refusedWhileBanned counts a refusal of a banned source instead of
// logging it, and logs the count at most once every summaryEvery. It
// reports whether ip is banned.
func (s *Server) refusedWhileBanned(ctx context.Context, ip netip.Addr, transport string) bool {
	banned, due := s.sources.refusedWhileBanned(ip, transport)
	if due != nil {
		s.cfg.Events.Emit(ctx, events.BannedSourceRefused, "refusals from a banned source",
			append([]slog.Attr{slog.String("Source", ip.String())}, due.attrs()...)...)
	}
	return banned
}

// liftBans ends the bans that have expired, each with an event that counts
// the refusals no summary has told yet.
func (s *Server) liftBans(ctx context.Context) {
	for _, b := range s.sources.sweep() {
		s.cfg.Events.Emit(ctx, events.BanExpired, "ban expired",
			append([]slog.Attr{slog.String("source", b.ip.String())}, b.tally.attrs()...)...)
	}
}
