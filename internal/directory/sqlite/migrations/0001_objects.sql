-- The configuration objects of SPEC §1. Each row keeps its object as JSON in
-- config; the columns beside it are the keys and references that SQLite
-- checks, as a backstop to directory.Validate.
CREATE TABLE dial_plans (
    name   TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
    config TEXT NOT NULL
);

CREATE TABLE ip_gateways (
    name   TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
    config TEXT NOT NULL
);

CREATE TABLE hunt_groups (
    name       TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
    ip_gateway TEXT NOT NULL REFERENCES ip_gateways (name) DEFERRABLE INITIALLY DEFERRED,
    dial_plan  TEXT NOT NULL REFERENCES dial_plans (name) DEFERRABLE INITIALLY DEFERRED,
    config     TEXT NOT NULL
);

CREATE TABLE mailbox_policies (
    name      TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
    dial_plan TEXT NOT NULL REFERENCES dial_plans (name) DEFERRABLE INITIALLY DEFERRED,
    config    TEXT NOT NULL
);

CREATE TABLE mailboxes (
    email     TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
    dial_plan TEXT NOT NULL REFERENCES dial_plans (name) DEFERRABLE INITIALLY DEFERRED,
    policy    TEXT NOT NULL REFERENCES mailbox_policies (name) DEFERRABLE INITIALLY DEFERRED,
    config    TEXT NOT NULL,
    pin       TEXT NOT NULL DEFAULT '{}' -- hashes only, never a PIN
);

CREATE TABLE servers (
    name   TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
    config TEXT NOT NULL
);
