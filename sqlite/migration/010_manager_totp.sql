-- A manager's TOTP second factor (doorman.ManagerTOTP). Keep in step with
-- postgres/migration/010_manager_totp.sql.
--
-- totp_secret is the base32 shared secret, NULL when the manager has none;
-- totp_enabled_at (Unix microseconds) is NULL while the secret waits for
-- its first code; totp_last_step is the last accepted 30-second step, so
-- that each code works once.
ALTER TABLE managers ADD COLUMN totp_secret TEXT;
ALTER TABLE managers ADD COLUMN totp_enabled_at INTEGER;
ALTER TABLE managers ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;
