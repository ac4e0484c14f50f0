package directory

import (
	"context"
	"time"
)

// Load is what one server says of itself on the load board (SPEC OPS-4):
// how busy it is and where it listens, so that a full server can redirect
// a call to another with room. It is not configuration: publishing it
// writes no audit record and moves no Version.
type Load struct {
	Server          string // the server record's name (its FQDN)
	Calls           int    // calls in progress
	MaxCallsAllowed int
	Status          Status // the server record's status as the server applies it
	Draining        bool   // the server is stopping
	// TCPPort and TLSPort are the ports it listens on (0 for none): the
	// record's, unless the process was started on others.
	TCPPort, TLSPort int
	Updated          time.Time // when it was published, by the server's clock
}

// HasRoom reports whether the server described can take one more call:
// Enabled, not stopping, below its MaxCallsAllowed, and published after
// fresh (a server that stopped publishing may be dead).
func (l Load) HasRoom(fresh time.Time) bool {
	return l.Status == Enabled && !l.Draining && l.Calls < l.MaxCallsAllowed && !l.Updated.Before(fresh)
}

// LoadBoard is where the servers of a directory publish their load, every
// few seconds each. Every engine keeps one.
type LoadBoard interface {
	// PublishLoad replaces the row of l.Server (names ignore case).
	PublishLoad(ctx context.Context, l Load) error
	// ReadLoads returns every server's last row.
	ReadLoads(ctx context.Context) ([]Load, error)
}
