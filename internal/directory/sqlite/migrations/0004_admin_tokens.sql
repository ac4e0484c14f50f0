-- The admin API's credentials (SPEC OPS-3): a token's name, role and time
-- in config, and in hash the hex SHA-256 of the token, never the token.
CREATE TABLE admin_tokens (
    name   TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
    config TEXT NOT NULL,
    hash   TEXT NOT NULL UNIQUE
);
