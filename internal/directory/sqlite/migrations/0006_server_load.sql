-- The load board (SPEC OPS-4): each server's last word on how busy it is
-- and where it listens, rewritten every few seconds, read by the others to
-- redirect a call when full. Not configuration: no audit record, no change
-- to Version. updated is Unix milliseconds by the publishing server's clock.
CREATE TABLE server_load (
    server    TEXT    NOT NULL PRIMARY KEY COLLATE NOCASE,
    calls     INTEGER NOT NULL,
    max_calls INTEGER NOT NULL,
    status    TEXT    NOT NULL,
    draining  INTEGER NOT NULL,
    tcp_port  INTEGER NOT NULL,
    tls_port  INTEGER NOT NULL,
    updated   INTEGER NOT NULL
);
