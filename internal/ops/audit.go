package ops

import (
	"context"
	"slices"

	"github.com/openum/openum/internal/directory"
)

// AuditLog is a store that keeps an audit log: the directory, the message
// store.
type AuditLog interface {
	Audit(ctx context.Context) ([]directory.AuditRecord, error)
}

// Audit returns the records of logs as one log, in time order.
func Audit(ctx context.Context, logs ...AuditLog) ([]directory.AuditRecord, error) {
	records := []directory.AuditRecord{}
	for _, l := range logs {
		r, err := l.Audit(ctx)
		if err != nil {
			return nil, err
		}
		records = append(records, r...)
	}
	// Each log is in order: a stable sort makes them one.
	slices.SortStableFunc(records, func(x, y directory.AuditRecord) int { return x.Time.Compare(y.Time) })
	return records, nil
}
