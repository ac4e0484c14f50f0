-- A change counter (SPEC UM-5): one row whose version goes up with every
-- message added, moved to another state or removed, by whichever process
-- did it. A server polls it, one row, to notice cheaply that a mailbox's
-- counts may have changed (message waiting), also when the command line
-- made the change.
CREATE TABLE store_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);

INSERT INTO store_version (id, version) VALUES (1, 0);

CREATE TRIGGER messages_added AFTER INSERT ON messages
BEGIN UPDATE store_version SET version = version + 1; END;

CREATE TRIGGER messages_state_changed AFTER UPDATE OF state ON messages
BEGIN UPDATE store_version SET version = version + 1; END;

CREATE TRIGGER messages_removed AFTER DELETE ON messages
BEGIN UPDATE store_version SET version = version + 1; END;
