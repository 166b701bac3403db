-- Offline delivery (see doorman.Building.OfflineDeliveryDays and
-- doorman.DeviceEvent.Offline). Keep in step with
-- sqlite/migration/020_offline_delivery.sql.
--
-- offline_delivery_days is how long after its last time sync a door of the
-- building accepts offline grants; 0 turns offline delivery off.
ALTER TABLE buildings ADD COLUMN offline_delivery_days INTEGER NOT NULL DEFAULT 0
    CHECK (offline_delivery_days BETWEEN 0 AND 30);
-- What a device reports of an offline grant it executed or refused: the
-- flag, the grant token's ID (ogt_…), and the courier and parcels digest
-- the token carried, checked against the grant when the event arrives.
ALTER TABLE device_events ADD COLUMN offline BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE device_events ADD COLUMN jti TEXT NOT NULL DEFAULT '';
ALTER TABLE device_events ADD COLUMN courier_id TEXT NOT NULL DEFAULT '';
ALTER TABLE device_events ADD COLUMN parcels_digest TEXT NOT NULL DEFAULT '';
