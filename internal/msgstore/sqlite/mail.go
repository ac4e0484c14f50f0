package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/openum/openum/internal/msgstore"
	"github.com/openum/openum/internal/sqlitedb"
)

var (
	_ msgstore.MailLedger   = (*Store)(nil)
	_ msgstore.NotifyClaims = (*Store)(nil)
)

// The database's clock is this host's: one SQLite file has one host.
func leaseEnd(lease time.Duration) string { return formatTime(time.Now().Add(lease)) }

func now() string { return formatTime(time.Now()) }

// AddMailJob records m's mail job in Save's transaction.
func (t tx) AddMailJob(ctx context.Context, m msgstore.Message) error {
	_, err := t.conn.ExecContext(ctx, "INSERT INTO mail_jobs (id, message, note, owner, lease_until) VALUES (?, ?, ?, ?, ?)",
		m.Mail.ID, m.ID, m.Mail.Note, m.Mail.Owner, leaseEnd(m.Mail.Lease))
	return err
}

// Claim implements msgstore.MailLedger, in one write transaction.
func (s *Store) Claim(ctx context.Context, id, owner string, lease time.Duration) (claim msgstore.Claim, err error) {
	err = sqlitedb.Write(ctx, s.db, func(conn *sql.Conn) error {
		res, err := conn.ExecContext(ctx, `UPDATE mail_jobs SET owner = ?, lease_until = ?
			WHERE id = ? AND delivered_at IS NULL AND (owner = ? OR lease_until < ?)`, owner, leaseEnd(lease), id, owner, now())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			claim = msgstore.ClaimHeld
			return nil
		}
		job, err := readJob(ctx, conn, id)
		claim = job.Claim()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("msgstore: claim mail %s: %w", id, err)
	}
	return claim, nil
}

// Renew implements msgstore.MailLedger.
func (s *Store) Renew(ctx context.Context, owner string, lease time.Duration) (n int, err error) {
	err = sqlitedb.Write(ctx, s.db, func(conn *sql.Conn) error {
		res, err := conn.ExecContext(ctx, "UPDATE mail_jobs SET lease_until = ? WHERE owner = ? AND delivered_at IS NULL", leaseEnd(lease), owner)
		if err == nil {
			rows, _ := res.RowsAffected()
			n = int(rows)
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("msgstore: renew mail leases: %w", err)
	}
	return n, nil
}

// Claimable implements msgstore.MailLedger.
func (s *Store) Claimable(ctx context.Context, owner string, limit int) ([]msgstore.MailJob, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, message, note, owner FROM mail_jobs
		WHERE delivered_at IS NULL AND quarantined IS NULL AND (owner = ? OR lease_until < ?)
		ORDER BY message LIMIT ?`, owner, now(), limit)
	if err != nil {
		return nil, fmt.Errorf("msgstore: mail jobs: %w", err)
	}
	defer rows.Close()
	return msgstore.ScanJobs(rows)
}

// SetNote implements msgstore.MailLedger.
func (s *Store) SetNote(ctx context.Context, id, owner string, note []byte) error {
	return s.ownerWrite(ctx, id, owner, false, "UPDATE mail_jobs SET note = ? WHERE id = ? AND owner = ? AND delivered_at IS NULL", note)
}

// Delivered implements msgstore.MailLedger.
func (s *Store) Delivered(ctx context.Context, id, owner string) error {
	return s.ownerWrite(ctx, id, owner, true, "UPDATE mail_jobs SET delivered_at = ?, note = NULL WHERE id = ? AND owner = ? AND delivered_at IS NULL", now())
}

// ownerWrite runs update (its first argument value, then id and owner) on
// job id for owner; when it changes nothing, the job's row says why
// (msgstore.JobRow.Lost).
func (s *Store) ownerWrite(ctx context.Context, id, owner string, done bool, update string, value any) error {
	var lost error
	err := sqlitedb.Write(ctx, s.db, func(conn *sql.Conn) error {
		res, err := conn.ExecContext(ctx, update, value, id, owner)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return nil
		}
		job, err := readJob(ctx, conn, id)
		lost = job.Lost(id, owner, done)
		return err
	})
	if err != nil {
		return fmt.Errorf("msgstore: mail %s: %w", id, err)
	}
	return lost
}

// readJob reads job id's row, as it is in conn's transaction.
func readJob(ctx context.Context, conn *sql.Conn, id string) (msgstore.JobRow, error) {
	return msgstore.ScanJobRow(conn.QueryRowContext(ctx, "SELECT owner, delivered_at IS NOT NULL FROM mail_jobs WHERE id = ?", id))
}

// Quarantine implements msgstore.MailLedger.
func (s *Store) Quarantine(ctx context.Context, id, reason string) error {
	err := sqlitedb.Write(ctx, s.db, func(conn *sql.Conn) error {
		_, err := conn.ExecContext(ctx, "UPDATE mail_jobs SET quarantined = ? WHERE id = ?", reason, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("msgstore: quarantine mail %s: %w", id, err)
	}
	return nil
}

// ClaimNotify implements msgstore.NotifyClaims, as the PostgreSQL store
// does: an upsert that writes only counts that differ.
func (s *Store) ClaimNotify(ctx context.Context, mailbox string, c msgstore.Counts, server string) (claimed bool, err error) {
	err = sqlitedb.Write(ctx, s.db, func(conn *sql.Conn) error {
		res, err := conn.ExecContext(ctx, `INSERT INTO mwi_announced (mailbox, new, saved, server, at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (mailbox) DO UPDATE SET new = excluded.new, saved = excluded.saved, server = excluded.server, at = excluded.at
			WHERE new <> excluded.new OR saved <> excluded.saved`, mailbox, c.New, c.Saved, server, now())
		if err == nil {
			n, _ := res.RowsAffected()
			claimed = n == 1
		}
		return err
	})
	if err != nil {
		return false, fmt.Errorf("msgstore: message waiting claim for %s: %w", mailbox, err)
	}
	return claimed, nil
}
