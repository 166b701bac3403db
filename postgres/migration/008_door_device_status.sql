-- The door's device status as its latest heartbeat reported it (see
-- doorman.Door.ClockSynced and StorageFault). Keep in step with
-- sqlite/migration/008_door_device_status.sql.
--
-- device_status_at is the time of the heartbeat that set the status (Unix
-- microseconds, clamped to when it was recorded), so that a heartbeat
-- delivered late does not overwrite a newer one.
ALTER TABLE doors ADD COLUMN clock_synced BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE doors ADD COLUMN storage_fault BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE doors ADD COLUMN device_status_at BIGINT;
