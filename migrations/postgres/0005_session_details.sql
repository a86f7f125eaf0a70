-- What a session's owner sees in their list of sessions: the browser it signed in from
-- (its user agent, cut to 256 characters) and when it last asked for anything (updated
-- at most once a minute, so a busy session does not write on every request).
ALTER TABLE sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN last_seen_ms BIGINT NOT NULL DEFAULT 0;
