package dirsql

import (
	"context"
	"fmt"

	"github.com/openum/openum/internal/directory"
)

// PublishLoad implements directory.LoadBoard: one statement, no
// transaction of its own, as it runs every few seconds on every server,
// and no notice to the others (the board is not configuration, and they
// read it on their own period). The server column takes the name as last
// spelled where the dialect keeps spellings.
func (q Queries) PublishLoad(ctx context.Context, l directory.Load) error {
	err := q.DB.Exec(ctx, `INSERT INTO server_load (server, calls, max_calls, status, draining, tcp_port, tls_port, updated)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (server) DO UPDATE SET server = excluded.server, calls = excluded.calls, max_calls = excluded.max_calls,
		status = excluded.status, draining = excluded.draining, tcp_port = excluded.tcp_port, tls_port = excluded.tls_port,
		updated = excluded.updated`,
		q.Dialect.Name(l.Server), l.Calls, l.MaxCallsAllowed, string(l.Status), l.Draining, l.TCPPort, l.TLSPort, q.Dialect.Time(l.Updated))
	if err != nil {
		return fmt.Errorf("directory: load of server %s: %w", l.Server, err)
	}
	return nil
}

// ReadLoads implements directory.LoadBoard.
func (q Queries) ReadLoads(ctx context.Context) ([]directory.Load, error) {
	var out []directory.Load
	err := q.DB.Query(ctx, "SELECT server, calls, max_calls, status, draining, tcp_port, tls_port, updated FROM server_load ORDER BY server",
		func(row Row) error {
			var l directory.Load
			var status string
			if err := row.Scan(&l.Server, &l.Calls, &l.MaxCallsAllowed, &status, &l.Draining, &l.TCPPort, &l.TLSPort, q.Dialect.ScanTime(&l.Updated)); err != nil {
				return err
			}
			l.Status = directory.Status(status)
			out = append(out, l)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("directory: server loads: %w", err)
	}
	return out, nil
}
