-- The command signing keys the deployment signs unlock commands with, by
-- PASERK key ID (see doorman.CommandKeyStore). Keep in step with
-- sqlite/migration/003_command_keys.sql.
--
-- position orders the keys. The first key takes position 0, and the
-- uniqueness of position is what lets only one of several nodes starting
-- at once register its key. Key rotation will add keys at later positions.
CREATE TABLE command_keys (
	kid TEXT COLLATE "C" PRIMARY KEY,
	position INTEGER NOT NULL UNIQUE CHECK (position >= 0),
	registered_at BIGINT NOT NULL
);
