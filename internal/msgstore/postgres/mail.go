package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/openum/openum/internal/msgstore"
	"github.com/openum/openum/internal/pgdb"
)

var (
	_ msgstore.MailLedger   = (*Store)(nil)
	_ msgstore.NotifyClaims = (*Store)(nil)
)

// AddMailJob records m's mail job in Save's transaction, its first lease
// the saving server's.
func (t tx) AddMailJob(ctx context.Context, m msgstore.Message) error {
	_, err := t.tx.Exec(ctx, `INSERT INTO mail_jobs (id, message, note, owner, lease_until)
		VALUES ($1, $2, $3, $4, now() + $5 * interval '1 millisecond')`,
		m.Mail.ID, m.ID, m.Mail.Note, m.Mail.Owner, m.Mail.Lease.Milliseconds())
	return err
}

// Claim implements msgstore.MailLedger. The UPDATE alone grants the
// lease: two servers claiming at once queue on the row, and the second
// finds it held.
func (s *Store) Claim(ctx context.Context, id, owner string, lease time.Duration) (msgstore.Claim, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE mail_jobs SET owner = $2, lease_until = now() + $3 * interval '1 millisecond'
		WHERE id = $1 AND delivered_at IS NULL AND (owner = $2 OR lease_until < now())`, id, owner, lease.Milliseconds())
	if err != nil {
		return 0, fmt.Errorf("msgstore: claim mail %s: %w", id, err)
	}
	if tag.RowsAffected() == 1 {
		return msgstore.ClaimHeld, nil
	}
	job, err := readJob(ctx, s.pool, id)
	if err != nil {
		return 0, fmt.Errorf("msgstore: claim mail %s: %w", id, err)
	}
	return job.Claim(), nil
}

// Renew implements msgstore.MailLedger.
func (s *Store) Renew(ctx context.Context, owner string, lease time.Duration) (int, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE mail_jobs SET lease_until = now() + $2 * interval '1 millisecond'
		WHERE owner = $1 AND delivered_at IS NULL`, owner, lease.Milliseconds())
	if err != nil {
		return 0, fmt.Errorf("msgstore: renew mail leases: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// Claimable implements msgstore.MailLedger.
func (s *Store) Claimable(ctx context.Context, owner string, limit int) ([]msgstore.MailJob, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, message, note, owner FROM mail_jobs
		WHERE delivered_at IS NULL AND quarantined IS NULL AND (owner = $1 OR lease_until < now())
		ORDER BY message LIMIT $2`, owner, limit)
	if err != nil {
		return nil, fmt.Errorf("msgstore: mail jobs: %w", err)
	}
	defer rows.Close()
	return msgstore.ScanJobs(rows)
}

// SetNote implements msgstore.MailLedger.
func (s *Store) SetNote(ctx context.Context, id, owner string, note []byte) error {
	tag, err := s.pool.Exec(ctx, "UPDATE mail_jobs SET note = $3 WHERE id = $1 AND owner = $2 AND delivered_at IS NULL", id, owner, note)
	if err != nil {
		return fmt.Errorf("msgstore: mail %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return s.lost(ctx, id, owner, false)
	}
	return nil
}

// Delivered implements msgstore.MailLedger.
func (s *Store) Delivered(ctx context.Context, id, owner string) error {
	tag, err := s.pool.Exec(ctx, "UPDATE mail_jobs SET delivered_at = now(), note = NULL WHERE id = $1 AND owner = $2 AND delivered_at IS NULL", id, owner)
	if err != nil {
		return fmt.Errorf("msgstore: mail %s delivered: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return s.lost(ctx, id, owner, true)
	}
	return nil
}

// lost explains why owner could not change job id, from its row
// (msgstore.JobRow.Lost).
func (s *Store) lost(ctx context.Context, id, owner string, done bool) error {
	job, err := readJob(ctx, s.pool, id)
	if err != nil {
		return fmt.Errorf("msgstore: mail %s: %w", id, err)
	}
	return job.Lost(id, owner, done)
}

// readJob reads job id's row.
func readJob(ctx context.Context, q pgdb.Querier, id string) (msgstore.JobRow, error) {
	return msgstore.ScanJobRow(q.QueryRow(ctx, "SELECT owner, delivered_at IS NOT NULL FROM mail_jobs WHERE id = $1", id))
}

// Quarantine implements msgstore.MailLedger.
func (s *Store) Quarantine(ctx context.Context, id, reason string) error {
	if _, err := s.pool.Exec(ctx, "UPDATE mail_jobs SET quarantined = $2 WHERE id = $1", id, reason); err != nil {
		return fmt.Errorf("msgstore: quarantine mail %s: %w", id, err)
	}
	return nil
}

// ClaimNotify implements msgstore.NotifyClaims: an upsert that writes only
// counts that differ, so that of two servers announcing the same counts
// at once, the second, queued on the row, finds them there.
func (s *Store) ClaimNotify(ctx context.Context, mailbox string, c msgstore.Counts, server string) (bool, error) {
	tag, err := s.pool.Exec(ctx, `INSERT INTO mwi_announced AS a (mailbox, new, saved, server, at) VALUES ($1, $2, $3, $4, now())
		ON CONFLICT (mailbox) DO UPDATE SET new = excluded.new, saved = excluded.saved, server = excluded.server, at = excluded.at
		WHERE a.new <> excluded.new OR a.saved <> excluded.saved`, mailbox, c.New, c.Saved, server)
	if err != nil {
		return false, fmt.Errorf("msgstore: message waiting claim for %s: %w", mailbox, err)
	}
	return tag.RowsAffected() == 1, nil
}
