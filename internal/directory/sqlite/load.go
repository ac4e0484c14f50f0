package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/sqlitedb"
)

var _ directory.LoadBoard = (*Store)(nil)

// PublishLoad implements directory.LoadBoard: one statement, no
// transaction of its own, as it runs every few seconds on every server.
func (s *Store) PublishLoad(ctx context.Context, l directory.Load) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO server_load (server, calls, max_calls, status, draining, tcp_port, tls_port, updated)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (server) DO UPDATE SET server = excluded.server, calls = excluded.calls, max_calls = excluded.max_calls,
		status = excluded.status, draining = excluded.draining, tcp_port = excluded.tcp_port, tls_port = excluded.tls_port,
		updated = excluded.updated`,
		l.Server, l.Calls, l.MaxCallsAllowed, string(l.Status), l.Draining, l.TCPPort, l.TLSPort, l.Updated.UnixMilli())
	if err != nil {
		return fmt.Errorf("directory: load of server %s: %w", l.Server, err)
	}
	return nil
}

// ReadLoads implements directory.LoadBoard.
func (s *Store) ReadLoads(ctx context.Context) ([]directory.Load, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT server, calls, max_calls, status, draining, tcp_port, tls_port, updated FROM server_load ORDER BY server")
	if err != nil {
		return nil, fmt.Errorf("directory: server loads: %w", err)
	}
	out, err := sqlitedb.Collect(rows, func(row sqlitedb.Row) (directory.Load, error) {
		var l directory.Load
		var status string
		var updated int64
		err := row.Scan(&l.Server, &l.Calls, &l.MaxCallsAllowed, &status, &l.Draining, &l.TCPPort, &l.TLSPort, &updated)
		l.Status, l.Updated = directory.Status(status), time.UnixMilli(updated)
		return l, err
	})
	if err != nil {
		return nil, fmt.Errorf("directory: server loads: %w", err)
	}
	return out, nil
}
