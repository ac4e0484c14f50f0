-- A mailbox's rows of the extension index are replaced on each change to
-- it (and removed with it, ON DELETE CASCADE): found through this index,
-- not by reading every row.
CREATE INDEX extensions_mailbox ON extensions (mailbox);
