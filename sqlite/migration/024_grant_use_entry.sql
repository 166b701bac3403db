-- The grant.used entry a door's acknowledgement chained, until the door's
-- own unlock_executed event for the grant arrives: that event says the same
-- thing in the door's words, so it is kept in device_events beside this
-- entry (its audit_id) instead of being chained a second time, and the
-- column is emptied. Empty for grants marked before this migration, whose
-- events are chained as before. Keep in step with
-- postgres/migration/024_grant_use_entry.sql.
ALTER TABLE grants ADD COLUMN use_audit_id TEXT NOT NULL DEFAULT '';
