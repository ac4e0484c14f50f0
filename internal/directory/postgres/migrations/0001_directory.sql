-- The configuration objects of SPEC §1, as the SQLite engine keeps them:
-- each row holds its object as JSON in config; the columns beside it are
-- the keys and references that PostgreSQL checks, as a backstop to
-- directory.Validate. Names ignore case, so every key and reference column
-- holds the name in lower case; config keeps it as it was spelled.
CREATE TABLE dial_plans (
    key    text NOT NULL PRIMARY KEY,
    config text NOT NULL
);

CREATE TABLE ip_gateways (
    key    text NOT NULL PRIMARY KEY,
    config text NOT NULL
);

CREATE TABLE hunt_groups (
    key        text NOT NULL PRIMARY KEY,
    ip_gateway text NOT NULL REFERENCES ip_gateways DEFERRABLE INITIALLY DEFERRED,
    dial_plan  text NOT NULL REFERENCES dial_plans DEFERRABLE INITIALLY DEFERRED,
    config     text NOT NULL
);

CREATE TABLE mailbox_policies (
    key       text NOT NULL PRIMARY KEY,
    dial_plan text NOT NULL REFERENCES dial_plans DEFERRABLE INITIALLY DEFERRED,
    config    text NOT NULL
);

CREATE TABLE mailboxes (
    key       text NOT NULL PRIMARY KEY,
    dial_plan text NOT NULL REFERENCES dial_plans DEFERRABLE INITIALLY DEFERRED,
    policy    text NOT NULL REFERENCES mailbox_policies DEFERRABLE INITIALLY DEFERRED,
    config    text NOT NULL,
    pin       text NOT NULL DEFAULT '{}' -- hashes only, never a PIN
);

-- One row per mailbox extension: PostgreSQL itself refuses a second
-- mailbox with the same extension in a dial plan.
CREATE TABLE extensions (
    dial_plan text NOT NULL,
    extension text NOT NULL,
    mailbox   text NOT NULL REFERENCES mailboxes ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    -- Checked at commit: one update may move an extension between mailboxes.
    PRIMARY KEY (dial_plan, extension) DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE servers (
    key    text NOT NULL PRIMARY KEY,
    config text NOT NULL
);

-- The admin API's credentials (SPEC OPS-3): in hash the hex SHA-256 of the
-- token, never the token.
CREATE TABLE admin_tokens (
    key    text NOT NULL PRIMARY KEY,
    config text NOT NULL,
    hash   text NOT NULL UNIQUE
);

-- The audit log of SPEC DIR-4: one row per change, never updated.
CREATE TABLE audit (
    id      bigserial PRIMARY KEY,
    at      timestamptz NOT NULL,
    os_user text NOT NULL,
    command text NOT NULL,
    changes text NOT NULL -- JSON list of directory.Change
);

-- The change counter: one row, counted up by every write in its
-- transaction, and locked by it, so that writers commit one at a time.
-- (An audit ID would not do: a sequence hands out IDs before commit, so a
-- lower one may commit after a higher one was seen.)
CREATE TABLE directory_version (
    one     boolean PRIMARY KEY DEFAULT true CHECK (one),
    version bigint NOT NULL
);
INSERT INTO directory_version (version) VALUES (0);
