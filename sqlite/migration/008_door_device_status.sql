-- The door's device status as its latest heartbeat reported it (see
-- doorman.Door.ClockSynced and StorageFault). Keep in step with
-- postgres/migration/008_door_device_status.sql.
--
-- device_status_at is the time of the heartbeat that set the status (Unix
-- microseconds, clamped to when it was recorded), so that a heartbeat
-- delivered late does not overwrite a newer one.
ALTER TABLE doors ADD COLUMN clock_synced INTEGER NOT NULL DEFAULT 0 CHECK (clock_synced IN (0, 1));
ALTER TABLE doors ADD COLUMN storage_fault INTEGER NOT NULL DEFAULT 0 CHECK (storage_fault IN (0, 1));
ALTER TABLE doors ADD COLUMN device_status_at INTEGER;
