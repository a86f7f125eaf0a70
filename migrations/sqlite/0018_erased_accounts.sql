-- Deleted accounts (folded from AccountErased). The doors serve every event that names one
-- of them with its name and profile taken out: by id, and by a SHA-256 of the username for
-- what carries only a name (an event's actor, the account stream's name). The name itself
-- is not kept here.
CREATE TABLE erased_accounts (
    user_id         TEXT PRIMARY KEY,
    name_hash       TEXT NOT NULL,
    messages        INTEGER NOT NULL,
    erased_position INTEGER NOT NULL
);
CREATE INDEX erased_accounts_name ON erased_accounts (name_hash);
