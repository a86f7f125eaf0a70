-- Accounts an instance admin disabled (AccountDisabled, until AccountEnabled), for the
-- admin's list of accounts; sign-in and tokens read it from the account's stream.
ALTER TABLE accounts ADD COLUMN disabled BIGINT NOT NULL DEFAULT 0;
