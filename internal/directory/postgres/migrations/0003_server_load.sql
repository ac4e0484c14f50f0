-- The load board (SPEC OPS-4), as the SQLite engine keeps it: each
-- server's last word on how busy it is and where it listens, rewritten
-- every few seconds, read by the others to redirect a call when full;
-- server names in lower case. Not configuration: no audit record, no
-- change to directory_version.
CREATE TABLE server_load (
    server    text        NOT NULL PRIMARY KEY,
    calls     integer     NOT NULL,
    max_calls integer     NOT NULL,
    status    text        NOT NULL,
    draining  boolean     NOT NULL,
    tcp_port  integer     NOT NULL,
    tls_port  integer     NOT NULL,
    updated   timestamptz NOT NULL
);
