-- Instance admins, granted by `parley-server create-admin` (AdminGranted events).
ALTER TABLE accounts ADD COLUMN admin INTEGER NOT NULL DEFAULT 0;
