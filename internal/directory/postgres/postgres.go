// Package postgres keeps the directory in a PostgreSQL database
// (github.com/jackc/pgx/v5), so that several openum servers share one
// directory (SPEC OPS-4).
//
// The schema is versioned (embedded migrations/*.sql) and brought up to
// date only by Migrate (openum directory migrate), never by a server on its
// own: Open refuses a schema older or newer than this openum's.
//
// Writers read without a lock and check at commit (optimistic
// concurrency): an Update runs its function on a snapshot, then takes the
// one-row change counter FOR UPDATE, which makes commits take turns. When
// the counter moved since the snapshot, the Update is carried over to the
// newer configuration (directory.Rebase) and checked again, unless another
// writer changed one of its objects: then it fails with a
// *directory.ConflictError, and nothing is written. Each commit counts the
// counter up (Version) and sends a NOTIFY, which Changed passes on.
package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/pgdb"
)

// Store is a directory.Directory in a PostgreSQL database. It is safe for
// concurrent use, also by other processes sharing the database.
type Store struct {
	pool *pgxpool.Pool

	listenOnce sync.Once
	changed    chan struct{}
	stopListen context.CancelFunc
	listening  sync.WaitGroup
}

var (
	_ directory.Directory = (*Store)(nil)
	_ directory.Notifier  = (*Store)(nil)
)

// Open connects to the database at url (postgres://...) and checks that its
// schema is the one this openum writes.
func Open(ctx context.Context, url string) (*Store, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("directory: %w", err)
	}
	v, err := schemaVersion(ctx, pool)
	switch {
	case errors.Is(err, directory.ErrSchemaTooNew):
	case err != nil:
		err = fmt.Errorf("directory: %w", err)
	case v < SchemaVersion():
		err = fmt.Errorf("directory: the PostgreSQL schema is at version %d and this openum needs %d: run openum directory migrate", v, SchemaVersion())
	}
	if err != nil {
		pool.Close()
		return nil, err
	}
	return &Store{pool: pool, changed: make(chan struct{}, 1), stopListen: func() {}}, nil
}

// Close stops listening and closes the connections.
func (s *Store) Close() error {
	s.listenOnce.Do(func() {}) // no listener starts after Close
	s.stopListen()
	s.listening.Wait()
	s.pool.Close()
	return nil
}

// Snapshot reads the whole configuration in one REPEATABLE READ transaction.
func (s *Store) Snapshot(ctx context.Context) (*directory.Snapshot, error) {
	snap, _, err := s.read(ctx)
	return snap, err
}

// read returns the configuration and the version it is, seen together.
func (s *Store) read(ctx context.Context) (snap *directory.Snapshot, version int64, err error) {
	err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, "SELECT version FROM directory_version").Scan(&version); err != nil {
			return err
		}
		snap, err = load(ctx, tx)
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("directory: %w", err)
	}
	return snap, version, nil
}

func load(ctx context.Context, tx pgx.Tx) (*directory.Snapshot, error) {
	var snap directory.Snapshot
	err := errors.Join(
		loadTable(ctx, tx, "SELECT config FROM dial_plans ORDER BY key", &snap.DialPlans, nil),
		loadTable(ctx, tx, "SELECT config FROM ip_gateways ORDER BY key", &snap.IPGateways, nil),
		loadTable(ctx, tx, "SELECT config FROM hunt_groups ORDER BY key", &snap.HuntGroups, nil),
		loadTable(ctx, tx, "SELECT config FROM servers ORDER BY key", &snap.Servers, nil),
		loadTable(ctx, tx, "SELECT config FROM mailbox_policies ORDER BY key", &snap.MailboxPolicies, nil),
		// The PIN hashes and token hashes are kept out of the objects'
		// JSON, in columns of their own.
		loadTable(ctx, tx, "SELECT config, pin FROM mailboxes ORDER BY key", &snap.Mailboxes,
			func(m *directory.Mailbox, pin string) error { return json.Unmarshal([]byte(pin), &m.PIN) }),
		loadTable(ctx, tx, "SELECT config, hash FROM admin_tokens ORDER BY key", &snap.AdminTokens,
			func(t *directory.AdminToken, hash string) error { t.Hash = hash; return nil }),
	)
	if err != nil {
		return nil, err
	}
	return &snap, nil
}

// loadTable reads the objects of query, whose first column is the JSON of
// each; when secret is set, the query has a second column, which secret
// puts into the object.
func loadTable[T any](ctx context.Context, tx pgx.Tx, query string, into *[]T, secret func(*T, string) error) error {
	rows, err := tx.Query(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var config, extra string
		dest := []any{&config}
		if secret != nil {
			dest = append(dest, &extra)
		}
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		var v T
		err := json.Unmarshal([]byte(config), &v)
		if err == nil && secret != nil {
			err = secret(&v, extra)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", query, err)
		}
		*into = append(*into, v)
	}
	return rows.Err()
}

// Version implements directory.Directory: the change counter, which every
// Update that writes counts up in its own transaction.
func (s *Store) Version(ctx context.Context) (uint64, error) {
	var v int64
	if err := s.pool.QueryRow(ctx, "SELECT version FROM directory_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("directory: version: %w", err)
	}
	return uint64(v), nil
}

// Audit implements directory.Directory.
func (s *Store) Audit(ctx context.Context) ([]directory.AuditRecord, error) {
	records, err := pgdb.ReadAudit(ctx, s.pool, "audit")
	if err != nil {
		return nil, fmt.Errorf("directory: audit: %w", err)
	}
	return records, nil
}
