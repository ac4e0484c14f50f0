package sip

import (
	"context"
	"log/slog"
	"time"

	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/media"
)

// mediaWatch is a call's audio as watchMedia checks it: the stream, and
// when the call came up (silence counts from there until a first packet).
type mediaWatch struct {
	stream *media.Stream
	since  time.Time
}

// watchMedia hangs up, every second, each call whose caller has sent no
// audio for MediaTimeout: a gateway that lost the call without a BYE.
// One goroutine and one ticker watch every call, rather than one of each
// per call started and stopped with it (SPEC PERF-2).
func (s *Server) watchMedia(ctx context.Context) {
	var quiet []*call // reused each second: the watch allocates nothing once grown
	everyTick(ctx, time.Second, func() {
		quiet = quiet[:0]
		s.mu.Lock()
		for _, c := range s.calls {
			if w := c.media.Load(); w != nil && w.stream.Quiet(s.limits.MediaTimeout, w.since) {
				quiet = append(quiet, c)
			}
		}
		s.mu.Unlock()
		for _, c := range quiet {
			if c.media.Swap(nil) == nil {
				continue
			}
			s.cfg.Events.Emit(ctx, events.CallEnded, "no media from the caller: hanging up",
				slog.String("callid", c.id), slog.Duration("silent", s.limits.MediaTimeout))
			c.cancel()
		}
	})
}
