-- Chained device events are forgotten after doorman.DeviceEventRetention
-- (sqlstore/device_event_prune.go): found by the time they were recorded.
CREATE INDEX device_events_chained_recorded ON device_events (recorded_at) WHERE audit_id <> '';
