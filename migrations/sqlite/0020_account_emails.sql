-- An account's email address, for password reset links by mail. Contact data, kept out of
-- the log so that deleting the account deletes it for real: the address, whether its owner
-- confirmed it, and the SHA-256 of the pending confirmation link's secret (a day long).
CREATE TABLE account_emails (
    user_id          TEXT PRIMARY KEY,
    email            TEXT NOT NULL,
    verified         INTEGER NOT NULL,
    token_hash       TEXT,
    token_expires_ms INTEGER,
    updated_at_ms    INTEGER NOT NULL
);
CREATE INDEX account_emails_token ON account_emails (token_hash);
