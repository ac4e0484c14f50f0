-- The mail ledger (SPEC OPS-4), as the PostgreSQL store keeps it: the mail
-- copy of each message a call left, with the lease of the server
-- delivering it. Times are UTC at the store's fixed width.
CREATE TABLE mail_jobs (
    id           TEXT PRIMARY KEY,
    message      INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    note         BLOB,
    owner        TEXT NOT NULL,
    lease_until  TEXT NOT NULL,
    delivered_at TEXT,
    quarantined  TEXT
);

CREATE INDEX mail_jobs_undelivered ON mail_jobs (lease_until) WHERE delivered_at IS NULL;
CREATE INDEX mail_jobs_by_owner ON mail_jobs (owner) WHERE delivered_at IS NULL;
CREATE INDEX mail_jobs_by_message ON mail_jobs (message);

-- The counts last announced to the PBX for each mailbox (SPEC UM-5).
CREATE TABLE mwi_announced (
    mailbox TEXT PRIMARY KEY,
    new     INTEGER NOT NULL,
    saved   INTEGER NOT NULL,
    server  TEXT NOT NULL,
    at      TEXT NOT NULL
);
