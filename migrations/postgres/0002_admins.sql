-- Instance admins, granted by `parley-server create-admin` (AdminGranted events).
ALTER TABLE accounts ADD COLUMN admin BIGINT NOT NULL DEFAULT 0;
