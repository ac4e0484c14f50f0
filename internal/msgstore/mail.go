package msgstore

// The mail ledger (SPEC OPS-4): the servers of a pool share one store, and
// a voice message's mail copy must reach the mailbox once, whichever server
// recorded it and whether or not that server lives to deliver it. So the
// store keeps, beside each message a call left, a mail job: the delivery
// note (opaque here: package delivery writes and reads it), the server
// holding its lease and until when, and whether it was delivered. The job
// is written in Save's transaction, so a message kept is a mail owed; the
// audio is the message's own, not a second copy.
//
// Lease times are the database's clock (PostgreSQL's now(); for SQLite,
// the one host's clock), never compared with a server's: servers whose
// clocks differ still agree on whether a lease has expired.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// MailJob is the mail copy of a stored message, waiting to be delivered.
type MailJob struct {
	ID      string // the mail's ID: the delivery note's, the Message-ID's left part
	Message int64  // the stored message whose audio the mail carries (set by Save)
	Note    []byte // the delivery note, JSON; the store does not read it
	Owner   string // the server that holds, or last held, its lease
	// Lease is, for Save, how long the saving server's first lease lasts.
	Lease time.Duration `json:"-"`
}

// Claim is what MailLedger.Claim found.
type Claim int

// The outcomes of a claim.
const (
	// ClaimUnknown: no job has that ID (a mail spooled before the ledger,
	// or whose message was purged): it is the spool's alone to deliver.
	ClaimUnknown   Claim = iota
	ClaimHeld            // the caller holds the lease: it may deliver
	ClaimBusy            // another server holds a lease that has not expired
	ClaimDelivered       // it was delivered already, by this server or another
)

// ErrLeaseLost says that another server took a mail job over: this one's
// lease had expired.
var ErrLeaseLost = errors.New("msgstore: another server took the mail job over (its lease had expired)")

// ScanJobs reads the rows of a store's Claimable query, each (id, message,
// note, owner) of one job.
func ScanJobs(rows Rows) ([]MailJob, error) {
	var jobs []MailJob
	for rows.Next() {
		var j MailJob
		if err := rows.Scan(&j.ID, &j.Message, &j.Note, &j.Owner); err != nil {
			return nil, fmt.Errorf("msgstore: mail jobs: %w", err)
		}
		jobs = append(jobs, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("msgstore: mail jobs: %w", err)
	}
	return jobs, nil
}

// JobRow is a mail job as an engine reads it after a claim or write of it
// changed nothing, to tell why.
type JobRow struct {
	Found     bool   // the job exists: it is not unknown, nor purged with its message
	Owner     string // the server holding, or last holding, its lease
	Delivered bool
}

// ScanJobRow reads row, a store's query of one job's owner and whether it
// was delivered (delivered_at IS NOT NULL); no row is the zero JobRow.
func ScanJobRow(row Row) (JobRow, error) {
	job := JobRow{Found: true}
	err := row.Scan(&job.Owner, &job.Delivered)
	if errors.Is(err, sql.ErrNoRows) { // pgx's ErrNoRows is database/sql's
		return JobRow{}, nil
	}
	return job, err
}

// Claim is what a claim that changed nothing found.
func (j JobRow) Claim() Claim {
	switch {
	case !j.Found:
		return ClaimUnknown
	case j.Delivered:
		return ClaimDelivered
	}
	return ClaimBusy
}

// Lost explains why owner's write of job id (SetNote, or Delivered: done)
// changed nothing: nil when the job is gone (its message purged) or when
// owner delivered it already; else ErrLeaseLost.
func (j JobRow) Lost(id, owner string, done bool) error {
	if !j.Found || done && j.Delivered && j.Owner == owner {
		return nil
	}
	return fmt.Errorf("msgstore: mail %s (held by %s): %w", id, j.Owner, ErrLeaseLost)
}

// MailLedger is the store's mail jobs, shared by the servers of a pool.
// Every method is one statement or transaction; a lease passes from one
// owner to another only when it has expired.
type MailLedger interface {
	// Claim takes job id's lease for owner for lease from now, if owner
	// holds it already or it has expired, and says what it found.
	Claim(ctx context.Context, id, owner string, lease time.Duration) (Claim, error)
	// Renew extends by lease from now every undelivered job owner holds,
	// expired or not, and returns how many.
	Renew(ctx context.Context, owner string, lease time.Duration) (int, error)
	// Claimable returns the undelivered jobs owner may claim, its own and
	// those whose lease has expired, oldest message first, at most limit.
	Claimable(ctx context.Context, owner string, limit int) ([]MailJob, error)
	// SetNote replaces job id's note (its attempts) while owner holds it;
	// ErrLeaseLost when another does.
	SetNote(ctx context.Context, id, owner string, note []byte) error
	// Delivered marks job id delivered by owner, and forgets its note;
	// ErrLeaseLost when another server holds it.
	Delivered(ctx context.Context, id, owner string) error
	// Quarantine sets job id aside, with why: its note cannot be read, so
	// Claimable no longer returns it. A spool's copy may still claim it.
	Quarantine(ctx context.Context, id, reason string) error
}

// NotifyClaims decides which server of a pool announces a mailbox's
// counts to the PBX (SPEC UM-5): each server notices every change, and
// one must send the NOTIFY, not each.
type NotifyClaims interface {
	// ClaimNotify records c as the counts announced for mailbox (a
	// MailboxKey) by server and reports true, unless they are the counts
	// last announced: then another server has them, and it reports false.
	ClaimNotify(ctx context.Context, mailbox string, c Counts, server string) (bool, error)
}
