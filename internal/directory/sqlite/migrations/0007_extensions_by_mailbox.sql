-- A mailbox's rows of the extension index are replaced on each change to
-- it: found through this index, not by reading every row.
CREATE INDEX extensions_mailbox ON extensions (mailbox);
