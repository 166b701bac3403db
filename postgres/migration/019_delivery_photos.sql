-- The photo a courier may take of a delivered parcel where it was left,
-- seen only by the unit's residents and the building's managers, and
-- removed by retention. Keep in step with
-- sqlite/migration/019_delivery_photos.sql.
CREATE TABLE delivery_photos (
    parcel_id    TEXT PRIMARY KEY REFERENCES parcels (id) ON DELETE CASCADE,
    building_id  TEXT NOT NULL,
    unit_id      TEXT NOT NULL,
    content_type TEXT NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp')),
    data         BYTEA NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX delivery_photos_building_created ON delivery_photos (building_id, created_at);
