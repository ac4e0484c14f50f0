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
	defer rows.Close()
	var out []directory.AuditRecord
	for rows.Next() {
		var at, changes string
		var rec directory.AuditRecord
		if err := rows.Scan(&at, &rec.User, &rec.Command, &changes); err != nil {
			return nil, err
		}
		rec.Time, _ = time.Parse(time.RFC3339Nano, at)
		if err := json.Unmarshal([]byte(changes), &rec.Changes); err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, rows.Err()
}
