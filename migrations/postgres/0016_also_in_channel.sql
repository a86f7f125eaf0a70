-- A thread reply shown in its channel too ("also send to channel", issue #23).
ALTER TABLE messages ADD COLUMN also_in_channel BIGINT NOT NULL DEFAULT 0;
