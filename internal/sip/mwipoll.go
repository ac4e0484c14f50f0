package sip

// Noticing changes for message waiting: the store is shared by processes
// (the server's call answering and subscriber menu, the command line's
// message commands, the purge), so the server polls it rather than wait
// for calls in its own process. Every MessageWaitingPoll (1 s) it reads
// the store's Version, one row; only when that moved does it read the
// counts of every mailbox and queue a NOTIFY for each mailbox whose counts
// differ from the last look. A change thus reaches the PBX within about a
// poll interval, plus the NOTIFY's round trip. Servers of a pool all poll
// the one store; a claim in it (claimAnnouncement) has one of them send each
// change.

import (
	"context"
	"log/slog"
	"time"

	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/msgstore"
)

// pollMessages watches s.cfg.Messages until ctx is done. The first look
// is the baseline: a start sends nothing (see docs: a PBX learns the state
// on the next change, its SUBSCRIBE, or a gateway's return).
func (s *Server) pollMessages(ctx context.Context) {
	every := s.cfg.MessageWaitingPoll
	if every <= 0 {
		every = time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	var version uint64
	var last map[string]msgstore.Counts
	failing := false
	for {
		v, err := s.cfg.Messages.Version(ctx)
		if err == nil && (last == nil || v != version) {
			var now map[string]msgstore.Counts
			if now, err = s.cfg.Messages.Counts(ctx); err == nil {
				if last != nil {
					s.countsChanged(ctx, last, now)
				}
				version, last = v, now
			}
		}
		if err != nil && !failing && ctx.Err() == nil {
			s.cfg.Events.Emit(ctx, events.MessageWaitingFailed, "message waiting: the message store could not be read",
				slog.String("reason", err.Error()), slog.String("retrying_until", "the store answers"))
		}
		failing = err != nil
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// countsChanged queues a NOTIFY for, and tells the subscribers of, each
// mailbox whose counts differ between last and now. The subscribers are
// this server's; the unsolicited NOTIFY goes from the one server of a pool
// that claims the new counts (claimAnnouncement).
func (s *Server) countsChanged(ctx context.Context, last, now map[string]msgstore.Counts) {
	changed := func(mailbox string, c msgstore.Counts) {
		if s.claimAnnouncement(ctx, mailbox, c) {
			s.queueNotify(mailbox, c)
		}
		s.notifySubscribers(ctx, mailbox, c)
	}
	for mailbox, c := range now {
		if last[mailbox] != c {
			changed(mailbox, c)
		}
	}
	for mailbox := range last {
		if _, ok := now[mailbox]; !ok {
			changed(mailbox, msgstore.Counts{})
		}
	}
}

// claimAnnouncement reports whether this server sends the PBX mailbox's
// new counts c. Every server of a pool sharing the store notices the
// change; the one whose claim records c in the store sends it, the others
// find c claimed. A store that cannot be asked leaves each server to send
// it: twice is better than never.
func (s *Server) claimAnnouncement(ctx context.Context, mailbox string, c msgstore.Counts) bool {
	claims, ok := s.cfg.Messages.(msgstore.NotifyClaims)
	if !ok {
		return true
	}
	mine, err := claims.ClaimNotify(ctx, mailbox, c, s.cfg.FQDN)
	if err != nil {
		s.cfg.Events.Emit(ctx, events.MessageWaitingFailed, "message waiting: the store could not say which server announces the counts; this one sends them",
			slog.String("mailbox", mailbox), slog.String("reason", err.Error()), slog.String("retrying_until", "not retried"))
		return true
	}
	return mine
}
