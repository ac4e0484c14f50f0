-- The outcall budgets' counts (SPEC DIAL-4), as the SQLite engine keeps
-- them: per UTC day, the calls placed and the seconds billed (each call
-- rounded up to whole minutes), for each mailbox (scope 'mailbox', name its
-- address) and each server (scope 'server', name its FQDN), names in lower
-- case. Shared by every server and run of the command line. Not
-- configuration: no audit record, no change to directory_version.
CREATE TABLE outcall_usage (
    day     date    NOT NULL,
    scope   text    NOT NULL CHECK (scope IN ('mailbox', 'server')),
    name    text    NOT NULL,
    calls   integer NOT NULL DEFAULT 0,
    seconds bigint  NOT NULL DEFAULT 0,
    PRIMARY KEY (day, scope, name)
);
