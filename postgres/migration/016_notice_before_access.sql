-- Notice before access (issue 9): a building's notice period (Unix
-- microseconds; new buildings wait DefaultNoticePeriod, 7 days), and per
-- allowed carrier the carrier.allowed audit entry its residents' notices
-- are produced from. Allowances made before this migration keep
-- notice_source '' and stay active as they were. Keep in step with
-- sqlite/migration/016_notice_before_access.sql.
ALTER TABLE buildings ADD COLUMN notice_period BIGINT NOT NULL DEFAULT 604800000000 CHECK (notice_period >= 0);
ALTER TABLE building_carriers ADD COLUMN notice_source TEXT NOT NULL DEFAULT '';

-- The messages produced from one audit entry (notices of an allowance)
-- are found by source and kind; the outbox is migration 014's.
CREATE INDEX outbox_source_kind ON outbox (source, kind);
