-- One row per mailbox extension, so that SQLite itself refuses a second
-- mailbox with the same extension in a dial plan. Filled from the mailboxes
-- that earlier versions stored.
CREATE TABLE extensions (
    dial_plan TEXT NOT NULL COLLATE NOCASE,
    extension TEXT NOT NULL,
    mailbox   TEXT NOT NULL REFERENCES mailboxes (email) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    PRIMARY KEY (dial_plan, extension)
);

INSERT INTO extensions (dial_plan, extension, mailbox)
SELECT m.dial_plan, e.value, m.email
FROM mailboxes AS m, json_each(m.config, '$.Extensions') AS e;
