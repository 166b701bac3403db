-- What the door's device said about its time in its latest heartbeat: the
-- control plane's time at its last signed time sync, and until when that
-- sync lets it accept offline grants (NULL: never synced / no offline
-- delivery). Keep in step with sqlite/migration/021_door_offline_status.sql.
ALTER TABLE doors ADD COLUMN clock_synced_at BIGINT;
ALTER TABLE doors ADD COLUMN offline_grants_until BIGINT;
