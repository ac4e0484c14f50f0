-- The outcall budgets' counts (SPEC DIAL-4): per UTC day, the calls placed
-- and the seconds billed (each call rounded up to whole minutes), for each
-- mailbox (scope 'mailbox', name its address) and each server (scope
-- 'server', name its FQDN). Kept here, not in each process's memory, so
-- that every run of openum message play-on-phone counts against the same
-- day. Not configuration: no audit record, no change to Version.
CREATE TABLE outcall_usage (
    day     TEXT    NOT NULL,
    scope   TEXT    NOT NULL CHECK (scope IN ('mailbox', 'server')),
    name    TEXT    NOT NULL COLLATE NOCASE,
    calls   INTEGER NOT NULL DEFAULT 0,
    seconds INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, scope, name)
);
