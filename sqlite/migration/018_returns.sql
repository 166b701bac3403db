-- Returns a resident registered for a carrier's courier to pick up, and
-- the building's setting of how many days make one overdue (the resident
-- and the managers are told once: overdue_at marks it, in the same
-- transaction as its return.overdue audit entry). A return goes with its
-- resident's data. Keep in step with postgres/migration/018_returns.sql.
CREATE TABLE returns (
	id TEXT PRIMARY KEY,
	building_id TEXT NOT NULL REFERENCES buildings (id),
	unit_id TEXT NOT NULL REFERENCES units (id) ON DELETE CASCADE,
	resident_id TEXT NOT NULL REFERENCES residents (id) ON DELETE CASCADE,
	carrier_id TEXT NOT NULL REFERENCES carriers (id),
	tracking_number TEXT NOT NULL,
	place TEXT NOT NULL CHECK (place IN ('lobby', 'mailroom')),
	status TEXT NOT NULL CHECK (status IN ('registered', 'collected', 'cancelled')),
	created_at INTEGER NOT NULL,
	collected_at INTEGER,
	collected_by TEXT REFERENCES couriers (id) ON DELETE SET NULL,
	overdue_at INTEGER
) STRICT;
-- One open return per carrier and tracking number.
CREATE UNIQUE INDEX returns_open_tracking ON returns (carrier_id, tracking_number) WHERE status = 'registered';
CREATE INDEX returns_tracking ON returns (tracking_number) WHERE status = 'registered';
CREATE INDEX returns_resident ON returns (resident_id, id);
CREATE INDEX returns_pending ON returns (carrier_id, id) WHERE status = 'registered';
CREATE INDEX returns_overdue ON returns (created_at) WHERE status = 'registered' AND overdue_at IS NULL;
ALTER TABLE buildings ADD COLUMN return_overdue_days INTEGER NOT NULL DEFAULT 7 CHECK (return_overdue_days > 0);
