-- Command key rotation (see doorman.CommandKeyStore). Keep in step with
-- sqlite/migration/022_command_key_rotation.sql.
--
-- A key's status follows from its times, so that every node reads the
-- same ring from the same rows without a job that flips states:
-- activates_at is when the ring starts signing with it (the key before it
-- then retires), retires_at when devices stop accepting it, revoked_at
-- when it was revoked (refused at once). public_key is its PASERK
-- k4.public, which key updates carry to devices (private keys never enter
-- the database). Keys registered before this migration were active since
-- their registration.
ALTER TABLE command_keys ADD COLUMN public_key TEXT NOT NULL DEFAULT '';
ALTER TABLE command_keys ADD COLUMN activates_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE command_keys ADD COLUMN retires_at BIGINT;
ALTER TABLE command_keys ADD COLUMN revoked_at BIGINT;
UPDATE command_keys SET activates_at = registered_at;

-- The key set's sequence number: every change of the ring (a key added,
-- activated or revoked) moves it on by one, in the same transaction, and
-- devices refuse a key update whose sequence is not above the one they
-- hold. One row.
CREATE TABLE command_key_set (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	seq BIGINT NOT NULL CHECK (seq >= 1)
);
INSERT INTO command_key_set (id, seq) VALUES (1, 1);
