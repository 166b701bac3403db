-- What residents sign in with and see: notification preferences on
-- residents, their magic links, and the mail outbox (see
-- doorman.ResidentStore). Keep in step with
-- postgres/migration/011_residents.sql.
--
-- resident_links keep only the SHA-256 (hex) of each link's token; a link
-- is used once (used_at) and expires at expires_at (Unix microseconds).
-- Deleting a resident deletes their links and the mail addressed to them.
--
-- mail_outbox is a log per building: status is queued until a sender
-- takes the mail (sent or failed, sent_at, attempts, last_error).
ALTER TABLE residents ADD COLUMN notify_delivery INTEGER NOT NULL DEFAULT 1 CHECK (notify_delivery IN (0, 1));
ALTER TABLE residents ADD COLUMN notify_entry INTEGER NOT NULL DEFAULT 0 CHECK (notify_entry IN (0, 1));
CREATE INDEX residents_email ON residents (lower(email));

CREATE TABLE resident_links (
	id TEXT PRIMARY KEY,
	resident_id TEXT NOT NULL REFERENCES residents (id) ON DELETE CASCADE,
	token_hash TEXT NOT NULL UNIQUE CHECK (length(token_hash) = 64),
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	used_at INTEGER
) STRICT;
CREATE INDEX resident_links_resident ON resident_links (resident_id);

CREATE TABLE mail_outbox (
	id TEXT PRIMARY KEY,
	building_id TEXT NOT NULL REFERENCES buildings (id),
	resident_id TEXT REFERENCES residents (id) ON DELETE CASCADE,
	to_addr TEXT NOT NULL,
	subject TEXT NOT NULL,
	body TEXT NOT NULL,
	status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
	created_at INTEGER NOT NULL,
	sent_at INTEGER,
	attempts INTEGER NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX mail_outbox_building ON mail_outbox (building_id, id);
CREATE INDEX mail_outbox_status ON mail_outbox (status, id);
CREATE INDEX mail_outbox_resident ON mail_outbox (resident_id);
