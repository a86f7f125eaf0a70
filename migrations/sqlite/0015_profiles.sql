-- Each account's profile (display name, status, time zone) as the last ProfileChanged set
-- it: the core's `Profile` as JSON, read whole (never searched by field).
ALTER TABLE accounts ADD COLUMN profile TEXT NOT NULL DEFAULT '{}';
