-- A building's public transparency page, off until its manager turns it
-- on; and where a courier left each delivered parcel (at most 200
-- characters, checked by doorman.CleanDeliveryNote), for the resident and
-- the manager. Keep in step with
-- postgres/migration/012_transparency_delivery_notes.sql.
ALTER TABLE buildings ADD COLUMN transparent INTEGER NOT NULL DEFAULT 0 CHECK (transparent IN (0, 1));
ALTER TABLE parcels ADD COLUMN delivery_note TEXT;
