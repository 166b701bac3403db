-- Failed attempts counted per key, so that every node sees the same counts
-- (see doorman.ThrottleStore). Keep in step with
-- sqlite/migration/004_throttles.sql.
--
-- key_hash is the hex SHA-256 of the key: keys are email addresses and
-- client addresses, which are personal data and are never stored in clear.
-- A count holds until window_end (Unix microseconds); ThrottleFail deletes
-- a bounded number of expired rows each time it counts, using the index.
CREATE TABLE throttles (
	key_hash TEXT COLLATE "C" PRIMARY KEY CHECK (length(key_hash) = 64),
	failures BIGINT NOT NULL CHECK (failures > 0),
	window_end BIGINT NOT NULL
);

CREATE INDEX throttles_window_end ON throttles (window_end);
