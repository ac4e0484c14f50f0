-- The audit log of SPEC DIR-4: one row per change, never updated.
CREATE TABLE audit (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL, -- RFC 3339, UTC
    user    TEXT NOT NULL,
    command TEXT NOT NULL,
    changes TEXT NOT NULL  -- JSON list of directory.Change
);
