package postgres

import (
	"context"
	"encoding/json"
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
		for _, c := range changes {
			if err := writeChange(ctx, tx, next, c); err != nil {
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

// columns returns the stored columns of an object of next besides its key,
// and their values.
func columns(next *directory.Snapshot, r directory.Ref) ([]string, []any, error) {
	config := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	switch r.Kind {
	case directory.KindDialPlan:
		d, err := next.DialPlan(r.Name)
		return []string{"config"}, []any{config(d)}, err
	case directory.KindIPGateway:
		g, err := next.IPGateway(r.Name)
		return []string{"config"}, []any{config(g)}, err
	case directory.KindServer:
		sv, err := next.Server(r.Name)
		return []string{"config"}, []any{config(sv)}, err
	case directory.KindHuntGroup:
		h, err := next.HuntGroup(r.Name)
		if err != nil {
			return nil, nil, err
		}
		return []string{"ip_gateway", "dial_plan", "config"}, []any{key(h.UMIPGateway), key(h.UMDialPlan), config(h)}, nil
	case directory.KindMailboxPolicy:
		p, err := next.MailboxPolicy(r.Name)
		if err != nil {
			return nil, nil, err
		}
		return []string{"dial_plan", "config"}, []any{key(p.UMDialPlan), config(p)}, nil
	case directory.KindMailbox:
		m, err := next.Mailbox(r.Name)
		if err != nil {
			return nil, nil, err
		}
		return []string{"dial_plan", "policy", "config", "pin"},
			[]any{key(m.UMDialPlan), key(m.UMMailboxPolicy), config(m), config(m.PIN)}, nil
	case directory.KindAdminToken:
		t, err := next.AdminToken(r.Name)
		if err != nil {
			return nil, nil, err
		}
		return []string{"config", "hash"}, []any{config(t), t.Hash}, nil
	}
	return nil, nil, fmt.Errorf("unknown kind %q", r.Kind)
}

func writeChange(ctx context.Context, tx pgx.Tx, next *directory.Snapshot, c directory.Change) error {
	table := tables[c.Object.Kind]
	if c.Action == directory.Removed {
		_, err := tx.Exec(ctx, "DELETE FROM "+table+" WHERE key = $1", key(c.Object.Name))
		return err
	}
	cols, vals, err := columns(next, c.Object)
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
	if c.Object.Kind != directory.KindMailbox {
		return nil
	}
	// Refresh the mailbox's rows of the extension index.
	m, err := next.Mailbox(c.Object.Name)
	if err != nil {
		return err
	}
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
