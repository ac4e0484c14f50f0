-- Voice messages (SPEC UM-6), as the SQLite store keeps them, in tables of
-- their own beside the directory's when both share one database. The
-- audio is in the row (bytea): the row and its audio commit in one
-- transaction, and every server sharing the database reads every message
-- with no shared file system. Mailboxes are compared ignoring case, by
-- lower(mailbox); mailbox keeps the address as it was spelled.
CREATE TABLE messages (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- never reused, even after a purge
    mailbox       text NOT NULL,
    caller_number text NOT NULL,
    caller_name   text NOT NULL,
    call_id       text NOT NULL,
    received_at   timestamptz NOT NULL,
    duration_ms   bigint NOT NULL,
    size          bigint NOT NULL,
    state         text NOT NULL CHECK (state IN ('new', 'saved', 'deleted')),
    state_at      timestamptz NOT NULL,
    audio         bytea NOT NULL CHECK (octet_length(audio) = size)
);

CREATE INDEX messages_by_mailbox ON messages (lower(mailbox), state);
CREATE INDEX messages_deleted ON messages (state_at) WHERE state = 'deleted';

-- Every state a message entered, with its time, in id order; the first is
-- 'new'.
CREATE TABLE message_states (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message bigint NOT NULL REFERENCES messages ON DELETE CASCADE,
    state   text NOT NULL,
    at      timestamptz NOT NULL
);

CREATE INDEX message_states_by_message ON message_states (message);

-- The audit log of changes to messages (SPEC DIR-4), shaped as the
-- directory's audit table. Never the audio.
CREATE TABLE message_audit (
    id      bigserial PRIMARY KEY,
    at      timestamptz NOT NULL,
    os_user text NOT NULL,
    command text NOT NULL,
    changes text NOT NULL -- JSON list of directory.Change
);

-- The change counter (SPEC UM-5): one row, counted up by every message
-- added, moved to another state or removed, in the transaction that does
-- it, so that a server polling it sees a change only once it is committed.
-- (A sequence would not do: it moves before commit.)
CREATE TABLE message_version (
    one     boolean PRIMARY KEY DEFAULT true CHECK (one),
    version bigint NOT NULL
);
INSERT INTO message_version (version) VALUES (0);

CREATE FUNCTION message_version_up() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE message_version SET version = version + 1;
    RETURN NULL;
END $$;

CREATE TRIGGER messages_added AFTER INSERT ON messages
    FOR EACH ROW EXECUTE FUNCTION message_version_up();
CREATE TRIGGER messages_state_changed AFTER UPDATE OF state ON messages
    FOR EACH ROW EXECUTE FUNCTION message_version_up();
CREATE TRIGGER messages_removed AFTER DELETE ON messages
    FOR EACH ROW EXECUTE FUNCTION message_version_up();
