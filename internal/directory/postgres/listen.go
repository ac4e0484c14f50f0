package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgxlisten"
)

// channel is the NOTIFY channel of directory changes.
const channel = "openum_directory"

// reconnectEvery is how long the listener waits before connecting again
// after it lost its connection; meanwhile the watcher's polling carries on.
const reconnectEvery = 5 * time.Second

// Changed implements directory.Notifier. The first call starts listening on
// a connection of its own (LISTEN), which Close ends; the channel receives
// after each change committed by any process, and after each (re)connection,
// when changes may have been missed.
func (s *Store) Changed() <-chan struct{} {
	s.listenOnce.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		s.stopListen = cancel
		l := &pgxlisten.Listener{
			Connect: func(ctx context.Context) (*pgx.Conn, error) {
				return pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
			},
			ReconnectDelay: reconnectEvery,
		}
		l.Handle(channel, wake(s.changed))
		s.listening.Go(func() { _ = l.Listen(ctx) })
	})
	return s.changed
}

// wake signals c without waiting: one pending signal stands for any number
// of changes.
type wake chan struct{}

func (w wake) signal() {
	select {
	case w <- struct{}{}:
	default:
	}
}

func (w wake) HandleNotification(context.Context, *pgconn.Notification, *pgx.Conn) error {
	w.signal()
	return nil
}

// HandleBacklog runs on each (re)connection: what changed while no
// connection listened is found by the watcher's Version.
func (w wake) HandleBacklog(context.Context, string, *pgx.Conn) error {
	w.signal()
	return nil
}
