-- The mail ledger (SPEC OPS-4): the mail copy of each message a call left,
-- leased by the server delivering it, so that a server that dies leaves
-- its undelivered mail to another, and no mail goes twice. A delivered job
-- keeps its row (without its note) until its message is purged: a server
-- that comes back with the same mail in its spool learns it went.
CREATE TABLE mail_jobs (
    id           text PRIMARY KEY, -- the delivery note's ID
    message      bigint NOT NULL REFERENCES messages ON DELETE CASCADE,
    note         bytea,            -- the delivery note (JSON); NULL once delivered
    owner        text NOT NULL,    -- the server holding, or last holding, the lease
    lease_until  timestamptz NOT NULL,
    delivered_at timestamptz,
    quarantined  text              -- why its note cannot be read
);

CREATE INDEX mail_jobs_undelivered ON mail_jobs (lease_until) WHERE delivered_at IS NULL;
CREATE INDEX mail_jobs_by_owner ON mail_jobs (owner) WHERE delivered_at IS NULL;
CREATE INDEX mail_jobs_by_message ON mail_jobs (message);

-- The counts last announced to the PBX for each mailbox (SPEC UM-5), by
-- MailboxKey: the server whose write changes them sends the NOTIFY, the
-- others, which noticed the same change, do not.
CREATE TABLE mwi_announced (
    mailbox text PRIMARY KEY,
    new     integer NOT NULL,
    saved   integer NOT NULL,
    server  text NOT NULL,
    at      timestamptz NOT NULL
);
