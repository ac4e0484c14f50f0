-- Voice messages (SPEC UM-6). Times are UTC, written at a fixed width
-- (2006-01-02T15:04:05.000000Z) so that they compare as text.
--
-- The audio is in the row, not in a file beside it: the row and its audio
-- commit in one transaction, so that a crash can never leave a message
-- without its audio or an audio file no row names; a backup of the
-- database is a backup of the messages; and when several servers share one
-- PostgreSQL store (SPEC OPS-4) every server reads every message, with no
-- shared file system. A message is at most MaxRecordingDuration (100 min)
-- of 8 kHz 16-bit audio, under 100 MB: well within a BLOB or a bytea.
CREATE TABLE messages (
    id            INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused, even after a purge
    mailbox       TEXT NOT NULL COLLATE NOCASE,
    caller_number TEXT NOT NULL,
    caller_name   TEXT NOT NULL,
    call_id       TEXT NOT NULL,
    received_at   TEXT NOT NULL,
    duration_ms   INTEGER NOT NULL,
    size          INTEGER NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('new', 'saved', 'deleted')),
    state_at      TEXT NOT NULL,
    audio         BLOB NOT NULL CHECK (length(audio) = size)
);

CREATE INDEX messages_by_mailbox ON messages (mailbox, state);
CREATE INDEX messages_deleted ON messages (state, state_at) WHERE state = 'deleted';

-- Every state a message entered, with its time; the first row is 'new'.
CREATE TABLE message_states (
    message INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    state   TEXT NOT NULL,
    at      TEXT NOT NULL
);

CREATE INDEX message_states_by_message ON message_states (message);

-- The audit log of changes to messages (SPEC DIR-4), shaped as the
-- directory's, so that openum audit shows both. Never the audio.
CREATE TABLE audit (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL, -- RFC 3339, UTC
    user    TEXT NOT NULL,
    command TEXT NOT NULL,
    changes TEXT NOT NULL  -- JSON list of directory.Change
);
