package sip

// The load board (SPEC OPS-4): every LoadEvery this server publishes how
// busy it is and reads the others' rows, so that a call it cannot take is
// redirected (redirect.go) without a database query on the INVITE's path.

import (
	"context"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
)

// loadBoard is the board as this server last read it.
type loadBoard struct {
	rows   atomic.Pointer[[]directory.Load]
	failed atomic.Bool // the last publish or read failed (reported once a streak)
	// publishing orders the publishes: a row made before Shutdown's must not
	// be written after it, telling the others a stopping server has room.
	publishing sync.Mutex
}

// loadEvery is how often the load is published: Config.LoadEvery, else 3 s.
func (s *Server) loadEvery() time.Duration {
	if s.cfg.LoadEvery > 0 {
		return s.cfg.LoadEvery
	}
	return 3 * time.Second
}

// publishLoads publishes this server's load and reads the board, at once
// and then every loadEvery, until ctx is done.
func (s *Server) publishLoads(ctx context.Context) {
	t := time.NewTicker(s.loadEvery())
	defer t.Stop()
	for {
		s.refreshBoard(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Server) refreshBoard(ctx context.Context) {
	s.board.publishing.Lock()
	defer s.board.publishing.Unlock()
	err := s.cfg.Loads.PublishLoad(ctx, s.ownLoad())
	var rows []directory.Load
	if err == nil {
		rows, err = s.cfg.Loads.ReadLoads(ctx)
	}
	if err != nil {
		if !s.board.failed.Swap(true) && ctx.Err() == nil {
			s.cfg.Events.Emit(ctx, events.DirectoryReloadFailed, "load board", slog.String("error", err.Error()))
		}
		return
	}
	s.board.failed.Store(false)
	s.board.rows.Store(&rows)
}

// ownLoad is this server's row: its record as applied, its calls (the
// outcalls too: they take the room MaxCallsAllowed gives) and the ports it
// listens on.
func (s *Server) ownLoad() directory.Load {
	v := s.view.Load()
	s.mu.Lock()
	l := directory.Load{Server: v.server.Name, Calls: s.inProgressLocked(), MaxCallsAllowed: v.server.MaxCallsAllowed,
		Status: v.server.Status, Draining: s.draining, Updated: time.Now()}
	s.mu.Unlock()
	for transport, addr := range s.Addrs() {
		_, p, _ := net.SplitHostPort(addr.String())
		n, _ := strconv.Atoi(p)
		switch transport {
		case "TCP":
			l.TCPPort = n
		case "TLS":
			l.TLSPort = n
		}
	}
	return l
}
