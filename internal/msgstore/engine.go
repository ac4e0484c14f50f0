package msgstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/openum/openum/internal/directory"
)

// What Save, SetState and Purge write is the same in every engine; only
// the SQL of each statement differs. So they are written once here,
// against Tx, and each engine's Store.Save, Store.SetState and Store.Purge
// call them with its own.

// Tx is one write transaction of an engine: the statements that Save,
// SetState and Purge are made of, in the engine's SQL.
type Tx interface {
	// Insert stores m, as check made it, and its audio, and returns its ID.
	Insert(ctx context.Context, m Message, wav []byte) (int64, error)
	// AddState adds state, entered at at, to message id's History.
	AddState(ctx context.Context, id int64, state State, at time.Time) error
	// AddMailJob records m.Mail, the mail job of m, just inserted.
	AddMailJob(ctx context.Context, m Message) error
	// Get reads message id with its History, and keeps it from other
	// writers until the transaction ends; a *NotFoundError when there is
	// none.
	Get(ctx context.Context, id int64) (*Message, error)
	// UpdateState sets message id's State and StateChanged.
	UpdateState(ctx context.Context, id int64, state State, at time.Time) error
	// RemoveDeleted removes, for good, mailbox's messages deleted at or
	// before cutoff, and returns them as the changes of the audit record
	// (RemovedChanges); none when there were none.
	RemoveDeleted(ctx context.Context, mailbox string, cutoff time.Time) ([]directory.Change, error)
	// AppendAudit adds one audit record naming actor and changes.
	AppendAudit(ctx context.Context, actor directory.Actor, changes []directory.Change) error
}

// Write runs fn in one write transaction of an engine, committed when fn
// returns nil and rolled back otherwise.
type Write func(ctx context.Context, fn func(Tx) error) error

// Save is every engine's Store.Save, in the transactions of write.
func Save(ctx context.Context, write Write, actor directory.Actor, m Message, wav []byte) (Message, error) {
	m, err := check(m, wav, time.Now())
	if err != nil {
		return Message{}, err
	}
	err = write(ctx, func(tx Tx) (err error) {
		if m.ID, err = tx.Insert(ctx, m, wav); err != nil {
			return err
		}
		if err := tx.AddState(ctx, m.ID, m.State, m.StateChanged); err != nil {
			return err
		}
		if m.Mail != nil {
			if err := tx.AddMailJob(ctx, m); err != nil {
				return err
			}
		}
		if actor == (directory.Actor{}) {
			return nil
		}
		return tx.AppendAudit(ctx, actor, []directory.Change{addedRecord(m)})
	})
	if err != nil {
		return Message{}, fmt.Errorf("msgstore: save: %w", err)
	}
	return m, nil
}

// SetState is every engine's Store.SetState, in the transactions of write.
func SetState(ctx context.Context, write Write, actor directory.Actor, id int64, state State, at time.Time) (*Message, error) {
	state, err := directory.ParseEnum("state", string(state), States)
	if err != nil {
		return nil, fmt.Errorf("msgstore: %w", err)
	}
	var m *Message
	err = write(ctx, func(tx Tx) (err error) {
		if m, err = tx.Get(ctx, id); err != nil || m.State == state {
			return err
		}
		old := m.State
		m.State, m.StateChanged = state, at.UTC()
		m.History = append(m.History, StateChange{State: state, At: m.StateChanged})
		if err := tx.UpdateState(ctx, id, state, m.StateChanged); err != nil {
			return err
		}
		if err := tx.AddState(ctx, id, state, m.StateChanged); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, actor, []directory.Change{stateChangeRecord(*m, old)})
	})
	if err != nil {
		return nil, Wrap(err)
	}
	return m, nil
}

// Wrap prefixes an engine's error with the package's name; a
// *NotFoundError speaks for itself.
func Wrap(err error) error {
	var nf *NotFoundError
	if err == nil || errors.As(err, &nf) {
		return err
	}
	return fmt.Errorf("msgstore: %w", err)
}

// NotFound turns err, from a query of message id, into a *NotFoundError
// when the query found no row (database/sql's ErrNoRows, which pgx's
// ErrNoRows also is); other errors it returns as they are.
func NotFound(err error, id int64) error {
	if errors.Is(err, sql.ErrNoRows) {
		return &NotFoundError{ID: id}
	}
	return err
}
