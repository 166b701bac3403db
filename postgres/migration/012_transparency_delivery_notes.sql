-- A building's public transparency page, off until its manager turns it
-- on; and where a courier left each delivered parcel (at most 200
-- characters, checked by doorman.CleanDeliveryNote), for the resident and
-- the manager. Keep in step with
-- sqlite/migration/012_transparency_delivery_notes.sql.
ALTER TABLE buildings ADD COLUMN transparent BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE parcels ADD COLUMN delivery_note TEXT;
