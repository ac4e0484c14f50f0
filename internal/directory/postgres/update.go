package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/pgdb"
)

// Update implements directory.Directory (see the package comment for how
// concurrent writers are told apart).
func (s *Store) Update(ctx context.Context, actor directory.Actor, fn func(*directory.Snapshot) error) ([]directory.Change, error) {
	base, version, err := s.read(ctx)
	if err != nil {
		return nil, err
	}
	next, changes, err := directory.Prepare(base, fn)
	if err != nil || len(changes) == 0 {
		return nil, err
	}
	var written, audit int64
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var now int64
		if err := tx.QueryRow(ctx, "SELECT version FROM directory_version FOR UPDATE").Scan(&now); err != nil {
			return fmt.Errorf("directory: %w", err)
		}
		if now != version {
			latest, err := s.current(ctx, tx, now)
			if err != nil {
				return fmt.Errorf("directory: %w", err)
			}
			if next, err = directory.Rebase(base, next, latest, changes); err != nil {
				return err
			}
		}
		objs := next.Objects(changes)
		for i, c := range changes {
			if err := writeChange(ctx, tx, c, objs[i]); err != nil {
				return fmt.Errorf("directory: write %s: %w", c.Object, err)
			}
		}
		if err := pgdb.AppendAudit(ctx, tx, "audit", actor, changes); err != nil {
			return fmt.Errorf("directory: audit: %w", err)
		}
		if err := tx.QueryRow(ctx, "SELECT MAX(id) FROM audit").Scan(&audit); err != nil {
			return fmt.Errorf("directory: %w", err)
		}
		if err := tx.QueryRow(ctx, "UPDATE directory_version SET version = version + 1 RETURNING version").Scan(&written); err != nil {
			return fmt.Errorf("directory: %w", err)
		}
		// Sent on commit, to every server listening (Changed).
		if _, err := tx.Exec(ctx, "SELECT pg_notify($1, '')", channel); err != nil {
			return fmt.Errorf("directory: %w", err)
		}
		return nil
	})
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && pgErr.Code == "23505" { // unique_violation
		// Validate found nothing, the database did: a value unique among
		// all objects (a token's hash) that another object has.
		return nil, fmt.Errorf("directory: %s is already taken (%s)", pgErr.ConstraintName, pgErr.Detail)
	}
	if err != nil {
		return nil, err
	}
	// What was written is the configuration at the new version: the next
	// read need not read it back.
	s.cache.Put(next, uint64(written), audit)
	return changes, nil
}

// tables names the table of each kind.
var tables = map[directory.Kind]string{
	directory.KindDialPlan:      "dial_plans",
	directory.KindIPGateway:     "ip_gateways",
	directory.KindHuntGroup:     "hunt_groups",
	directory.KindServer:        "servers",
	directory.KindMailboxPolicy: "mailbox_policies",
	directory.KindMailbox:       "mailboxes",
	directory.KindAdminToken:    "admin_tokens",
}

// key is a name as the key and reference columns hold it: names ignore case.
func key(name string) string { return strings.ToLower(name) }

func writeChange(ctx context.Context, tx pgx.Tx, c directory.Change, obj any) error {
	table := tables[c.Object.Kind]
	if c.Action == directory.Removed {
		_, err := tx.Exec(ctx, "DELETE FROM "+table+" WHERE key = $1", key(c.Object.Name))
		return err
	}
	cols, vals, err := directory.StoredColumns(obj, key)
	if err != nil {
		return err
	}
	params := make([]string, len(cols))
	updates := make([]string, len(cols))
	for i, col := range cols {
		params[i] = fmt.Sprintf("$%d", i+2)
		updates[i] = col + " = excluded." + col
	}
	query := fmt.Sprintf("INSERT INTO %s (key, %s) VALUES ($1, %s) ON CONFLICT (key) DO UPDATE SET %s",
		table, strings.Join(cols, ", "), strings.Join(params, ", "), strings.Join(updates, ", "))
	if _, err := tx.Exec(ctx, query, append([]any{key(c.Object.Name)}, vals...)...); err != nil {
		return err
	}
	m, ok := obj.(*directory.Mailbox)
	if !ok {
		return nil
	}
	// Refresh the mailbox's rows of the extension index.
	if _, err := tx.Exec(ctx, "DELETE FROM extensions WHERE mailbox = $1", key(m.EmailAddress)); err != nil {
		return err
	}
	for _, ext := range m.Extensions {
		if _, err := tx.Exec(ctx, "INSERT INTO extensions (dial_plan, extension, mailbox) VALUES ($1, $2, $3)",
			key(m.UMDialPlan), ext, key(m.EmailAddress)); err != nil {
			return err
		}
	}
	return nil
}
