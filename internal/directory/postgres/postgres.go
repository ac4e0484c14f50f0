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
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/directory/dirsql"
	"github.com/openum/openum/internal/pgdb"
)

// Store is a directory.Directory in a PostgreSQL database. It is safe for
// concurrent use, also by other processes sharing the database.
type Store struct {
	dirsql.Queries
	pool  *pgxpool.Pool
	cache directory.Cache

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
	pool, err := schema.Open(ctx, url)
	if errors.Is(err, pgdb.ErrSchemaTooNew) {
		return nil, directory.ErrSchemaTooNew
	}
	if err != nil {
		return nil, fmt.Errorf("directory: %w", err)
	}
	return &Store{Queries: queries(pool), pool: pool, changed: make(chan struct{}, 1), stopListen: func() {}}, nil
}

// Close stops listening and closes the connections.
func (s *Store) Close() error {
	s.listenOnce.Do(func() {}) // no listener starts after Close
	s.stopListen()
	s.listening.Wait()
	s.pool.Close()
	return nil
}

// Snapshot reads the configuration in one REPEATABLE READ transaction:
// the objects changed since the last read, or all on the first.
func (s *Store) Snapshot(ctx context.Context) (*directory.Snapshot, error) {
	snap, _, err := s.read(ctx)
	if err != nil {
		return nil, err
	}
	return snap.Clone(), nil
}

// read returns the configuration and the version it is, seen together.
// The snapshot is the cache's: it must not be changed.
func (s *Store) read(ctx context.Context) (snap *directory.Snapshot, version int64, err error) {
	err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, "SELECT version FROM directory_version").Scan(&version); err != nil {
			return err
		}
		snap, err = s.current(ctx, tx, version)
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("directory: %w", err)
	}
	return snap, version, nil
}

// current returns the configuration at version as tx sees it: the cached
// one when that is its version; else the cached one with the objects that
// the audit records since name read again; else all of it.
//
// Audit IDs come from a sequence, which hands them out before commit; but
// a record is written only by an Update holding the change counter's lock,
// so records commit in the order of their IDs, and those after the last
// one seen are exactly the changes since.
func (s *Store) current(ctx context.Context, tx pgx.Tx, version int64) (*directory.Snapshot, error) {
	cached, cv, audit := s.cache.Get()
	if cached != nil && cv == uint64(version) {
		return cached, nil
	}
	if cached != nil && cv < uint64(version) {
		refs, last, ok, err := audited(ctx, tx, audit)
		if err != nil {
			return nil, err
		}
		if ok {
			fresh, err := loadObjects(ctx, tx, refs)
			if err != nil {
				return nil, err
			}
			snap := directory.Patch(cached, refs, fresh)
			s.cache.Put(snap, uint64(version), last)
			return snap, nil
		}
	}
	snap, err := loadObjects(ctx, tx, nil)
	if err != nil {
		return nil, err
	}
	snap.Pack()
	var last int64
	if err := tx.QueryRow(ctx, "SELECT COALESCE(MAX(id), 0) FROM audit").Scan(&last); err != nil {
		return nil, err
	}
	s.cache.Put(snap, uint64(version), last)
	return snap, nil
}

// audited returns the objects that the audit records after ID after name,
// and the last record's ID; false when they are too many to read one by one.
func audited(ctx context.Context, tx pgx.Tx, after int64) ([]directory.Ref, int64, bool, error) {
	rows, err := tx.Query(ctx, "SELECT id, changes FROM audit WHERE id > $1 ORDER BY id", after)
	if err != nil {
		return nil, 0, false, err
	}
	defer rows.Close()
	var records []string
	last := after
	for rows.Next() {
		var changes string
		if err := rows.Scan(&last, &changes); err != nil {
			return nil, 0, false, err
		}
		records = append(records, changes)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, false, err
	}
	refs, ok := directory.AuditedObjects(records)
	return refs, last, ok, nil
}

// loadObjects reads the objects of refs, or every object when refs is nil.
func loadObjects(ctx context.Context, tx pgx.Tx, refs []directory.Ref) (*directory.Snapshot, error) {
	return directory.LoadObjects(func(kind directory.Kind, column string, row func(config, extra []byte) error) error {
		return readTable(ctx, tx, refs, kind, column, row)
	})
}

// readTable hands row the config column, and column when set, of the
// objects of kind in refs (all when refs is nil), in key order.
func readTable(ctx context.Context, tx pgx.Tx, refs []directory.Ref, kind directory.Kind, column string, row func(config, extra []byte) error) error {
	cols, clause, args := "config", "", []any(nil)
	if column != "" {
		cols += ", " + column
	}
	if refs != nil {
		var keys []string
		for _, r := range refs {
			if r.Kind == kind {
				keys = append(keys, key(r.Name))
			}
		}
		if len(keys) == 0 {
			return nil
		}
		clause, args = " WHERE key = ANY($1)", []any{keys}
	}
	query := "SELECT " + cols + " FROM " + tables[kind] + clause + " ORDER BY key"
	return runner{tx}.Query(ctx, query, dirsql.EachObject[[]byte](column != "", query, row), args...)
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
