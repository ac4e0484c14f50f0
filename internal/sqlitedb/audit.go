package sqlitedb

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/openum/openum/internal/directory"
)

// An audit table (SPEC DIR-4), as every openum database that records
// changes has it:
//
//	CREATE TABLE audit (
//	    id      INTEGER PRIMARY KEY AUTOINCREMENT,
//	    at      TEXT NOT NULL, -- RFC 3339, UTC
//	    user    TEXT NOT NULL,
//	    command TEXT NOT NULL,
//	    changes TEXT NOT NULL  -- JSON list of directory.Change
//	);

// AppendAudit adds one record naming actor and changes, inside the
// transaction of conn that makes them, so that the change and its record
// commit together.
func AppendAudit(ctx context.Context, conn *sql.Conn, actor directory.Actor, changes []directory.Change) error {
	record, _ := json.Marshal(changes)
	_, err := conn.ExecContext(ctx, "INSERT INTO audit (at, user, command, changes) VALUES (?, ?, ?, ?)",
		time.Now().UTC().Format(time.RFC3339Nano), actor.User, actor.Command, string(record))
	return err
}

// ReadAudit returns the audit table of db, oldest first.
func ReadAudit(ctx context.Context, db *sql.DB) ([]directory.AuditRecord, error) {
	rows, err := db.QueryContext(ctx, "SELECT at, user, command, changes FROM audit ORDER BY id")
	if err != nil {
		return nil, err
	}
	return Collect(rows, func(row Row) (rec directory.AuditRecord, err error) {
		var at, changes string
		if err := row.Scan(&at, &rec.User, &rec.Command, &changes); err != nil {
			return rec, err
		}
		rec.Time, _ = time.Parse(time.RFC3339Nano, at)
		return rec, json.Unmarshal([]byte(changes), &rec.Changes)
	})
}
