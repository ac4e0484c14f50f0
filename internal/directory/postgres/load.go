package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/openum/openum/internal/directory"
)

var _ directory.LoadBoard = (*Store)(nil)

// PublishLoad implements directory.LoadBoard: one statement, no NOTIFY
// (the board is not configuration, and the others read it on their own
// period).
func (s *Store) PublishLoad(ctx context.Context, l directory.Load) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO server_load (server, calls, max_calls, status, draining, tcp_port, tls_port, updated)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (server) DO UPDATE SET calls = excluded.calls, max_calls = excluded.max_calls, status = excluded.status,
		draining = excluded.draining, tcp_port = excluded.tcp_port, tls_port = excluded.tls_port, updated = excluded.updated`,
		strings.ToLower(l.Server), l.Calls, l.MaxCallsAllowed, string(l.Status), l.Draining, l.TCPPort, l.TLSPort, l.Updated)
	if err != nil {
		return fmt.Errorf("directory: load of server %s: %w", l.Server, err)
	}
	return nil
}

// ReadLoads implements directory.LoadBoard.
func (s *Store) ReadLoads(ctx context.Context) ([]directory.Load, error) {
	rows, err := s.pool.Query(ctx, "SELECT server, calls, max_calls, status, draining, tcp_port, tls_port, updated FROM server_load ORDER BY server")
	if err != nil {
		return nil, fmt.Errorf("directory: server loads: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (directory.Load, error) {
		var l directory.Load
		var status string
		err := row.Scan(&l.Server, &l.Calls, &l.MaxCallsAllowed, &status, &l.Draining, &l.TCPPort, &l.TLSPort, &l.Updated)
		l.Status = directory.Status(status)
		return l, err
	})
	if err != nil {
		return nil, fmt.Errorf("directory: server loads: %w", err)
	}
	return out, nil
}
