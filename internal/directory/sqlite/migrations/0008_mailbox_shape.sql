-- The shape of each mailbox's config JSON (directory.MailboxShape): a row
-- written in this openum's shape is listed as stored, without decoding it
-- and encoding it again. A row written before has none, and is decoded.
ALTER TABLE mailboxes ADD COLUMN shape TEXT NOT NULL DEFAULT '';
